"""The key numbers shown beside the cascade: peak exposure, peak occupancies, synaptic
potentiation and symptoms at 24 h and at the end."""

from __future__ import annotations

import numpy as np

from ..report.panels import default_observables, fmt_time, label, nice_number
from ..simulate.run import Result


def _at(result: Result, name: str, t_h: float) -> float:
    return float(np.interp(t_h, result.time_h, result.values[name]))


def _peak(result: Result, name: str) -> tuple[float, float]:
    v = result.values[name]
    i = int(np.argmax(v))
    return float(v[i]), float(result.time_h[i])


def key_values(result: Result) -> list[tuple[str, str]]:
    """(label, value) rows for a single-subject result."""
    v, rows = result.values, []
    pk = [n for n in default_observables(v) if n.startswith(("plasma.", "brain."))]
    if pk:
        peak, t = _peak(result, pk[0])
        rows.append((f"peak {pk[0].replace('.', ' ')}",
                     f"{nice_number(peak)} {result.units[pk[0]]} at {fmt_time(t)}"))
    for name in ("occupancy.nmdar", "occupancy.ht2a", "occupancy.trkb"):
        if name in v and np.max(v[name]) > 1e-4:
            peak, t = _peak(result, name)
            rows.append((f"peak {label(name)} occupancy" if "block" not in label(name)
                         else f"peak {label(name)}", f"{100 * peak:.1f} % at {fmt_time(t)}"))
    if "synapse.strength" in v:
        peak, t = _peak(result, "synapse.strength")
        rows.append(("peak synaptic strength", f"{peak:.3g} × baseline at {fmt_time(t)}"))
    end = float(result.time_h[-1])
    for name in ("clinic.madrs", "behaviour.immobility"):
        if name in v:
            base = _at(result, name, 0.0)
            rows.append((f"{label(name)} before dosing", f"{base:.3g}"))
            for t in (24.0, end):
                if t <= end:
                    rows.append((f"{label(name)} at {fmt_time(t)}", f"{_at(result, name, t):.3g}"
                                 f" ({_at(result, name, t) - base:+.3g})"))
            break
    return rows


SCREENSHOT_AMOUNT = "1 mg/kg"  # the dose set before docs/app_screenshot.png is taken


def screenshot_values(simulate=None) -> list[list[str]]:
    """The key values docs/app_screenshot.png shows: scenario A at ``SCREENSHOT_AMOUNT``
    (``scripts/regenerate_docs.py`` checks the page shows them; tests/test_docs_fresh.py
    that they are today's)."""
    from . import form
    from .compute import simulate_cached

    sc, cat = form.scenario_of({**form.DEFAULTS, "amount": SCREENSHOT_AMOUNT})
    return [[k, v] for k, v in key_values((simulate or simulate_cached)(sc, cat))]
