"""The report of a ``raadsim run``/``simulate`` directory (timecourse.csv, summary.json,
figure.png and, since this version, scenario.json)."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np

from ..io.scenario import Scenario, scenario_from_dict
from ..io.scenario_dump import scenario_to_toml
from ..model.build import build_model
from ..model.spec import ModelSpec
from .artifacts import MODEL_FILE, SPECTRA_FILE
from .html_parts import esc, img, kv_table, table
from .panels import default_observables, fmt_time
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
from .traces import dose_times, trace_from_long


def load_scenario_json(path: Path) -> Scenario | None:
    """The recorded scenario of a run directory, or ``None`` if it was not recorded."""
    f = path / "scenario.json"
    return scenario_from_dict(read_json(f)) if f.exists() else None


def scenario_section(sc: Scenario | None) -> str:
    if sc is None:
        return ("<h2>Scenario</h2><p class='note'>This run did not record its scenario "
                "(written by an older raadsim): re-run it to get the scenario, the mechanism "
                "diagram and the parameters.</p>")
    rows = [["species", sc.subject.species], ["weight", f"{sc.subject.weight:g} kg"],
            ["condition", sc.subject.condition], ["doses", describe_doses(sc.dose)],
            ["perturbations", describe_perturbations(sc.perturbation)],
            ["simulation", f"until {sc.simulation.end}, every {sc.simulation.output_every}"]]
    if sc.bath:
        rows.append(["bath", "; ".join(f"{b.drug} {b.concentration} at {b.at}"
                                       for b in sc.bath)])
    return ("<h2>Scenario</h2>" + kv_table(rows)
            + toml_block(scenario_to_toml(sc), "scenario file (TOML, as raadsim run reads it)"))


def summary_section(summary: dict) -> str:
    obs = summary.get("observables", {})
    key = default_observables(obs)
    order = key + [k for k in obs if k not in key]
    rows = [[k, obs[k]["unit"], obs[k]["peak"], fmt_time(obs[k]["time_of_peak_h"]),
             obs[k]["auc"]] for k in order]
    return ("<h2>Key values</h2><p>Peak, time of peak and area under the curve of every "
            "observable (key observables of the cascade first).</p>"
            + table(["observable", "unit", "peak", "time of peak", "AUC (unit × h)"], rows))


def stored_model(path: Path) -> tuple[ModelSpec, dict[str, list[str]], bool] | None:
    """The model a run directory recorded (``model.json``): (spec, touched nodes, True)."""
    f = path / MODEL_FILE
    if not f.exists():
        return None
    rec = read_json(f)
    return ModelSpec.from_dict(rec["model"]), rec.get("touched", {}), True


def spectrum_section(path: Path) -> str:
    """The EEG power spectra the run recorded (``spectra.json``: before dosing and at the
    largest change of an ``eeg.*`` band power), when the run has ``eeg.*`` observables."""
    f = path / SPECTRA_FILE
    if not f.exists() or importlib.util.find_spec("raadsim.report.spectrum_figure") is None:
        return ""
    from . import spectrum_figure

    rec = read_json(f)
    freqs = np.asarray(rec["freqs_hz"])
    (t0, t_peak), P = rec["times_h"], np.asarray(rec["spectra"])
    spectra = {f"at {fmt_time(t0)} (before dosing)": (freqs, P[0]),
               f"at {fmt_time(t_peak)} (largest band-power change)": (freqs, P[1])}
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "spectra.png"
        spectrum_figure.plot_spectra(spectra, png, title="resting M/EEG spectra")
        return ("<h2>EEG spectrum</h2><p>Power spectra of the model's cortical microcircuit "
                "before dosing and when the band powers change most, as the run recorded "
                "them.</p>" + img(png.read_bytes(), "EEG spectra"))


def run_report(path: Path) -> tuple[str, str]:
    """(title, HTML body) of the report of run directory ``path``."""
    df = read_csv(path / "timecourse.csv", ("time_h", "observable", "value"))
    summary = read_json(path / "summary.json")
    sc = load_scenario_json(path)
    units = {k: v.get("unit", "") for k, v in summary.get("observables", {}).items()}
    what = describe_doses(sc.dose) if sc else path.name
    species = f"{sc.subject.species}: " if sc else ""
    trace = trace_from_long(df, what, units, dose_times(sc) if sc else ())
    present = list(trace.values)
    shown = default_observables(present) or present[:12]
    meta = summary.get("meta", {})
    parts = [f"<h1>raadsim run report</h1><p><b>{esc(species + what)}</b></p>"
             f"<p class='meta'>raadsim {esc(meta.get('raadsim_version', '?'))}, engine "
             f"{esc(meta.get('engine', '?'))}, scenario hash "
             f"{esc(meta.get('scenario_hash', '?'))}; source directory {esc(path)}</p>",
             scenario_section(sc),
             multiscale_section([trace], shown, species + what)]
    if (path / "figure.png").exists():
        parts.append("<h3>Figure written by the run</h3>" + img(path / "figure.png",
                                                                  "run figure"))
    stored = stored_model(path)
    if stored is None and sc is not None:  # older run directory: rebuild with today's code

        cat = sc.catalogue()
        spec = build_model(sc, cat)
        stored = (spec, touched(spec, sc, cat), False)
    if stored is not None:

        spec, parts_touched, recorded = stored
        if not recorded:
            parts.append("<p class='note'>This run directory did not record its model "
                         "(written by an older raadsim): the mechanism and parameters below "
                         "are rebuilt with today's code.</p>")
        with tempfile.TemporaryDirectory() as tmp:
            svg = draw_highlighted(spec, parts_touched, Path(tmp) / "mechanism.svg")
            parts.append("<h2>Mechanism</h2><p>The model's own graph, scale by scale; nodes "
                         "the drugs and perturbations act on directly are red.</p>"
                         + img(svg.read_bytes(), "mechanism diagram"))
        parts.append(spectrum_section(path))
        parts.append(summary_section(summary))
        rows = spec_parameters(spec)
        if any(o.startswith("eeg.") for o in present):  # computed after integration
            rows += [r for r in data_file_parameters() if r["layer"] == "eeg"]
        parts.append(parameter_section(rows, "Every constant of this scenario's model"
                                       + (" and of the EEG microcircuit" if len(rows) >
                                          len(spec.params) else "")))
    else:
        parts.append(summary_section(summary))
    return f"raadsim report: {what}", "".join(parts)
