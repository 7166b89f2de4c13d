"""SBML and COMBINE/SED-ML export: valid documents that reproduce raadsim's own runs."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from raadsim import scenario_from_dict, simulate
from raadsim.cli import app
from raadsim.io.omex import write_omex
from raadsim.io.sbml_export import check_sbml, to_sbml
from raadsim.simulate.simulator import Simulator, Tolerances

SCENARIOS = {
    "ketamine_iv_rapamycin": {
        "subject": {"condition": "trd", "weight_kg": 82},
        "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                  "infusion": "40 min", "repeat": {"every": "3.5 d", "count": 2}}],
        "perturbation": [{"name": "rapamycin", "at": "-2 h"}],
        "simulation": {"end": "5 d", "output_every": "30 min"},
    },
    "psilocybin_oral": {
        "subject": {"condition": "mdd"},
        "dose": [{"drug": "psilocybin", "amount": "25 mg", "route": "oral"}],
        "simulation": {"end": "2 d", "output_every": "20 min"},
    },
}


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a − b| / |b|, with |b| floored at 1e-9 of the series' largest magnitude."""
    floor = max(1e-9 * float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), floor)))


# Tight settings for the round trip: raadsim places events exactly, the exported SBML leaves
# them to libRoadRunner's root finding, so the two agree to the integration error (3e-6 on a
# near-zero difference quantity at rtol 1e-8; 1e-7 at these settings).
RTOL, ATOL = 1e-9, 1e-14


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def exported(request):
    sc = scenario_from_dict(SCENARIOS[request.param])
    return sc, to_sbml(sc), simulate(sc, simulator=Simulator(tolerances=Tolerances(RTOL, ATOL)))


def test_sbml_round_trip_in_a_fresh_roadrunner(exported):
    import roadrunner

    _, ex, own = exported
    rr = roadrunner.RoadRunner(ex.sbml)
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    rr.integrator.setValue("maximum_num_steps", 500000)
    times = own.time_h - ex.t_start  # model time
    grid = np.r_[0.0, times]
    names = [n for n in own.values if n in ex.observables]
    # eeg.* are computed after integration (model/eeg.py), so they are not in the SBML model
    assert sorted(set(own.values) - set(names)) == sorted(n for n in own.values
                                                           if n.startswith("eeg."))
    arr = np.asarray(rr.simulate(times=grid, selections=[ex.observables[n] for n in names]))[1:]
    assert len(names) > 30
    worst = max((rel_error(arr[:, i], own.values[n]), n) for i, n in enumerate(names))
    assert worst[0] <= 1e-6, worst


def test_sbml_is_valid_declares_units_events_and_provenance(exported):
    import libsbml

    _, ex, _ = exported
    report = check_sbml(ex.sbml)
    assert report.ok, report.errors[:3]
    doc = libsbml.readSBMLFromString(ex.sbml)  # keep: the model dies with its document
    model = doc.getModel()
    assert model.getTimeUnits() == "u_h"
    hour = model.getUnitDefinition("u_h").getUnit(0)
    assert (hour.getKind(), hour.getMultiplier()) == (libsbml.UNIT_KIND_SECOND, 3600)
    no_units = [p.getId() for p in model.getListOfParameters()
                if not p.isSetUnits() and p.getId() not in ex.spec.inputs]
    assert not no_units
    assert model.getNumEvents() == len(ex.spec.merged_events()) > 0
    assert all(model.getEvent(i).isSetName() for i in range(model.getNumEvents()))
    # every model parameter carries its provenance in its notes
    for name, p in ex.spec.params.items():
        notes = model.getParameter(name).getNotesString()
        assert f"provenance: {p.source.provenance.kind}" in notes, name


def test_literature_parameter_notes_and_doi_annotation():
    import libsbml

    sc = scenario_from_dict(SCENARIOS["ketamine_iv_rapamycin"])
    ex = to_sbml(sc)
    doc = libsbml.readSBMLFromString(ex.sbml)
    p = doc.getModel().getParameter("Vc_s_ketamine")
    notes = p.getNotesString()
    assert "Table 3: Vc = 192 L" in notes and "doi:10.1007/s40262-020-00953-4" in notes
    assert p.getUnits() == "u_L"
    resources = [p.getCVTerm(i).getResourceURI(0) for i in range(p.getNumCVTerms())]
    assert "http://identifiers.org/doi/10.1007/s40262-020-00953-4" in resources


