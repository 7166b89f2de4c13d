"""Figures of single runs."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

# Panel order and titles by observable prefix; within a prefix, one panel per unit.
PANELS = [
    ("plasma.", "Plasma"),
    ("arterial.", "Arterial plasma"),
    ("brain.", "Unbound brain"),
    ("occupancy.", "Target occupancy"),
    ("network.", "Network"),
    ("signal.", "Signalling"),
    ("synapse.", "Synapses"),
    ("clinic.", "Clinic"),
    ("behaviour.", "Behaviour"),
    ("eeg.", "EEG"),
]


def _unit_label(unit: str) -> str:
    return "relative or fraction" if unit in ("1", "") else unit


def _groups(names: list[str], units: dict[str, str] | None = None
            ) -> list[tuple[str, list[str]]]:
    """Panels: observables grouped by prefix (in PANELS order, then any other prefix) and,
    within a prefix, by unit, so that no panel mixes scales (e.g. MADRS points and 0-1)."""
    units = units or {}
    known = [p for p, _ in PANELS]
    titles = dict(PANELS)
    others = sorted({n.split(".", 1)[0] + "." for n in names} - set(known))
    out = []
    for prefix in known + others:
        members = [n for n in names if n.startswith(prefix)]
        by_unit: dict[str, list[str]] = {}
        for n in members:
            by_unit.setdefault(units.get(n, ""), []).append(n)
        title = titles.get(prefix, prefix.rstrip(".").capitalize())
        for unit, group in by_unit.items():
            out.append((f"{title} ({_unit_label(unit)})" if unit else title, group))
    return out


def plot_result(result, path: Path, title: str | None = None) -> None:
    """Stacked panels (PK → brain → occupancy → ...) sharing one time axis."""
    shown = [n for n in result.values if result.values[n].max() > 0]  # all-zero: no panel
    groups = _groups(shown or list(result.values), getattr(result, "units", None))
    fig = Figure(figsize=(7.5, 2.3 * len(groups) + 0.6))
    axes = fig.subplots(len(groups), 1,
                             sharex=True, squeeze=False)
    for ax, (gtitle, members) in zip(axes[:, 0], groups, strict=True):
        for name in members:
            ax.plot(result.time_h, result.values[name], label=name.split(".", 1)[1], lw=1.4)
        ax.set_ylabel(gtitle, fontsize=8)
        ax.legend(fontsize=7, ncol=3, frameon=False)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time (h)")
    fig.suptitle(title or _describe(result), fontsize=10)
    height = fig.get_size_inches()[1]
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / height))  # room for the title
    fig.savefig(path, dpi=110)


def _describe(result) -> str:
    doses = [f"{d.drug} {d.amount} {d.route}" for d in result.scenario.dose]
    return f"{result.scenario.subject.species}: " + (", ".join(doses) or "no drug")
