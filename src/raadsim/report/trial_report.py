"""The report of a ``raadsim trial`` directory (trial.json, timecourse.csv, patients.parquet,
figure.png and, since this version, trial_file.json)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ..io.scenario_dump import to_toml, trial_to_dict
from ..io.trial_file import TrialFile, trial_from_dict
from ..model.build import build_model
from ..model.spec import ModelSpec
from .artifacts import MODELS_FILE
from .html_parts import esc, img, kv_table, table
from .parameters import data_file_parameters, spec_parameters
from .report_common import (
    describe_doses,
    describe_perturbations,
    multiscale_section,
    parameter_section,
    read_csv,
    read_json,
    toml_block,
)
from .touched import draw_highlighted, touched
from .traces import dose_times, traces_from_trial

BAND_COLUMNS = ("time_h", "observable", "arm", "mean", "sd", "p05", "p50", "p95")


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f} %"


def _interval(ci: list[float | None] | None, fmt) -> str:
    """`` [low, high]`` for a 95 % CI, ``not reached`` for a missing upper limit."""
    if not ci:
        return ""
    low, high = ("not reached" if v is None else fmt(v) for v in ci)
    return f" [{low}, {high}]"


def pct_ci(rate: float | None, ci: list[float] | None, digits: int = 1) -> str:
    """A rate in per cent with its 95 % CI, e.g. ``58.4 % [54.0, 62.6]``."""
    if rate is None:
        return ""
    return f"{100 * rate:.{digits}f} %" + _interval(ci, lambda v: f"{100 * v:.{digits}f}")


ENDPOINT_HEAD = ("arm", "visit", "mean MADRS", "mean change [95 % CI]", "SD of change",
                 "response [95 % CI]", "remission [95 % CI]", "n")
RELAPSE_HEAD = ("arm", "median days to relapse (Kaplan–Meier) [95 % CI]",
                "responders at last dose", "relapsed")


def endpoint_rows(summary: dict) -> list[list[Any]]:
    """One row per arm and visit of ``trial.json``, with 95 % CIs (HTML report and CLI)."""
    rows = []
    for arm, entry in summary.get("arms", {}).items():
        for visit, v in entry.get("visits", {}).items():
            change = f"{v['madrs_change_mean']:.2f}" + _interval(v.get("madrs_change_ci95"),
                                                                 lambda x: f"{x:.2f}")
            sd = v["madrs_change_sd"]
            rows.append([arm, visit, v["madrs_mean"], change, "" if sd is None else sd,
                         pct_ci(v["response_rate"], v.get("response_ci95")),
                         pct_ci(v["remission_rate"], v.get("remission_ci95")), v["n"]])
    return rows


def relapse_rows(summary: dict) -> list[list[Any]]:
    """One row per arm with a relapse analysis."""
    rows = []
    for arm, e in summary.get("arms", {}).items():
        if "relapse" not in e:
            continue
        m, at_risk = e.get("median_days_to_relapse"), e["relapse"]["responders_after_last_dose"]
        if m is not None:
            median = f"{m:.3g}" + _interval(e.get("median_days_to_relapse_ci95"),
                                            lambda x: f"{x:.3g}")
        else:
            median = "not reached" if at_risk else "nobody at risk"
        rows.append([arm, median, at_risk, e["relapse"]["relapsed"]])
    return rows


def design_section(tf: TrialFile | None) -> str:
    if tf is None:
        return ("<h2>Trial design</h2><p class='note'>This trial did not record its trial "
                "file (written by an older raadsim): re-run it for the design, the mechanism "
                "diagrams and the parameters.</p>")
    t, pop = tf.trial, tf.population
    rows = [["patients per arm", pop.n], ["seed", pop.seed], ["condition", pop.condition],
            ["design", t.design], ["visits", ", ".join(t.visits)],
            ["response", t.response], ["remission", t.remission],
            ["relapse", t.relapse or "not analysed"], ["control arm", t.control_arm()]]
    arms = [[a.name, describe_doses(a.dose), describe_perturbations(a.perturbation)]
            for a in t.arm]
    return ("<h2>Trial design</h2>" + kv_table(rows) + "<h3>Arms</h3>"
            + table(["arm", "doses", "perturbations"], arms)
            + toml_block(to_toml(trial_to_dict(tf)), "trial file (TOML, as raadsim trial "
                         "reads it)", is_open=False))


def endpoint_section(summary: dict) -> str:
    parts = ["<h2>Endpoints</h2><p class='note'>95 % CIs are the Monte-Carlo uncertainty of the "
             "n virtual patients per arm (t interval for the mean change, Wilson score "
             "intervals for rates).</p>", table(ENDPOINT_HEAD, endpoint_rows(summary))]
    relapse = relapse_rows(summary)
    if relapse:
        parts += ["<h3>Relapse after the last dose</h3>", table(RELAPSE_HEAD, relapse)]
    crows = []
    for name, visits in summary.get("contrasts", {}).items():
        for visit, c in visits.items():
            ci = c.get("ci95")
            crows.append([name, visit, c["madrs_change_difference"],
                          "" if not ci else f"{ci[0]:.3g} to {ci[1]:.3g}", c.get("p_value"),
                          c.get("cohens_d"),
                          pct_ci(c.get("response_rate_difference"), c.get("response_ci95"))])
    if crows:
        parts += ["<h3>Contrasts against the control arm</h3>", table(
            ["contrast", "visit", "difference in MADRS change", "95 % CI", "p", "Cohen's d",
             "response-rate difference [95 % CI]"], crows)]
    return "".join(parts)


def patients_section(path: Path) -> str:
    f = path / "patients.parquet"
    if not f.exists():
        return "<h2>Patients</h2><p class='note'>patients.parquet is missing.</p>"
    try:
        pts = pd.read_parquet(f)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise InputError(str(f), "(file)", f"a parquet file as raadsim writes it ({exc})"
                         ) from None
    rows = []
    for arm, g in pts.groupby("arm", sort=False):
        geno = g["genotype"].value_counts().to_dict() if "genotype" in g else {}
        rows.append([arm, len(g), f"{g['weight_kg'].mean():.1f} ± {g['weight_kg'].std():.1f}",
                     f"{g['age'].mean():.1f} ± {g['age'].std():.1f}",
                     _pct(float(g["female"].mean())),
                     f"{g['madrs_baseline'].mean():.1f} ± {g['madrs_baseline'].std():.1f}",
                     ", ".join(f"{k} {v}" for k, v in geno.items())])
    return ("<h2>Patients</h2><p>Covariates of the virtual patients (mean ± SD).</p>"
            + table(["arm", "n", "weight (kg)", "age (y)", "female", "baseline MADRS",
                     "BDNF genotype"], rows))


def _arm_models(tf: TrialFile) -> list[tuple[str, Any, Any, Any]]:
    """(arm name, scenario, touched nodes, model) of every arm, rebuilt with today's code
    (for trial directories that did not record their models)."""

    out = []
    cat = tf.arm_scenario(tf.trial.arm[0]).catalogue()
    for arm in tf.trial.arm:
        sc = tf.arm_scenario(arm)
        spec = build_model(sc, cat)
        out.append((arm.name, sc, touched(spec, sc, cat), spec))
    return out


def _stored_models(path: Path, tf: TrialFile | None) -> tuple[list[tuple[str, Any, Any, Any]],
                                                              bool]:
    """Each arm's model as the trial recorded it (``models.json``), else rebuilt."""
    f = path / MODELS_FILE
    if f.exists() and tf is not None:
        rec = read_json(f)
        scs = {arm.name: tf.arm_scenario(arm) for arm in tf.trial.arm}
        return [(name, scs.get(name), r.get("touched", {}), ModelSpec.from_dict(r["model"]))
                for name, r in rec.items()], True
    return (_arm_models(tf) if tf else []), False


