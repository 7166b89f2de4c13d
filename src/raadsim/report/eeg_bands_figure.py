"""Figure of the EEG records of a scorecard: simulated band change against the published one.

One panel per drug; one row per EEG record (observable ``eeg.*``): the published result as a
grey interval (the record's pass criterion, read from its ``expected`` text: ``v ± t``,
``v ± p %``, ``a to b``, ``≥ a`` or ``≤ b``) and the simulated value as a dot, green where the
record passes and orange where it fails (a triangle at the edge when off the axis: a few
records are differences or fractions, not ratios). Most EEG quantities are band power
relative to the drug-free baseline (1 = no change), so the axis is logarithmic with a line at
1. Read from ``scorecard.json`` alone: nothing is simulated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from matplotlib.figure import Figure

_NUM = r"([-+]?\d*\.?\d+(?:e[-+]?\d+)?)"


def expected_bounds(text: str) -> tuple[float, float] | None:
    """(low, high) of a record's ``expected`` text (``Expected.describe``); None if unread."""
    s = text.strip()
    if m := re.fullmatch(_NUM + r"\s*±\s*" + _NUM + r"\s*%", s):
        v, p = float(m[1]), float(m[2]) / 100
        return v - abs(v) * p, v + abs(v) * p
    if m := re.fullmatch(_NUM + r"\s*±\s*" + _NUM, s):
        v, t = float(m[1]), float(m[2])
        return v - t, v + t
    if m := re.fullmatch(_NUM + r"\s+to\s+" + _NUM, s):
        return float(m[1]), float(m[2])
    if m := re.fullmatch(r"≥\s*" + _NUM, s):
        return float(m[1]), math.inf
    if m := re.fullmatch(r"≤\s*" + _NUM, s):
        return -math.inf, float(m[1])
    return None


def eeg_records(records: Sequence[dict]) -> list[dict]:
    """The scorecard's EEG records with a simulated value."""
    return [r for r in records if str(r.get("observable", "")).startswith("eeg.")
            and r.get("simulated") is not None and math.isfinite(r["simulated"])]


def plot_eeg_bands(records: Sequence[dict], lo: float = 0.05, hi: float = 5.0) -> Figure:
    """Simulated vs published EEG records, one panel per drug (see the module docstring)."""
    recs = eeg_records(records)
    drugs = sorted({r["drug"] for r in recs})
    sizes = [sum(r["drug"] == d for r in recs) for d in drugs]
    fig = Figure(figsize=(8.5, 0.28 * sum(sizes) + 0.9 * len(drugs) + 0.6))
    if not drugs:
        return fig
    axes = fig.subplots(len(drugs), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [max(n, 1) for n in sizes]})[:, 0]
    for ax, drug in zip(axes, drugs, strict=True):
        rows = [r for r in recs if r["drug"] == drug]
        for i, r in enumerate(rows):
            b = expected_bounds(str(r.get("expected", "")))
            if b is not None:
                a, z = max(b[0], lo), min(b[1], hi)
                if a < z:
                    ax.plot([a, z], [i, i], color="0.75", lw=6, solid_capstyle="butt")
            v = r["simulated"]
            x, marker = ((lo, "<") if v <= lo else (hi, ">") if v >= hi else (v, "o"))
            ax.plot([x], [i], marker, ms=5, color="#009E73" if r["passed"] else "#D55E00")
        ax.axvline(1.0, color="0.4", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_yticks(range(len(rows)), [r["id"] for r in rows], fontsize=7)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(drug, fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[-1].set_xlabel("quantity (mostly band power / drug-free baseline)\ngrey: published "
                        "(pass range); dot: simulated (green pass, orange fail)", fontsize=7)
    fig.tight_layout()
    return fig
