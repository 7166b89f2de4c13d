"""Closed-form fits used by the calibration problems (:mod:`raadsim.evidence.calibrate`).

Where the literature gives summary statistics but no model (psilocin, LSD, ayahuasca DMT),
raadsim fits ``ka`` and ``V/F`` of a one-compartment model with first-order absorption to
(dose, Cmax, Tmax, t1/2). The data are the calibration records' published values;
``tests/evidence/test_honesty.py`` re-runs the fits and fails if a data file drifts from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq

from ..io.scenario import scenario_from_dict
from ..simulate.run import simulate


@dataclass(frozen=True)
class OralFit:
    ka: float  # 1/h
    V: float  # L, for the bioavailable dose
    CL: float  # L/h


def tmax_one_compartment(ka: float, k: float) -> float:
    """Time of the peak for first-order absorption ``ka`` and elimination ``k`` (1/h)."""
    return math.log(ka / k) / (ka - k)


def fit_oral_one_compartment(dose_mg: float, cmax_ng_ml: float, tmax_h: float,
                             t_half_h: float) -> OralFit:
    """``ka`` from Tmax and t1/2, then ``V`` from Cmax (dose = the bioavailable amount)."""
    k = math.log(2) / t_half_h
    if tmax_h >= 1 / k:
        raise ValueError("Tmax must be shorter than 1/k for an absorption rate above k")
    ka = brentq(lambda x: tmax_one_compartment(x, k) - tmax_h, k * (1 + 1e-9), 1e4)
    shape = ka / (ka - k) * (math.exp(-k * tmax_h) - math.exp(-ka * tmax_h))
    V = dose_mg * 1000 * shape / cmax_ng_ml
    return OralFit(ka=ka, V=V, CL=k * V)


def fit_ec50_from_occupancy(cmax_ng_ml: float, occupancy: float) -> float:
    """Plasma EC50 of a single-site binding model that gives ``occupancy`` at ``cmax``."""
    return cmax_ng_ml * (1 - occupancy) / occupancy


# --- psychoactive intensity (5-HT2A activation → intensity) -------------------------------
def fit_intensity_hill(occupancy: list[float], effect: list[float]) -> tuple[float, float]:
    """Least-squares Hill fit (O50, n) of effect = O^n/(O50^n + O^n) on the logit scale."""
    import numpy as np

    x = np.log(np.asarray(occupancy))
    y = np.log(np.asarray(effect) / (1 - np.asarray(effect)))
    n, c = np.polyfit(x, y, 1)
    return float(np.exp(-c / n)), float(n)


def psilocybin_peak_ht2a(dose_mg: float) -> float:
    """Model peak 5-HT2A activation after an oral psilocybin dose (typical adult)."""

    sc = scenario_from_dict({"dose": [{"drug": "psilocybin", "amount": f"{dose_mg} mg",
                                       "route": "oral"}],
                             "simulation": {"end": "8 h", "output_every": "2 min",
                                            "observables": ["drive.ht2a"]}})
    return float(simulate(sc).values["drive.ht2a"].max())


def plasma_k_from_ec50(ec50_plasma: float, o50: float) -> float:
    """Plasma-basis affinity K such that half-maximal intensity occurs at ``ec50_plasma``."""
    return ec50_plasma * (1 - o50) / o50
