"""Trial endpoints: per-patient visit ratings, response, remission and relapse; per-arm
summaries and between-arm contrasts.

* A visit's rated MADRS is the model MADRS plus the patient's rating noise, rounded to a whole
  point and kept within 0–60; the baseline rating is the patient's sampled baseline, rounded.
* Response: rated MADRS <= (1 − r)·baseline (r = 0.5 for "50%"). Remission: rated <= cut-off.
* Relapse ("response lost"), on the model MADRS every output step after the last dose: time
  from the last dose to the first loss of response, for patients who responded after it;
  those still responding at the end are censored. The median is the Kaplan–Meier median, with
  a 95 % CI from the pointwise log-log confidence band of the survival curve (the times at
  which its lower and upper limits fall to 0.5, as R's ``survfit`` reports it).
* Per arm and visit, 95 % CIs express the Monte-Carlo uncertainty of n virtual patients: a
  t interval for the mean MADRS change and Wilson score intervals for the response and
  remission rates.
* Contrasts (each arm vs the control arm): difference in mean MADRS change with its 95 % CI
  (Welch t for parallel arms, paired t for a paired design), Cohen's d (pooled SD) and the
  difference in response rate with a 95 % CI (Newcombe's hybrid score interval for parallel
  arms, Newcombe's method 10 for paired proportions in a paired design).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from ..io.trial_file import TrialFile
    from .bands import Bands
    from .population import Patient
    from .trial import ArmModel

QUANTILES = {"p05": 0.05, "p50": 0.5, "p95": 0.95}


def patient_row(arm: ArmModel, p: Patient, madrs: np.ndarray, response: float,
                remission: float, relapse: bool, si: np.ndarray | None = None) -> dict:
    """Covariates and endpoints of one patient, from the model MADRS (and MADRS item 10,
    ``si``) at every output row."""
    base = float(np.clip(round(p.madrs_baseline), 0, 60))
    row: dict = {"arm": arm.name, "patient": p.index, "weight_kg": p.weight_kg, "age": p.age,
                 "female": p.female, "ancestry": p.ancestry, "genotype": p.genotype,
                 "madrs_baseline": base,
                 "madrs_true": p.madrs_true, "si_baseline": p.si_baseline,
                 "eta_nonspecific": p.eta_nonspecific,
                 "eta_clearance": p.eta_clearance, "eta_volume": p.eta_volume,
                 "eta_sensitivity": p.eta_sensitivity, "eta_placebo": p.eta_placebo}
    for label, r, noise in zip(arm.visit_labels, arm.visit_rows, p.rating_noise, strict=True):
        model = float(madrs[r])
        rated = float(np.clip(round(model + noise), 0, 60))
        row[f"madrs_model@{label}"] = model
        row[f"madrs_rated@{label}"] = rated
        row[f"change@{label}"] = rated - base
        row[f"response@{label}"] = bool(rated <= (1 - response) * base)
        row[f"remission@{label}"] = bool(rated <= remission)
        if si is not None:
            row[f"si@{label}"] = float(si[r])
    if relapse:
        row["relapse_days"], row["relapse_observed"] = _relapse(arm, madrs, response,
                                                                p.madrs_baseline)
    return row


def _relapse(arm: ArmModel, madrs: np.ndarray, response: float, base: float
             ) -> tuple[float, bool]:
    if arm.last_dose_h is None:
        return math.nan, False
    t = arm.times_h
    after = t > arm.last_dose_h
    responding = (madrs <= (1 - response) * base) & after
    if not responding.any():
        return math.nan, False  # never responded after the last dose: not at risk
    first = int(np.argmax(responding))
    lost = np.flatnonzero(~responding[first:] & after[first:])
    if len(lost):
        return float((t[first + lost[0]] - arm.last_dose_h) / 24), True
    return float((t[-1] - arm.last_dose_h) / 24), False


def _first_below_half(curve) -> float | None:
    """First time at which a step survival curve is at or below 0.5 (None if never)."""
    below = np.flatnonzero(curve.probabilities <= 0.5)
    return float(curve.quantiles[below[0]]) if len(below) else None


def km_median_days(days: pd.Series, observed: pd.Series
                   ) -> tuple[float | None, list[float | None] | None]:
    """Kaplan–Meier median time to relapse and its 95 % CI (an upper limit of None: not
    reached; CI None where the band is undefined; both None if nobody was at risk or nobody
    relapsed)."""
    ok = days.notna()
    if not ok.any():
        return None, None
    d, o = days[ok].to_numpy(), observed[ok].to_numpy(bool)
    if not o.any():
        return None, None
    sf = stats.ecdf(stats.CensoredData(uncensored=d[o], right=d[~o])).sf
    with warnings.catch_warnings():  # undefined (NaN) where S = 0 or 1, by the formula
        warnings.simplefilter("ignore", RuntimeWarning)
        band = sf.confidence_interval(0.95, method="log-log")
    low = _first_below_half(band.low)
    if low is None:  # the band is undefined throughout (e.g. a single relapse)
        return _first_below_half(sf), None
    return _first_below_half(sf), [low, _first_below_half(band.high)]


def proportion_ci(k: int, n: int) -> list[float]:
    """Wilson score 95 % interval of a proportion k/n."""
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def mean_ci(x: pd.Series) -> list[float] | None:
    """t-based 95 % interval of a mean (None for fewer than two values or no spread)."""
    x = x.to_numpy(float)
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    return [float(ci.low), float(ci.high)]


def _visit_summary(g: pd.DataFrame, label: str) -> dict:
    change = g[f"change@{label}"]
    responders, remitters = int(g[f"response@{label}"].sum()), int(g[f"remission@{label}"].sum())
    return {
        "madrs_mean": float(g[f"madrs_rated@{label}"].mean()),
        "madrs_change_mean": float(change.mean()),
        "madrs_change_sd": float(change.std(ddof=1)) if len(g) > 1 else None,
        "madrs_change_ci95": mean_ci(change),
        "response_rate": responders / len(g),
        "response_ci95": proportion_ci(responders, len(g)),
        "remission_rate": remitters / len(g),
        "remission_ci95": proportion_ci(remitters, len(g)),
        "n": len(g),
        **({"si_mean": float(g[f"si@{label}"].mean()),
            "si_change_mean": float((g[f"si@{label}"] - g["si_baseline"]).mean())}
           if f"si@{label}" in g else {}),
    }


def contrast(a: pd.DataFrame, c: pd.DataFrame, label: str, paired: bool) -> dict:
    xa, xc = a[f"change@{label}"].to_numpy(float), c[f"change@{label}"].to_numpy(float)
    diff = float(xa.mean() - xc.mean())
    out: dict = {"madrs_change_difference": diff, "ci95": None, "p_value": None,
                 "cohens_d": None}
    if len(xa) > 1 and len(xc) > 1:
        pooled = math.sqrt(((len(xa) - 1) * xa.var(ddof=1) + (len(xc) - 1) * xc.var(ddof=1))
                           / (len(xa) + len(xc) - 2))
        if pooled > 0:
            with warnings.catch_warnings():  # near-identical tiny samples: precision warning
                warnings.simplefilter("ignore", RuntimeWarning)
                test = stats.ttest_rel(xa, xc) if paired else stats.ttest_ind(
                    xa, xc, equal_var=False)
            ci = test.confidence_interval(0.95)
            out.update(ci95=[float(ci.low), float(ci.high)], p_value=float(test.pvalue),
                       cohens_d=diff / pooled)
    resp_a, resp_c = a[f"response@{label}"].to_numpy(bool), c[f"response@{label}"].to_numpy(bool)
    out["response_rate_difference"] = float(resp_a.mean() - resp_c.mean())
    if paired:  # the same virtual patients in both arms (rows aligned by patient)
        both = int((resp_a & resp_c).sum())
        only_a, only_c = int((resp_a & ~resp_c).sum()), int((~resp_a & resp_c).sum())
        out["response_ci95"] = paired_difference_ci(both, only_a, only_c,
                                                    len(resp_a) - both - only_a - only_c)
    else:
        out["response_ci95"] = difference_ci(int(resp_a.sum()), len(resp_a),
                                             int(resp_c.sum()), len(resp_c))
    return out


def difference_ci(ka: int, na: int, kc: int, nc: int) -> list[float]:
    """Newcombe's hybrid score 95 % interval of ``ka/na − kc/nc`` (independent samples;
    statsmodels ``confint_proportions_2indep``, method ``newcomb``)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(ka, na, kc, nc, method="newcomb", compare="diff")
    return [float(low), float(high)]


