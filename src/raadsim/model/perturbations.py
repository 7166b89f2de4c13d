"""Applying the named perturbations (``raadsim.perturb.catalogue``) to a model.

Each perturbation is a switch state ``sw_<name>`` (0 → 1 at ``at``; 1 from the start when no
time is given, e.g. knockouts and genotypes), and every parameter it sets becomes
``p := default + (value − default)·sw``. A perturbation acting on a layer the model does not
contain (e.g. behaviour in a culture) does nothing; one whose parameter the layer does not use,
or that no layer defines, is a :class:`~raadsim.errors.ModelError` when the model is built.
"""

from __future__ import annotations

from ..errors import ModelError
from ..perturb.catalogue import get
from ..provenance import Param
from .layer import LAYERS, layer_params
from .spec import Event, ModelSpec, Rule


def owner(pname: str, condition_names: set[str]) -> str:
    """The layer that defines parameter ``pname`` (``condition`` for a condition value)."""
    for layer in LAYERS:
        if pname in layer_params(layer):
            return layer
    if pname in condition_names:
        return "condition"
    raise ModelError(f"parameter {pname} is defined by no layer file")


def _set_param(m: ModelSpec, pname: str, value: Param, switch: str, label: str) -> None:
    """Turn parameter ``pname`` into ``default + (value − default)·switch``."""
    if pname in m.params:
        base = m.params.pop(pname)
        m.param(f"{pname}_default", base.value, base.unit, base.layer, base.source, base.note)
        base_expr = f"{pname}_default"
        current = Rule(pname, "", base.unit, base.source.description, base.layer)
    else:  # already perturbed: chain on the current rule
        current = m.rules.pop(pname)
        base_expr = f"({current.expr})"
    vname = m.param(f"{pname}_{label}", value.in_unit("dimensionless"), "1", "perturb", value)
    m.rules[pname] = Rule(pname, f"{base_expr} + ({vname} - {base_expr})*{switch}",
                          current.unit, current.description, current.layer)


def _targets(name: str, effects: dict[str, Param], genotype: str | None, species: str
             ) -> list[tuple[str, Param]]:
    """(parameter, value) pairs a perturbation sets for this genotype and species."""
    out = []
    for key, value in effects.items():
        if name == "rapamycin":
            want = "mtor_block_human" if species == "human" else "mtor_block"
            if key != want:
                continue
            target = "mtor_block"
        elif name == "bdnf_val66met":
            if key != "release_genotype_" + (genotype or "").replace("/", "_"):
                continue
            target = "release_genotype"
        else:
            target = key
        out.append((target, value))
    return out


def apply(m: ModelSpec, name: str, at_model: float | None, genotype: str | None,
          species: str, condition_names: set[str],
          effects: dict[str, Param] | None = None) -> None:
    """Apply perturbation ``name`` to model ``m`` (``at_model`` in model time); ``effects``
    replaces some of its effect sizes (a hypothesis variant, raadsim.model.hypotheses)."""
    p = get(name)
    sw = f"sw_{name}"
    if sw not in m.states:
        m.state(sw, "0", "1", f"switch: {p.description}", "perturb",
                initial=1.0 if at_model is None else 0.0)
        if at_model is not None:
            m.events.append(Event(at_model, {sw: "1"}, f"{name} on"))
    if name == "spine_ablation":
        if "synapse" not in m.layers:
            raise ModelError("spine_ablation needs the synapse layer")
        m.events.append(Event(at_model or 0.0, {
            "S_spine": "S_ref - S_spine", "Z1_struct": "-Z1_struct", "Z2_struct": "-Z2_struct",
            "S_persist": "-S_persist",
        }, "spine ablation: newly formed spines removed"))
        return
    for target, value in _targets(name, p.effects | (effects or {}), genotype, species):
        layer = owner(target, condition_names)
        if layer != "condition" and layer not in m.layers:
            continue  # the layer this acts on is absent (e.g. behaviour in a culture)
        if target not in m.params and target not in m.rules:
            raise ModelError(f"perturbation {name} sets {target} ({layer} layer), which this "
                             "model does not use")
        _set_param(m, target, value, sw, name)
