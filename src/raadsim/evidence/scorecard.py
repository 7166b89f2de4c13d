"""The validation scorecard: totals by kind, layer, drug and trial context, and one row per
record.

``scorecard.json`` has the form ``{"totals": {"records", "passed", "by_kind", "by_layer",
"by_drug", "by_context"}, "records": [{"id", "kind", "layer", "drug", "context", "expected",
"simulated", "passed", …}]}``; ``by_context`` splits each trial context (the records' own
labels, ``records.CONTEXTS``) into calibration and validation. ``scorecard.md`` and
``scorecard.html`` show the same content for people. With ``raadsim validate --hypotheses``
the card also has ``"hypotheses"`` (:mod:`raadsim.evidence.hypothesis_compare`), shown as one
table per question.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ..io.outputs import atomic_dir, write_json
from . import hypothesis_compare
from .records import CONTEXTS, KINDS, LAYERS
from .runner import Outcome


def _group(rows: list[dict], key: str, order: Sequence[str] | None = None) -> dict[str, dict]:
    names = list(order or []) + sorted({r[key] for r in rows} - set(order or []))
    out = {}
    for name in names:
        sel = [r for r in rows if r[key] == name]
        if sel:
            out[name] = {"records": len(sel), "passed": sum(r["passed"] for r in sel)}
    return out


def _by_context(rows: list[dict]) -> dict[str, dict]:
    """Per trial context: records and passes, and the same split by kind."""
    out = {}
    for name in CONTEXTS:
        sel = [r for r in rows if r.get("context") == name]
        if sel:
            out[name] = {"records": len(sel), "passed": sum(r["passed"] for r in sel),
                         **{k: {"records": len(g), "passed": sum(r["passed"] for r in g)}
                            for k in KINDS if (g := [r for r in sel if r["kind"] == k])}}
    return out


def scorecard(outcomes: Sequence[Outcome], filters: dict[str, Any] | None = None) -> dict:
    """The scorecard as a JSON-ready dict."""
    rows = [o.to_dict() for o in outcomes]
    return {
        "totals": {"records": len(rows), "passed": sum(r["passed"] for r in rows),
                   "by_kind": _group(rows, "kind", KINDS),
                   "by_layer": _group(rows, "layer", LAYERS),
                   "by_drug": _group(rows, "drug"),
                   "by_context": _by_context(rows)},
        "filters": filters or {},
        "raadsim_version": __version__,
        "records": rows,
    }


def fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


def totals_tables(card: dict) -> list[str]:
    """Markdown lines: records and passes by kind, by layer and by drug."""
    t = card["totals"]
    lines: list[str] = []
    for title, key in (("kind", "by_kind"), ("layer", "by_layer"), ("drug", "by_drug")):
        lines.append(f"| {title} | records | passed |")
        lines.append("|---|---:|---:|")
        lines += [f"| {k} | {v['records']} | {v['passed']} |" for k, v in t[key].items()]
        lines.append("")
    if t.get("by_context"):
        lines += ["| trial context | calibration passed | validation passed |", "|---|---:|---:|"]
        for k, v in t["by_context"].items():
            cells = [f"{v[kind]['passed']} / {v[kind]['records']}" if kind in v else "—"
                     for kind in KINDS]
            lines.append(f"| {k} | {' | '.join(cells)} |")
        lines.append("")
    return lines


def to_markdown(card: dict) -> str:
    t = card["totals"]
    lines = ["# raadsim validation scorecard", "",
             f"**{t['passed']} of {t['records']} records reproduced.**", "",
             *totals_tables(card),
             "| record | kind | layer | drug | published | expected | simulated | result |",
             "|---|---|---|---|---|---|---|---|"]
    for r in card["records"]:
        result = "pass" if r["passed"] else ("error: " + r["error"] if r["error"] else "FAIL")
        lines.append(f"| {r['id']} | {r['kind']} | {r['layer']} | {r['drug']} | "
                     f"{r['published'] or ''} | {r['expected']} | {fmt(r['simulated'])} | "
                     f"{result} |")
    failing = [r for r in card["records"] if not r["passed"] and r["known_gap"]]
    if failing:
        lines += ["", "## Why the failing records fail (known gaps)", ""]
        lines += [f"- **{r['id']}**: {r['known_gap']}" for r in failing]
    if card.get("hypotheses"):
        lines += ["", hypothesis_compare.to_markdown(card["hypotheses"])]
    return "\n".join(lines) + "\n"


def to_html(card: dict) -> str:
    t = card["totals"]
    esc = html.escape

    def table(head: list[str], rows: list[list[str]], cls: list[str] | None = None) -> str:
        h = "".join(f"<th>{esc(x)}</th>" for x in head)
        body = "".join(
            f"<tr class='{(cls or [''] * len(rows))[i]}'>" + "".join(
                f"<td>{esc(c)}</td>" for c in row) + "</tr>" for i, row in enumerate(rows))
        return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"

    parts = [f"<h1>raadsim validation scorecard</h1><p><b>{t['passed']} of {t['records']}"
             " records reproduced.</b></p>"]
    for title, key in (("Kind", "by_kind"), ("Layer", "by_layer"), ("Drug", "by_drug")):
        parts.append(f"<h2>By {title.lower()}</h2>" + table(
            [title, "records", "passed"],
            [[k, str(v["records"]), str(v["passed"])] for k, v in t[key].items()]))
    if t.get("by_context"):
        parts.append("<h2>By trial context</h2>" + table(
            ["context", "calibration passed", "validation passed"],
            [[k, *(f"{v[kind]['passed']} / {v[kind]['records']}" if kind in v else "—"
                   for kind in KINDS)] for k, v in t["by_context"].items()]))
    rows, cls = [], []
    for r in card["records"]:
        rows.append([r["id"], r["kind"], r["layer"], r["drug"], r["finding"],
                     r["published"] or "", r["expected"], fmt(r["simulated"]),
                     "pass" if r["passed"] else "FAIL",
                     r["error"] or r["known_gap"] or r["disputed"] or ""])
        cls.append("pass" if r["passed"] else "fail")
    if card.get("hypotheses"):
        parts.append(hypothesis_compare.to_html(card["hypotheses"]))
    parts.append("<h2>Records</h2>" + table(
        ["record", "kind", "layer", "drug", "finding", "published", "expected", "simulated",
         "result", "note"], rows, cls))
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
             "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 6px;"
             "vertical-align:top;font-size:90%}tr.fail td{background:#fde8e8}"
             "tr.pass td{background:#eef8ee}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>raadsim scorecard"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n")


def write_scorecard(card: dict, out: str | Path) -> Path:
    """``scorecard.json``, ``scorecard.md`` and ``scorecard.html`` in ``out`` (atomically)."""

    with atomic_dir(out) as tmp:
        write_json(tmp / "scorecard.json", card)
        (tmp / "scorecard.md").write_text(to_markdown(card), encoding="utf-8")
        (tmp / "scorecard.html").write_text(to_html(card), encoding="utf-8")
    return Path(out)
