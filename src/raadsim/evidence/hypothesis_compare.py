"""Compare hypothesis variants over the evidence records (``raadsim validate --hypotheses``).

For each question, every variant runs the records it can change (its ``relevant`` models,
:mod:`raadsim.model.hypotheses`); the other records keep their default outcome, which the
variant cannot move. Per variant the result gives the pass rate over the records the question
can change and over all selected records, and the *discriminating* records: those that pass
under one variant of the question and fail under another.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InputError
from ..io.scenario import scenario_from_dict
from ..io.trial_file import trial_from_dict
from ..model import hypotheses as hyp
from ..model.build import build_model
from .records import Record
from .runner import Outcome, arm_scenarios, run_records, trial_raw


def parse_choice(text: str) -> dict[str, list[str]]:
    """``all`` or ``question=variant,...`` (a question may be named alone: all its variants)
    → question → variants to compare with its default."""
    qs = hyp.questions()
    if text.strip() == "all":
        return {q: list(x.variants) for q, x in qs.items()}
    out: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        qname, _, vname = part.partition("=")
        if qname not in qs:
            raise InputError("--hypotheses", part, f"all, or question=variant with a question "
                             f"of {', '.join(qs)}")
        variants = list(qs[qname].variants) if not vname else [vname]
        for v in variants:
            hyp.resolve({qname: v}, "--hypotheses")
        out.setdefault(qname, [qs[qname].default])
        out[qname] += [v for v in variants if v not in out[qname]]
    return out


def _models(rec: Record) -> list[Any]:
    cat = None
    if rec.trial is not None:
        tf = trial_from_dict(trial_raw(rec))
        cat = tf.catalogue()
        return [build_model(tf.arm_scenario(a), cat) for a in tf.trial.arm]
    out = []
    for raw in arm_scenarios(rec).values():
        sc = scenario_from_dict(raw)
        out.append(build_model(sc, cat or sc.catalogue()))
    return out


def relevant(records: Sequence[Record], variant: hyp.Variant) -> list[Record]:
    """The records whose models ``variant`` can change."""
    out = []
    for rec in records:
        try:
            models = _models(rec)
        except Exception:  # a record whose scenario does not build stays with its default
            continue
        if any(variant.can_change(m, rec.species) for m in models):
            out.append(rec)
    return out


def compare(records: Sequence[Record], choices: dict[str, list[str]],
            default: Sequence[Outcome], progress: Callable[[str], None] | None = None,
            **run: Any) -> dict:
    """The comparison as a JSON-ready dict (``default``: the outcomes with every default)."""
    base = {o.record.id: o for o in default}
    ids = [r.id for r in records]
    questions = []
    for qname, variants in choices.items():
        q = hyp.questions()[qname]
        touched: set[str] = set()
        per: dict[str, dict[str, Outcome]] = {}
        for vname in variants:
            v = q.variants[vname]
            if vname == q.default:
                continue
            sel = relevant(records, v)
            touched |= {r.id for r in sel}
            if progress:
                progress(f"{qname} = {vname}: {len(sel)} records")
            per[vname] = {o.record.id: o for o in run_records(sel, hypotheses={qname: vname},
                                                                **run)}
        per[q.default] = {i: base[i] for i in touched}
        rows = []
        for i in sorted(touched, key=ids.index):
            passed = {vn: per[vn].get(i, base[i]).passed for vn in variants}
            simulated = {vn: per[vn].get(i, base[i]).simulated for vn in variants}
            rows.append({"id": i, "kind": base[i].record.kind, "passed": passed,
                         "simulated": simulated, "expected": base[i].record.expected.describe(),
                         "discriminating": len(set(passed.values())) > 1})
        summary = {}
        for vn in variants:
            got = [per[vn].get(i, base[i]).passed for i in touched]
            everything = [per[vn].get(i, base[i]).passed for i in ids]
            summary[vn] = {"relevant_records": len(got), "relevant_passed": sum(got),
                           "records": len(everything), "passed": sum(everything),
                           "discriminating_passed": [r["id"] for r in rows
                                                     if r["discriminating"] and r["passed"][vn]]}
        questions.append({"question": qname, "text": q.question, "default": q.default,
                          "evidence": q.evidence, "variants": variants,
                          "summaries": {vn: q.variants[vn].summary for vn in variants},
                          "by_variant": summary, "records": rows})
    return {"questions": questions}


def to_markdown(comp: dict) -> str:
    lines = ["## Hypothesis variants", ""]
    for q in comp["questions"]:
        lines += [f"### {q['question']}: {q['text']}", "",
                  f"Default: **{q['default']}**. {q['evidence']}", "",
                  "| variant | passed (records it can change) | passed (all) | discriminating "
                  "records it passes |", "|---|---:|---:|---|"]
        for vn, s in q["by_variant"].items():
            mark = " (default)" if vn == q["default"] else ""
            lines.append(f"| {vn}{mark} | {s['relevant_passed']} / {s['relevant_records']} | "
                         f"{s['passed']} / {s['records']} | "
                         f"{', '.join(s['discriminating_passed']) or '—'} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def to_html(comp: dict) -> str:
    """The comparison as HTML tables (one per question: variants, then discriminating
    records)."""
    esc = html.escape
    parts = ["<h2>Hypothesis variants</h2><p>Each variant runs the records it can change; "
             "a record is <i>discriminating</i> when it passes under one variant of a question "
             "and fails under another.</p>"]
    for q in comp["questions"]:
        parts.append(f"<h3>{esc(q['question'])}</h3><p>{esc(q['text'])}</p><p>Default: "
                     f"<b>{esc(q['default'])}</b>. {esc(q['evidence'])}</p>")
        head = "".join(f"<th>{esc(x)}</th>" for x in (
            "variant", "what it says", "passed (records it can change)", "passed (all)",
            "discriminating records it passes"))
        body = "".join(
            f"<tr><td>{esc(vn)}{' (default)' if vn == q['default'] else ''}</td>"
            f"<td>{esc(q['summaries'][vn])}</td>"
            f"<td>{s['relevant_passed']} / {s['relevant_records']}</td>"
            f"<td>{s['passed']} / {s['records']}</td>"
            f"<td>{esc(', '.join(s['discriminating_passed']) or '—')}</td></tr>"
            for vn, s in q["by_variant"].items())
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        disc = [r for r in q["records"] if r["discriminating"]]
        if disc:
            head = "".join(f"<th>{esc(x)}</th>" for x in (
                "record", "kind", "expected", *q["variants"]))
            body = "".join(
                "<tr><td>" + esc(r["id"]) + "</td><td>" + esc(r["kind"]) + "</td><td>"
                + esc(r["expected"]) + "</td>" + "".join(
                    f"<td class='{'pass' if r['passed'][vn] else 'fail'}'>"
                    f"{'pass' if r['passed'][vn] else 'FAIL'} ({_fmt(r['simulated'][vn])})"
                    "</td>" for vn in q["variants"]) + "</tr>" for r in disc)
            parts.append("<p>Discriminating records:</p><table><thead><tr>" + head
                         + f"</tr></thead><tbody>{body}</tbody></table>")
    return "".join(parts)


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"
