"""Documentation of the mechanism generated from the layer files (never written by hand).

:func:`layer_text` renders one layer for the terminal (``raadsim explain --layer NAME``),
:func:`model_markdown` every layer as Markdown (``docs/model.md``, written by
``scripts/model_docs.py`` and checked against the layer files by the test suite).
"""

from __future__ import annotations

from ..provenance import Param, sources
from .layer import LAYERS, Layer, load_layer


def _lhs(kind: str, name: str) -> str:
    return f"d{name}/dt =" if kind == "state" else f"{name} :="


def _where(eq_when: tuple[str, ...]) -> str:
    return f"   [only: {', '.join(eq_when)}]" if eq_when else ""


def _source(p: Param) -> str:
    prov = p.provenance
    if prov.kind == "fitted":
        return "fitted to " + ", ".join(prov.fitted_to or [])
    src = sources().get(prov.source or "")
    return src.citation if src and prov.source != "raadsim" else prov.kind


def _evidence(p: Param) -> str:
    prov = p.provenance
    return f"“{prov.quote}”" if prov.quote else (prov.note or "")


def _range(p: Param) -> str:
    return f"{p.low:g}–{p.high:g}" if p.low is not None and p.high is not None else ""


def layer_text(name: str) -> str:
    """One layer as plain text: title, summary, equations (with file lines) and parameters."""
    lay = load_layer(name)
    lines = [f"{lay.title}  ({lay.path})", "", lay.summary, ""]
    if lay.inputs:
        lines += [f"Inputs from other layers: {', '.join(lay.inputs)}", ""]
    if lay.generated_in_python:
        lines += [f"Equations: generated in model/{lay.name}.py (see `raadsim explain` for a "
                  "scenario's).", ""]
    for eq in lay.equations:
        lines.append(f"  {_lhs(eq.kind, eq.name)} {eq.expr}   [{eq.unit}]{_where(eq.when)}"
                     f"   (line {eq.line})")
    for ref, of, unit, desc in lay.references:
        lines.append(f"  {ref} := drug-free {of}, held from the end of the pre-equilibration"
                     f"   [{unit}]  ({desc})")
    lines += ["", f"Parameters ({len(lay.parameters)}):"]
    for pname, p in lay.parameters.items():
        rng = f", range {_range(p)}" if _range(p) else ""
        lines.append(f"  {pname} = {p.value:g} {p.unit}{rng} — {p.description} "
                     f"[{p.provenance.kind}; {_source(p)}; line {lay.lines.get(pname, 0)}]")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def layer_markdown(lay: Layer) -> str:
    out = [f"## {lay.title}", "", f"File: `src/raadsim/{lay.path}`", "", lay.summary, ""]
    if lay.inputs:
        out += ["Inputs from other layers: " + ", ".join(f"`{i}`" for i in lay.inputs), ""]
    if lay.equations or lay.references:
        out += ["```text"]
        for eq in lay.equations:
            out.append(f"{_lhs(eq.kind, eq.name)} {eq.expr}   [{eq.unit}]{_where(eq.when)}")
        for ref, of, unit, _desc in lay.references:
            out.append(f"{ref} := drug-free {of} (held from the end of the pre-equilibration)"
                       f"   [{unit}]")
        out += ["```", ""]
        out += ["| variable | unit | description | line |", "|---|---|---|---:|"]
        for eq in lay.equations:
            out.append(f"| `{eq.name}` | {eq.unit} | {_md_escape(eq.description)} | {eq.line} |")
        out.append("")
    out += ["| parameter | value | unit | range | kind | source | evidence |",
            "|---|---:|---|---|---|---|---|"]
    for pname, p in lay.parameters.items():
        out.append(f"| `{pname}` | {p.value:g} | {p.unit} | {_range(p)} | {p.provenance.kind} "
                   f"| {_md_escape(_source(p))} | {_md_escape(_evidence(p))} |")
    return "\n".join(out) + "\n"


def model_markdown() -> str:
    """Every layer, in the order of the cascade, as one Markdown document."""
    head = ("# The raadsim model, layer by layer\n\n"
            "Generated from `src/raadsim/model/layers/*.toml` by `python scripts/model_docs.py`"
            "; do not edit by hand (a test fails when this file and the layer files differ). "
            "Time is in hours; `:=` is an assigned variable, `d…/dt` a state.\n")
    return (head + "\n" + "\n".join(layer_markdown(load_layer(n)) for n in LAYERS) + "\n"
            + hypotheses_markdown())


def hypotheses_markdown() -> str:
    """The switchable hypothesis variants (data/parameters/hypotheses.toml), question by
    question, with what each sets."""
    from . import hypotheses

    out = ["## Hypothesis variants", "",
           "File: `src/raadsim/data/parameters/hypotheses.toml`. Choose with `[model] hypotheses "
           "= {question = \"variant\"}` in a scenario or trial file, `simulate(..., "
           "hypotheses={...})`, or compare with `raadsim validate --hypotheses all`. The default "
           "of each question is the model the layer files state.", ""]
    for q in hypotheses.questions().values():
        out += [f"### {q.name}", "", q.question, "", f"Default: **{q.default}**. {q.evidence}",
                "", "| variant | what it says | sets | sources |", "|---|---|---|---|"]
        for v in q.variants.values():
            sets = ", ".join(f"`{k}` = {p.value:g}" for k, p in v.params.items())
            sets += "".join(f", `{pt}.{k}` = {p.value:g}" for pt, e in v.perturbations.items()
                            for k, p in e.items())
            out.append(f"| {v.name} | {_md_escape(v.summary)} | {sets.lstrip(', ') or '—'} | "
                       f"{', '.join(v.sources)} |")
        out.append("")
    return "\n".join(out)