def paired_difference_ci(both: int, only_a: int, only_c: int, neither: int) -> list[float]:
    """95 % interval of the difference of two proportions measured on the same subjects:
    Newcombe's method 10 (Stat Med 1998;17:2635-50), Wilson limits of each margin combined with
    the phi correlation of the pairs. ``both``/``neither``: pairs positive/negative in both
    arms; ``only_a``/``only_c``: positive in one arm only."""
    n = both + only_a + only_c + neither
    p1, p2 = (both + only_a) / n, (both + only_c) / n
    l1, u1 = proportion_ci(both + only_a, n)
    l2, u2 = proportion_ci(both + only_c, n)
    margins = (both + only_a) * (only_c + neither) * (both + only_c) * (only_a + neither)
    phi = (both * neither - only_a * only_c) / math.sqrt(margins) if margins else 0.0
    d1, e1, d2, e2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    delta = math.sqrt(max(d1 * d1 - 2 * phi * d1 * e2 + e2 * e2, 0.0))
    eps = math.sqrt(max(e1 * e1 - 2 * phi * e1 * d2 + d2 * d2, 0.0))
    diff = p1 - p2
    return [float(max(diff - delta, -1.0)), float(min(diff + eps, 1.0))]


def summarise(tf: TrialFile, arms: list[ArmModel], patients: pd.DataFrame) -> dict:
    """The content of ``trial.json``: per-arm visit summaries, relapse, contrasts."""
    labels = tf.trial.visits
    out: dict = {"arms": {}, "contrasts": {}}
    groups = {a.name: patients[patients["arm"] == a.name] for a in arms}
    for a in arms:
        g = groups[a.name]
        entry: dict = {"visits": {v: _visit_summary(g, v) for v in labels}}
        if tf.trial.relapse is not None:
            at_risk = g["relapse_days"].notna()
            median, ci = km_median_days(g["relapse_days"], g["relapse_observed"])
            entry["median_days_to_relapse"] = median
            entry["median_days_to_relapse_ci95"] = ci
            entry["relapse"] = {"responders_after_last_dose": int(at_risk.sum()),
                                "relapsed": int((g["relapse_observed"] & at_risk).sum())}
        out["arms"][a.name] = entry
    control = tf.trial.control_arm()
    for a in arms:
        if a.name == control:
            continue
        out["contrasts"][f"{a.name} vs {control}"] = {
            v: contrast(groups[a.name], groups[control], v, tf.trial.design == "paired")
            for v in labels}
    return out


def band_table(arms: list[ArmModel], bands: dict[str, Bands]) -> pd.DataFrame:
    """``time_h, observable, arm, mean, sd, p05, p50, p95`` for every arm and output time."""
    frames = []
    for a in arms:
        b = bands[a.name]
        mean, sd = b.mean(), b.sd()
        qs = {k: b.quantile(q) for k, q in QUANTILES.items()}
        t = a.times_h
        for k, obs in enumerate(a.observables):
            frames.append(pd.DataFrame({"time_h": t, "observable": obs, "arm": a.name,
                                        "mean": mean[:, k], "sd": sd[:, k],
                                        **{q: v[:, k] for q, v in qs.items()}}))
    return pd.concat(frames, ignore_index=True)
