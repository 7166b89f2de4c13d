"""What the README and the docs show, computed from today's model.

``scripts/regenerate_docs.py`` writes every committed figure, screenshot, example data set
and quoted number from these functions; ``tests/test_docs_fresh.py`` checks the committed
ones against them. A quoted number sits between markers in the Markdown,
``<!--n:KEY-->176<!--/n-->`` (invisible when rendered), and its value is in
``docs/numbers.json`` with the values shown by each committed figure (a figure is checked by
the values it shows, not by its pixels).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..io.scenario import scenario_from_dict

MARKER = re.compile(r"<!--n:([a-z0-9_]+)-->(.*?)<!--/n-->", re.S)
DOCS_WITH_NUMBERS = ("README.md", "examples/nonmem/README.md")
NUMBERS_FILE = "docs/numbers.json"

# Quoted PK numbers: key -> (evidence record, scale of its simulated value, format).
RECORD_NUMBERS: dict[str, tuple[str, float, str]] = {
    "ketamine_iv_cmax": ("zarate2006_ketamine_iv_cmax", 1.0, "{:.0f}"),
    "esketamine_iv_arterial_peak": ("simons2022_esketamine_iv_20mg_arterial_peak", 1.0,
                                    "{:.0f}"),
    "esketamine_in_f_pct": ("spravato_esketamine_intranasal_bioavailability", 100.0,
                            "{:.0f}"),
    "esketamine_in_tmax_min": ("spravato_esketamine_tmax", 60.0, "{:.0f}"),
    "ketamine_10mg_auc": ("pharmacotherapy2022_ketamine_iv_10mg_auc", 1.0, "{:.0f}"),
    "ketamine_50mg_in_cmax": ("pharmacotherapy2022_ketamine_intranasal_50mg_cmax", 1.0,
                              "{:.0f}"),
    "psilocin_cmax_15": ("holze2023_psilocin_cmax_15mg", 1.0, "{:.1f}"),
    "psilocin_cmax_25": ("holze2023_psilocin_cmax_25mg", 1.0, "{:.1f}"),
    "psilocin_cmax_30": ("holze2023_psilocin_cmax_30mg", 1.0, "{:.1f}"),
    "psilocin_half_life": ("holze2023_psilocin_half_life", 1.0, "{:.1f}"),
    "lsd_cmax_100": ("dolder2017_lsd_cmax_100ug", 1.0, "{:.1f}"),
    "ketamine_gamma_pct": ("muthukumaraswamy2015_eeg_ketamine_gamma_up", 100.0, "{:+.0f}"),
}
RTOL = 0.01  # numbers are compared with this relative tolerance (and their printed text)

# The README figure: the run figure of this scenario (as `raadsim simulate` draws it).
KETAMINE_IV = {
    "subject": {"species": "human", "condition": "trd", "weight_kg": 70},
    "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}],
    "simulation": {"end": "7 d", "output_every": "10 min"},
}
ESKETAMINE_IN = {
    "subject": {"species": "human", "weight_kg": 70},
    "dose": [{"drug": "esketamine", "amount": "84 mg", "route": "intranasal"}],
    "simulation": {"end": "6 h", "output_every": "1 min", "observables": ["plasma.s_ketamine"]},
}


def sig(x: float, digits: int = 4) -> float:
    """``x`` rounded to ``digits`` significant digits (what the JSON stores)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits - 1}e}")


# ---- quoted numbers ----------------------------------------------------------------------
def record_numbers() -> dict[str, Any]:
    """The simulated values of the records behind the quoted PK and EEG numbers."""
    from ..evidence.records import load_records
    from ..evidence.runner import run_records

    by_id = {r.id: r for r in load_records()}
    wanted = sorted({rid for rid, _, _ in RECORD_NUMBERS.values()})
    got = {o.record.id: o.simulated for o in run_records([by_id[i] for i in wanted])}
    out = {}
    for key, (rid, scale, _) in RECORD_NUMBERS.items():
        value = got[rid]
        if value is None:
            raise RuntimeError(f"record {rid} gave no value")
        if key == "ketamine_gamma_pct":
            value = value - 1.0  # a ratio to baseline, quoted as a change
        out[key] = sig(value * scale)
    return out


def esketamine_in_cmax() -> float:
    """Peak plasma S-ketamine after esketamine 84 mg intranasal (70 kg)."""
    from ..simulate.run import simulate

    r = simulate(scenario_from_dict(ESKETAMINE_IN))
    return sig(float(np.max(r.values["plasma.s_ketamine"])))


def nonmem_numbers(csv: Path, mapping: Path) -> dict[str, float]:
    """GMFE and the fraction within 2-fold of the synthetic NONMEM example vs the model."""
    from ..evidence.nonmem_predict import predict
    from ..io.nonmem import read_dataset
    from .observed_vs_predicted import summarize

    ds = read_dataset(csv, mapping)
    overall = summarize(predict(ds))["overall"]
    return {"nonmem_gmfe": sig(overall["gmfe"]),
            "nonmem_within_2fold_pct": sig(100 * overall["within_2fold"])}


def nonmem_fit_factor(csv: Path, mapping: Path, pattern: str = "Vc_*_ketamine") -> float:
    """The factor ``raadsim data fit`` recovers for ``pattern`` from the example (the data
    come from the model, so about 1)."""
    from ..evidence.data_fit import fit_data
    from ..io.nonmem import read_dataset

    return sig(fit_data(read_dataset(csv, mapping), [pattern]).factors[pattern])


