"""The committed figures, screenshot, example data set and quoted numbers of the README and
the docs are what ``python scripts/regenerate_docs.py`` produces today.

Numbers are compared with a relative tolerance (``docs_artifacts.RTOL``) and their printed
text; figures by the values they show (``docs/numbers.json``); the NONMEM example row by
row. The fast checks re-simulate the human ketamine model (one compile); the quoted PK and
EEG numbers come from their evidence records (slow). When one fails, run the script.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from raadsim.report import docs_artifacts as da

ROOT = Path(__file__).resolve().parents[1]
DATA = json.loads((ROOT / da.NUMBERS_FILE).read_text(encoding="utf-8"))
FIX = "stale: run python scripts/regenerate_docs.py"


def test_every_marked_number_is_printed_from_numbers_json():
    texts = da.number_texts(DATA["numbers"])
    quoted: set[str] = set()
    for doc in da.DOCS_WITH_NUMBERS:
        marked = da.markers((ROOT / doc).read_text(encoding="utf-8"))
        for key, text in marked.items():
            assert texts.get(key) == text, f"{doc}: {key} is {text!r}, not " \
                f"{texts.get(key)!r} ({FIX} --fill)"
        quoted |= set(marked)
    assert set(texts) <= quoted, f"numbers no document quotes: {set(texts) - quoted}"


def test_every_committed_image_is_generated():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = set(re.findall(r"\]\((docs/[^)]+\.(?:png|svg))\)", readme))
    generated = set(DATA["figures"]) | {"docs/mechanism.svg"}
    assert images <= generated, f"images no script writes: {images - generated}"
    for img in images:
        assert (ROOT / img).stat().st_size > 10_000, img


def _make_synthetic():
    spec = importlib.util.spec_from_file_location(
        "make_synthetic", ROOT / "examples" / "nonmem" / "make_synthetic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_nonmem_example_is_what_the_model_gives_today():
    from raadsim.app.compute import simulate_cached  # one compiled model for these tests

    committed = (ROOT / "examples/nonmem/ketamine_synthetic.csv").read_text(
        encoding="utf-8").splitlines()
    today = _make_synthetic().lines(simulate_cached)
    assert len(committed) == len(today), FIX
    assert committed[:2] == today[:2]  # header and the comment
    for old, new in zip(committed[2:], today[2:], strict=True):
        a, b = old.split(","), new.split(",")
        assert len(a) == len(b) and a[:7] == b[:7] and a[8:] == b[8:], (old, new)
        if a[7] != ".":
            assert da.close(float(a[7]), float(b[7]), 2e-3), f"{old} vs {new}: {FIX}"


def test_readme_figure_and_app_screenshot_show_todays_values():
    from raadsim.app.compute import simulate_cached
    from raadsim.app.values import screenshot_values

    committed = DATA["figures"]["docs/ketamine_iv.png"]
    assert da.close(da.ketamine_iv_figure(simulate=simulate_cached), committed), FIX
    shot = DATA["figures"]["docs/app_screenshot.png"]
    assert screenshot_values() == shot["shown"], FIX


def test_frequency_trial_numbers_were_computed_with_todays_model():
    """The 500-patient trial is too slow for CI; its numbers are tied to a fingerprint of
    the arms' models, trial file and population defaults."""
    today = da.trial_fingerprint(ROOT / "examples" / "ketamine_frequency_trial.toml")
    assert DATA["fingerprints"]["trial"] == today, f"{FIX} --only trial"


@pytest.mark.slow
def test_quoted_numbers_are_todays():
    today = da.record_numbers() | {"esketamine_in_cmax": da.esketamine_in_cmax()}
    stale = {k: (DATA["numbers"][k], v) for k, v in today.items()
             if not da.close(DATA["numbers"][k], v)}
    assert not stale, f"(committed, today) {stale}: {FIX} --only numbers"
    eeg = da.eeg_figure()
    assert da.close(eeg, DATA["figures"]["docs/eeg_spectra.png"]), f"{FIX} --only figures"
