"""End to end in headless Chromium (Playwright): the default view (logarithmic time for one
session, placeholders that fit their boxes), a dose change, compare mode (a few legend
entries per panel) and a small trial (percentage points spelled out), with a screenshot of
each step in the test's tmp dir.

Needs the ``playwright`` Python package and Debian's Chromium at /usr/bin/chromium (or
``RAADSIM_CHROMIUM``); without either the test is SKIPPED with the reason. Browser
downloads are never used (no ``playwright install``). The screenshot is written under
pytest's tmp dir; set ``RAADSIM_APP_SCREENSHOT=docs/app_screenshot.png`` to also write it
there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install playwright)")

CHROMIUM = os.environ.get("RAADSIM_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Peak of the plotted plasma-ketamine line (plotly's decoded data of the first panel).
PEAK_JS = """() => {
  const gd = document.querySelector('#a-graph .js-plotly-plot');
  const tr = gd && gd._fullData && gd._fullData.find(t => t.name === 'ketamine');
  return tr && tr.y && tr.y.length ? Math.max(...Array.from(tr.y)) : null;
}"""

# Legend entries per legend of the first plot matching the selector.
LEGENDS_JS = """sel => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  const out = {};
  for (const t of gd._fullData) {
    if (t.showlegend === false) continue;
    const k = t.legend || 'legend';
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}"""
# Inputs whose placeholder is wider than the box (canvas text metrics in the input's font).
OVERFLOW_JS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  return Array.from(document.querySelectorAll('input[placeholder]')).filter(el => {
    if (!el.placeholder || el.offsetParent === null) return false;
    const cs = getComputedStyle(el);
    ctx.font = cs.font;
    const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    return ctx.measureText(el.placeholder).width > room;
  }).map(el => el.id + ': ' + el.placeholder);
}"""

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"Chromium not found at {CHROMIUM} "
                                "(apt-get install chromium)")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import logging

    from werkzeug.serving import make_server

    from raadsim.app.server import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    srv = make_server("127.0.0.1", 0, create_app().server, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}/"
    srv.shutdown()
    thread.join(5)


@contextlib.contextmanager
def opened(server: str) -> Iterator[tuple[object, list[str]]]:
    """A Chromium page on the app, loaded until the first values show, and the list its
    page errors are collected in (closed afterwards)."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server)
            page.wait_for_selector("#a-values td.value", timeout=60_000)
            yield page, errors
        finally:
            browser.close()


def test_changing_the_dose_updates_plot_and_values(server, tmp_path):
    with opened(server) as (page, errors):
        page.wait_for_function(f"({PEAK_JS})() !== null", timeout=30_000)
        before_text = page.inner_text("#a-values")
        before_peak = page.evaluate(PEAK_JS)
        assert "peak plasma ketamine" in before_text and before_peak > 0
        xtype = "() => document.querySelector('#a-graph .js-plotly-plot')._fullLayout" \
            ".xaxis.type"
        assert page.evaluate(xtype) == "log"  # one session: logarithmic time by default
        assert page.evaluate(OVERFLOW_JS) == []
        page.screenshot(path=str(tmp_path / "default_view.png"), full_page=True)

        t0 = time.perf_counter()
        page.fill("#a-amount", "1 mg/kg")
        page.press("#a-amount", "Enter")
        page.wait_for_function(
            "t => document.querySelector('#a-values').innerText !== t", arg=before_text,
            timeout=30_000)
        page.wait_for_function(f"p => ({PEAK_JS})() !== p", arg=before_peak,
                               timeout=30_000)
        latency = time.perf_counter() - t0
        after_text = page.inner_text("#a-values")
        after_peak = page.evaluate(PEAK_JS)
        assert after_text != before_text
        assert after_peak > 1.8 * before_peak  # twice the dose, about twice the Cmax
        assert page.input_value("#a-amount") == "1 mg/kg"

        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.add_style_tag(content="#a-status{visibility:hidden}")  # timings vary
        page.wait_for_timeout(300)
        shot = tmp_path / "app_screenshot.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        print(f"\nscreenshot: {shot}; dose change → new cascade in {latency:.2f} s")
        if os.environ.get("RAADSIM_APP_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["RAADSIM_APP_SCREENSHOT"])

        page.click("#a-mech-btn")  # the mechanism diagram: SVG, readable width
        page.wait_for_selector("#a-mech img", timeout=60_000)
        width = page.evaluate("() => document.querySelector('#a-mech img')"
                              ".getBoundingClientRect().width")
        assert width >= 1000
        assert page.get_attribute("#a-mech img", "src").startswith("data:image/svg+xml")
        page.locator("#a-mech img").screenshot(path=str(tmp_path / "mechanism.png"))

        page.fill("#a-amount", "a lot")
        page.press("#a-amount", "Enter")
        page.wait_for_function(
            "() => document.querySelector('#a-amount-error').innerText.length > 0",
            timeout=30_000)
        assert "expected a dose" in page.inner_text("#a-amount-error")
        assert page.inner_text("#a-values") == after_text  # last good result kept
        assert not errors, errors


@pytest.mark.slow
def test_compare_mode_and_a_small_trial(server, tmp_path):
    with opened(server) as (page, errors):
        t0 = time.perf_counter()
        page.check("#compare input[value='on']")
        page.wait_for_selector("#overlay-box .js-plotly-plot", state="visible",
                               timeout=60_000)
        page.wait_for_function(
            "() => { const g = document.querySelector('#overlay-graph .js-plotly-plot');"
            " return g && g._fullData && g._fullData.length > 10; }", timeout=60_000)
        print(f"\ncompare mode in {time.perf_counter() - t0:.1f} s")
        legends = page.evaluate(LEGENDS_JS, "#overlay-graph")
        assert legends and max(legends.values()) <= 8, legends  # a few per panel
        assert page.evaluate(OVERFLOW_JS) == []  # scenario B's fields too
        page.screenshot(path=str(tmp_path / "compare_mode.png"), full_page=True)

        page.uncheck("#compare input[value='on']")  # trial: A against placebo
        t0 = time.perf_counter()
        page.fill("#trial-n", "2")
        page.press("#trial-n", "Enter")
        page.fill("#trial-visits", "1 d")
        page.press("#trial-visits", "Enter")
        page.click("#trial-run")
        page.wait_for_function(
            "() => document.querySelector('#trial-table').innerText.includes('vs')",
            timeout=240_000)
        table = page.inner_text("#trial-table")
        assert "percentage points" in table and "response" in table
        print(f"\nsmall trial in {time.perf_counter() - t0:.1f} s")
        assert "patients in" in page.inner_text("#trial-status")
        page.locator("#trial-graph").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "small_trial.png"), full_page=True)
        assert not errors, errors
