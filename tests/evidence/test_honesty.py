"""Honesty checks of the evidence base (issue: Evidence).

A test fails if a record has no source, if a fitted parameter names no records (or names
something that is not a calibration record), or if a validation record is reachable from the
fitting code. (Every parameter having provenance is tests/test_provenance.py.)"""

from __future__ import annotations

import inspect

import pytest

from raadsim.errors import InputError
from raadsim.evidence import calibrate
from raadsim.evidence.records import calibration_records, load_records, parse_records
from raadsim.provenance import sources
from tests.test_provenance import _all_params

RECORDS = {r.id: r for r in load_records()}


def test_every_record_has_a_verified_source():
    bib = sources()
    for r in RECORDS.values():
        assert r.source in bib, r.id
        assert bib[r.source].seen_via or bib[r.source].doi or bib[r.source].url, r.source
        assert len(r.quote.strip()) >= 10, r.id


def test_a_record_without_source_is_rejected():
    raw = {"record": [{"id": "x", "kind": "validation", "layer": "pk", "drug": "ketamine",
                       "species": "human", "source": "nowhere2099", "quote": "q",
                       "finding": "f", "observable": "plasma.ketamine", "time": "peak",
                       "quantity": "peak('a')", "expected": {"min": 0}, "justification": "j",
                       "arms": {"a": {}}}]}
    with pytest.raises(InputError, match="source"):
        parse_records(raw, "test.toml")


def test_every_fitted_parameter_names_calibration_records():
    fitted = [p for p in _all_params() if p.provenance.kind == "fitted"]
    assert fitted
    for p in fitted:
        ids = p.provenance.fitted_to or []
        assert ids, p.name
        for i in ids:
            assert i in RECORDS, f"{p.name}: fitted_to names {i!r}, which is not a record id"
            assert RECORDS[i].kind == "calibration", f"{p.name}: {i} is a validation record"


def test_calibration_problems_use_only_calibration_records():
    for p in calibrate.PROBLEMS:
        for rec in calibration_records(list(p.records)):
            assert rec.kind == "calibration"


def test_validation_records_are_refused_by_the_fitting_entry_point():
    validation = next(r.id for r in RECORDS.values() if r.kind == "validation")
    with pytest.raises(InputError, match="validation records are never fitted"):
        calibration_records([validation])


def test_fitting_code_reaches_records_only_through_calibration_records():
    """Static guard: the calibration module never loads or selects records itself."""
    src = inspect.getsource(calibrate)
    for forbidden in ("load_records", "select(", "parse_records", "_evidence_files"):
        assert forbidden not in src, forbidden


def test_fitting_reads_no_validation_record(monkeypatch):
    """Dynamic guard: run the fast problems and record every record id the fits touch."""
    seen: list[str] = []
    real = calibrate.calibration_records

    def spy(ids):
        out = real(ids)
        seen.extend(r.id for r in out)
        return out

    monkeypatch.setattr(calibrate, "calibration_records", spy)
    for p in calibrate.PROBLEMS:
        if not p.slow:
            calibrate.run_problem(p)
    assert seen and all(RECORDS[i].kind == "calibration" for i in seen)


@pytest.mark.parametrize("problem", [p for p in calibrate.PROBLEMS if not p.slow],
                         ids=lambda p: p.id)
def test_fast_calibrations_reproduce_the_stored_values(problem):
    """Re-running a problem from a clean checkout gives the values in the data files."""
    fitted = calibrate.run_problem(problem)
    stored = calibrate.stored(problem)
    for name, v in fitted.items():
        assert v == pytest.approx(stored[name], rel=2e-4), name


def test_clinic_problem_records_match_the_fitted_parameters():
    import tomllib

    p = calibrate.problem("clinic")
    for t in p.targets:
        for loc in t.locations:
            path, keys = calibrate._split_location(loc)
            node = tomllib.loads(path.read_text(encoding="utf-8"))
            for k in keys:
                node = node[k]
            assert node["kind"] == "fitted", loc
            assert sorted(node["fitted_to"]) == sorted(p.records), loc
