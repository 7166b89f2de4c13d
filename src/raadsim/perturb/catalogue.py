"""Named experimental interventions (blockers, knockouts, genotypes).

Each perturbation is a function that edits a built :class:`~raadsim.model.spec.ModelSpec`
(parameters of the layers it acts on) and is documented with what it does and its source.
The mechanism layers that most perturbations act on (circuit, signalling, synapse) are the
subject of the Mechanism issue; until a perturbation is registered here, naming it in a
scenario is an input error, never a silent no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError
from ..model.spec import ModelSpec


@dataclass(frozen=True)
class PerturbationDef:
    name: str
    description: str
    source: str
    apply: Callable[[ModelSpec, dict], None]
    genotypes: tuple[str, ...] = ()


REGISTRY: dict[str, PerturbationDef] = {}


def get(name: str, field: str = "perturbation.name") -> PerturbationDef:
    """The registered perturbation ``name``; an :class:`InputError` listing the known ones."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY)) or "none registered yet"
        raise InputError(field, name, f"a known perturbation ({known})")
    return REGISTRY[name]
