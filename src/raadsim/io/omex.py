"""COMBINE archive (OMEX) of a scenario: SBML model + SED-ML simulation + the scenario file.

The SED-ML (Level 1 Version 4, written with libsedml) reproduces ``raadsim run``:

* a ``UniformTimeCourse`` from model time 0 (the start of the pre-equilibration) with output
  from the scenario's start to its end at the scenario's output interval, solved with CVODE
  (KISAO:0000019) at raadsim's tolerances;
* one ``DataGenerator`` per observable, plus scenario time (model time + ``t_start``);
* a ``Report`` with those columns and a ``Plot2D`` of the observables.

The archive (written with libcombine) holds ``model.xml``, ``simulation.sedml``,
``scenario.json`` (the scenario as raadsim read it) and a manifest. It is written to a
temporary file and renamed into place (:func:`raadsim.io.outputs.atomic_file`).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..drugs.catalogue import Catalogue
from ..errors import InputError, ModelError
from .outputs import atomic_file
from .sbml_export import to_sbml
from .scenario import Scenario

SBML_FORMAT = "http://identifiers.org/combine.specifications/sbml.level-3.version-2"
SEDML_FORMAT = "http://identifiers.org/combine.specifications/sed-ml.level-1.version-4"
JSON_FORMAT = "http://purl.org/NET/mediatypes/application/json"
CVODE = "KISAO:0000019"
REL_TOL, ABS_TOL = "KISAO:0000209", "KISAO:0000211"


def target(sbml_id: str) -> str:
    """SED-ML XPath target of an SBML parameter (raadsim variables are parameters)."""
    return f"/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='{sbml_id}']"


@dataclass(frozen=True)
class TimeCourse:
    """The SED-ML time course in model time."""

    output_start: float
    output_end: float
    points: int  # number of intervals (SED-ML ``numberOfSteps``)


def time_course(sc: Scenario, t_start: float) -> TimeCourse:
    start, end, step = sc.window()
    n = round((end - start) / step)
    if not math.isclose(start + n * step, end, rel_tol=0, abs_tol=1e-9 * max(1.0, end)):
        raise InputError("simulation.output_every", sc.simulation.output_every.given,
                         f"an interval that divides the window {start:g}–{end:g} h into whole "
                         "steps (a SED-ML uniform time course needs it)")
    return TimeCourse(start - t_start, end - t_start, n)


def to_sedml(sc: Scenario, observables: dict[str, str], t_start: float,
             model_file: str = "model.xml") -> str:
    """SED-ML for the scenario's run; ``observables`` maps raadsim names to SBML ids."""
    import libsedml

    doc = libsedml.SedDocument(1, 4)
    model = doc.createModel()
    model.setId("model")
    model.setLanguage("urn:sedml:language:sbml.level-3.version-2")
    model.setSource(model_file)

    tc = time_course(sc, t_start)
    sim = doc.createUniformTimeCourse()
    sim.setId("timecourse")
    sim.setInitialTime(0.0)
    sim.setOutputStartTime(tc.output_start)
    sim.setOutputEndTime(tc.output_end)
    sim.setNumberOfSteps(tc.points)
    alg = sim.createAlgorithm()
    alg.setKisaoID(CVODE)
    for kisao, value in ((REL_TOL, "1e-08"), (ABS_TOL, "1e-10")):
        p = alg.createAlgorithmParameter()
        p.setKisaoID(kisao)
        p.setValue(value)

    task = doc.createTask()
    task.setId("task")
    task.setModelReference("model")
    task.setSimulationReference("timecourse")

    def generator(gid: str, name: str, var_id: str, math_text: str, *, symbol: bool = False,
                  sbml_id: str = "") -> None:
        dg = doc.createDataGenerator()
        dg.setId(gid)
        dg.setName(name)
        v = dg.createVariable()
        v.setId(var_id)
        v.setTaskReference("task")
        if symbol:
            v.setSymbol("urn:sedml:symbol:time")
        else:
            v.setTarget(target(sbml_id))
        dg.setMath(libsedml.parseL3Formula(math_text))

    generator("dg_time_h", "scenario time (h)", "t", f"t + ({t_start!r})", symbol=True)
    ids = {}
    for i, (name, sbml_id) in enumerate(observables.items()):
        ids[name] = f"dg_{i}"
        generator(ids[name], name, f"v{i}", f"v{i}", sbml_id=sbml_id)

    report = doc.createReport()
    report.setId("report")
    report.setName("raadsim observables")
    for gid, label in [("dg_time_h", "time_h"), *((g, n) for n, g in ids.items())]:
        ds = report.createDataSet()
        ds.setId(f"ds_{gid}")
        ds.setLabel(label)
        ds.setDataReference(gid)

    plot = doc.createPlot2D()
    plot.setId("plot")
    plot.setName("raadsim observables")
    for name, gid in ids.items():
        curve = plot.createCurve()
        curve.setId(f"curve_{gid}")
        curve.setName(name)
        curve.setXDataReference("dg_time_h")
        curve.setYDataReference(gid)
        curve.setLogX(False)
        curve.setLogY(False)

    text = libsedml.writeSedMLToString(doc)
    check = libsedml.readSedMLFromString(text)
    if check.getNumErrors(libsedml.LIBSEDML_SEV_ERROR) > 0:
        raise ModelError("libsedml rejected the SED-ML it wrote: "
                         + check.getErrorLog().toString())
    return text


def write_omex(sc: Scenario, out: str | Path, cat: Catalogue | None = None) -> Path:
    """Write the COMBINE archive for ``sc`` to ``out`` (atomically)."""
    import libcombine

    ex = to_sbml(sc, cat)
    selected = sc.simulation.observables or list(ex.observables)
    missing = [o for o in selected if o not in ex.observables]
    if missing:
        raise InputError("simulation.observables", missing[0],
                         "an observable of the SBML model (eeg.* observables are computed "
                         "after integration and are not part of it)")
    observables = {k: ex.observables[k] for k in selected}
    sedml = to_sedml(sc, observables, ex.t_start)
    with tempfile.TemporaryDirectory(prefix=".raadsim-omex-") as work, \
            atomic_file(out) as tmp:
        w = Path(work)
        (w / "model.xml").write_text(ex.sbml, encoding="utf-8")
        (w / "simulation.sedml").write_text(sedml, encoding="utf-8")
        (w / "scenario.json").write_text(sc.model_dump_json(indent=2), encoding="utf-8")
        archive = libcombine.CombineArchive()
        for name, fmt, master in (("model.xml", SBML_FORMAT, False),
                                  ("simulation.sedml", SEDML_FORMAT, True),
                                  ("scenario.json", JSON_FORMAT, False)):
            if not archive.addFile(str(w / name), f"./{name}", fmt, master):
                raise ModelError(f"libcombine could not add {name} to the archive")
        if not archive.writeToFile(str(tmp)):
            raise ModelError(f"libcombine could not write {out}")
        archive.cleanUp()
    return Path(out)
