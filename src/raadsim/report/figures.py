"""Figures of single runs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

PANELS = [
    ("plasma.", "Plasma (ng/mL)"),
    ("brain.", "Unbound brain (ng/mL)"),
    ("occupancy.", "Target occupancy (fraction)"),
]


def _groups(names: list[str]) -> list[tuple[str, list[str]]]:
    out = []
    for prefix, title in PANELS:
        members = [n for n in names if n.startswith(prefix)]
        if members:
            out.append((title, members))
    rest = [n for n in names if not any(n.startswith(p) for p, _ in PANELS)]
    if rest:
        out.append(("Other", rest))
    return out


def plot_result(result, path: Path, title: str | None = None) -> None:
    """Stacked panels (PK → brain → occupancy → ...) sharing one time axis."""
    groups = _groups(list(result.values))
    fig, axes = plt.subplots(len(groups), 1, figsize=(7.5, 2.3 * len(groups) + 0.6),
                             sharex=True, squeeze=False)
    for ax, (gtitle, members) in zip(axes[:, 0], groups, strict=True):
        for name in members:
            v = result.values[name]
            if v.max() > 0:
                ax.plot(result.time_h, v, label=name.split(".", 1)[1], lw=1.4)
        ax.set_ylabel(gtitle, fontsize=8)
        ax.legend(fontsize=7, ncol=3, frameon=False)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time (h)")
    fig.suptitle(title or _describe(result), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _describe(result) -> str:
    doses = [f"{d.drug} {d.amount} {d.route}" for d in result.scenario.dose]
    return f"{result.scenario.subject.species}: " + (", ".join(doses) or "no drug")
