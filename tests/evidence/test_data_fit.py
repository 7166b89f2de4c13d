"""Users' own NONMEM-style data as calibration data: `raadsim data fit` and `data compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from raadsim import scenario_from_dict, simulate
from raadsim.cli import app
from raadsim.errors import InputError
from raadsim.evidence.data_fit import fit_data
from raadsim.io.nonmem import read_dataset
from raadsim.model.build import build_model

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "examples" / "nonmem" / "ketamine_mapping.toml"
TIMES = [0.5, 1.0, 2.0, 4.0, 8.0]


def _synthetic(tmp_path: Path, vc_factor: float) -> Path:
    """Noise-free data from the model with every ketamine Vc scaled by ``vc_factor``."""
    lines = ["ID,TIME,EVID,AMT,RATE,CMT,DV,MDV,WT"]
    for sid, wt in ((1, 60.0), (2, 90.0)):
        amt = 0.5 * wt
        sc = scenario_from_dict({
            "subject": {"condition": "trd", "weight_kg": wt},
            "dose": [{"drug": "ketamine", "amount": f"{amt} mg", "route": "iv",
                      "infusion": "40 min"}],
            "simulation": {"end": "8 h", "output_every": "30 min",
                           "observables": ["plasma.ketamine"]}})
        spec = build_model(sc, sc.catalogue())
        over = {n: p.value * vc_factor for n, p in spec.params.items()
                if n.startswith("Vc_") and n.endswith("_ketamine")}
        res = simulate(sc, params=over)
        lines.append(f"{sid},0,1,{amt},{amt * 1.5},1,.,1,{wt}")
        for t in TIMES:
            i = round(t / 0.5)
            lines.append(f"{sid},{t},0,.,.,2,{float(res.values['plasma.ketamine'][i])!r},0,{wt}")
    p = tmp_path / "data.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_fit_recovers_a_known_volume_factor(tmp_path):
    ds = read_dataset(_synthetic(tmp_path, 1.5), MAPPING)
    f = fit_data(ds, ["Vc_*_ketamine"])
    assert f.factors["Vc_*_ketamine"] == pytest.approx(1.5, rel=1e-3)
    assert f.rms_log_after < 1e-3 < f.rms_log_before
    assert f.n_used == 10


def test_fit_rejects_unknown_parameters(tmp_path):
    ds = read_dataset(_synthetic(tmp_path, 1.0), MAPPING)
    with pytest.raises(InputError, match="parameter"):
        fit_data(ds, ["no_such_param"])
    with pytest.raises(InputError, match="--param"):
        fit_data(ds, [])


def test_cli_data_compare_and_fit(tmp_path):
    data = _synthetic(tmp_path, 1.0)
    runner = CliRunner()
    r = runner.invoke(app, ["data", "compare", str(data), "--mapping", str(MAPPING),
                            "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    summary = json.loads((tmp_path / "cmp" / "summary.json").read_text())
    assert summary["overall"]["gmfe"] == pytest.approx(1.0, abs=1e-5)
    assert (tmp_path / "cmp" / "observed_vs_predicted.png").exists()
    r = runner.invoke(app, ["data", "fit", str(data), "--mapping", str(MAPPING),
                            "--param", "CL_*norketamine", "--out", str(tmp_path / "fit")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "fit" / "fit.json").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(data.read_text().replace("0,1,", "0,7,", 1), encoding="utf-8")
    r = runner.invoke(app, ["data", "compare", str(bad), "--mapping", str(MAPPING),
                            "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "row 2" in r.output and "EVID" in r.output
    assert not (tmp_path / "bad").exists()
