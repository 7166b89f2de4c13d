"""The clinic calibration reproduces: its stored values are what the documented fit (fixed
start, recorded ranges, fixed virtual samples) produced, its objective there is the one
recorded when they were written, and the fast objective it optimises (read-outs evaluated on
patients integrated once) equals simulating the trials."""

from __future__ import annotations

import tomllib

import pytest

from raadsim.evidence import calibrate as cal
from raadsim.evidence import clinic_fit
from raadsim.evidence.records import Record, calibration_records


@pytest.fixture(scope="module")
def clinic():
    p = cal.problem("clinic")
    return p, tomllib.loads(cal.fit_summary_path(p).read_text(encoding="utf-8"))


def test_summary_matches_stored_values(clinic):
    p, summary = clinic
    assert summary["records"] == list(p.records)
    assert summary["start"] == cal.CLINIC_START
    assert summary["stored_values"] == pytest.approx(cal.stored(p), rel=1e-12)


def test_stored_values_and_start_inside_recorded_ranges(clinic):
    p, _ = clinic
    box = cal.clinic_bounds()
    assert set(box) == set(cal.CLINIC_START) == {t.name for t in p.targets}
    for k, v in cal.stored(p).items():
        assert box[k][0] <= v <= box[k][1], k
    for k, v in cal.CLINIC_START.items():
        assert box[k][0] <= v <= box[k][1], k


def test_fitted_clinic_parameters_enter_only_the_readouts():
    """What makes the fast objective exact: no fitted parameter enters an ODE."""
    from raadsim.evidence.records import trial_path
    from raadsim.io.trial_file import load_trial
    from raadsim.simulate.trial import prepare_arms

    tf = load_trial(trial_path("trials/daly2018_esketamine_doses.toml"))
    cat = tf.catalogue()
    for arm in prepare_arms(tf, cat):
        clinic_fit._check_readout_only(arm)
        fitted = {k for kind, k in clinic_fit.PARAMETERS.values() if kind == "model"}
        assert fitted <= set(arm.plan.constants) | {"Emax_ssri"}


def _small_record(rid: str, quantity: str) -> Record:
    trial = {"population": {"n": 24, "seed": 5, "condition": "trd"},
             "trial": {"visits": ["2 h", "1 d", "7 d"], "output_every": "1 d",
                       "control": "saline", "context": {"setting": "inpatient"}},
             "arm": None}
    trial["trial"]["arm"] = [
        {"name": "ketamine", "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg",
                                       "route": "iv", "infusion": "40 min"}]},
        {"name": "saline", "dose": [{"drug": "saline", "amount": "0 mg", "route": "iv",
                                     "infusion": "40 min"}]}]
    del trial["arm"]
    return Record(id=rid, kind="calibration", layer="clinic", drug="ketamine",
                  species="human", source="han2016", quote="a test record of the fast path",
                  finding="-", observable="clinic.madrs", time="1 d", quantity=quantity,
                  expected={"value": 0.0, "tolerance": 1.0}, justification="-", trial=trial)


@pytest.mark.slow
def test_fast_objective_equals_simulating_the_trials():
    recs = [_small_record("a", "mean_change('saline', '2 h')"),
            _small_record("b", "sd_change('ketamine', '7 d')"),
            _small_record("c", "response('ketamine', '1 d')"),
            _small_record("d", "si_change('ketamine', '1 d')"),
            _small_record("e", "cohen_d('ketamine', 'saline', '1 d')")]
    # every fitted parameter away from its stored value (the fast path must use them all)
    stored = cal.stored(next(p for p in cal.PROBLEMS if p.id == "clinic"))
    theta = {n: lo + (0.37 if stored[n] > lo + 0.5 * (hi - lo) else 0.71) * (hi - lo)
             for n, (lo, hi) in clinic_fit.bounds().items()}
    fast = clinic_fit.FastObjective(clinic_fit.integrate_trials(recs, executor="serial",
                                                                log=lambda s: None))
    got = fast.values(theta)
    from raadsim.evidence.measures import Measures, evaluate_quantity
    from raadsim.simulate.trial import run_trial

    tf = clinic_fit._trial_file(recs[0], theta)
    res = run_trial(tf, executor="serial", strict_overrides=False,
                    overrides=clinic_fit.model_overrides(theta, "trd"))
    for r in recs:
        want = evaluate_quantity(Measures(r, trial=res.summary, patients=res.patients))
        assert got[r.id] == pytest.approx(want, rel=1e-9, abs=1e-9), r.id


@pytest.mark.slow
def test_objective_at_stored_values_is_the_recorded_one(clinic):
    p, summary = clinic
    recs = calibration_records(list(p.records))
    value = cal.objective(recs, cal.stored(p), executor="processes")
    assert value == pytest.approx(summary["objective_at_stored_values"], rel=1e-9, abs=1e-12)
    # the fit improved on its starting point
    assert value < cal.objective(recs, dict(cal.CLINIC_START), executor="processes")
