"""Population bands per arm: mean and 5th–95th percentile of each trial observable."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


def plot_trial(timecourse: pd.DataFrame, path: Path, visits_h: list[float] | None = None) -> None:
    """One panel per observable; one band (p05–p95) and mean line per arm; time in days."""
    observables = list(dict.fromkeys(timecourse["observable"]))
    fig = Figure(figsize=(8, 3.2 * len(observables)))
    axes = fig.subplots(len(observables), 1,
                             squeeze=False)
    for ax, obs in zip(axes[:, 0], observables, strict=True):
        sub = timecourse[timecourse["observable"] == obs]
        for arm, g in sub.groupby("arm", sort=False):
            days = g["time_h"] / 24
            line, = ax.plot(days, g["mean"], label=f"{arm} (mean)")
            ax.fill_between(days, g["p05"], g["p95"], color=line.get_color(), alpha=0.2,
                            label=f"{arm} (5–95 %)")
        for v in visits_h or []:
            ax.axvline(v / 24, color="0.85", lw=0.8, zorder=0)
        ax.set_ylabel(obs)
        ax.legend(fontsize=8, loc="best")
    axes[-1, 0].set_xlabel("time (days)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
