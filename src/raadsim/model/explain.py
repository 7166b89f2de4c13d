"""Explain an observable: the equations behind it and where every number came from.

``explain(spec, "occupancy.nmdar")`` walks the model backwards from the observable's variable
(depth-first, each variable once, ``depth`` levels of dependencies) and lists the equations
met on the way, then every parameter those equations use, with its value, unit and
provenance. :func:`explain_dict` returns the same content as data.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..provenance import sources
from .spec import ModelSpec, identifiers

_WIDTH = 100
_TOKEN = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def _used(expr: str) -> list[str]:
    """Identifiers of ``expr`` in order of first appearance."""
    names = identifiers(expr)
    return [t for t in dict.fromkeys(_TOKEN.findall(expr)) if t in names]


def _resolve(spec: ModelSpec, name: str) -> tuple[str, str, str]:
    """(variable, unit, description) for an observable name or a model state/rule name."""
    if name in spec.observables:
        ob = spec.observables[name]
        return ob.var, ob.unit, ob.description
    if name in spec.states:
        return name, spec.states[name].unit, spec.states[name].description
    if name in spec.rules:
        return name, spec.rules[name].unit, spec.rules[name].description
    accepted = ", ".join(sorted(spec.observables))
    raise InputError("observable", name, f"one of {accepted} (or a model state or rule name)")


def _equation(spec: ModelSpec, var: str) -> dict[str, str]:
    if var in spec.states:
        s = spec.states[var]
        return {"name": var, "kind": "ode", "expr": spec.odes[var], "unit": s.unit,
                "layer": s.layer, "description": s.description, "origin": s.origin}
    r = spec.rules[var]
    return {"name": var, "kind": "rule", "expr": r.expr, "unit": r.unit, "layer": r.layer,
            "description": r.description, "origin": r.origin}


def _walk(spec: ModelSpec, root: str, depth: int) -> list[dict[str, str]]:
    """Equations of ``root`` and of the states/rules it uses, depth-first, each once."""
    seen: set[str] = set()
    out: list[dict[str, str]] = []

    def visit(var: str, level: int) -> None:
        seen.add(var)
        eq = _equation(spec, var)
        out.append(eq)
        if level >= depth:
            return
        for dep in _used(eq["expr"]):
            if dep not in seen and (dep in spec.states or dep in spec.rules):
                visit(dep, level + 1)

    visit(root, 0)
    return out


def _parameter(spec: ModelSpec, name: str) -> dict[str, Any]:
    p = spec.params[name]
    prov = p.source.provenance
    src = sources().get(prov.source or "")
    return {
        "name": name,
        "value": p.value,
        "unit": p.unit,
        "layer": p.layer,
        "description": p.source.description,
        "kind": prov.kind,
        "source": prov.source,
        "citation": src.citation if src else prov.source,
        "doi": src.doi if src else None,
        "quote": prov.quote,
        "note": prov.note,
        "fitted_to": list(prov.fitted_to or []),
        "model_note": p.note,
        "origin": p.source.origin,
        "low": p.source.low,
        "high": p.source.high,
    }


def explain_dict(spec: ModelSpec, observable: str, depth: int = 2) -> dict[str, Any]:
    """The explanation of ``observable`` (or a model variable) as data.

    Keys: ``observable``, ``variable``, ``unit``, ``description``, ``equations`` (dicts with
    name, kind 'ode'|'rule', expr, unit, layer, description, origin (the layer file and line,
    or the module, that writes it); the observable's own first, then
    depth-first up to ``depth`` levels) and ``parameters`` (every parameter used in those
    equations, in order of first use: name, value, unit, description, kind, source, citation,
    quote, note (the provenance note), fitted_to, model_note (how the model value was scaled
    or converted from the source), origin (file and line), low/high (recorded range), plus
    layer and doi).
    """
    var, unit, description = _resolve(spec, observable)
    equations = _walk(spec, var, depth)
    names: list[str] = []
    for eq in equations:
        for ident in _used(eq["expr"]):
            if ident in spec.params and ident not in names:
                names.append(ident)
    return {
        "observable": observable,
        "variable": var,
        "unit": unit,
        "description": description,
        "equations": equations,
        "parameters": [_parameter(spec, n) for n in names],
    }


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, _WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False) or [indent]


def with_line(origin: str) -> str:
    """``analytes/x.toml: pk.human.params.Vc`` (a file and a key) as
    ``analytes/x.toml:12 (pk.human.params.Vc)``: the line of the key's table, in the file as
    given or in the package's data folder; unchanged when the line cannot be found."""
    file, sep, key = origin.partition(": ")
    if not sep:
        return origin
    from importlib import resources

    for path in (Path(file), Path(str(resources.files("raadsim").joinpath("data", file)))):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        line = _table_line(lines, key)
        return origin if line is None else f"{file}:{line} ({key})"
    return origin


