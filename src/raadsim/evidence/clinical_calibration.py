"""Calibration of the clinic layer to published trial endpoints.

Fitted (``python -m raadsim.evidence.clinical_calibration``; values stored in
``data/parameters/clinic.toml`` and ``population.toml`` as ``kind = "fitted"``):

* ``R50_relief`` (typical drug sensitivity), ``iiv_sensitivity`` (its spread) and ``w_struct``
  (weight of the sustained, spine-borne component), to the single-infusion ketamine response
  rates at 24 h, 72 h and day 7 of Han 2016;
* ``p_placebo`` and ``g_unblind``, to the day-1 response of saline (1 %) and midazolam (18 %)
  arms in Wilkinson 2019.

Everything else in the trial tests (onset and loss of ketamine's effect, Murrough 2013,
esketamine doses of Daly 2018, psilocybin doses of Goodwin 2022) is a held-out check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..io.trial_file import TrialFile, trial_from_dict
from ..simulate.trial import TrialResult, run_trial


@dataclass(frozen=True)
class Target:
    arm: str
    visit: str
    metric: str  # key of a visit summary in trial.json
    value: float
    source: str  # id in data/sources.toml
    quote: str


TARGETS = (
    Target("ketamine", "1 d", "response_rate", 0.522, "han2016",
           "Response and remission rates in the ketamine group at 24 and 72 h, and day 7 were "
           "52.2% and 20.6%; 47.9% and 23.8%; and 39.8% and 26.2%, respectively."),
    Target("ketamine", "3 d", "response_rate", 0.479, "han2016", "(same sentence)"),
    Target("ketamine", "7 d", "response_rate", 0.398, "han2016", "(same sentence)"),
    Target("saline", "1 d", "response_rate", 0.01, "wilkinson2019",
           "ketamine (midazolam), 45% (34-56%); ketamine (saline), 46% (34-58%); midazolam, 18% "
           "(6-30%); saline, 1% (0-11%)"),
    Target("midazolam", "1 d", "response_rate", 0.18, "wilkinson2019", "(same sentence)"),
)

FITTED = ("R50_relief", "w_struct", "g_unblind", "p_placebo", "iiv_sensitivity")


def _infusion(drug: str, amount: str) -> dict:
    return {"drug": drug, "amount": amount, "route": "iv", "infusion": "40 min"}


def calibration_trial(n: int = 300, seed: int = 2016, iiv_sensitivity: float | None = None
                      ) -> TrialFile:
    """Single 40-min infusions in TRD: ketamine 0.5 mg/kg, midazolam 0.045 mg/kg, saline."""
    pop: dict = {"n": n, "seed": seed, "condition": "trd"}
    if iiv_sensitivity is not None:
        pop["iiv"] = {"sensitivity": iiv_sensitivity}
    return trial_from_dict({
        "population": pop,
        "trial": {"visits": ["40 min", "1 d", "3 d", "7 d"], "output_every": "1 d",
                  "control": "saline", "arm": [
                      {"name": "ketamine", "dose": [_infusion("ketamine", "0.5 mg/kg")]},
                      {"name": "midazolam", "dose": [_infusion("midazolam", "0.045 mg/kg")]},
                      {"name": "saline", "dose": [_infusion("saline", "0 mg")]}]}})


def simulated(result: TrialResult, t: Target) -> float:
    return result.summary["arms"][t.arm]["visits"][t.visit][t.metric]


def loss(result: TrialResult) -> float:
    """Sum of squared errors in percentage points of response."""
    return float(sum((100 * (simulated(result, t) - t.value)) ** 2 for t in TARGETS))


def evaluate(x: dict[str, float], n: int = 300, executor: str = "serial") -> TrialResult:
    tf = calibration_trial(n, iiv_sensitivity=x.get("iiv_sensitivity"))
    over = {k: v for k, v in x.items() if k != "iiv_sensitivity"}
    return run_trial(tf, executor=executor, overrides=over)


def fit(start: dict[str, float], n: int = 300, maxiter: int = 80) -> dict[str, float]:
    """Nelder–Mead on log-parameters; prints each evaluation."""
    from scipy.optimize import minimize

    names = list(start)

    def objective(z: np.ndarray) -> float:
        x = {k: math.exp(v) for k, v in zip(names, z, strict=True)}
        if x.get("iiv_sensitivity", 0) > 3:  # outside what a trial file accepts
            return 1e4
        value = loss(evaluate(x, n))
        print(f"{value:9.2f}  " + "  ".join(f"{k}={v:.4g}" for k, v in x.items()), flush=True)
        return value

    z0 = np.log([start[k] for k in names])
    simplex = np.vstack([z0, z0 + 0.4 * np.eye(len(names))])  # ±50 % steps, also from log 1 = 0
    res = minimize(objective, z0, method="Nelder-Mead",
                   options={"maxiter": maxiter, "xatol": 0.02, "fatol": 1.0,
                            "initial_simplex": simplex})
    return {k: math.exp(v) for k, v in zip(names, res.x, strict=True)}


def report(result: TrialResult) -> list[tuple[Target, float]]:
    return [(t, simulated(result, t)) for t in TARGETS]


if __name__ == "__main__":  # pragma: no cover
    from ..model.layer import layer_params

    clinic = layer_params("clinic")
    pop = layer_params("population")
    start = {"R50_relief": clinic["R50_relief"].value, "w_struct": clinic["w_struct"].value,
             "g_unblind": clinic["g_unblind"].value,
             "p_placebo": clinic["p_placebo"].value,
             "iiv_sensitivity": pop["iiv_sensitivity"].value}
    best = fit(start)
    print("best", best)
    for t, v in report(evaluate(best)):
        print(f"{t.arm:10s} {t.visit:5s} {t.metric}: simulated {v:.3f}, published {t.value}")
