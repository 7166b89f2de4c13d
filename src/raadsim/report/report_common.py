"""Sections shared by the run, trial and validation reports: reading output files with one
clear error, the scenario, the figures, the parameter table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from .html_parts import esc, figure_png, img, table
from .multiscale import multiscale_figure
from .traces import Trace


def read_json(path: Path) -> Any:
    """A JSON output file; a missing or corrupt file is one :class:`InputError`."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(str(path), "(missing)", "the file raadsim wrote there") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "(file)", f"valid JSON as raadsim writes it ({exc})"
                         ) from None


def read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """A CSV output file that must have ``columns``; problems as one :class:`InputError`."""
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "(file)", f"a CSV file as raadsim writes it ({exc})"
                         ) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(str(path), f"columns {list(df.columns)}",
                         f"the columns {', '.join(columns)}")
    return df


def describe_doses(doses: Sequence[Any]) -> str:
    """'ketamine 0.5 mg/kg iv over 40 min, every 3.5 d × 8' for a list of doses."""
    out = []
    for d in doses:
        s = f"{d.drug} {d.amount} {d.route}"
        if d.infusion:
            s += f" over {d.infusion}"
        if d.at.value != 0:
            s += f" at {d.at}"
        if d.repeat:
            s += f", every {d.repeat.every} × {d.repeat.count}"
        out.append(s)
    return "; ".join(out) or "no drug"


def describe_perturbations(perts: Sequence[Any]) -> str:
    return "; ".join(p.name + (f" ({p.genotype})" if p.genotype else "")
                     + (f" at {p.at}" if p.at else "") for p in perts) or "none"


def toml_block(text: str, caption: str, is_open: bool = True) -> str:
    """The input file as TOML in a collapsible block."""
    return (f"<details{' open' if is_open else ''}><summary>{esc(caption)}</summary>"
            f"<pre>{esc(text)}</pre></details>")


def multiscale_section(traces: Sequence[Trace], observables: Sequence[str] | None,
                       title: str, caption: str = "") -> str:
    """The multiscale figure twice: linear and logarithmic time."""
    parts = ["<h2>Multiscale time course</h2>",
             "<p>From pharmacokinetics to symptoms on one time axis; mechanism variables are "
             f"relative to the drug-free baseline (1). Triangles mark doses. {esc(caption)}"
             "</p>"]
    for log in (False, True):
        fig = multiscale_figure(traces, observables, log_time=log,
                                title=f"{title} ({'logarithmic' if log else 'linear'} time)")
        parts.append(img(figure_png(fig, dpi=130), f"multiscale figure, log={log}"))
    return "".join(parts)


def parameter_section(rows: list[dict[str, Any]], caption: str) -> str:
    """Every parameter with value, unit, layer, description, kind, source and evidence."""
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    body = table(["name", "value", "unit", "layer", "description", "kind", "source", "DOI",
                  "evidence"],
                 [[r["name"], r["value"], r["unit"], r["layer"], r["description"], r["kind"],
                   r["source"], r.get("doi") or "", r["evidence"]] for r in rows])
    return (f"<h2>Parameters</h2><p>{esc(caption)}: {len(rows)} parameters ({esc(counts)}). "
            "Every value has its provenance: a literature source with a quote, the data it "
            "was fitted to, a derivation, or an explicit assumption with its reason.</p>"
            f"<details open><summary>all {len(rows)} parameters</summary>{body}</details>")
