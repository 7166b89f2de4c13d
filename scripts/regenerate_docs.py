"""Regenerate every figure, screenshot, example data set and quoted number of the README and
the docs from today's model (see ``raadsim.report.docs_artifacts``).

    python scripts/regenerate_docs.py                  # all but the 500-patient trial
    python scripts/regenerate_docs.py --only nonmem,numbers
    python scripts/regenerate_docs.py --only trial     # the frequency trial (~1 min)
    python scripts/regenerate_docs.py --fill           # only re-print docs/numbers.json
                                                       # into the Markdown markers

Parts: ``nonmem`` (examples/nonmem/ketamine_synthetic.csv and its GMFE), ``numbers`` (the PK
and EEG numbers, from their evidence records), ``figures`` (docs/ketamine_iv.png,
docs/eeg_spectra.png, docs/mechanism.svg), ``screenshot`` (docs/app_screenshot.png, with
Playwright and Debian's Chromium; skipped with a message without them), ``trial``
(examples/ketamine_frequency_trial.toml, 500 patients per arm). Values go to
docs/numbers.json; every ``<!--n:KEY-->…<!--/n-->`` in README.md and
examples/nonmem/README.md is re-printed from it. tests/test_docs_fresh.py fails when a
committed artefact differs from what this script produces today.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from raadsim.report import docs_artifacts as da

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PARTS = ("nonmem", "numbers", "figures", "screenshot")
CHROMIUM = os.environ.get("RAADSIM_CHROMIUM", "/usr/bin/chromium")


def load_numbers() -> dict[str, Any]:
    path = ROOT / da.NUMBERS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_numbers(data: dict[str, Any]) -> None:
    path = ROOT / da.NUMBERS_FILE
    data["numbers"] = dict(sorted(data.get("numbers", {}).items()))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def fill(data: dict[str, Any]) -> None:
    texts = da.number_texts(data.get("numbers", {}))
    for doc in da.DOCS_WITH_NUMBERS:
        path = ROOT / doc
        old = path.read_text(encoding="utf-8")
        new = da.fill_markers(old, texts)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"updated the numbers in {doc}")


def make_synthetic():
    spec = importlib.util.spec_from_file_location(
        "make_synthetic", ROOT / "examples" / "nonmem" / "make_synthetic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def part_nonmem(data: dict[str, Any]) -> None:
    make_synthetic().main()
    here = ROOT / "examples" / "nonmem"
    csv, mapping = here / "ketamine_synthetic.csv", here / "ketamine_mapping.toml"
    data["numbers"].update(da.nonmem_numbers(csv, mapping))
    data["numbers"]["nonmem_fit_vc"] = da.nonmem_fit_factor(csv, mapping)


def part_numbers(data: dict[str, Any]) -> None:
    data["numbers"].update(da.record_numbers())
    data["numbers"]["esketamine_in_cmax"] = da.esketamine_in_cmax()


def part_figures(data: dict[str, Any]) -> None:
    from raadsim import scenario_from_dict
    from raadsim.model.build import build_model
    from raadsim.report.diagram import draw_mechanism

    figs = data.setdefault("figures", {})
    figs["docs/ketamine_iv.png"] = da.ketamine_iv_figure(DOCS / "ketamine_iv.png")
    figs["docs/eeg_spectra.png"] = da.eeg_figure(DOCS / "eeg_spectra.png")
    peaks = figs["docs/eeg_spectra.png"]["drug-free baseline"]["peaks_hz"]
    data["numbers"]["eeg_baseline_peak_hz"] = peaks[0]
    data["numbers"]["eeg_baseline_second_peak_hz"] = peaks[1]
    sc = scenario_from_dict(da.KETAMINE_IV)
    draw_mechanism(build_model(sc, sc.catalogue()), DOCS / "mechanism.svg",
                   title="raadsim mechanism: ketamine, human")
    print("wrote docs/ketamine_iv.png, docs/eeg_spectra.png, docs/mechanism.svg")


def part_screenshot(data: dict[str, Any]) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("screenshot skipped: playwright is not installed")
        return
    if not Path(CHROMIUM).exists():
        print(f"screenshot skipped: no Chromium at {CHROMIUM}")
        return
    from werkzeug.serving import make_server

    from raadsim.app.server import create_app
    from raadsim.app.values import SCREENSHOT_AMOUNT, screenshot_values

    srv = make_server("127.0.0.1", 0, create_app().server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{srv.server_port}/")
            page.wait_for_selector("#a-values td.value", timeout=60_000)
            before = page.inner_text("#a-values")
            page.fill("#a-amount", SCREENSHOT_AMOUNT)
            page.press("#a-amount", "Enter")
            page.wait_for_function("t => document.querySelector('#a-values').innerText "
                                   "!== t", arg=before, timeout=60_000)
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.add_style_tag(content="#a-status{visibility:hidden}")  # timings vary
            page.wait_for_timeout(500)
            shown = page.inner_text("#a-values")
            page.screenshot(path=str(DOCS / "app_screenshot.png"))
            browser.close()
    finally:
        srv.shutdown()
        thread.join(5)
    values = screenshot_values()
    missing = [v for _, v in values if v not in shown]
    if missing:
        raise SystemExit(f"the screenshot does not show {missing}")
    data.setdefault("figures", {})["docs/app_screenshot.png"] = {
        "amount": SCREENSHOT_AMOUNT, "shown": values}
    print("wrote docs/app_screenshot.png")


def part_trial(data: dict[str, Any]) -> None:
    from raadsim.io.trial_file import load_trial
    from raadsim.simulate.trial import run_trial

    path = ROOT / "examples" / "ketamine_frequency_trial.toml"
    tf = load_trial(path)
    s = run_trial(tf, tf.catalogue()).summary["arms"]
    data.setdefault("fingerprints", {})["trial"] = da.trial_fingerprint(path)
    n = data["numbers"]

    def rate(arm: str, visit: str, what: str = "response") -> None:
        v = s[arm]["visits"][visit]
        n[f"trial_{arm}_{what}_{visit.replace(' ', '')}"] = sig_list(
            [100 * v[f"{what}_rate"], *(100 * x for x in v[f"{what}_ci95"])])

    for arm in ("twice_weekly", "thrice_weekly", "saline"):
        for visit in ("1 d", "28 d"):
            rate(arm, visit)
        if arm != "saline":
            e = s[arm]
            n[f"trial_{arm}_relapse_days"] = sig_list(
                [e["median_days_to_relapse"], *e["median_days_to_relapse_ci95"]])
    print("ran examples/ketamine_frequency_trial.toml")


def sig_list(xs) -> list[float]:
    return [da.sig(float(x)) for x in xs]


def main(argv: list[str]) -> int:
    data = load_numbers()
    data.setdefault("numbers", {})
    if "--fill" not in argv:
        only = next((a.split("=", 1)[1] if "=" in a else argv[argv.index(a) + 1]
                     for a in argv if a.startswith("--only")), None)
        parts = only.split(",") if only else list(PARTS)
        for part in parts:
            globals()[f"part_{part}"](data)
            save_numbers(data)
    fill(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
