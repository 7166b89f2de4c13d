"""The report of a ``raadsim run``/``simulate`` directory (timecourse.csv, summary.json,
figure.png and, since this version, scenario.json)."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ..io.scenario import Scenario, scenario_from_dict
from ..io.scenario_dump import scenario_to_toml
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
from .traces import Trace, dose_times, trace_from_long


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


def spectrum_section(sc: Scenario, trace: Trace) -> str:
    """The EEG power spectra (``report/spectrum_figure.py``) before dosing and at the largest
    change of an ``eeg.*`` band power, when the run has ``eeg.*`` observables."""
    bands = [o for o in trace.values if o.startswith("eeg.") and o.endswith("_power")]
    if not bands or importlib.util.find_spec("raadsim.report.spectrum_figure") is None:
        return ""
    try:
        from ..model.build import build_model
        from ..simulate.simulator import default_simulator
        from . import spectrum_figure

        dev = np.max([np.abs(np.log(np.maximum(trace.values[o], 1e-12))) for o in bands],
                     axis=0)
        t_peak = float(trace.time_h[int(np.argmax(dev))])
        spec = build_model(sc, sc.catalogue())
        freqs, P = default_simulator().spectra(spec, [0.0, t_peak])
        spectra = {"at 0 h (before dosing)": (freqs, P[0]),
                   f"at {fmt_time(t_peak)} (largest band-power change)": (freqs, P[1])}
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(tmp) / "spectra.png"
            fig = spectrum_figure.plot_spectra(spectra, png, title="resting M/EEG spectra")
            plt.close(fig)
            return ("<h2>EEG spectrum</h2><p>Power spectra of the model's cortical "
                    "microcircuit before dosing and when the band powers change most.</p>"
                    + img(png.read_bytes(), "EEG spectra"))
    except Exception as exc:  # optional figure: say why it is missing rather than fail
        return f"<h2>EEG spectrum</h2><p class='note'>not drawn: {esc(exc)}</p>"


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
    if sc is not None:
        from ..model.build import build_model
        from .touched import draw_touched

        cat = sc.catalogue()
        spec = build_model(sc, cat)
        with tempfile.TemporaryDirectory() as tmp:
            png = draw_touched(spec, sc, cat, Path(tmp) / "mechanism.png")
            parts.append("<h2>Mechanism</h2><p>The model's own graph, layer by layer; nodes "
                         "the drugs and perturbations act on directly are red.</p>"
                         + img(png.read_bytes(), "mechanism diagram", wide=True))
        parts.append(spectrum_section(sc, trace))
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