def _table_line(lines: list[str], key: str) -> int | None:
    """The line of table ``key`` (``a.b`` or ``a.b[1].c``: the ``c`` table of the second
    ``[[a.b]]``)."""
    heads = [ln.split("#", 1)[0].strip() for ln in lines]
    m = re.match(r"^(.*?)\[(\d+)\]\.?(.*)$", key)
    if m is None:
        return next((i for i, h in enumerate(heads, start=1) if h == f"[{key}]"), None)
    prefix, n, rest = m.group(1), int(m.group(2)), m.group(3)
    starts = [i for i, h in enumerate(heads, start=1) if h == f"[[{prefix}]]"]
    if n >= len(starts):
        return None
    if not rest:
        return starts[n]
    end = starts[n + 1] if n + 1 < len(starts) else len(heads) + 1
    return next((i for i in range(starts[n] + 1, end) if heads[i - 1] == f"[{prefix}.{rest}]"),
                None)


def _provenance_lines(p: dict[str, Any]) -> list[str]:
    kind, ref = p["kind"], f" [{p['source']}]" if p["source"] else ""
    lines: list[str] = []
    if kind == "fitted":
        lines.append(f"fitted{ref} to: {', '.join(p['fitted_to'])}")
    if p["quote"]:
        lines.append(f'{kind}{ref}: "{p["quote"]}"')
    if p["note"]:
        lines.append(f"{'note' if p['quote'] else kind + ref}: {p['note']}")
    if p["model_note"]:
        lines.append(f"model value: {p['model_note']}")
    where = [f"in {with_line(p['origin'])}"] if p.get("origin") else []
    if p.get("low") is not None and p.get("high") is not None:
        where.append(f"recorded range {p['low']:g} to {p['high']:g} {p['unit']}")
    if where:
        lines.append("; ".join(where))
    return lines


def explain(spec: ModelSpec, observable: str, depth: int = 2) -> str:
    """A plain-text explanation of ``observable`` for a scientist.

    States the observable, its model variable and unit, the equation defining it, the
    equations of the states and rules it uses (depth-first, each once, ``depth`` levels), and
    a table of every parameter involved with value (4 significant digits), unit, description
    and provenance. ``observable`` may also be a raw model variable name (e.g. ``B_pyr_total``).
    Raises :class:`~raadsim.errors.InputError` for an unknown name.
    """
    d = explain_dict(spec, observable, depth)
    head = f"{d['observable']}" if d["observable"] == d["variable"] else (
        f"{d['observable']} (model variable {d['variable']})")
    lines = [f"{head} [{d['unit']}]", *_wrap(d["description"], "  "), ""]
    lines.append(f"Equations (depth {depth}; time in hours):")
    shown = {eq["name"] for eq in d["equations"]}
    event_vars = {v for ev in spec.events for v in ev.increments}
    for eq in d["equations"]:
        lhs = f"d{eq['name']}/dt =" if eq["kind"] == "ode" else f"{eq['name']} :="
        origin = f" — {eq['origin']}" if eq.get("origin") else ""
        lines.append(f"  [{eq['layer']}] {eq['description']} ({eq['unit']}){origin}")
        lines.extend(_wrap(f"{lhs} {eq['expr']}", "    "))
        if eq["name"] in event_vars:
            lines.append("      (also changed stepwise by dosing/perturbation events)")
    hidden = sorted({i for eq in d["equations"] for i in identifiers(eq["expr"])
                     if (i in spec.states or i in spec.rules) and i not in shown})
    if hidden:
        lines.extend(_wrap(f"Not expanded (beyond depth {depth}): {', '.join(hidden)}", ""))
    lines += ["", f"Parameters ({len(d['parameters'])}):"]
    rows = [(p["name"], f"{p['value']:.4g}", p["unit"], p["kind"]) for p in d["parameters"]]
    widths = [max([len(h), *(len(r[i]) for r in rows)])
              for i, h in enumerate(("name", "value", "unit", "kind"))]
    def fmt(*cells: str) -> str:
        left = [c.rjust(w) if i == 1 else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=False))]
        return "  " + "  ".join([*left, cells[-1]])

    lines.append(fmt("name", "value", "unit", "kind", "description"))
    pad = " " * (sum(widths) + 10)
    for row, p in zip(rows, d["parameters"], strict=True):
        first, *rest = _wrap(fmt(*row, p["description"]), "")
        lines += [first, *(pad + r.strip() for r in rest)]
        for text in _provenance_lines(p):
            lines.extend(_wrap(text, "      "))
    refs = {p["source"]: p for p in d["parameters"] if p["source"]}
    if refs:
        lines += ["", "References:"]
        for key, p in sorted(refs.items()):
            doi = f" doi:{p['doi']}" if p["doi"] else ""
            lines.extend(_wrap(f"[{key}] {p['citation']}{doi}", "  "))
    return "\n".join(lines)