def _run_sedml(archive_path):
    """A minimal SED-ML runner for the archive's single uniform time course."""
    import libcombine
    import libsedml
    import roadrunner

    arch = libcombine.CombineArchive()
    assert arch.initializeFromArchive(str(archive_path))
    master = arch.getMasterFile()
    sed = libsedml.readSedMLFromString(arch.extractEntryToString(master.getLocation()))
    assert sed.getNumErrors(libsedml.LIBSEDML_SEV_ERROR) == 0
    model = sed.getModel(0)
    rr = roadrunner.RoadRunner(arch.extractEntryToString(f"./{model.getSource()}"))
    sim = sed.getSimulation(0)
    for i in range(sim.getAlgorithm().getNumAlgorithmParameters()):
        ap = sim.getAlgorithm().getAlgorithmParameter(i)
        key = {"KISAO:0000209": "relative_tolerance",
               "KISAO:0000211": "absolute_tolerance"}[ap.getKisaoID()]
        setattr(rr.integrator, key, float(ap.getValue()))
    rr.integrator.setValue("maximum_num_steps", 100000)
    n = sim.getNumberOfSteps()
    out_t = np.linspace(sim.getOutputStartTime(), sim.getOutputEndTime(), n + 1)
    grid = np.r_[sim.getInitialTime(), out_t] if out_t[0] > 0 else out_t
    columns = {}
    for i in range(sed.getNumDataGenerators()):
        dg = sed.getDataGenerator(i)
        var = dg.getVariable(0)
        if var.isSetSymbol():
            arr = np.asarray(rr.simulate(times=grid, selections=["time"]))[:, 0]
            rr.resetAll()
        else:
            sid = var.getTarget().split("@id='")[1].split("'")[0]
            arr = np.asarray(rr.simulate(times=grid, selections=[sid]))[:, 0]
            rr.resetAll()
        arr = arr[len(grid) - len(out_t):]
        formula = libsedml.formulaToL3String(dg.getMath())
        columns[dg.getName()] = eval(formula, {var.getId(): arr})
    return columns, {e.getLocation() for e in arch.getManifest().getListOfContents()}


def test_omex_archive_reproduces_the_run(tmp_path):
    sc = scenario_from_dict({**SCENARIOS["ketamine_iv_rapamycin"],
                             "simulation": {"end": "2 d", "output_every": "1 h",
                                            "observables": ["plasma.ketamine",
                                                            "signal.mtorc1", "clinic.madrs"]}})
    own = simulate(sc)
    path = write_omex(sc, tmp_path / "run.omex")
    assert zipfile.is_zipfile(path)
    columns, files = _run_sedml(path)
    assert {"./model.xml", "./simulation.sedml", "./scenario.json"} <= files
    assert np.allclose(columns["scenario time (h)"], own.time_h, atol=1e-9)
    for name in sc.simulation.observables:
        # the integration error at the single-run rtol 1e-8 (the two place events
        # differently; 1.2e-6 measured on MADRS with the minutes-scale first-hour rates)
        assert rel_error(columns[name], own.values[name]) <= 5e-6, name


def test_export_cli_writes_files_and_reports_bad_input(tmp_path):
    scen = tmp_path / "s.toml"
    scen.write_text('[[dose]]\ndrug = "esketamine"\namount = "84 mg"\nroute = "intranasal"\n'
                    '[simulation]\nend = "1 d"\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(app, ["export", "sbml", str(scen), "--out", str(tmp_path / "m.xml")])
    assert r.exit_code == 0, r.output
    assert check_sbml((tmp_path / "m.xml").read_text()).ok
    r = runner.invoke(app, ["export", "omex", str(scen), "--out", str(tmp_path / "a.omex")])
    assert r.exit_code == 0, r.output
    assert zipfile.is_zipfile(tmp_path / "a.omex")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[dose]]\ndrug = "ketamine"\namount = "0.5 mg/kg"\nroute = "nasal-ish"\n',
                   encoding="utf-8")
    r = runner.invoke(app, ["export", "sbml", str(bad), "--out", str(tmp_path / "b.xml")])
    assert r.exit_code == 2 and "route" in r.output
    assert not (tmp_path / "b.xml").exists()
    assert not list(tmp_path.glob(".b.xml*"))
