"""Closed-form fits of one-compartment oral PK models to published Cmax, Tmax and half-life.

Where the literature gives summary statistics but no model (psilocin, LSD, ayahuasca DMT),
raadsim fits ``ka`` and ``V/F`` of a one-compartment model with first-order absorption to
(dose, Cmax, Tmax, t1/2). The values written in the analyte files are the output of
:func:`fit_oral_one_compartment`; ``tests/evidence/test_pk_fits.py`` re-runs the fits from the
data below and fails if a data file drifts from its fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq


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


# The data each fit uses (dose in mg of the analyte reaching the circulation).
PSILOCYBIN_TO_PSILOCIN = 204.273 / 284.252  # molar masses from the formulas (chemistry.py)
FITS = {
    "psilocin": dict(
        dose_mg=25 * PSILOCYBIN_TO_PSILOCIN * 0.527, cmax_ng_ml=17.0, tmax_h=2.0, t_half_h=1.4,
        data="holze2023: 25 mg psilocybin, Cmax 17 ng/mL, Tmax ~2 h, t1/2 1.4 h; "
             "hasler1997: oral F 52.7%",
    ),
    "lsd": dict(
        dose_mg=0.100, cmax_ng_ml=1.5, tmax_h=1.55, t_half_h=3.1,
        data="dolder2017 + holze2019 at 100 ug: Cmax 1.3 and 1.7 ng/mL (mean 1.5), Tmax 1.4 and "
             "1.7 h (mean 1.55), t1/2 2.6 and 3.6 h (mean 3.1); F folded into V/F",
    ),
    "dmt_maoi": dict(
        dose_mg=0.85 * 70, cmax_ng_ml=17.44, tmax_h=1.5, t_half_h=259 / 60,
        data="riba2003: 0.85 mg DMT/kg ayahuasca, Cmax 17.44 ng/mL, Tmax 1.5 h; "
             "callaway1999: DMT t1/2 259 min; 70 kg; F folded into V/F",
    ),
}


def _fit(name: str) -> OralFit:
    return fit_oral_one_compartment(**{k: v for k, v in FITS[name].items() if k != "data"})


def psilocin_ht2a_ec50() -> float:
    """EC50 fitted to 39.5% occupancy at 10 mg/70 kg psilocybin (jhu2022_occupancy)."""
    f = _fit("psilocin")
    dose = 10 * PSILOCYBIN_TO_PSILOCIN * 0.527
    k = f.CL / f.V
    t = tmax_one_compartment(f.ka, k)
    cmax = dose * 1000 / f.V * f.ka / (f.ka - k) * (math.exp(-k * t) - math.exp(-f.ka * t))
    return fit_ec50_from_occupancy(cmax, 0.395)


if __name__ == "__main__":  # pragma: no cover - prints the values for the data files
    for name, spec in FITS.items():
        args = {k: v for k, v in spec.items() if k != "data"}
        f = fit_oral_one_compartment(**args)
        print(f"{name}: ka={f.ka:.4f} /h  V={f.V:.2f} L  CL={f.CL:.3f} L/h   ({spec['data']})")
    print(f"psilocin 5-HT2A EC50 (plasma) = {psilocin_ht2a_ec50():.2f} ng/mL")


# --- psychoactive intensity (5-HT2A activation → intensity) -------------------------------
# Holze 2023: maximal 'any drug effect' 58 %, 73 % and 80 % after 15, 25 and 30 mg psilocybin.
HOLZE2023_INTENSITY = {15.0: 0.58, 25.0: 0.73, 30.0: 0.80}


def fit_intensity_hill(occupancy: list[float], effect: list[float]) -> tuple[float, float]:
    """Least-squares Hill fit (O50, n) of effect = O^n/(O50^n + O^n) on the logit scale."""
    import numpy as np

    x = np.log(np.asarray(occupancy))
    y = np.log(np.asarray(effect) / (1 - np.asarray(effect)))
    n, c = np.polyfit(x, y, 1)
    return float(np.exp(-c / n)), float(n)


def psilocybin_peak_ht2a(dose_mg: float) -> float:
    """Model peak 5-HT2A activation after an oral psilocybin dose (typical adult)."""
    from ..io.scenario import scenario_from_dict
    from ..simulate.run import simulate

    sc = scenario_from_dict({"dose": [{"drug": "psilocybin", "amount": f"{dose_mg} mg",
                                       "route": "oral"}],
                             "simulation": {"end": "8 h", "output_every": "2 min",
                                            "observables": ["drive.ht2a"]}})
    return float(simulate(sc).values["drive.ht2a"].max())


def intensity_fit() -> tuple[float, float]:
    """(O50, n) of the psychedelic-intensity Hill function, fitted to Holze 2023."""
    doses = sorted(HOLZE2023_INTENSITY)
    occ = [psilocybin_peak_ht2a(d) for d in doses]
    return fit_intensity_hill(occ, [HOLZE2023_INTENSITY[d] for d in doses])


def plasma_k_from_ec50(ec50_plasma: float, o50: float) -> float:
    """Plasma-basis affinity K such that half-maximal intensity occurs at ``ec50_plasma``."""
    return ec50_plasma * (1 - o50) / o50
