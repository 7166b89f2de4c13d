"""Calibration: parameters the literature does not give, fitted to ``calibration`` records.

``raadsim calibrate [--problem ID] [--write]`` runs the problems below in order (later ones use
the values of earlier ones). Each problem names the records it is fitted to; it reads them only
through :func:`~raadsim.evidence.records.calibration_records`, which refuses validation records.
With ``--write`` the fitted values go back into the data files with ``kind = "fitted"``,
``fitted_to`` = the record ids and a note naming the procedure.

Problems (in order):

``psilocin_pk``
    closed form (:mod:`raadsim.evidence.pk_fits`): a one-compartment model with zero-order
    oral input: its duration, ``V`` and ``CL`` from the published Cmax, Tmax and half-life
    (a first-order fit to the same three numbers is degenerate, ka = k, and its flip-flop tail
    keeps psilocybin's effects up for 9 h).
``lsd_pk``, ``ayahuasca_pk``
    closed form: a one-compartment oral model's ``ka``, ``V`` and ``CL`` from the published
    Cmax, Tmax and half-life (the records' values).
``psilocin_occupancy``
    closed form: the plasma psilocin giving half-maximal 5-HT2A occupancy, from the JHU 2022
    mean occupancy at 10 mg and the model's Cmax.
``psychedelic_intensity``
    least squares on the logit scale: the Hill function from 5-HT2A activation to psychedelic
    intensity, to Holze 2023's maximal 'any drug effect' at 15, 25 and 30 mg.
``lsd_ketanserin``
    root finding, simulated: LSD's 5-HT2A dissociation rate to the subjective peak time after
    100 µg (Dolder 2017), then ketanserin's in-vivo 5-HT2A affinity to the blockade of 200 µg
    LSD by 40 mg given 1 h before (Holze 2021).
``ht2a_tolerance``
    root finding, simulated: the rate at which 5-HT2A activation builds tolerance, to
    Isbell 1955 (75 µg LSD after 3 days of LSD twice daily).
``eeg_ketamine_gamma``, ``eeg_ht2a``
    root finding, simulated: the superficial pyramidal capacitance coupling to the rat gamma
    increase (Pinault 2008), and the default 5-HT2A coupling of the microcircuit to the DMT
    alpha EC50 (Eckernäs 2023).
``ketamine_sbp``
    closed form: the pressor slope ``s_sbp`` (mmHg per ng/mL plasma ketamine) is the Vankawala
    2021 mean systolic rise divided by the model's peak plasma ketamine after 0.5 mg/kg over
    40 min (the record's scenario).
``clinic``
    Nelder–Mead on log-parameters from fixed starting guesses (``CLINIC_START``), inside
    each parameter's recorded range, simulating the calibration trial (slow: about 10-30 min on
    2 cores): drug sensitivity, its spread, the weight of the sustained component, placebo
    response and unblinding, to Han 2016 and Wilkinson 2019 response rates. The objective is
    the sum of squared standardised residuals ``(simulated − published) / tolerance``.

Not fitted by this command (their values are hand-tuned; the notes in the data files say so):
the circuit parameters (to the Gerhard 2020 slice records) and the mouse ketamine
``elimination_factor`` (bisection to the Ma 2023 half-life record), and the rat ketamine
``Vc``, ``elimination_factor`` and s.c./i.m. ``ka`` (bisection to the Le Nedelec 2018 and
McDonnell 2021 records of data/evidence/rodent_pk.toml).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..drugs.catalogue import builtin
from ..errors import InputError
from ..io.scenario import scenario_from_dict
from ..model.layer import _load_layer
from ..provenance import parameter_file
from ..simulate.run import simulate
from ..units import parse_time
from . import clinic_fit, runner
from .pk_fits import (
    cmax_zero_order,
    fit_ec50_from_occupancy,
    fit_intensity_hill,
    fit_oral_one_compartment,
    fit_oral_zero_order,
    plasma_k_from_ec50,
    psilocybin_peak_ht2a,
)
from .records import Record, calibration_records
from .runner import arm_scenarios

PSILOCYBIN_TO_PSILOCIN = 204.273 / 284.252  # molar masses (chemistry.py formulas)


@dataclass(frozen=True)
class Target:
    """A fitted parameter: its name in the fit and where it lives in the data files."""

    name: str
    locations: tuple[str, ...]  # "data/analytes/psilocin.toml:pk.human.params.Vc"


@dataclass(frozen=True)
class Problem:
    id: str
    description: str
    records: tuple[str, ...]
    targets: tuple[Target, ...]
    procedure: str
    fit: Callable[[dict[str, Record], dict[str, float]], dict[str, float]]
    slow: bool = False
    # Fixed starting values of an iterative fit; None: the fit starts from the stored values
    # (the closed forms ignore their start).
    start: dict[str, float] | None = None


def published(recs: dict[str, Record], rid: str) -> float:
    """The published value of a calibration record (``expected.value``)."""
    v = recs[rid].expected.value
    if v is None:
        raise InputError(f"{rid}.expected", recs[rid].expected.describe(),
                         "a value with a tolerance (calibration data)")
    return v


# -- closed-form problems ------------------------------------------------------------------
def _oral(cmax: str, tmax: str, half: str, dose_mg: Callable[[], float]):
    def fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:

        f = fit_oral_one_compartment(dose_mg(), published(recs, cmax), published(recs, tmax),
                                     published(recs, half))
        return {"Vc": f.V, "CL": f.CL, "ka": f.ka}
    return fit


def _psilocin_dose(mg: float) -> float:

    F = builtin().drugs["psilocybin"].routes["human"]["oral"].pathways[0].F
    return mg * PSILOCYBIN_TO_PSILOCIN * F.value


def _zero_order(cmax: str, tmax: str, half: str, dose_mg: Callable[[], float]):
    def fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:

        f = fit_oral_zero_order(dose_mg(), published(recs, cmax), published(recs, tmax),
                                published(recs, half))
        return {"Vc": f.V, "CL": f.CL, "duration": f.duration}
    return fit


def _occupancy_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:

    a = builtin().analytes["psilocin"].pk["human"].params
    pw = builtin().drugs["psilocybin"].routes["human"]["oral"].pathways[0]
    cmax = cmax_zero_order(_psilocin_dose(10), pw.duration.value, a["Vc"].value,
                           a["CL"].value)
    return {"K": fit_ec50_from_occupancy(cmax, published(
        recs, "jhu2022_psilocybin_ht2a_occupancy_10mg"))}


INTENSITY_RECORDS = {15.0: "holze2023_psilocybin_intensity_15mg",
                     25.0: "holze2023_psilocybin_intensity_25mg",
                     30.0: "holze2023_psilocybin_intensity_30mg"}


def _intensity_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:

    doses = sorted(INTENSITY_RECORDS)
    o50, n = fit_intensity_hill([psilocybin_peak_ht2a(d) for d in doses],
                                [published(recs, INTENSITY_RECORDS[d]) for d in doses])
    return {"O50_intensity": o50, "n_intensity": n,
            "K_lsd": plasma_k_from_ec50(LSD_EC50_NG_ML, o50),
            "K_dmt": plasma_k_from_ec50(DMT_EC50_NM * DMT_MOLAR_MASS / 1000, o50)}


# The literature EC50s that place the LSD and DMT intensity curves on the activation scale
# (K = EC50·(1 − O50)/O50): Holze 2019 'good drug effect' EC50 (pkpd.md §7) and the Eckernäs
# 2022 effect-site EC50 (pkpd.md §8); 188.27 g/mol is DMT's molar mass (C12H16N2).
LSD_EC50_NG_ML = 1.0
DMT_EC50_NM = 95.0
DMT_MOLAR_MASS = 188.27


SERT_RECORD = "klein2007_escitalopram_sert_occupancy_steady_state"


def _sert_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:
    """K of escitalopram: the model's plasma concentration at the record's time and the
    published occupancy (closed form, pk_fits.fit_ec50_from_occupancy)."""
    rec = recs[SERT_RECORD]
    sc = scenario_from_dict(arm_scenarios(rec)["escitalopram"])
    r = simulate(sc, observables=["plasma.escitalopram"])
    t = parse_time(rec.time, f"{rec.id}.time")
    c = float(r.values["plasma.escitalopram"][int(np.searchsorted(r.time_h, t - 1e-9))])
    return {"K": fit_ec50_from_occupancy(c, published(recs, SERT_RECORD))}


VC_RECORD = "simons2022_esketamine_iv_20mg_arterial_peak"


def _vc_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:
    """The S-ketamine central volume at which the model's arterial peak after the record's IV
    infusion equals the published peak (the peak falls monotonically with Vc: root finding)."""
    from scipy.optimize import brentq


    rec = recs[VC_RECORD]
    sc = scenario_from_dict(arm_scenarios(rec)["iv"])
    target = published(recs, VC_RECORD)

    def excess(log_vc: float) -> float:
        r = simulate(sc, params={"Vc_s_ketamine": math.exp(log_vc)})
        return float(r.values[rec.observable].max()) - target

    return {"Vc": math.exp(brentq(excess, math.log(10.0), math.log(500.0), xtol=1e-9))}


SBP_RECORD = "vankawala2021_ketamine_sbp_rise"


def _sbp_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:

    raw = arm_scenarios(recs[SBP_RECORD])["iv"]
    raw["simulation"] = {**raw["simulation"], "observables": ["plasma.ketamine"]}
    peak = float(simulate(scenario_from_dict(raw)).values["plasma.ketamine"].max())
    return {"s_sbp": published(recs, SBP_RECORD) / peak}


# -- simulated root-finding problems (LSD and ketanserin, EEG couplings) -----------------
def _record_value(rec: Record, overrides: dict[str, float]) -> float:
    """The record's quantity with parameter ``overrides`` applied to each arm whose model has
    them (an arm without ketanserin has no ketanserin affinity)."""
    from ..model import eeg
    from ..model.build import build_model
    from .measures import Measures, Trajectory, evaluate_quantity

    arms = {}
    for name, raw in arm_scenarios(rec).items():
        sc = scenario_from_dict(raw)
        spec = build_model(sc, sc.catalogue())
        mine = {k: v for k, v in overrides.items()
                if k in spec.params or k in eeg.parameter_names()}
        r = simulate(sc, params=mine)
        arms[name] = Trajectory(r.time_h, r.values)
    return evaluate_quantity(Measures(rec, arms=arms))


def _root_log(f: Callable[[float], float], lo: float, hi: float) -> float:
    """The root of ``f`` between ``lo`` and ``hi`` (searched on the log scale)."""
    from scipy.optimize import brentq

    return math.exp(brentq(lambda z: f(math.exp(z)), math.log(lo), math.log(hi), xtol=1e-7))


LSD_PEAK_RECORD = "dolder2017_lsd_100ug_peak_time"
KETANSERIN_RECORD = "holze2021_ketanserin_prevents_lsd_200ug"


def _lsd_peak_time(rec: Record, koff: float) -> float:
    """Time (h) of peak intensity on a 1-min grid (finer than the record's), at ``koff``."""
    import numpy as np

    raw = arm_scenarios(rec)["lsd"]
    raw["simulation"] = {**raw["simulation"], "end": "8 h", "output_every": "1 min",
                         "observables": [rec.observable]}
    r = simulate(scenario_from_dict(raw), params={"koff_ht2a_lsd": koff})
    return float(r.time_h[int(np.argmax(r.values[rec.observable]))])


def _lsd_ketanserin_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:
    """LSD's 5-HT2A koff to the peak time, then ketanserin's K to the 200 ug blockade (both
    monotonic: root finding on the log scale)."""
    peak = recs[LSD_PEAK_RECORD]
    koff = _root_log(lambda k: _lsd_peak_time(peak, k) - published(recs, LSD_PEAK_RECORD),
                     0.1, 20.0)
    block = recs[KETANSERIN_RECORD]
    K = _root_log(lambda k: _record_value(block, {"koff_ht2a_lsd": koff,
                                                  "K_ht2a_ketanserin": k})
                  - published(recs, KETANSERIN_RECORD), 1e-5, 0.01)
    return {"koff": koff, "K": K}


TOLERANCE_RECORD = "isbell1955_lsd_tolerance_day4"


def _tolerance_fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:
    rec = recs[TOLERANCE_RECORD]
    return {"k_tol": _root_log(lambda k: _record_value(rec, {"k_tol": k})
                               - published(recs, TOLERANCE_RECORD), 1e-3, 2.0)}


GAMMA_RECORD = "pinault2008_ketamine_gamma_rat"
ALPHA_EC50_RECORD = "eckernas2023_dmt_alpha_ec50"


def _eeg_fit(rid: str, name: str, lo: float, hi: float):
    def fit(recs: dict[str, Record], start: dict[str, float]) -> dict[str, float]:
        rec = recs[rid]
        return {name: _root_log(lambda k: _record_value(rec, {name: k}) - published(recs, rid),
                                lo, hi)}
    return fit


# -- simulation-based problem (clinic) -----------------------------------------------------
CLINIC_RECORDS = (
    "han2016_ketamine_response_24h", "han2016_ketamine_response_72h",
    "han2016_ketamine_response_day7", "wilkinson2019_saline_response_day1",
    "wilkinson2019_midazolam_response_day1", "daly2018_placebo_change_2h",
    "daly2018_placebo_change_24h", "daly2018_placebo_change_week1",
    "hirayasu2011_placebo_change_week8", "hirayasu2011_placebo_sd_week8",
    "wade2002_escitalopram_vs_placebo_week8", "ionescu2021_placebo_change_24h")
CLINIC_PARAMS = tuple(clinic_fit.PARAMETERS)
_CLINIC_LOCATIONS = {
    "nonspecific_logit_mdd": ("data/parameters/conditions.toml:mdd.nonspecific_logit",
                              "data/parameters/conditions.toml:bipolar_depression."
                              "nonspecific_logit"),
    "nonspecific_logit_trd": ("data/parameters/conditions.toml:trd.nonspecific_logit",),
    "iiv_sensitivity": ("data/parameters/population.toml:iiv_sensitivity",),
    "iiv_nonspecific": ("data/parameters/population.toml:iiv_nonspecific",),
}

# Fixed starting point of the clinic fit (it seeds the differential evolution; recorded here
# as constants, so a re-run from a clean clone never depends on the stored values): the values
# of the first fit of the longitudinal clinic model.
CLINIC_START = {"p_placebo": 0.25, "g_unblind": 2.0, "g_inpatient": 1.0, "R50_relief": 0.5,
                "w_struct": 2.2, "Emax_ssri": 0.12, "nonspecific_logit_mdd": -0.5,
                "nonspecific_logit_trd": -1.1, "iiv_sensitivity": 1.5, "iiv_nonspecific": 1.0}


def clinic_bounds() -> dict[str, tuple[float, float]]:
    """Each clinic parameter's recorded plausible range: the box the fit stays in."""
    return clinic_fit.bounds()


def objective(records: list[Record], x: dict[str, float], executor: str = "serial") -> float:
    """The clinic objective at ``x``, by simulating the calibration trials."""
    return clinic_fit.full_objective(records, x, executor=executor)


def _clinic_fit(recs: dict[str, Record], start: dict[str, float], maxiter: int = 150,
                executor: str = "processes", log: Callable[[str], None] = print
                ) -> dict[str, float]:
    return clinic_fit.fit(list(recs.values()), start, executor=executor, log=log,
                          maxiter=maxiter)


def _oral_problem(pid: str, description: str, analyte: str, drug: str,
                  records: tuple[str, str, str], dose_note: str,
                  dose_mg: Callable[[], float]) -> Problem:
    """A closed-form oral PK problem: records are (Cmax, Tmax, half-life)."""
    return Problem(
        pid, description, records,
        (Target("Vc", (f"data/analytes/{analyte}.toml:pk.human.params.Vc",)),
         Target("CL", (f"data/analytes/{analyte}.toml:pk.human.params.CL",)),
         Target("ka", (f"data/drugs/{drug}.toml:routes.human.oral.pathway.0.ka",))),
        "closed-form one-compartment oral fit to Cmax, Tmax and t1/2 "
        f"(raadsim.evidence.pk_fits); {dose_note}",
        _oral(*records, dose_mg))


PSILOCIN_PK_RECORDS = ("holze2023_psilocin_cmax_25mg", "holze2023_psilocin_tmax",
                       "holze2023_psilocin_half_life")

PROBLEMS: tuple[Problem, ...] = (
    Problem("psilocin_pk", "psilocin one-compartment PK with zero-order oral input (Holze "
            "2023, 25 mg)", PSILOCIN_PK_RECORDS,
            (Target("Vc", ("data/analytes/psilocin.toml:pk.human.params.Vc",)),
             Target("CL", ("data/analytes/psilocin.toml:pk.human.params.CL",)),
             Target("duration", ("data/drugs/psilocybin.toml:routes.human.oral.pathway.0."
                                 "duration",))),
            "closed-form one-compartment fit with zero-order oral input to Cmax, Tmax and "
            "t1/2 (raadsim.evidence.pk_fits.fit_oral_zero_order: input duration = Tmax); "
            "dose = psilocybin × molar-mass ratio × oral F",
            _zero_order(*PSILOCIN_PK_RECORDS, lambda: _psilocin_dose(25))),
    _oral_problem("lsd_pk", "LSD one-compartment oral PK (100 µg; Dolder 2017, Holze 2019)",
                  "lsd", "lsd", ("dolder2017_lsd_cmax_100ug", "holze2019_lsd_tmax_100ug",
                                 "dolder2017_lsd_half_life"),
                  "F folded into V/F", lambda: 0.100),
    _oral_problem("ayahuasca_pk", "DMT with MAO inhibition: one-compartment oral PK "
                  "(Riba 2003)", "dmt_maoi", "ayahuasca",
                  ("riba2003_ayahuasca_dmt_cmax", "riba2003_ayahuasca_dmt_tmax",
                   "callaway1999_ayahuasca_dmt_half_life"),
                  "0.85 mg DMT/kg at 70 kg, F folded into V/F", lambda: 0.85 * 70),
    Problem("psilocin_occupancy", "plasma psilocin giving half-maximal 5-HT2A occupancy",
            ("jhu2022_psilocybin_ht2a_occupancy_10mg",),
            (Target("K", ("data/analytes/psilocin.toml:targets.ht2a.K",)),),
            "closed form: EC50 = Cmax(10 mg) × (1 − occupancy)/occupancy, with the model's "
            "psilocin Cmax (raadsim.evidence.pk_fits.fit_ec50_from_occupancy)",
            _occupancy_fit),
    Problem("psychedelic_intensity", "Hill function from 5-HT2A activation to intensity",
            tuple(INTENSITY_RECORDS.values()),
            (Target("O50_intensity", ("model/layers/psychoactive.toml:parameters.O50_intensity",)),
             Target("n_intensity", ("model/layers/psychoactive.toml:parameters.n_intensity",)),
             Target("K_lsd", ("data/analytes/lsd.toml:targets.ht2a.K",)),
             Target("K_dmt", ("data/analytes/dmt.toml:targets.ht2a.K",
                              "data/analytes/dmt_maoi.toml:targets.ht2a.K"))),
            "least squares on the logit scale against the model's peak 5-HT2A activation "
            "(raadsim.evidence.pk_fits.fit_intensity_hill); the LSD and DMT 5-HT2A affinities "
            "(plasma units) then follow as K = EC50·(1 − O50)/O50 "
            "(raadsim.evidence.pk_fits.plasma_k_from_ec50), so that half-maximal intensity "
            "falls at the published EC50: 1.0 ng/mL for LSD's 'good drug effect' (holze2019, "
            "pkpd.md §7) and the effect-site 95 nM of DMT (eckernas2022, pkpd.md §8)",
            _intensity_fit),
    Problem("escitalopram_sert", "plasma escitalopram giving half-maximal SERT occupancy",
            (SERT_RECORD,),
            (Target("K", ("data/analytes/escitalopram.toml:targets.sert.K",)),),
            "closed form: K = C(1 - O)/O with the model's plasma concentration 6 h after the "
            "last of 10 daily 10 mg doses (raadsim.evidence.pk_fits.fit_ec50_from_occupancy)",
            _sert_fit),
    Problem("lsd_ketanserin", "LSD 5-HT2A dissociation rate and ketanserin in-vivo affinity",
            (LSD_PEAK_RECORD, KETANSERIN_RECORD),
            (Target("koff", ("data/analytes/lsd.toml:targets.ht2a.koff",)),
             Target("K", ("data/analytes/ketanserin.toml:targets.ht2a.K",))),
            "root finding on the log scale, simulated: koff_ht2a_lsd so that the intensity "
            "peak after 100 ug LSD (1-min grid) falls at the published time, then "
            "K_ht2a_ketanserin so that ketanserin 40 mg 1 h before 200 ug LSD leaves the "
            "published fraction of the peak (raadsim.evidence.calibrate._lsd_ketanserin_fit)",
            _lsd_ketanserin_fit),
    Problem("ht2a_tolerance", "rate at which 5-HT2A activation builds tolerance",
            (TOLERANCE_RECORD,),
            (Target("k_tol", ("model/layers/targets.toml:parameters.k_tol",)),),
            "root finding on the log scale, simulated: k_tol so that 75 ug LSD after 3 days "
            "of LSD twice daily gives the published fraction of the naive peak "
            "(raadsim.evidence.calibrate._tolerance_fit)", _tolerance_fit),
    Problem("eeg_ketamine_gamma", "superficial pyramidal capacitance fall per unit "
            "interneuron NMDA block", (GAMMA_RECORD,),
            (Target("k_cap_sp", ("model/layers/eeg.toml:parameters.k_cap_sp",)),),
            "root finding on the log scale, simulated: k_cap_sp so that the rat whole-head "
            "gamma peak after 10 mg/kg s.c. ketamine is the published ratio "
            "(raadsim.evidence.calibrate._eeg_fit)", _eeg_fit(GAMMA_RECORD, "k_cap_sp", 0.05,
                                                             5.0)),
    Problem("eeg_ht2a", "5-HT2A coupling of the microcircuit (default: bottom-up drive)",
            (ALPHA_EC50_RECORD,),
            (Target("k_ht2a_ff", ("model/layers/eeg.toml:parameters.k_ht2a_ff",)),),
            "root finding on the log scale, simulated: k_ht2a_ff so that posterior alpha is "
            "halved after 90 min of a DMT infusion holding plasma DMT at the alpha EC50 "
            "(raadsim.evidence.calibrate._eeg_fit)", _eeg_fit(ALPHA_EC50_RECORD, "k_ht2a_ff",
                                                             0.05, 10.0)),
    Problem("ketamine_vc", "central volume of S- and R-ketamine from IV data",
            (VC_RECORD,),
            (Target("Vc", ("data/analytes/s_ketamine.toml:pk.human.params.Vc",
                           "data/analytes/r_ketamine.toml:pk.human.params.Vc")),),
            "root finding: the central volume at which the arterial S-ketamine peak after 20 mg "
            "IV over 20 min equals the published peak (raadsim.evidence.calibrate._vc_fit). It "
            "replaces the Perez-Ruixo 2021 value (Table 3: Vc = 192 L), which was fitted mostly "
            "to intranasal data (one 28 mg IV arm of 18 of the 820 subjects) and gives early IV "
            "concentrations about a third of the arterial and two thirds of the venous "
            "(zarate2006) values; the other Perez-Ruixo parameters are kept. R-ketamine shares "
            "the S-ketamine value (no R-ketamine disposition model found)",
            _vc_fit),
    Problem("ketamine_sbp", "systolic blood-pressure rise per ng/mL of plasma ketamine",
            (SBP_RECORD,),
            (Target("s_sbp", ("model/layers/cardiovascular.toml:parameters.s_sbp",)),),
            "closed form: published mean rise / the model's peak plasma ketamine "
            "(raadsim.evidence.calibrate._sbp_fit)", _sbp_fit),
    Problem("clinic", "clinic layer: drug sensitivity, sustained component, placebo, "
            "non-specific improvement, inpatient setting, conventional antidepressant",
            CLINIC_RECORDS,
            tuple(Target(n, _CLINIC_LOCATIONS.get(n, (f"model/layers/clinic.toml:parameters.{n}",)))
                  for n in CLINIC_PARAMS),
            "every calibration trial integrated once (the fitted parameters enter only the "
            "read-outs; raadsim.evidence.clinic_fit), then differential evolution (seed 20, "
            "Sobol initialisation seeded with CLINIC_START, at most 150 generations) inside each "
            "parameter's recorded range and Nelder-Mead from its best point; objective: the sum "
            "of squared residuals of the calibration records in units of their published "
            "standard errors (their tolerance where none is given), fixed virtual samples; "
            "bipolar depression shares the MDD non-specific plateau (Baldessarini 2019: "
            "bipolar placebo response 39.4 %, within the MDD range); objective at the stored "
            "values in data/calibration/clinic.toml",
            _clinic_fit, slow=True, start=CLINIC_START),
)


def problem(pid: str) -> Problem:
    for p in PROBLEMS:
        if p.id == pid:
            return p
    raise InputError("--problem", pid, f"one of {', '.join(p.id for p in PROBLEMS)}")


def _data_dir() -> Path:
    return Path(str(resources.files("raadsim").joinpath("data")))


def _split_location(loc: str) -> tuple[Path, list[str | int]]:
    """``file:dotted.key``, the file relative to the package (an integer part indexes an
    array of tables)."""
    file, key = loc.split(":")
    path = Path(str(resources.files("raadsim").joinpath(file)))
    return path, [int(k) if k.isdigit() else k for k in key.split(".")]


def stored_value(loc: str) -> float:
    """The value currently stored at a target location."""
    import tomllib

    path, keys = _split_location(loc)
    node = tomllib.loads(path.read_text(encoding="utf-8"))
    for k in keys:
        node = node[k]
    return float(node["value"])


def stored(p: Problem) -> dict[str, float]:
    return {t.name: stored_value(t.locations[0]) for t in p.targets}


def run_problem(p: Problem, **kwargs) -> dict[str, float]:
    """Fit one problem; returns ``{parameter: fitted value}`` (nothing is written)."""
    recs = {r.id: r for r in calibration_records(list(p.records))}
    return p.fit(recs, dict(p.start) if p.start is not None else stored(p), **kwargs)


def _significant(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def write_back(p: Problem, values: dict[str, float]) -> list[Path]:
    """Store fitted values (6 significant digits) with ``fitted_to`` = the problem's records."""
    import tomlkit

    changed: list[Path] = []
    for t in p.targets:
        for loc in t.locations:
            path, keys = _split_location(loc)
            doc = tomlkit.parse(path.read_text(encoding="utf-8"))
            node = doc
            for k in keys:
                node = node[k]
            node["value"] = _significant(values[t.name])
            node["kind"] = "fitted"
            node["fitted_to"] = list(p.records)
            node["note"] = f"{p.procedure}; `raadsim calibrate --problem {p.id}`"
            tmp = path.with_suffix(".toml.tmp")
            tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
            tmp.replace(path)
            changed.append(path)
    return changed


def fit_summary_path(p: Problem) -> Path:
    """Where a simulation-based fit records its objective (``data/calibration/<id>.toml``)."""
    return _data_dir() / "calibration" / f"{p.id}.toml"


def write_fit_summary(p: Problem, executor: str = "processes") -> Path:
    """Record the objective at the stored values of a slow (simulation-based) problem, with
    the procedure's settings, so a test can check that the stored values are what the
    documented fit produced (``tests/evidence/test_calibration.py``). Call after
    :func:`write_back` and :func:`reload_data`."""
    import tomlkit

    values = stored(p)
    recs = calibration_records(list(p.records))
    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"Written by `raadsim calibrate --problem {p.id} --write`; "
                            "do not edit by hand."))
    doc["problem"] = p.id
    doc["procedure"] = p.procedure
    doc["records"] = list(p.records)
    doc["start"] = dict(p.start or {})
    doc["objective_at_stored_values"] = objective(recs, values, executor)
    doc["stored_values"] = values
    path = fit_summary_path(p)
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    tmp.replace(path)
    return path


def reload_data() -> None:
    """Forget cached data files (after :func:`write_back`), so later problems see new values."""

    builtin.cache_clear()
    _load_layer.cache_clear()
    parameter_file.cache_clear()
    runner.clear_cache()
