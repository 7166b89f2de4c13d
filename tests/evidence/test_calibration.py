"""The slow clinic calibration reproduces: its stored values are what the documented fit
(fixed start, recorded ranges, fixed virtual sample) produced, and its objective there is the
one recorded when they were written. Re-running the fit itself takes minutes
(`raadsim calibrate --problem clinic`); these checks take seconds and fail as soon as the
model, the records or the stored values drift apart."""

from __future__ import annotations

import tomllib

import pytest

from raadsim.evidence import calibrate as cal
from raadsim.evidence.records import calibration_records


@pytest.fixture(scope="module")
def clinic():
    p = cal.problem("clinic")
    return p, tomllib.loads(cal.fit_summary_path(p).read_text(encoding="utf-8"))


def test_summary_matches_stored_values(clinic):
    p, summary = clinic
    assert summary["records"] == list(p.records)
    assert summary["start"] == cal.CLINIC_START
    assert summary["stored_values"] == pytest.approx(cal.stored(p), rel=1e-12)


def test_stored_values_and_start_inside_recorded_ranges(clinic):
    p, _ = clinic
    box = cal.clinic_bounds()
    for k, v in cal.stored(p).items():
        assert box[k][0] <= v <= box[k][1], k
    for k, v in cal.CLINIC_START.items():
        assert box[k][0] <= v <= box[k][1], k


@pytest.mark.slow
def test_objective_at_stored_values_is_the_recorded_one(clinic):
    p, summary = clinic
    recs = calibration_records(list(p.records))
    value = cal.objective(recs, cal.stored(p), executor="processes")
    assert value == pytest.approx(summary["objective_at_stored_values"], rel=1e-9, abs=1e-12)
    # the fit improved on its starting guesses
    assert value < cal.objective(recs, dict(cal.CLINIC_START), executor="processes")
