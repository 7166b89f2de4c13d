"""The PEtab export of the calibration problem, and its pyPESTO fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from raadsim.cli import app
from raadsim.evidence.petab_problem import build_tables, problem_records, write_petab
from raadsim.evidence.records import load_records


@pytest.fixture(scope="module")
def petab_dir(tmp_path_factory):
    return write_petab(tmp_path_factory.mktemp("petab") / "problem")


@pytest.fixture(scope="module")
def objective(petab_dir):
    from raadsim.evidence.pypesto_fit import PetabObjective

    return PetabObjective(petab_dir / "problem.yaml")


def test_petab_problem_passes_the_linter_and_uses_calibration_records_only(petab_dir):
    import petab.v1 as petab

    problem = petab.Problem.from_yaml(str(petab_dir / "problem.yaml"))
    assert not petab.lint_problem(problem)
    ids = set(problem.measurement_df["datasetId"])
    kinds = {r.id: r.kind for r in load_records()}
    assert ids == {r.id for r in problem_records()}
    assert {kinds[i] for i in ids} == {"calibration"}
    assert len(ids) == 13
    assert set(problem.x_free_ids) >= {"Vc_psilocin", "CL_psilocin", "K_ht2a_psilocin",
                                       "O50_intensity", "n_intensity"}


def test_stored_values_reproduce_the_pk_records_in_the_petab_problem(objective):
    """At the stored (closed-form) values, the simulated Cmax-at-peak and the Tmax and
    half-life observables equal the published values: the closed form and the PEtab problem
    describe the same fit."""
    r = objective.residuals(objective.x_nominal())
    by_id = dict(zip(objective.meas["datasetId"], r, strict=True))
    pk = [k for k in by_id if "intensity" not in k and "occupancy" not in k]
    assert len(pk) == 9
    assert max(abs(by_id[k]) for k in pk) < 0.01
    # intensity and occupancy are simulated through the effect-site delay, which the
    # closed-form fits ignore: residuals are small but not zero
    assert max(abs(v) for v in by_id.values()) < 0.5


def test_likelihood_is_the_one_petab_defines(objective):
    x = objective.x_nominal() + 0.05
    assert objective.nllh(x) == pytest.approx(objective.petab_nllh(x), rel=1e-9)


def test_formula_observables_match_the_simulated_curve(objective):
    """Tmax = ln(ka/k)/(ka−k) and t½ = ln2·V/CL against the LSD curve simulated by raadsim."""
    from raadsim import scenario_from_dict, simulate

    sc = scenario_from_dict({"subject": {"weight_kg": 70},
                             "dose": [{"drug": "lsd", "amount": "100 ug", "route": "oral"}],
                             "simulation": {"end": "24 h", "output_every": "1 min",
                                            "observables": ["plasma.lsd"]}})
    res = simulate(sc)
    t, c = res.time_h, res.values["plasma.lsd"]
    sim = objective.simulate(objective.x_nominal()).set_index("datasetId")["simulation"]
    assert sim["holze2019_lsd_tmax_100ug"] == pytest.approx(t[np.argmax(c)], abs=1 / 60)
    late = (t >= 12) & (t <= 24)
    slope = np.polyfit(t[late], np.log(c[late]), 1)[0]
    assert sim["dolder2017_lsd_half_life"] == pytest.approx(math.log(2) / -slope, rel=1e-3)


@pytest.mark.slow
def test_pypesto_multistart_improves_on_or_matches_the_stored_values(petab_dir):
    from raadsim.evidence.pypesto_fit import fit

    result, summary = fit(petab_dir / "problem.yaml", n_starts=2, profiles=False,
                          log=lambda _: None)
    assert summary.fval_best <= summary.fval_stored + 1e-6
    assert len(result.optimize_result.list) == 2
    assert set(summary.best) == set(summary.stored)


def test_profile_interval_reads_the_threshold_crossings():
    from raadsim.evidence.pypesto_fit import THRESHOLD_95, profile_interval

    x = np.linspace(-1, 1, 41)  # log10 scale
    lo, hi = profile_interval(x, 4 * x ** 2, 0.0)  # crosses 1.92 at |x| = sqrt(0.48)
    assert math.log10(lo) == pytest.approx(-math.sqrt(THRESHOLD_95 / 4), abs=0.01)
    assert math.log10(hi) == pytest.approx(math.sqrt(THRESHOLD_95 / 4), abs=0.01)
    lo, hi = profile_interval(x, 0.5 * np.maximum(x, 0) ** 2, 0.0)  # flat to the left
    assert lo is None and hi is None  # 0.5 never reaches 1.92 within ±1


def test_cli_export_petab_and_bad_engine(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["export", "petab", "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p" / "problem.yaml").exists()
    r = runner.invoke(app, ["calibrate", "--engine", "amici"])
    assert r.exit_code == 2 and "--engine" in r.output


def test_tables_have_one_sigma_per_observable():
    t = build_tables()
    assert (t.observables["noiseFormula"].astype(float) > 0).all()
    assert t.parameters["lowerBound"].lt(t.parameters["nominalValue"]).all()
    assert t.parameters["upperBound"].gt(t.parameters["nominalValue"]).all()