FORMATS: dict[str, str] = {k: f for k, (_, _, f) in RECORD_NUMBERS.items()} | {
    "esketamine_in_cmax": "{:.0f}", "nonmem_gmfe": "{:.2f}", "nonmem_within_2fold_pct":
    "{:.0f}", "nonmem_fit_vc": "{:.2f}", "eeg_baseline_peak_hz": "{:.0f}",
    "eeg_baseline_second_peak_hz": "{:.0f}",
}
for _arm in ("twice_weekly", "thrice_weekly"):  # the frequency trial: rate [95 % CI]
    FORMATS |= {f"trial_{_arm}_response_{v}": "{:.0f} % [{:.0f}, {:.0f}]" for v in ("1d", "28d")}
    FORMATS[f"trial_{_arm}_relapse_days"] = "{:.1f} [{:.1f}, {:.1f}]"
FORMATS |= {f"trial_saline_response_{v}": "{:.0f}" for v in ("1d", "28d")}


def number_texts(numbers: Mapping[str, Any]) -> dict[str, str]:
    """How each number is printed in the Markdown (a list: value and its CI)."""
    return {k: FORMATS[k].format(*(v if isinstance(v, list) else [v]))
            for k, v in numbers.items() if k in FORMATS}


def fill_markers(text: str, texts: Mapping[str, str]) -> str:
    """``text`` with every ``<!--n:KEY-->…<!--/n-->`` set to ``texts[KEY]``."""
    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in texts:
            raise KeyError(f"no value for the marked number {key!r}")
        return f"<!--n:{key}-->{texts[key]}<!--/n-->"

    return MARKER.sub(repl, text)


def markers(text: str) -> dict[str, str]:
    """``{KEY: printed text}`` of the marked numbers in ``text``."""
    return {m.group(1): m.group(2) for m in MARKER.finditer(text)}


# ---- figures and their values --------------------------------------------------------------
def _shown(values: Mapping[str, np.ndarray], time_h: np.ndarray, names: list[str]
           ) -> dict[str, list[float]]:
    out = {}
    for n in names:
        v = np.asarray(values[n])
        i = int(np.argmax(np.abs(v - v[0]))) if len(v) else 0
        out[n] = [sig(float(v[i])), sig(float(time_h[i])), sig(float(v[-1]))]
    return out


def ketamine_iv_figure(path: Path | None = None, simulate: Callable | None = None
                       ) -> dict[str, Any]:
    """The README figure (drawn to ``path`` if given) and the values it shows: for each
    plotted observable [value at its largest excursion, its time (h), final value]."""
    from ..simulate.run import simulate as run
    from .figures import plot_result, run_observables
    from .multiscale import choose_panels
    from .traces import trace_from_result

    result = (simulate or run)(scenario_from_dict(KETAMINE_IV))
    if path is not None:
        plot_result(result, path, "Ketamine 0.5 mg/kg IV over 40 min")
    panels = choose_panels([trace_from_result(result)], run_observables(result))
    names = [n for p in panels for n in p.observables]
    return {"scenario": KETAMINE_IV, "shown": _shown(result.values, result.time_h, names)}


def eeg_figure(path: Path | None = None) -> dict[str, Any]:
    """docs/eeg_spectra.png (drawn to ``path`` if given) and its values: per spectrum the
    peak frequency (Hz) and the ratio to baseline at each band's centre."""
    from ..model import eeg
    from .spectrum_figure import example_spectra, plot_spectra

    spectra = example_spectra()
    if path is not None:
        plot_spectra(spectra, path)
    f0, p0 = next(iter(spectra.values()))
    centres = {b: math.sqrt(lo * hi) for b, (lo, hi) in eeg.microcircuit().bands.items()}
    out: dict[str, Any] = {}
    for label, (f, p) in spectra.items():
        ratio = p / np.interp(f, f0, p0)
        local = [i for i in range(1, len(p) - 1) if p[i] > p[i - 1] and p[i] >= p[i + 1]]
        local.sort(key=lambda i: -p[i])
        out[label] = {"peaks_hz": [sig(float(f[i]), 3) for i in local],
                      "ratio_at_band_centre": {b: sig(float(np.interp(c, f, ratio)), 3)
                                               for b, c in centres.items()}}
    return out


def trial_fingerprint(trial_file: Path) -> str:
    """A hash of what the frequency trial's numbers depend on: each arm's model (equations
    and every parameter value), the trial file and the population defaults. Cheap to compute
    (no simulation), so a test can tell when the 500-patient trial must be re-run."""
    import hashlib
    import json

    from ..io.trial_file import load_trial
    from ..model.build import build_model

    tf = load_trial(trial_file)
    cat = tf.catalogue()
    h = hashlib.sha256(json.dumps(tf.model_dump(mode="json"), sort_keys=True,
                                  default=str).encode())
    for arm in tf.trial.arm:
        spec = build_model(tf.arm_scenario(arm), cat)
        h.update(json.dumps(spec.to_dict(), sort_keys=True, default=str).encode())
    pop = Path(__file__).resolve().parents[1] / "data" / "parameters" / "population.toml"
    h.update(pop.read_bytes())
    return h.hexdigest()[:20]


def close(a: Any, b: Any, rtol: float = RTOL) -> bool:
    """``a`` and ``b`` agree: numbers to ``rtol`` (or 1e-9 absolute), containers element by
    element, anything else exactly."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(close(a[k], b[k], rtol) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(close(x, y, rtol) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-9)
    return a == b
