"""Population bands per arm: mean and 5th–95th percentile of each trial observable, with the
visits (ratings) and the doses marked, labelled in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .multiscale import _RC, PALETTE
from .panels import fmt_time, label

# (panel title, y-axis label with the unit) of a trial observable.
WORDS = {
    "clinic.madrs": ("MADRS total score", "MADRS total score (points)"),
    "clinic.madrs_si": ("MADRS item 10, suicidal thoughts", "item 10 score (points)"),
    "clinic.sbp_change": ("Systolic blood pressure change", "change (mmHg)"),
    "behaviour.immobility": ("Forced-swim immobility", "immobility (× healthy, drug-free)"),
}


def words(name: str) -> tuple[str, str]:
    """(panel title, y-axis label) of a trial observable."""
    return WORDS.get(name, (label(name), label(name)))


def trial_figure(timecourse: pd.DataFrame, visits_h: Sequence[float] | None = None,
                 doses_h: Mapping[str, Sequence[float]] | None = None,
                 title: str | None = None) -> Figure:
    """One panel per observable; per arm a mean line and a p05–p95 band; dotted vertical
    lines and dots on the means at the visits; triangles at each arm's doses."""
    observables = list(dict.fromkeys(timecourse["observable"]))
    visits = sorted(float(v) for v in visits_h or [])
    days_end = float(timecourse["time_h"].max()) / 24
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.2, 0.9 + 2.1 * len(observables)))
        axes = fig.subplots(len(observables), 1, squeeze=False, sharex=True)[:, 0]
        arms = list(dict.fromkeys(timecourse["arm"]))
        for k, (ax, obs) in enumerate(zip(axes, observables, strict=True)):
            sub = timecourse[timecourse["observable"] == obs]
            for i, arm in enumerate(arms):
                g = sub[sub["arm"] == arm].sort_values("time_h", kind="stable")
                days, colour = g["time_h"].to_numpy(float) / 24, PALETTE[i % len(PALETTE)]
                ax.fill_between(days, g["p05"], g["p95"], color=colour, alpha=0.15, lw=0)
                ax.plot(days, g["mean"], color=colour)
                if visits:
                    at = np.asarray(visits) / 24
                    ax.plot(at, np.interp(at, days, g["mean"]), "o", color=colour, ms=3)
                for d in (doses_h or {}).get(str(arm), ()):
                    ax.plot(d / 24, 1.0 - 0.035 * i, marker="v", color=colour, ms=3.5,
                            transform=ax.get_xaxis_transform(), clip_on=False)
            for v in visits:
                ax.axvline(v / 24, color="0.6", lw=0.6, ls=":", zorder=0)
            ax.set_ylabel(words(obs)[1])
            ax.set_title(f"{chr(ord('A') + k)}   {words(obs)[0]}", loc="left",
                         weight="bold", pad=6)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(alpha=0.25, lw=0.4, axis="y")
        axes[-1].set_xlim(0, days_end)
        axes[-1].set_xlabel("time since the first dose (days)")
        handles = [Line2D([], [], color=PALETTE[i % len(PALETTE)], label=f"{a}: mean")
                   for i, a in enumerate(arms)]
        handles += [Patch(color="0.5", alpha=0.3, label="5th–95th percentile\nof patients"),
                    Line2D([], [], color="0.6", ls=":", marker="o", ms=3,
                           label="visit (rating)")]
        if doses_h:
            handles.append(Line2D([], [], color="0.3", marker="v", ls="none", ms=3.5,
                                  label="dose"))
        axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                       frameon=False, borderaxespad=0)
        if visits:
            fig.text(0.02, 0.01, "visits: " + ", ".join(fmt_time(v) for v in visits),
                     fontsize=6.2, color="0.3")
        height = fig.get_figheight()
        if title:
            fig.suptitle(title, fontsize=8.5, x=0.02, ha="left", y=1 - 0.05 / height,
                         va="top")
        fig.subplots_adjust(left=0.1, right=0.74, top=1 - (0.45 if title else 0.3) / height,
                            bottom=0.62 / height, hspace=0.45)
    return fig


def plot_trial(timecourse: pd.DataFrame, path: str | Path,
               visits_h: Sequence[float] | None = None,
               doses_h: Mapping[str, Sequence[float]] | None = None,
               title: str | None = None, dpi: int = 150) -> Path:
    """Draw :func:`trial_figure` to ``path`` (PNG, PDF or SVG by suffix)."""
    path = Path(path)
    trial_figure(timecourse, visits_h, doses_h, title).savefig(path, dpi=dpi)
    return path
