"""The psychedelic PK/PD calibration problem in PEtab (v1) format.

``raadsim export petab --out DIR`` writes the problem that ``raadsim calibrate`` solves in
closed form for the problems ``psilocin_pk``, ``lsd_pk``, ``ayahuasca_pk``,
``psilocin_occupancy`` and ``psychedelic_intensity``, so that pyPESTO, AMICI or COPASI users
can fit it with their own tools (``raadsim calibrate --engine pypesto`` does so here).

What is in it
    * **model** — one 70 kg human with an oral dose of psilocybin, LSD and ayahuasca (the
      full raadsim model as SBML, :mod:`raadsim.io.sbml_export`). Doses are given at model
      time 1 h, not 0: libRoadRunner fires t = 0 events while resetting, before a tool has
      applied the condition's dose amounts.
    * **conditions** — one per dose in the records (psilocybin 10/15/25/30 mg, LSD 100 µg,
      ayahuasca 0.85 mg DMT/kg); each sets the three dose amounts (mg) of the model.
    * **measurements** — the calibration records only (read through
      :func:`~raadsim.evidence.records.calibration_records`), σ = the record's tolerance:

      - ``peak(...)`` records (Cmax, peak occupancy, peak intensity) are measurements of the
        observable at the time of its peak under the stored parameters. Near the optimum
        this is exact to first order (the peak value does not change with small shifts of
        the peak time).
      - ``t_peak(...)`` records (Tmax) use the observable ``ln(ka/k)/(ka − k)`` (first-order
        input; for psilocybin's zero-order input the input duration), and
        ``half_life(...)`` records the observable ``ln 2 · Vc/CL``: the closed forms of a
        one-compartment oral model, which is what these three analytes have in raadsim
        (a test checks them against simulation).
    * **parameters** — the fitted targets (Vc, CL, ka per analyte, except psilocybin's
      zero-order input duration, which stays fixed because SBML ends the input at a fixed
      event time; the psilocin 5-HT2A K in
      model units, µM unbound; the intensity Hill O50 and n), log10 scale, bounds the stored
      value ÷10 and ×10 (or the recorded range where there is one).

Not exported: the clinic problem (response rates of virtual-patient populations are not an
observable of one ODE model), the Gerhard 2020 slice records (inequalities) and the mouse
ketamine half-life (a different species' model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.outputs import atomic_dir
from ..io.sbml_export import to_sbml
from ..io.scenario import scenario_from_dict
from ..simulate.simulator import default_simulator
from ..units import parse_dose
from .calibrate import PROBLEMS
from .records import Record, calibration_records

PROBLEM_IDS = ("psilocin_pk", "lsd_pk", "ayahuasca_pk", "psilocin_occupancy",
               "psychedelic_intensity")
DOSE_AT_H = 1.0
WEIGHT_KG = 70.0

# drug -> (dose slot, analyte, plasma observable)
DRUGS = {"psilocybin": (0, "psilocin"), "lsd": (1, "lsd"), "ayahuasca": (2, "dmt_maoi")}
RAADSIM_OBSERVABLE = {"plasma.psilocin": "C_psilocin", "plasma.lsd": "C_lsd",
                      "plasma.dmt": "C_dmt_maoi", "occupancy.ht2a": "O_ht2a_total",
                      "clinic.psychedelic_intensity": "psychedelic_intensity"}


@dataclass(frozen=True)
class PetabTables:
    """The PEtab tables and model of the problem (before they are written)."""

    sbml: str
    conditions: pd.DataFrame
    observables: pd.DataFrame
    measurements: pd.DataFrame
    parameters: pd.DataFrame


def problem_records() -> list[Record]:
    """The calibration records of the exported problems (validation records are refused)."""
    ids = [rid for p in PROBLEMS if p.id in PROBLEM_IDS for rid in p.records]
    return calibration_records(ids)


def _dose(rec: Record) -> tuple[str, str]:
    (arm,) = rec.arms.values()
    (d,) = arm["dose"]
    if d["drug"] not in DRUGS or d["route"] != "oral":
        raise InputError(rec.id, d, "an oral psilocybin, LSD or ayahuasca dose")
    return d["drug"], d["amount"]


def _condition_id(drug: str, amount: str) -> str:
    return f"{drug}_{amount}".replace(" ", "").replace("/", "_per_").replace(".", "p")


def _scenario():

    at = f"{DOSE_AT_H} h"
    return scenario_from_dict({
        "subject": {"species": "human", "weight_kg": WEIGHT_KG},
        "dose": [{"drug": "psilocybin", "amount": "25 mg", "route": "oral", "at": at},
                 {"drug": "lsd", "amount": "100 ug", "route": "oral", "at": at},
                 {"drug": "ayahuasca", "amount": "0.85 mg/kg", "route": "oral", "at": at}],
        "simulation": {"end": "24 h", "output_every": "1 min"},
    })


def _dose_mg(drug: str, amount: str) -> float:

    value, per_kg = parse_dose(amount, f"dose of {drug}")
    return value * WEIGHT_KG if per_kg else value


def _targets(spec) -> dict[str, str]:
    """PEtab parameter id → model parameter id."""
    out = {}
    for analyte in _DRUG:
        out[f"Vc_{analyte}"] = f"Vc_{analyte}"
        out[f"CL_{analyte}"] = f"CL_{analyte}"
        if _zero_order_duration(spec, analyte) is None:
            ka = _ka(spec, analyte)
            out[ka] = ka
    for name in ("K_ht2a_psilocin", "O50_intensity", "n_intensity"):
        out[name] = name
    missing = [m for m in out.values() if m not in spec.params]
    if missing:
        raise InputError("PEtab model", missing, "the fitted parameters in the model")
    return out


def parameter_units() -> dict[str, str]:
    """PEtab parameter id → the model unit of its value."""
    from ..model.build import build_model

    sc = _scenario()
    spec = build_model(sc, sc.catalogue())
    return {pid: spec.params[model_id].unit for pid, model_id in _targets(spec).items()}


_DRUG = {"psilocin": "psilocybin", "lsd": "lsd", "dmt_maoi": "ayahuasca"}


def _ka(spec, analyte: str) -> str:
    (ka,) = [p for p in spec.params if p.startswith(f"ka_{_DRUG[analyte]}_oral_")]
    return ka


def _zero_order_duration(spec, analyte: str) -> str | None:
    """The oral input duration parameter of a zero-order pathway (psilocybin), or None.

    It is not estimated in PEtab: the end of a zero-order input is an SBML event at a fixed
    time, so a changed duration would change the rate but not the end (the dose would not be
    conserved). It is fixed at its closed-form value (= the published Tmax, by construction)."""
    found = [p for p in spec.params if p.startswith(f"dur_{_DRUG[analyte]}_oral_")]
    return found[0] if found else None


def build_tables() -> PetabTables:
    """Build the PEtab problem from the calibration records and the current parameters."""

    sc = _scenario()
    ex = to_sbml(sc, equilibrate=False)
    spec = ex.spec
    inputs = [f"dose{i}_mg" for i in range(3)]
    records = problem_records()

    conditions: dict[str, dict[str, float]] = {}
    for rec in records:
        drug, amount = _dose(rec)
        cid = _condition_id(drug, amount)
        amounts = dict.fromkeys(inputs, 0.0)
        amounts[f"dose{DRUGS[drug][0]}_mg"] = _dose_mg(drug, amount)
        conditions[cid] = amounts

    sim = default_simulator()
    grid = np.arange(0.0, 24.0 + 1e-9, 1.0 / 60) + spec.t_start  # scenario time

    def peak_time(cid: str, var: str) -> float:
        v, _ = sim.run_variables(spec, [var], grid, params=conditions[cid])
        return float(grid[int(np.argmax(v[:, 0]))] - spec.t_start)

    obs_rows: dict[str, dict[str, str]] = {}
    meas = []
    sigma: dict[str, set[float]] = {}
    for rec in records:
        drug, amount = _dose(rec)
        cid = _condition_id(drug, amount)
        analyte = DRUGS[drug][1]
        kind = rec.quantity.split("(")[0].strip()
        if kind == "peak":
            var = RAADSIM_OBSERVABLE[rec.observable]
            oid = f"obs_{var}"
            obs_rows[oid] = {"observableName": rec.observable, "observableFormula": var}
            time = peak_time(cid, var)
        elif kind == "t_peak":
            oid = f"tmax_{analyte}"
            k = f"(CL_{analyte}/Vc_{analyte})"
            dur = _zero_order_duration(spec, analyte)
            if dur is not None:   # zero-order input: the peak is at the end of the input
                obs_rows[oid] = {"observableName": f"Tmax of plasma {analyte} (h, "
                                 "one-compartment, zero-order input)", "observableFormula": dur}
            else:
                ka = _ka(spec, analyte)
                obs_rows[oid] = {"observableName": f"Tmax of plasma {analyte} (h, "
                                 "one-compartment)",
                                 "observableFormula": f"ln({ka}/{k})/({ka} - {k})"}
            time = DOSE_AT_H + 12.0
        elif kind == "half_life":
            oid = f"half_life_{analyte}"
            obs_rows[oid] = {"observableName": f"elimination half-life of {analyte} (h)",
                             "observableFormula": f"ln(2)*Vc_{analyte}/CL_{analyte}"}
            time = DOSE_AT_H + 12.0
        else:
            raise InputError(rec.id, rec.quantity, "peak, t_peak or half_life")
        e = rec.expected
        sigma.setdefault(oid, set()).add(e.scale())
        meas.append({"observableId": oid, "simulationConditionId": cid,
                     "measurement": float(e.value or 0.0), "time": time,
                     "datasetId": rec.id})

    # σ is a number in the noise formula (tools differ in their support for per-measurement
    # noise parameters); that needs one σ per observable, which holds for these records.
    for oid, values in sigma.items():
        if len(values) > 1:
            raise InputError(f"PEtab observable {oid}", sorted(values), "one tolerance for "
                             "all the records of an observable")
    observables = pd.DataFrame([{"observableId": k, **v, "observableTransformation": "lin",
                                 "noiseFormula": repr(next(iter(sigma[k]))),
                                 "noiseDistribution": "normal"}
                                for k, v in obs_rows.items()]).set_index("observableId")
    condition_df = pd.DataFrame([{"conditionId": k, **v} for k, v in conditions.items()]
                                ).set_index("conditionId")
    measurement_df = pd.DataFrame(meas)

    params = []
    for pid, model_id in _targets(spec).items():
        p = spec.params[model_id]
        src = p.source
        lo, hi = p.value / 10, p.value * 10
        if src.low is not None and src.high is not None and src.value:
            lo, hi = p.value * src.low / src.value, p.value * src.high / src.value
        params.append({"parameterId": pid, "parameterName": src.description,
                       "parameterScale": "log10", "lowerBound": lo, "upperBound": hi,
                       "nominalValue": p.value, "estimate": 1})
    parameter_df = pd.DataFrame(params).set_index("parameterId")
    return PetabTables(ex.sbml, condition_df, observables, measurement_df, parameter_df)


def write_petab(out: str | Path, tables: PetabTables | None = None) -> Path:
    """Write the PEtab problem (``problem.yaml`` and its tables) to ``out``, atomically,
    after checking it with the ``petab`` linter."""
    import petab.v1 as petab


    t = tables or build_tables()
    with atomic_dir(out) as tmp:
        (tmp / "model.xml").write_text(t.sbml, encoding="utf-8")
        petab.write_condition_df(t.conditions, tmp / "conditions.tsv")
        petab.write_observable_df(t.observables, tmp / "observables.tsv")
        petab.write_measurement_df(t.measurements, tmp / "measurements.tsv")
        petab.write_parameter_df(t.parameters, tmp / "parameters.tsv")
        yaml = (
            "format_version: 1\n"
            "parameter_file: parameters.tsv\n"
            "problems:\n"
            "- condition_files: [conditions.tsv]\n"
            "  measurement_files: [measurements.tsv]\n"
            "  observable_files: [observables.tsv]\n"
            "  sbml_files: [model.xml]\n"
        )
        (tmp / "problem.yaml").write_text(yaml, encoding="utf-8")
        problem = petab.Problem.from_yaml(str(tmp / "problem.yaml"))
        if petab.lint_problem(problem):
            raise InputError("PEtab problem", str(out), "a problem the petab linter accepts "
                             "(see the messages above)")
    return Path(out)


def log10_bounds_ok(df: pd.DataFrame) -> bool:
    """All bounds positive and ordered (log10 scale)."""
    return bool(((df.lowerBound > 0) & (df.upperBound > df.lowerBound)).all()) and all(
        math.isfinite(v) for v in df.nominalValue)
