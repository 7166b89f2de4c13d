"""Published findings and trial endpoints, read from the evidence records.

One test per record in ``src/raadsim/data/evidence/*.toml`` (the single source of truth that
``raadsim validate`` also runs). A record passes when the simulated quantity meets the
published result. Records the model does not reproduce carry a ``known_gap``: their tests are
strict expected failures, so they start failing (and must be updated) as soon as the model
reproduces them.
"""

from __future__ import annotations

import pytest

from raadsim.evidence.records import load_records
from raadsim.evidence.runner import Outcome, run_records

RECORDS = load_records()
# The fast tier (pytest -m "not slow") runs every calibration record and the single-subject
# validation records of the other layers; virtual trials (hundreds of patients) and the
# rodent synapse and behaviour validation records (many distinct models) run in the full suite.
SLOW_LAYERS = ("synapse", "behaviour")
# pytest-xdist: every record test runs on one worker, which simulates the records once (on
# its own process pool); without the group each worker would simulate all of them.
RECORDS_GROUP = pytest.mark.xdist_group("records")


@pytest.fixture(scope="session")
def outcomes(request) -> dict[str, Outcome]:
    """Outcomes of the records the session's selected tests need (all of them when
    test_every_record_evaluates runs): ``pytest -k`` or the fast tier simulate no more."""
    items = request.session.items
    if any(i.originalname == "test_every_record_evaluates" for i in items):
        chosen = list(RECORDS)
    else:
        wanted = {i.callspec.params["record_id"] for i in items
                  if i.originalname == "test_record" and hasattr(i, "callspec")}
        chosen = [r for r in RECORDS if r.id in wanted]
    return {o.record.id: o for o in run_records(chosen, executor="processes")}


def _param(rec):
    marks = [RECORDS_GROUP]
    if rec.known_gap:
        marks.append(pytest.mark.xfail(strict=True, reason=rec.known_gap))
    if rec.trial is not None or (rec.kind == "validation" and rec.layer in SLOW_LAYERS):
        marks.append(pytest.mark.slow)  # the full suite runs every record
    return pytest.param(rec.id, id=rec.id, marks=marks)


@pytest.mark.parametrize("record_id", [_param(r) for r in RECORDS])
def test_record(outcomes, record_id):
    o = outcomes[record_id]
    r = o.record
    assert o.error is None, o.error
    assert o.passed, (f"{r.id}: simulated {o.simulated:.4g}, expected {r.expected.describe()} "
                      f"({r.finding})")


@pytest.mark.slow
@RECORDS_GROUP
def test_every_record_evaluates(outcomes):
    """Known gaps must fail on the numbers, not on a broken scenario or expression."""
    errors = {k: o.error for k, o in outcomes.items() if o.error}
    assert not errors, errors


def test_at_least_60_records_across_layers():
    assert len(RECORDS) >= 60
    assert {r.layer for r in RECORDS} >= {"pk", "targets", "network", "signalling", "synapse",
                                          "clinic", "behaviour"}