def _parameters(models: list[tuple[str, Any, Any, Any]]) -> list[dict[str, Any]]:
    """Parameters of every arm's model (one row per distinct name and value; the arms that
    use it named) and the population parameters."""
    rows: dict[tuple[str, float], dict[str, Any]] = {}
    for name, _, _, spec in models:
        for r in spec_parameters(spec):
            entry = rows.setdefault((r["name"], r["value"]), {**r, "arms": []})
            entry["arms"].append(name)
    out = []
    for r in rows.values():
        if len(r["arms"]) < len(models):
            r["layer"] = f"{r['layer']} (arms: {', '.join(r['arms'])})"
        out.append(r)
    out += [r for r in data_file_parameters() if r["layer"] == "population"]
    return sorted(out, key=lambda r: (r["layer"], r["name"]))


def trial_report(path: Path) -> tuple[str, str]:
    """(title, HTML body) of the report of trial directory ``path``."""
    summary = read_json(path / "trial.json")
    df = read_csv(path / "timecourse.csv", BAND_COLUMNS)
    tf = trial_from_dict(read_json(path / "trial_file.json")) \
        if (path / "trial_file.json").exists() else None
    models, recorded = _stored_models(path, tf)
    units: dict[str, str] = {}
    for _, _, _, spec in models:
        units.update({k: o.unit for k, o in spec.observables.items()})
    doses = {name: dose_times(sc) for name, sc, _, _ in models if sc is not None}
    traces = traces_from_trial(df, units, doses)
    meta = summary.get("meta", {})
    arms = ", ".join(t.label for t in traces)
    parts = [f"<h1>raadsim trial report</h1><p><b>arms: {esc(arms)}</b></p>"
             f"<p class='meta'>raadsim {esc(meta.get('raadsim_version', '?'))}, "
             f"{esc(meta.get('patients_per_arm', '?'))} patients per arm, seed "
             f"{esc(meta.get('seed', '?'))}; source directory {esc(path)}</p>",
             design_section(tf), endpoint_section(summary),
             multiscale_section(traces, list(dict.fromkeys(df["observable"])),
                                f"virtual trial: {arms} (mean, 5–95 % band)",
                                "Lines are arm means, bands the 5th–95th percentiles of "
                                "the virtual patients.")]
    if (path / "figure.png").exists():
        parts.append("<h3>Figure written by the trial</h3>" + img(path / "figure.png",
                                                                    "trial figure"))
    parts.append(patients_section(path))
    if models:

        parts.append("<h2>Mechanism</h2><p>Nodes each arm's drugs and perturbations act on "
                     "directly are red.</p>")
        if not recorded:
            parts.append("<p class='note'>This trial directory did not record its models "
                         "(written by an older raadsim): they are rebuilt with today's "
                         "code.</p>")
        with tempfile.TemporaryDirectory() as tmp:
            for name, _sc, parts_touched, spec in models:
                svg = draw_highlighted(spec, parts_touched, Path(tmp) / f"{name}.svg")
                parts.append(f"<h3>arm {esc(name)}</h3>" + img(
                    svg.read_bytes(), f"mechanism diagram of arm {name}"))
        parts.append(parameter_section(_parameters(models), "Every constant of the arms' "
                                       "models (typical patient) and the population model"))
    return f"raadsim report: trial {arms}", "".join(parts)
