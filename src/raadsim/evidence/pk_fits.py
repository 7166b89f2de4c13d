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


def pooled_cmax_per_dose(studies: dict[str, list[tuple[float, float]]]) -> float:
    """Cmax per unit dose pooled over studies, each counting once: the geometric mean over
    studies of each study's geometric-mean Cmax/dose (``studies``: name -> [(dose, Cmax)])."""
    per_study = [sum(math.log(c / d) for d, c in pts) / len(pts) for pts in studies.values()]
    return math.exp(sum(per_study) / len(per_study))


def plasma_k_from_ec50(ec50_plasma: float, o50: float) -> float:
    """Plasma-basis affinity K such that half-maximal intensity occurs at ``ec50_plasma``."""
    return ec50_plasma * (1 - o50) / o50


# --- zero-order oral absorption (psilocybin → psilocin) -----------------------------------
@dataclass(frozen=True)
class ZeroOrderFit:
    duration: float  # h
    V: float  # L, for the bioavailable dose
    CL: float  # L/h


def fit_oral_zero_order(dose_mg: float, cmax_ng_ml: float, tmax_h: float, t_half_h: float
                        ) -> ZeroOrderFit:
    """A one-compartment model with zero-order input over ``duration``: the peak is at the end
    of the input, so ``duration = Tmax``; ``k`` from t1/2; ``V`` from Cmax =
    (dose/duration)/(k V)·(1 − exp(−k·duration))."""
    k = math.log(2) / t_half_h
    V = dose_mg * 1000 / tmax_h * (1 - math.exp(-k * tmax_h)) / (k * cmax_ng_ml)
    return ZeroOrderFit(duration=tmax_h, V=V, CL=k * V)


def cmax_zero_order(dose_mg: float, duration_h: float, V: float, CL: float) -> float:
    """Peak plasma concentration (ng/mL) of the zero-order one-compartment model."""
    k = CL / V
    return dose_mg * 1000 / duration_h * (1 - math.exp(-k * duration_h)) / (k * V)


# --- two-compartment disposition from IV summary statistics (ketanserin) ------------------
def two_compartment_lambdas(CL: float, Vc: float, V2: float, Q: float) -> tuple[float, float]:
    """The fast and slow disposition rate constants (1/h) of a two-compartment model."""
    k10, k12, k21 = CL / Vc, Q / Vc, Q / V2
    s, p = k10 + k12 + k21, k10 * k21
    root = math.sqrt(s * s - 4 * p)
    return (s + root) / 2, (s - root) / 2


def two_compartment_q(CL: float, Vc: float, V2: float, t_half_terminal_h: float) -> float:
    """The intercompartmental clearance Q (L/h) at which the terminal half-life is the
    published one, given CL (L/h), Vc and V2 (L)."""
    lz = math.log(2) / t_half_terminal_h
    return brentq(lambda q: two_compartment_lambdas(CL, Vc, V2, q)[1] - lz, 1e-6, 1e5,
                  xtol=1e-12)


def oral_two_compartment_tmax(ka: float, CL: float, Vc: float, V2: float, Q: float) -> float:
    """Time (h) of the plasma peak after an oral dose into a two-compartment model."""
    a, b = two_compartment_lambdas(CL, Vc, V2, Q)
    k21 = Q / V2

    def slope(t: float) -> float:   # d/dt of the triexponential, up to a positive factor
        terms = [((k21 - a) / ((ka - a) * (b - a)), a), ((k21 - b) / ((ka - b) * (a - b)), b),
                 ((k21 - ka) / ((a - ka) * (b - ka)), ka)]
        return sum(-c * r * math.exp(-r * t) for c, r in terms)

    return brentq(slope, 1e-6, 48.0, xtol=1e-12)


def ka_for_tmax(tmax_h: float, CL: float, Vc: float, V2: float, Q: float) -> float:
    """The oral absorption rate constant (1/h) that puts the two-compartment peak at Tmax."""
    return brentq(lambda ka: oral_two_compartment_tmax(ka, CL, Vc, V2, Q) - tmax_h, 0.05, 50.0,
                  xtol=1e-12)
