"""Profile likelihoods of the PEtab problem with pyPESTO, on cheap settings (seconds)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from raadsim.cli import app
from raadsim.evidence.petab_problem import write_petab

pytest.importorskip("pypesto")
pytestmark = pytest.mark.slow  # multi-start fit and profiles


@pytest.fixture(scope="module")
def yaml_path(tmp_path_factory):
    return write_petab(tmp_path_factory.mktemp("petab") / "problem") / "problem.yaml"


@pytest.fixture(scope="module")
def profiled(yaml_path):
    """One start (at the stored values), the LSD clearance profiled with coarse steps and a
    short inner optimisation, both halves on two worker processes."""
    from raadsim.evidence.pypesto_fit import fit

    return fit(yaml_path, n_starts=1, workers=2, profile_parameters=["CL_lsd"],
               profile_step=0.25, inner_max_nfev=8, log=lambda _: None)


def test_pypesto_function_value_is_half_the_residual_sum_of_squares(yaml_path):
    """The function value and the residuals must be on one scale: the profile's step search
    compares function values with residual-based profile values (when the function returned
    the full likelihood, every step fell to the minimum and profiles took > 25 min)."""
    from raadsim.evidence.pypesto_fit import PetabObjective, pypesto_problem

    obj = PetabObjective(yaml_path)
    problem = pypesto_problem(obj)
    x = obj.x_nominal() + 0.03
    r = obj.residuals(x)
    assert problem.objective(x) == pytest.approx(0.5 * np.sum(r ** 2), rel=1e-12)
    assert obj.nllh(x) == pytest.approx(problem.objective(x) + obj.nllh_constant, rel=1e-12)


def test_profile_brackets_the_optimum_and_starts_at_the_best_fit(profiled):
    from raadsim.evidence.pypesto_fit import THRESHOLD_95

    result, summary = profiled
    names = list(result.problem.x_names)
    i = names.index("CL_lsd")
    prof = result.profile_result.list[-1][i]
    best = result.optimize_result.list[0]
    # the profile passes through the best fit, and nowhere lies below it
    j = int(np.argmin(np.abs(prof.x_path[i] - best.x[i])))
    assert prof.x_path[i, j] == pytest.approx(best.x[i], abs=1e-12)
    assert prof.fval_path[j] == pytest.approx(best.fval, abs=1e-9)
    assert summary.profile_min["CL_lsd"] == pytest.approx(summary.fval_best, abs=1e-9)
    assert np.all(prof.fval_path >= best.fval - 1e-6)
    # it rises past the threshold on both sides, inside the bounds
    d = prof.fval_path - best.fval
    assert d[prof.x_path[i] < best.x[i]].max() > THRESHOLD_95
    assert d[prof.x_path[i] > best.x[i]].max() > THRESHOLD_95
    lo, hi = summary.intervals["CL_lsd"]
    assert summary.identifiable == {"CL_lsd": True}
    assert lo < summary.best["CL_lsd"] < hi
    # the full run (--starts 10, default steps) gives 7.386 … 15.97 L/h; coarse steps and a
    # short inner optimisation may only narrow it slightly (profile values are upper bounds)
    assert lo == pytest.approx(7.386, rel=0.03)
    assert hi == pytest.approx(15.97, rel=0.03)
    # other parameters were not profiled
    assert all(p is None for k, p in enumerate(result.profile_result.list[-1]) if k != i)


def test_profile_results_are_written(profiled, tmp_path):
    from raadsim.evidence.pypesto_fit import write_fit

    result, summary = profiled
    write_fit(result, summary, tmp_path)
    for name in ("result.hdf5", "fit.json", "waterfall.png", "profiles.png"):
        assert (tmp_path / name).stat().st_size > 0
    data = json.loads((tmp_path / "fit.json").read_text())
    entry = data["profile_95"]["CL_lsd"]
    assert entry["identifiable"] is True
    assert entry["low"] == pytest.approx(summary.intervals["CL_lsd"][0])
    assert set(data["profile_95"]) == {"CL_lsd"}
    assert data["seconds"]["profiles"] > 0


def test_profile_options_scale_with_the_parameter_range():
    from raadsim.errors import InputError
    from raadsim.evidence.pypesto_fit import THRESHOLD_95, profile_options

    o = profile_options()
    assert o.default_step_size_absolute == 0  # relative family only
    assert (o.min_step_size_relative, o.default_step_size_relative,
            o.max_step_size_relative) == pytest.approx((0.005, 0.05, 0.1))
    assert -math.log(o.ratio_min) == pytest.approx(THRESHOLD_95 + 0.5)
    with pytest.raises(InputError):
        profile_options(0.0)


def test_cli_rejects_bad_workers(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["calibrate", "--engine", "pypesto", "--workers", "-1",
                            "--out", str(tmp_path / "fit")])
    assert r.exit_code == 2 and "--workers" in r.output
    assert not (tmp_path / "fit").exists()
