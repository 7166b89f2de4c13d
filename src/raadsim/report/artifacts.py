"""Run and trial directories: what ``raadsim run``/``simulate``/``trial`` write, written
atomically, and recording what was run so that ``raadsim report`` renders the run without
rebuilding or re-simulating it with today's code.

A run directory holds ``timecourse.csv`` (long format), ``summary.json``, ``figure.png``,
``scenario.json`` (the scenario, drug files made absolute), ``model.json`` (the model that
was integrated: equations, every parameter value with its provenance, and the nodes the
scenario's drugs and perturbations act on) and, when the run has ``eeg.*`` observables,
``spectra.json`` (the M/EEG spectra before dosing and at the largest band-power change).
A trial directory holds ``trial.json``, ``patients.parquet``, ``timecourse.csv``,
``figure.png``, ``trial_file.json`` and ``models.json`` (each arm's model of the typical
patient, as ``model.json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..drugs.catalogue import Catalogue
from ..io.outputs import atomic_dir, write_json
from ..io.scenario import Scenario
from ..io.scenario_dump import scenario_to_dict, trial_to_dict
from ..model.build import build_model
from ..model.spec import ModelSpec
from ..simulate.simulator import default_simulator
from .figures import plot_result
from .touched import touched
from .traces import dose_times
from .trial_figure import plot_trial

MODEL_FILE, MODELS_FILE, SPECTRA_FILE = "model.json", "models.json", "spectra.json"


def model_record(spec: ModelSpec, sc: Scenario, cat: Catalogue) -> dict[str, Any]:
    """The model of a scenario as stored data, with the nodes its interventions touch."""
    return {"model": spec.to_dict(),
            "touched": {k: sorted(v) for k, v in touched(spec, sc, cat).items()}}


def spectra_record(result, spec: ModelSpec) -> dict[str, Any] | None:
    """Spectra before dosing and at the largest eeg.* band-power change of a result."""

    bands = [o for o in result.values if o.startswith("eeg.") and o.endswith("_power")]
    if not bands:
        return None
    dev = np.max([np.abs(np.log(np.maximum(result.values[o], 1e-12))) for o in bands], axis=0)
    t_peak = float(result.time_h[int(np.argmax(dev))])
    freqs, P = default_simulator().spectra(spec, [0.0, t_peak])
    return {"freqs_hz": freqs.tolist(), "times_h": [0.0, t_peak], "spectra": P.tolist()}


def write_run(result, out: str | Path, figure=None, base_dir: str | Path | None = None,
              cat: Catalogue | None = None) -> Path:
    """Write the run directory of a :class:`raadsim.simulate.run.Result` (see the module
    docstring); ``base_dir`` is the scenario file's folder (to make drug files absolute)."""

    sc = result.scenario
    cat = cat or sc.catalogue(Path(base_dir) if base_dir else None)
    spec = build_model(sc, cat)
    spectra = spectra_record(result, spec)
    with atomic_dir(out) as tmp:
        result.to_long().to_csv(tmp / "timecourse.csv", index=False, float_format="%.8g")
        write_json(tmp / "summary.json", result.summary())
        write_json(tmp / "scenario.json", scenario_to_dict(sc, base_dir))
        write_json(tmp / MODEL_FILE, model_record(spec, sc, cat))
        if spectra is not None:
            write_json(tmp / SPECTRA_FILE, spectra)
        (figure or plot_result)(result, tmp / "figure.png")
    return Path(out)


def write_trial(result, out: str | Path, base_dir: str | Path | None = None) -> Path:
    """Write the trial directory of a :class:`raadsim.simulate.trial.TrialResult`."""

    tf = result.trial
    cat = tf.arm_scenario(tf.trial.arm[0]).catalogue(Path(base_dir) if base_dir else None)
    models = {a.name: model_record(a.spec, tf.arm_scenario(arm), cat)
              for a, arm in zip(result.arms, tf.trial.arm, strict=True)}
    with atomic_dir(out) as tmp:
        write_json(tmp / "trial.json", result.summary)
        write_json(tmp / "trial_file.json", trial_to_dict(tf, base_dir))
        write_json(tmp / MODELS_FILE, models)
        result.patients.to_parquet(tmp / "patients.parquet", index=False)
        result.timecourse.to_csv(tmp / "timecourse.csv", index=False, float_format="%.8g")
        doses = {arm.name: dose_times(tf.arm_scenario(arm)) for arm in tf.trial.arm}
        plot_trial(result.timecourse, tmp / "figure.png", tf.trial.visit_times_h(), doses,
                   title="Virtual trial: " + " vs ".join(doses)
                   + f" ({tf.population.n} patients per arm)")
    return Path(out)
