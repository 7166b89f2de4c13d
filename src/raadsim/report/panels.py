"""Which observables go in which panel of a multiscale figure, and the time axis in words.

Shared by the matplotlib figure (:mod:`raadsim.report.multiscale`) and the web app's plotly
figure, so both show the same cascade: PK → occupancy → network state → signalling →
synapses → symptoms. A panel holds observables of one layer and one unit (a layer whose
observables have different units is split).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

# (key, title, default observables in display order); "pk" and "symptoms" are chosen by rule.
LAYERS: tuple[tuple[str, str], ...] = (
    ("pk", "Pharmacokinetics"),
    ("targets", "Receptor occupancy"),
    ("network", "Network state"),
    ("eeg", "Resting EEG"),
    ("signalling", "Plasticity signalling"),
    ("synapses", "Synapses"),
    ("symptoms", "Symptoms"),
    ("other", "Other"),
)
DEFAULTS: dict[str, tuple[str, ...]] = {
    "targets": ("occupancy.nmdar", "occupancy.nmdar_interneuron", "occupancy.ht2a",
                "occupancy.trkb", "occupancy.ampar"),
    "network": ("network.pyramidal_rate", "network.interneuron_rate", "network.glutamate"),
    "eeg": ("eeg.delta_power", "eeg.alpha_power", "eeg.gamma_power"),
    "signalling": ("signal.peef2", "signal.bdnf", "signal.trkb", "signal.mtorc1"),
    "synapses": ("synapse.strength", "synapse.spine_density"),
}
SYMPTOMS_HUMAN = ("clinic.madrs",)
SYMPTOMS_RODENT = ("behaviour.immobility", "behaviour.sucrose_preference")
LABELS = {
    "occupancy.nmdar": "NMDAR block (pyramidal)",
    "occupancy.nmdar_interneuron": "NMDAR block (interneuron)",
    "occupancy.ht2a": "5-HT2A",
    "occupancy.trkb": "TrkB",
    "occupancy.ampar": "AMPAR",
    "network.pyramidal_rate": "pyramidal rate",
    "network.interneuron_rate": "interneuron rate",
    "network.glutamate": "glutamate",
    "signal.peef2": "p-eEF2",
    "signal.bdnf": "BDNF",
    "signal.trkb": "TrkB signalling",
    "signal.mtorc1": "mTORC1",
    "synapse.strength": "synaptic strength",
    "synapse.spine_density": "spine density",
    "eeg.delta_power": "delta power",
    "eeg.alpha_power": "alpha power",
    "eeg.gamma_power": "gamma power",
    "clinic.madrs": "MADRS",
    "behaviour.immobility": "immobility",
    "behaviour.sucrose_preference": "sucrose preference",
}
MAX_LINES = 6  # observables per panel; a larger group is split into several panels
# What a dimensionless ("1") value means, by observable name prefix (first match wins).
DIMENSIONLESS: tuple[tuple[str, str], ...] = (
    ("occupancy.", "fraction bound"),
    ("drive.", "fraction of maximum"),
    ("tolerance.", "fraction lost"),
    ("clinic.dissociation", "score (0–1)"),
    ("clinic.psychedelic_intensity", "score (0–1)"),
    ("clinic.antidepressant_effect", "fraction (0–1)"),
    ("clinic.expectancy", "score"),
    ("synapse.plasticity_drive", "drive (0 = baseline)"),
    ("eeg.spectral_entropy", "entropy (0–1)"),
    ("behaviour.immobility", "× healthy drug-free"),
    ("behaviour.sucrose_preference", "× healthy"),
)


def unit_label_of(name: str, unit: str) -> str:
    """The unit of an observable in words: 'ng/mL', 'MADRS points', 'fraction bound',
    '× drug-free baseline' (the default for dimensionless mechanism variables)."""
    if unit not in ("1", ""):
        if unit == "points" and name.startswith("clinic.madrs"):
            return "MADRS points"
        where = {"plasma": "plasma", "brain": "unbound brain", "arterial": "arterial"}
        head = name.split(".", 1)[0]
        return f"{unit} ({where[head]})" if head in where else unit
    for prefix, text in DIMENSIONLESS:
        if name.startswith(prefix):
            return text
    return "× drug-free baseline"


@dataclass(frozen=True)
class Panel:
    """One panel: a layer's observables that share a unit (at most ``MAX_LINES``)."""

    key: str
    title: str
    unit: str
    observables: tuple[str, ...]
    unit_text: str = ""

    @property
    def unit_label(self) -> str:
        """The unit in words ('fraction bound', '× drug-free baseline', 'ng/mL', ...)."""
        return self.unit_text or unit_label_of(self.observables[0] if self.observables
                                               else "", self.unit)


def layer_of(name: str) -> str:
    """The panel layer of an observable name (by its prefix)."""
    head = name.split(".", 1)[0]
    if head in ("plasma", "brain"):
        return "pk"
    if head in ("occupancy", "drive"):
        return "targets"
    if head == "network" or name in ("clinic.dissociation", "clinic.psychedelic_intensity"):
        return "network"
    return {"eeg": "eeg", "signal": "signalling", "synapse": "synapses", "clinic": "symptoms",
            "behaviour": "symptoms"}.get(head, "other")


