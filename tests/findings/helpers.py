"""Helpers for published-experiment tests: run an experiment arm, compare with vehicle."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from raadsim import scenario_from_dict, simulate


@lru_cache(maxsize=256)
def _run(key: tuple) -> dict:
    species, condition, doses, perts, end, every, bath = key
    spec: dict = {"subject": {"species": species, "condition": condition},
                  "dose": [dict(d) for d in doses], "bath": [dict(b) for b in bath],
                  "perturbation": [dict(p) for p in perts],
                  "simulation": {"end": end, "output_every": every}}
    r = simulate(scenario_from_dict(spec))
    return {"t": r.time_h, **r.values}


def _freeze(items: list[dict] | None) -> tuple:
    return tuple(tuple(sorted(d.items())) for d in (items or []))


def run(species: str = "mouse", doses: list[dict] | None = None,
        perturbations: list[dict] | None = None, condition: str = "healthy",
        end: str = "2 d", every: str = "10 min", bath: list[dict] | None = None) -> dict:
    """Trajectories (dict observable -> array, 't' -> hours) of one experiment arm."""
    return _run((species, condition, _freeze(doses), _freeze(perturbations), end, every,
                 _freeze(bath)))


def at(r: dict, observable: str, t_h: float) -> float:
    """Value of ``observable`` at time ``t_h`` (hours; nearest output at or after)."""
    i = int(np.searchsorted(r["t"], t_h - 1e-9))
    return float(r[observable][min(i, len(r["t"]) - 1)])


def ketamine(amount: str = "10 mg/kg", route: str = "ip", at_: str = "0 h") -> dict:
    return {"drug": "ketamine", "amount": amount, "route": route, "at": at_}


def saline(route: str = "ip") -> dict:
    return {"drug": "saline", "amount": "0 mg", "route": route}


def immobility_effect(species: str, dose: dict, t_h: float, perturbations=None,
                      condition: str = "healthy", end: str = "2 d") -> float:
    """Reduction of forced-swim immobility vs vehicle under the same perturbations."""
    drug = run(species, [dose], perturbations, condition, end)
    veh = run(species, [saline()], perturbations, condition, end)
    return at(veh, "behavior.immobility", t_h) - at(drug, "behavior.immobility", t_h)
