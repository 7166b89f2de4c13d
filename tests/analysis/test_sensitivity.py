"""Global sensitivity analysis: ranges, indices, determinism, input errors and outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from raadsim.analysis import sensitivity as sens
from raadsim.analysis.sensitivity import (
    param_range,
    run_sensitivity,
    select_params,
    write_sensitivity,
)
from raadsim.errors import InputError
from raadsim.io.scenario import scenario_from_dict
from raadsim.model.build import build_model
from raadsim.model.spec import ModelSpec
from raadsim.provenance import Param, Provenance

KETAMINE = {
    "subject": {"species": "human", "condition": "trd"},
    "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}],
    "simulation": {"end": "8 d"},
}
# Emax_relief scales the whole antidepressant effect; the NMDA receptor affinities set how
# much ketamine blocks; 5-HT2A gain and psychedelic-intensity parameters multiply a 5-HT2A
# drive that ketamine does not have (present in the model, no influence on MADRS).
PARAMS = ["Emax_relief", "K_nmdar_*_ketamine", "g_ht2a_E", "*_intensity"]
IRRELEVANT = ["g_ht2a_E", "O50_intensity", "n_intensity"]
AT = ["24 h", "7 d"]


@pytest.fixture(scope="module")
def scenario():
    sc = scenario_from_dict(KETAMINE)
    return sc, sc.catalogue()


@pytest.fixture(scope="module")
def spec(scenario):
    return build_model(*scenario)


@pytest.fixture(scope="module")
def morris(scenario):
    return run_sensitivity(*scenario, "clinic.madrs", AT, method="morris", n=4, params=PARAMS,
                           executor="serial", seed=3)


@pytest.fixture(scope="module")
def sobol(scenario):
    return run_sensitivity(*scenario, "clinic.madrs", AT, method="sobol", n=16, params=PARAMS,
                           executor="serial", seed=3)


def _index(result, at: str, name: str, col: str) -> float:
    t = result.table()
    return float(t[(t["at"] == at) & (t["parameter"] == name)][col].iloc[0])


# -- ranges and parameter selection ---------------------------------------------------------
def _param(value: float, low: float | None, high: float | None) -> Param:
    return Param(name="x", value=value, unit="L/min", description="a test parameter",
                 provenance=Provenance(kind="assumed", note="test"), low=low, high=high)


def test_ranges_are_mapped_proportionally_to_the_model_value():
    m = ModelSpec()
    m.param("scaled", 120.0, "L/h", "pk", _param(2.0, 1.0, 8.0), "× 60 (L/min → L/h)")
    m.param("zero", 0.0, "1", "pk", _param(0.0, 0.0, 0.5))
    m.param("unmappable", 1.0, "1", "pk", _param(0.0, 0.0, 0.5))
    m.param("flat", 1.0, "1", "pk", _param(1.0, 1.0, 1.0))
    m.param("bare", 1.0, "1", "pk", _param(1.0, None, None))
    r = param_range(m, "scaled")
    assert (r.low, r.high, r.scale) == (60.0, 480.0, "linear")
    assert r.source_range == (1.0, 8.0) and r.kind == "assumed"
    z = param_range(m, "zero")
    assert (z.low, z.high) == (0.0, 0.5)
    assert "cannot be mapped" in param_range(m, "unmappable")
    assert "degenerate" in param_range(m, "flat")
    assert param_range(m, "bare") == "no range recorded"


def test_default_parameters_are_those_with_a_range_that_enter_the_equations(spec):
    ranges, skipped = select_params(spec, None)
    names = {r.name for r in ranges}
    with_range = {k for k, p in spec.params.items() if p.source.low is not None}
    assert names | set(skipped) == with_range and not names & set(skipped)
    assert "allometric_exponent_clearance" in skipped  # applied when the model is built
    assert {"Emax_relief", "K_nmdar_s_ketamine", "w_struct"} <= names
    for r in ranges:
        assert r.low <= r.value <= r.high and r.kind in ("literature", "fitted", "derived",
                                                         "assumed")
        assert r.scale == ("log" if r.low > 0 and r.high / r.low >= 10 else "linear")


def test_patterns_expand_like_parameter_overrides(spec):
    ranges, _ = select_params(spec, PARAMS)
    assert [r.name for r in ranges] == ["Emax_relief", "K_nmdar_s_ketamine",
                                        "K_nmdar_r_ketamine", "g_ht2a_E", "O50_intensity",
                                        "n_intensity"]


# -- indices --------------------------------------------------------------------------------
def test_result_reports_runs_ranges_and_provenance(morris, sobol):
    d = len(morris.params)
    assert d == 6
    assert morris.runs == 4 * (d + 1) + 1  # r·(D+1) and the nominal run
    assert sobol.runs == 16 * (d + 2) + 1  # N·(D+2) and the nominal run
    t = morris.table()
    assert len(t) == d * len(AT)
    assert set(t.columns) >= {"parameter", "layer", "kind", "low", "high", "mu_star",
                              "sigma", "mu_star_conf"}
    row = t[t["parameter"] == "K_nmdar_s_ketamine"].iloc[0]
    assert (row["kind"], row["layer"], row["low"], row["high"]) == ("literature", "targets",
                                                                   0.119, 1.0)
    # the nominal run is the unperturbed model: MADRS falls from its TRD baseline (32.5)
    assert 0 < morris.nominal["24 h"] < 25


def test_parameters_without_influence_get_zero_indices(morris, sobol):
    for at in AT:
        for name in IRRELEVANT:
            assert _index(morris, at, name, "mu_star") < 1e-6
            assert abs(_index(sobol, at, name, "ST")) < 1e-6
            assert abs(_index(sobol, at, name, "S1")) < 1e-6
        # a ketamine affinity matters, and more than a parameter it never reaches
        assert _index(morris, at, "K_nmdar_s_ketamine", "mu_star") > 0.5
        assert _index(sobol, at, "K_nmdar_s_ketamine", "ST") > 0.005
        # S-ketamine binds NMDA receptors ~5x more tightly than R-ketamine (0.3 vs 1.4 uM)
        assert _index(morris, at, "K_nmdar_s_ketamine", "mu_star") > \
            _index(morris, at, "K_nmdar_r_ketamine", "mu_star")


def test_morris_and_sobol_agree_on_the_most_influential_parameter(morris, sobol):
    for at in AT:
        assert morris.top(at, 1)["parameter"][0] == "Emax_relief"
        assert sobol.top(at, 1)["parameter"][0] == "Emax_relief"
        assert list(morris.top(at, 2)["parameter"]) == list(sobol.top(at, 2)["parameter"])


@pytest.mark.slow
def test_identical_whatever_the_executor_and_chunking(scenario, morris):
    """Seeded sampling, one independent run per sample: bit-identical indices."""
    seen = []
    chunked = run_sensitivity(*scenario, "clinic.madrs", AT, method="morris", n=4,
                              params=PARAMS, executor="serial", seed=3, chunk_size=5,
                              progress=lambda done, total: seen.append((done, total)))
    pd.testing.assert_frame_equal(chunked.table(), morris.table())
    assert seen[-1] == (morris.runs, morris.runs) and len(seen) == 6
    pooled = run_sensitivity(*scenario, "clinic.madrs", AT, method="morris", n=4,
                             params=PARAMS, executor="processes", workers=2, seed=3,
                             chunk_size=8)
    pd.testing.assert_frame_equal(pooled.table(), morris.table())
    assert pooled.nominal == morris.nominal
    other = run_sensitivity(*scenario, "clinic.madrs", AT, method="morris", n=4,
                            params=PARAMS, executor="serial", seed=4)
    assert not other.table()["mu_star"].equals(morris.table()["mu_star"])


# -- input errors ---------------------------------------------------------------------------
BAD = [
    ({"method": "fast"}, "method"),
    ({"n": 3, "method": "sobol"}, "n"),
    ({"n": 1}, "n"),
    ({"observable": "clinic.hamd"}, "observable"),
    ({"params": ["Vc_s_ketamine"]}, "params"),  # no recorded range
    ({"params": ["allometric_exponent_clearance"]}, "params"),  # not in the equations
    ({"params": ["Vc_*"]}, "params"),  # matches only parameters without a range
    ({"params": ["ka_psilocybin_*"]}, "params"),  # not in a ketamine model
    ({"at": ["9 d"]}, "at"),  # after simulation.end
    ({"at": ["-1 h"]}, "at"),  # before the scenario starts
    ({"at": ["soon"]}, "at"),
    ({"at": ["24 h", "1 d"]}, "at"),
    ({"at": []}, "at"),
    ({"executor": "threads"}, "executor"),
    ({"seed": -1}, "seed"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_inputs_fail_before_any_run(scenario, monkeypatch, change, field):
    def no_runs(*args, **kwargs):
        raise AssertionError("simulated before checking the inputs")

    monkeypatch.setattr(sens, "evaluate", no_runs)
    kwargs = {"observable": "clinic.madrs", "at": ["24 h"], "method": "morris", "n": 2,
              "params": ["Emax_relief"], "executor": "serial"} | change
    with pytest.raises(InputError) as err:
        run_sensitivity(*scenario, **kwargs)
    assert err.value.field == field
    if field == "params":
        assert err.value.value == change["params"][0]


# -- output files ---------------------------------------------------------------------------
def test_write_sensitivity(morris, sobol, tmp_path):
    out = write_sensitivity(morris, tmp_path / "morris")
    assert sorted(p.name for p in out.iterdir()) == [".raadsim-output", "sensitivity.csv",
                                                     "sensitivity.json",
                                                     "sensitivity.png"]
    csv = pd.read_csv(out / "sensitivity.csv")
    assert len(csv) == 12 and {"parameter", "layer", "kind", "low", "high", "mu_star"} <= \
        set(csv.columns)
    data = json.loads((out / "sensitivity.json").read_text())
    assert data["runs"] == morris.runs and data["settings"]["method"] == "morris"
    assert data["indices"]["24 h"][0]["parameter"] == "Emax_relief"
    assert {p["name"]: p["kind"] for p in data["parameters"]}["K_nmdar_s_ketamine"] == \
        "literature"
    assert (out / "sensitivity.png").stat().st_size > 10_000
    s = write_sensitivity(sobol, tmp_path / "sobol")
    assert {"S1", "ST", "S1_conf", "ST_conf"} <= set(pd.read_csv(s / "sensitivity.csv"))
    assert np.isfinite(pd.read_csv(s / "sensitivity.csv")["ST"]).all()


def test_failed_write_leaves_nothing(morris, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sens, "plot_sensitivity", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_sensitivity(morris, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
