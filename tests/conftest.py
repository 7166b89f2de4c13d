"""Shared helpers for raadsim tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate

ROOT = Path(__file__).resolve().parents[1]


def run_single(drug: str, amount: str, route: str, *, species: str = "human",
               infusion: str | None = None, end: str = "24 h", every: str = "1 min",
               weight: float | None = None, observables: list[str] | None = None,
               engine: str = "roadrunner"):
    dose = {"drug": drug, "amount": amount, "route": route}
    if infusion:
        dose["infusion"] = infusion
    subject: dict = {"species": species}
    if weight is not None:
        subject["weight_kg"] = weight
    sim: dict = {"end": end, "output_every": every}
    if observables:
        sim["observables"] = observables
    sc = scenario_from_dict({"subject": subject, "dose": [dose], "simulation": sim})
    return simulate(sc, engine=engine)


def peak(result, observable: str) -> tuple[float, float]:
    v = result.values[observable]
    i = int(np.argmax(v))
    return float(v[i]), float(result.time_h[i])


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """pytest-xdist (``--dist loadgroup``): the tests of a module that share a module- or
    class-scoped fixture run on one worker, so the fixture (a trial, a fit, a cluster) is
    built once instead of once per worker."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = any(fd.scope in ("module", "class")
                     for name in info.names_closure
                     for fd in info.name2fixturedefs.get(name, ()))
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
