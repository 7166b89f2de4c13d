"""Figure of resting M/EEG power spectra: drug-free baseline against drug states."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..io.scenario import Scenario, scenario_from_dict
from ..model import eeg
from ..model.build import build_model
from ..simulate.simulator import default_simulator

# The example of docs/eeg_spectra.png: each drug near its peak effect.
EXAMPLES: dict[str, tuple[dict, float]] = {
    "ketamine 0.5 mg/kg IV over 40 min, at 40 min": (
        {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}, 0.67),
    "psilocybin 25 mg oral, at 2 h": (
        {"drug": "psilocybin", "amount": "25 mg", "route": "oral"}, 2.0),
}


def example_spectra() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Baseline, ketamine and psilocybin spectra of a 70-kg human (see :data:`EXAMPLES`)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, (dose, at) in EXAMPLES.items():
        sc: Scenario = scenario_from_dict({"subject": {"species": "human"}, "dose": [dose],
                                           "simulation": {"end": f"{at + 1} h"}})
        spec = build_model(sc, sc.catalogue())
        freqs, P = default_simulator().spectra(spec, [0.0, at])
        out.setdefault("drug-free baseline", (freqs, P[0]))
        out[label] = (freqs, P[1])
    return out


def plot_spectra(spectra: Mapping[str, tuple[np.ndarray, np.ndarray]],
                 path: Path | str | None = None, baseline: str | None = None,
                 title: str | None = None) -> Figure:
    """Power spectra (top, log scale) and their ratio to ``baseline`` (bottom; default: the
    first entry), with the band edges of ``data/parameters/eeg.toml``. Saved if ``path``."""
    baseline = baseline or next(iter(spectra))
    f0, P0 = spectra[baseline]
    fig = Figure(figsize=(7.5, 6.2))
    (ax, ax_r) = fig.subplots(2, 1, sharex=True,
                                   gridspec_kw={"height_ratios": [3, 2]})
    for label, (f, P) in spectra.items():
        style = {"color": "black", "lw": 2.0} if label == baseline else {"lw": 1.6}
        ax.semilogy(f, P, label=label, **style)
        if label != baseline:
            ax_r.plot(f, P / np.interp(f, f0, P0), label=label, lw=1.6)
    ax_r.axhline(1.0, color="black", lw=1.0)
    for a in (ax, ax_r):
        for lo, _ in list(eeg.microcircuit().bands.values())[1:]:
            a.axvline(lo, color="grey", lw=0.6, ls=":")
        a.grid(alpha=0.3, which="both")
    for band, (lo, hi) in eeg.microcircuit().bands.items():
        ax.text(np.sqrt(lo * hi), 1.02, band, transform=ax.get_xaxis_transform(),
                ha="center", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_ylabel("power (drug-free total = 1) per Hz", fontsize=9)
    ax_r.set_ylabel("ratio to baseline", fontsize=9)
    ax_r.set_xlabel("frequency (Hz)")
    ax.legend(fontsize=8, frameon=False)
    fig.suptitle(title or "Resting M/EEG spectrum of the canonical microcircuit "
                 "(superficial pyramidal voltage)", fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