def label(name: str) -> str:
    """A short legend label for an observable."""
    return LABELS.get(name, name.split(".", 1)[-1].replace("_", " "))


def _pk_default(names: list[str]) -> list[str]:
    """Plasma (else brain) analytes, leaving out the parts of a total (``s_x``, ``x_2s6s``)."""
    for compartment in ("plasma.", "brain."):
        analytes = [n[len(compartment):] for n in names if n.startswith(compartment)]
        if analytes:
            totals = set(analytes)
            keep = [a for a in analytes
                    if not any(a != t and (a in (f"s_{t}", f"r_{t}") or a.startswith(f"{t}_"))
                               for t in totals)]
            return [compartment + a for a in keep]
    return []


def default_observables(names: Iterable[str]) -> list[str]:
    """The observables a multiscale figure shows by default, in cascade order."""
    names = list(names)
    have = set(names)
    out = _pk_default(names)
    for key in ("targets", "network", "eeg", "signalling", "synapses"):
        out += [n for n in DEFAULTS[key] if n in have]
    symptoms = [n for n in SYMPTOMS_HUMAN if n in have] or [n for n in SYMPTOMS_RODENT
                                                           if n in have]
    return out + symptoms


def make_panels(observables: Iterable[str], units: Mapping[str, str],
                max_lines: int = MAX_LINES) -> list[Panel]:
    """Group observables into panels, one per (layer, unit in words), in cascade order; a
    group of more than ``max_lines`` is split into panels of at most that many."""
    groups: dict[tuple[str, str], list[str]] = {}
    for name in observables:
        unit = units.get(name, "")
        groups.setdefault((layer_of(name), unit_label_of(name, unit)), []).append(name)
    order = {k: i for i, (k, _) in enumerate(LAYERS)}
    titles = dict(LAYERS)
    out = []
    for (layer, text), members in sorted(groups.items(), key=lambda kv: order[kv[0][0]]):
        n = -(-len(members) // max_lines)
        size = -(-len(members) // n)
        for i in range(n):
            part = tuple(members[i * size:(i + 1) * size])
            title = titles[layer] + (f" ({i + 1} of {n})" if n > 1 else "")
            out.append(Panel(layer, title, units.get(part[0], ""), part, text))
    return out


def visible(observables: Iterable[str], peak: Callable[[str], float],
            rel: float = 1e-3) -> list[str]:
    """Drop PK and occupancy traces that stay near zero (below ``rel`` of their panel's
    largest peak, or exactly zero): e.g. 5-HT2A occupancy after ketamine."""
    names = list(observables)
    peaks = {n: abs(peak(n)) for n in names}
    out = []
    for n in names:
        if layer_of(n) not in ("pk", "targets"):
            out.append(n)
            continue
        top = max(peaks[m] for m in names if layer_of(m) == layer_of(n))
        if peaks[n] > 0 and peaks[n] >= rel * top:
            out.append(n)
    return out


# ---- time axis ---------------------------------------------------------------------------
LOG_TICKS_H: tuple[tuple[float, str], ...] = (
    (1 / 60, "1 min"), (10 / 60, "10 min"), (1, "1 h"), (6, "6 h"), (24, "1 d"), (72, "3 d"),
    (168, "1 wk"), (336, "2 wk"), (672, "4 wk"), (1344, "8 wk"), (2688, "16 wk"),
)


def log_ticks(t_min: float, t_max: float) -> list[tuple[float, str]]:
    """Tick positions (h) and labels for a logarithmic time axis from ``t_min`` to ``t_max``."""
    return [(t, s) for t, s in LOG_TICKS_H if t_min * (1 - 1e-9) <= t <= t_max * (1 + 1e-9)]


def log_start(times_h: Iterable[float]) -> float:
    """Left edge of a logarithmic time axis: the first positive output, at least 1 min."""
    pos = [t for t in times_h if t > 0]
    return max(min(pos), 1 / 60) if pos else 1 / 60


def auto_log_time(t_end_h: float, doses_h: Iterable[float]) -> bool:
    """Whether a run reads best on logarithmic time: longer than 12 h with every dose in its
    first 5 % (a single session: minutes of PK, days of plasticity). Repeated dosing over
    the run reads best on linear time (days)."""
    doses = list(doses_h)
    return bool(doses) and t_end_h > 12 and max(doses) <= 0.05 * t_end_h


def linear_unit(t_end_h: float) -> tuple[float, str]:
    """(divisor, axis label) for a linear time axis: hours up to two days, else days."""
    return (1.0, "time (h)") if t_end_h <= 48 else (24.0, "time (days)")


def fmt_time(t_h: float) -> str:
    """A time in the unit a reader expects: '40 min', '6 h', '3.5 d'."""
    if abs(t_h) < 1:
        return f"{t_h * 60:.3g} min"
    if abs(t_h) < 48:
        return f"{t_h:.3g} h"
    return f"{t_h / 24:.3g} d"


def nice_number(x: float) -> str:
    """Three significant digits, no scientific notation for ordinary magnitudes."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e5 else f"{x:.2e}"
