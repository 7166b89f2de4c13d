"""Parameter tables with provenance: every constant of a built model, or of the data files.

Rows carry name, value, unit, layer, description, kind, source (citation and DOI) and the
evidence (quote, note, the records a fitted value was fitted to, and how the model value
was converted from the source), read the way ``raadsim explain`` reads them.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from ..model.layer import LAYERS, layer_params
from ..model.spec import ModelSpec
from ..provenance import Param, param_from_table, sources

COLUMNS = ("name", "value", "unit", "layer", "description", "kind", "source", "evidence")


def param_row(name: str, p: Param, value: float, unit: str, layer: str,
              model_note: str = "") -> dict[str, Any]:
    """One table row for parameter ``p`` (``value`` in ``unit`` as the model uses it)."""
    prov = p.provenance
    src = sources().get(prov.source or "")
    citation = src.citation if src else (prov.source or "")
    evidence = []
    if prov.quote:
        evidence.append(f"“{prov.quote}”")
    if prov.fitted_to:
        evidence.append("fitted to " + ", ".join(prov.fitted_to))
    if prov.note:
        evidence.append(prov.note)
    if model_note:
        evidence.append(f"model value: {model_note}")
    return {"name": name, "value": value, "unit": unit, "layer": layer,
            "description": p.description, "kind": prov.kind, "source": citation,
            "doi": src.doi if src else None, "evidence": " — ".join(evidence)}


def spec_parameters(spec: ModelSpec) -> list[dict[str, Any]]:
    """Every parameter of a built model, grouped by layer, with its provenance."""
    rows = [param_row(p.name, p.source, p.value, p.unit, p.layer, p.note)
            for p in spec.params.values()]
    return sorted(rows, key=lambda r: (r["layer"], r["name"]))


def _walk(table: dict[str, Any], prefix: str, where: str) -> list[tuple[str, Param]]:
    if "value" in table and "kind" in table:
        return [(prefix, param_from_table(prefix.rsplit(".", 1)[-1], table, where))]
    out: list[tuple[str, Param]] = []
    for k, v in table.items():
        if isinstance(v, dict):
            out += _walk(v, f"{prefix}.{k}" if prefix else k, f"{where}.{k}")
    return out


def data_file_parameters() -> list[dict[str, Any]]:
    """Every drug-independent parameter: those of the layer files ``model/layers/*.toml`` and
    of the tables ``data/parameters/*.toml`` (conditions, perturbations, population)."""
    rows = [param_row(name, p, p.value, p.unit, layer)
            for layer in LAYERS for name, p in layer_params(layer).items()]
    root = resources.files("raadsim").joinpath("data", "parameters")
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        layer = entry.name[: -len(".toml")]
        raw = tomllib.loads(entry.read_text(encoding="utf-8"))
        for name, p in _walk(raw, "", entry.name):
            rows.append(param_row(name, p, p.value, p.unit, layer))
    return rows
