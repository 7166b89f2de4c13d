"""NONMEM-style datasets: import, validation errors (row and column), predictions, outputs.

All data here are synthetic: small invented files in ``tests/io/data`` and noise-free data
generated from the model inside the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from raadsim import InputError, scenario_from_dict, simulate
from raadsim.evidence.nonmem_predict import predict
from raadsim.io.nonmem import (
    load_mapping,
    mapping_from_dict,
    measurements,
    read_dataset,
)
from raadsim.report import observed_vs_predicted as ovp

DATA = Path(__file__).parent / "data"
MAPPING = DATA / "nonmem_mapping.toml"
SMALL = (DATA / "nonmem_small.csv").read_text()
OBS = {2: "plasma.ketamine", 3: "plasma.norketamine"}
WEIGHTS = {1: 62.0, 2: 95.0}
TIMES_H = [0.25, 0.5, 1.0, 2.0, 6.0, 24.0]


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _replace_line(text: str, line: int, old: str, new: str) -> str:
    lines = text.splitlines()
    assert old in lines[line - 1], (lines[line - 1], old)
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines) + "\n"


# -- round trip: model -> data file -> prediction ------------------------------------------
def _noise_free(time_unit: str = "h") -> str:
    """Two subjects, 0.5 mg/kg IV over 40 min, observations from the model without noise."""
    t_scale = 60.0 if time_unit == "min" else 1.0
    rows = ["ID,TIME,EVID,AMT,RATE,CMT,DV,MDV,WT"]
    for sid, wt in WEIGHTS.items():
        amt = 0.5 * wt
        sc = scenario_from_dict({
            "subject": {"species": "human", "condition": "trd", "weight_kg": wt},
            "dose": [{"drug": "ketamine", "amount": f"{amt} mg", "route": "iv",
                      "infusion": "40 min"}],
            "simulation": {"end": "24 h", "output_every": "15 min",
                           "observables": list(OBS.values())}})
        res = simulate(sc)
        rows.append(f"{sid},0,1,{amt!r},{amt / (40 / 60) / t_scale!r},1,.,1,{wt}")
        for t in TIMES_H:
            i = int(np.argmin(np.abs(res.time_h - t)))
            assert abs(res.time_h[i] - t) < 1e-9
            for cmt, name in OBS.items():
                dv = float(res.values[name][i])
                rows.append(f"{sid},{t * t_scale!r},0,.,.,{cmt},{dv!r},0,{wt}")
    return "\n".join(rows) + "\n"


def _mapping(time_unit: str = "h", dv_unit: str = "ng/mL"):
    raw = {"subject": {"species": "human", "condition": "trd"},
           "time": {"unit": time_unit},
           "dose": {"1": {"drug": "ketamine", "route": "iv", "unit": "mg"}},
           "observation": {str(c): {"observable": o, "unit": dv_unit} for c, o in OBS.items()},
           "covariates": {"WT": "weight_kg"}}
    return mapping_from_dict(raw, "test mapping")


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    d = tmp_path_factory.mktemp("nonmem")
    path = d / "model.csv"
    path.write_text(_noise_free())
    ds = read_dataset(path, _mapping())
    return ds, predict(ds)


def test_round_trip_prediction_equals_noise_free_data(round_trip):
    ds, table = round_trip
    assert list(table.columns[:7]) == ["ID", "TIME", "time_h", "CMT", "observable", "DV", "PRED"]
    assert len(table) == len(WEIGHTS) * len(TIMES_H) * len(OBS)
    assert table["ID"].tolist()[0] == 1 and set(table["ID"]) == {1, 2}
    rel = np.abs(table["PRED"] / table["DV"] - 1)
    assert rel.max() < 1e-6, table.assign(rel=rel).sort_values("rel").tail()
    assert (table["unit"] == "ng/mL").all()
    sc = ds.scenarios[2]
    assert sc.subject.weight == WEIGHTS[2]
    assert str(sc.dose[0].infusion) == "0.666666666667 h"
    assert sc.simulation.observables == list(OBS.values())


def test_measurements_long_format(round_trip):
    ds, table = round_trip
    m = measurements(ds)
    assert list(m.columns) == ["subject_id", "condition_id", "time_h", "observable", "value",
                               "unit", "scenario", "line"]
    assert len(m) == len(table)
    assert m["condition_id"].iloc[0] == "subject_1"
    assert m["scenario"].iloc[0] is ds.scenarios[1]
    np.testing.assert_allclose(m["value"], table["DV"])
    assert m["line"].iloc[0] == 3  # header = line 1, the dose = line 2


def test_units_time_in_minutes_and_dv_in_ug_per_l(tmp_path, round_trip):
    _, ref = round_trip
    # same data, TIME in min and DV in µg/L (= ng/mL numerically): same predictions
    path = _write(tmp_path, _noise_free(time_unit="min"))
    ds = read_dataset(path, _mapping(time_unit="min", dv_unit="µg/L"))
    assert str(ds.scenarios[1].dose[0].infusion) == "40 min"
    table = predict(ds)
    np.testing.assert_allclose(table["time_h"], ref["time_h"], rtol=1e-12)
    np.testing.assert_allclose(table["PRED"], ref["PRED"], rtol=1e-6)
    # DV in mg/L: numbers 1000x smaller, predictions follow in the same unit
    m = _mapping(dv_unit="mg/L")
    ds = read_dataset(_write(tmp_path, _noise_free(), "b.csv"), m)
    assert measurements(ds)["value"].iloc[0] == pytest.approx(1000 * ds.observations["DV"][0])
    assert measurements(ds)["unit"].iloc[0] == "ng/mL"
    # one observable in two units, via two CMTs: each row converted with its own unit
    raw = _mapping().model_dump()
    raw["observation"][6] = {"observable": "plasma.ketamine", "unit": "mg/L"}
    lines = _noise_free().splitlines()
    first = lines[2].split(",")
    assert first[5] == "2"
    lines[2] = ",".join([*first[:5], "6", repr(float(first[6]) / 1000), *first[7:]])
    ds = read_dataset(_write(tmp_path, "\n".join(lines), "c.csv"), mapping_from_dict(raw))
    m = measurements(ds)
    assert ds.observations["CMT"].iloc[0] == 6
    assert m["value"].iloc[0] == pytest.approx(float(first[6]), rel=1e-12)
    assert m["observable"].iloc[0] == "plasma.ketamine" and m["unit"].iloc[0] == "ng/mL"


@pytest.mark.slow
def test_executor_processes_gives_the_same_table(round_trip):
    ds, ref = round_trip
    table = predict(ds, executor="processes", workers=2)
    pd.testing.assert_frame_equal(table, ref)


# -- dosing records ---------------------------------------------------------------------------
def test_infusion_via_rate_and_via_dur_give_the_same_scenario(tmp_path):
    ds = read_dataset(_write(tmp_path, SMALL), MAPPING)
    a, b = ds.scenarios[1].dose[0], ds.scenarios[2].dose[0]
    assert a.infusion == b.infusion and str(a.infusion) == "0.666666666667 h"
    by_rate = SMALL.replace("1,0,1,35,52.5,.,", "1,0,1,35,52.5,.,")
    by_dur = SMALL.replace("1,0,1,35,52.5,.,", "1,0,1,35,.,0.66666666666667,")
    s1 = read_dataset(_write(tmp_path, by_rate, "r.csv"), MAPPING).scenarios[1]
    s2 = read_dataset(_write(tmp_path, by_dur, "d.csv"), MAPPING).scenarios[1]
    assert s1 == s2
    # both given and consistent: fine; inconsistent: an error on DUR
    both = SMALL.replace("1,0,1,35,52.5,.,", "1,0,1,35,52.5,0.6666666666667,")
    assert read_dataset(_write(tmp_path, both, "b.csv"), MAPPING).scenarios[1] == s1
    bad = SMALL.replace("1,0,1,35,52.5,.,", "1,0,1,35,52.5,2,")
    with pytest.raises(InputError, match=r"row 2, column DUR"):
        read_dataset(_write(tmp_path, bad, "x.csv"), MAPPING)


def test_addl_ii_expand_to_repeated_doses(tmp_path):
    text = SMALL.replace("1,0,1,35,52.5,.,0,0,0", "1,0,1,35,52.5,.,12,3,0")
    ds = read_dataset(_write(tmp_path, text), MAPPING)
    d = ds.scenarios[1].dose[0]
    assert d.repeat is not None and d.repeat.count == 4 and str(d.repeat.every) == "12 h"
    assert d.times_h() == (0.0, 12.0, 24.0, 36.0)
    adm = ds.scenarios[1].administrations(ds.catalogue)[0]
    assert adm.times_h == (0.0, 12.0, 24.0, 36.0) and adm.amount_mg == 35.0
    assert str(ds.scenarios[1].simulation.end) == "36 h"
    explicit = "\n".join([SMALL.splitlines()[0],
                          *(f"1,{t},1,35,52.5,.,.,.,0,1,.,1,70" for t in (0, 12, 24, 36))])
    ex = read_dataset(_write(tmp_path, explicit + "\n", "e.csv"), MAPPING)
    assert ex.scenarios[1].administrations(ex.catalogue)[0].amount_mg == 35.0
    assert sorted(t for a in ex.scenarios[1].administrations(ex.catalogue)
                  for t in a.times_h) == [0.0, 12.0, 24.0, 36.0]


def test_small_file_reads_with_comments_blank_lines_and_dataframe(tmp_path):
    ds = read_dataset(_write(tmp_path, SMALL), MAPPING)
    assert ds.ids == [1, 2]
    assert len(ds.observations) == 5  # the MDV = 1 record is skipped
    assert ds.observations["line"].tolist() == [3, 4, 5, 7, 9]
    assert ds.scenarios[2].subject.weight == 80
    # a DataFrame gives the same dataset (rows numbered as if written to a file)
    df = pd.read_csv(DATA / "nonmem_small.csv", na_values=["."])
    dsf = read_dataset(df, MAPPING)
    assert dsf.scenarios == ds.scenarios
    pd.testing.assert_frame_equal(dsf.observations, ds.observations)
    # comment and blank lines are skipped but still counted
    lines = SMALL.splitlines()
    text = "\n".join([lines[0], "# a comment, with commas", "", *lines[1:]]) + "\n"
    ds2 = read_dataset(_write(tmp_path, text, "c.csv"), MAPPING)
    assert ds2.observations["line"].tolist() == [5, 6, 7, 9, 11]
    bad = _replace_line(text, 5, "150", "x")
    with pytest.raises(InputError, match=r"^c\.csv row 5, column DV"):
        read_dataset(_write(tmp_path, bad, "c.csv"), MAPPING)


# -- malformed rows: each error names the row (line) and the column --------------------------
BAD_ROWS = [
    # (line, old, new, column, words in the message)
    (2, "1,0,1,35", "1,abc,1,35", "TIME", "a time"),
    (3, "1,0.5,0", "1,-0.5,0", "TIME", "not negative"),
    (2, "1,0,1,35", "1,0,1,-35", "AMT", "not negative"),
    (2, "1,0,1,35", "1,0,1,.", "AMT", "needs AMT"),
    (2, "1,0,1,35", "1,0,1,x", "AMT", "dose amount"),
    (5, "1,4,0", "1,1,0", "TIME", "time order"),
    (3, "1,0.5,0", "1,0.5,5", "EVID", "0 (observation) or 1 (dose)"),
    (3, "1,0.5,0", "1,0.5,2", "EVID", "not supported"),
    (6, "2,0,1", "2,0,3", "EVID", "not supported"),
    (6, "2,0,1", "2,0,4", "EVID", "not supported"),
    (3, "2,150,0", "2,.,0", "DV", "needs DV unless MDV = 1"),
    (3, "2,150,0", "2,1e,0", "DV", "a number"),
    (2, ",1,.,1,70", ",7,.,1,70", "CMT", "a dose compartment"),
    (3, ",2,150,", ",9,150,", "CMT", "an observation compartment"),
    (3, ",2,150,", ",2.5,150,", "CMT", "a compartment number"),
    (4, "60,0,70", "60,0,", "WT", "needs a value"),
    (4, "60,0,70", "60,0,heavy", "WT", "covariate WT"),
    (4, "60,0,70", "60,0,71", "WT", "constant within an ID"),
    (2, "35,52.5,", "35,-2,", "RATE", "not supported"),
    (2, "35,52.5,", "35,-1,", "RATE", "not supported"),
    (2, "35,52.5,", "35,-3,", "RATE", "positive infusion rate"),
    (2, "35,52.5,.,", "35,52.5,-1,", "DUR", "not negative"),
    (2, "0,0,0,1,.", "0,0,1,1,.", "SS", "steady-state"),
    (3, ".,.,.,2,150", ".,.,2,2,150", "SS", "steady-state"),
    (2, "52.5,.,0,0", "52.5,.,0,2", "II", "positive dosing interval"),
    (2, "52.5,.,0,0", "52.5,.,0,1.5", "ADDL", "number of additional doses"),
    (4, ",0,70", ",2,70", "MDV", "0 or 1"),
    (9, "2,6,0", "1,6,0", "ID", "contiguous"),
    (3, "1,0.5,0", ",0.5,0", "ID", "subject identifier"),
]


@pytest.mark.parametrize(("line", "old", "new", "column", "words"), BAD_ROWS)
def test_malformed_row_names_row_and_column(tmp_path, line, old, new, column, words):
    text = _replace_line(SMALL, line, old, new)
    with pytest.raises(InputError) as exc:
        read_dataset(_write(tmp_path, text), MAPPING)
    assert exc.value.field == f"data.csv row {line}, column {column}", str(exc.value)
    assert words in str(exc.value)


def test_invalid_covariate_value_names_first_row_of_the_id(tmp_path):
    text = SMALL
    for ln in (6, 7, 8, 9):  # ID 2 weighs 0 kg
        text = _replace_line(text, ln, ",80", ",0")
    with pytest.raises(InputError) as exc:
        read_dataset(_write(tmp_path, text), MAPPING)
    assert exc.value.field == "data.csv row 6, column WT"
    assert "human body weight from 2 to 300 kg" in str(exc.value)


def test_missing_column_and_missing_covariate_column(tmp_path):
    lines = SMALL.splitlines()
    no_amt = "\n".join(",".join(c for i, c in enumerate(r.split(",")) if i != 3) for r in lines)
    with pytest.raises(InputError) as exc:
        read_dataset(_write(tmp_path, no_amt), MAPPING)
    assert exc.value.field == "data.csv row 1 (header), column AMT"
    assert "missing" in str(exc.value)
    no_wt = "\n".join(r.rsplit(",", 1)[0] for r in lines)
    with pytest.raises(InputError, match=r"row 1 \(header\), column WT"):
        read_dataset(_write(tmp_path, no_wt), MAPPING)


def test_route_without_infusion_names_the_rate_column(tmp_path):
    text = _replace_line(SMALL, 2, ",1,.,1,70", ",5,.,1,70")  # CMT 5 = oral ketamine
    with pytest.raises(InputError) as exc:
        read_dataset(_write(tmp_path, text), MAPPING)
    assert exc.value.field == "data.csv row 2, column RATE"
    assert "no infusion" in str(exc.value)


def test_observable_missing_for_the_drug_names_row_and_cmt(tmp_path):
    text = _replace_line(SMALL, 4, ",2,60,", ",4,60,")  # CMT 4 = plasma.psilocin
    ds = read_dataset(_write(tmp_path, text), MAPPING)
    for fn in (measurements, predict):
        with pytest.raises(InputError) as exc:
            fn(ds)
        assert exc.value.field == "data.csv row 4, column CMT"
        assert "plasma.psilocin" in str(exc.value) and "plasma.ketamine" in str(exc.value)


def test_mapping_errors(tmp_path):
    with pytest.raises(InputError, match=r"m\.toml: dose\.1\.unit"):
        mapping_from_dict({"dose": {"1": {"drug": "ketamine", "route": "iv", "unit": "mL"}}},
                          "m.toml")
    with pytest.raises(InputError, match=r"dose\.x"):
        mapping_from_dict({"dose": {"x": {"drug": "ketamine", "route": "iv"}}})
    with pytest.raises(InputError, match=r"observation\.2\.colour"):
        mapping_from_dict({"observation": {"2": {"observable": "plasma.ketamine",
                                                 "unit": "ng/mL", "colour": "red"}}})
    with pytest.raises(InputError, match=r"time\.unit"):
        mapping_from_dict({"time": {"unit": "mg"}})
    with pytest.raises(InputError, match=r"covariates\.WT"):
        mapping_from_dict({"covariates": {"WT": "weight"}})
    m = mapping_from_dict({"dose": {"1": {"drug": "ketamin", "route": "iv"}}}, "m.toml")
    with pytest.raises(InputError, match=r"m\.toml: dose\.1\.drug"):
        read_dataset(_write(tmp_path, SMALL), m)
    # a DV unit that does not convert to the observable's unit
    m = mapping_from_dict({"dose": {"1": {"drug": "ketamine", "route": "iv"}},
                           "observation": {"2": {"observable": "plasma.ketamine", "unit": "mg"},
                                           "3": {"observable": "plasma.norketamine",
                                                 "unit": "ng/mL"}},
                           "covariates": {"WT": {"key": "weight_kg", "unit": "lb"}}}, "m.toml")
    ds = read_dataset(_write(tmp_path, SMALL), m)
    assert ds.scenarios[1].subject.weight == pytest.approx(70 * 0.45359237)
    with pytest.raises(InputError, match=r"m\.toml: observation\.2\.unit.*ng/mL"):
        measurements(ds)
    assert load_mapping(MAPPING).dose[1].drug == "ketamine"


# -- outputs ----------------------------------------------------------------------------------
def _table() -> pd.DataFrame:
    return pd.DataFrame({"ID": [1, 1, 2, 2], "TIME": [1, 2, 1, 2],
                         "observable": ["plasma.ketamine"] * 2 + ["plasma.norketamine"] * 2,
                         "DV": [10.0, 5.0, 4.0, 0.0], "PRED": [10.0, 20.0, 2.0, 1.0],
                         "unit": ["ng/mL"] * 4})


def test_summary_statistics():
    s = ovp.summarize(_table())
    k = s["observables"]["plasma.ketamine"]
    assert k["n_obs"] == 2 and k["gmfe"] == pytest.approx(2.0) and k["within_2fold"] == 0.5
    n = s["observables"]["plasma.norketamine"]
    assert n["n_used"] == 1 and n["n_excluded_nonpositive"] == 1 and n["within_2fold"] == 1.0
    assert s["overall"]["n_obs"] == 4 and s["overall"]["n_used"] == 3


def test_write_outputs(tmp_path):
    out = ovp.write_observed_vs_predicted(_table(), tmp_path / "cmp", title="synthetic",
                                          meta={"data": "x.csv"})
    assert sorted(p.name for p in out.iterdir()) == sorted([".raadsim-output", *ovp.FILES])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"] == {"data": "x.csv"}
    assert pd.read_csv(out / "predictions.csv").shape == (4, 6)
    assert (out / "observed_vs_predicted.png").stat().st_size > 10_000


def test_write_outputs_is_atomic(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(ovp, "plot_observed_vs_predicted", broken)
    with pytest.raises(RuntimeError):
        ovp.write_observed_vs_predicted(_table(), tmp_path / "cmp")
    assert list(tmp_path.iterdir()) == []  # no partial directory, no temporary left over
    # an earlier complete output is kept intact
    monkeypatch.undo()
    ovp.write_observed_vs_predicted(_table().head(1), tmp_path / "cmp")
    before = (tmp_path / "cmp" / "predictions.csv").read_text()
    monkeypatch.setattr(ovp, "plot_observed_vs_predicted", broken)
    with pytest.raises(RuntimeError):
        ovp.write_observed_vs_predicted(_table(), tmp_path / "cmp")
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]
    assert (tmp_path / "cmp" / "predictions.csv").read_text() == before
