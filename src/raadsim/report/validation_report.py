"""The report of a ``raadsim validate`` directory (scorecard.json)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ..errors import InputError
from .eeg_bands_figure import eeg_records, plot_eeg_bands
from .html_parts import esc, figure_png, img, table
from .parameters import data_file_parameters
from .report_common import parameter_section, read_json


def _bars(by_layer: dict[str, dict]) -> bytes:
    """Records passed and not passed per layer (horizontal stacked bars)."""
    names = list(by_layer)
    passed = [by_layer[n]["passed"] for n in names]
    failed = [by_layer[n]["records"] - by_layer[n]["passed"] for n in names]
    fig = Figure(figsize=(6, 0.35 * len(names) + 0.8))
    ax = fig.subplots()
    ax.barh(names, passed, color="#009E73", label="reproduced")
    ax.barh(names, failed, left=passed, color="#D55E00", label="not reproduced")
    ax.invert_yaxis()
    ax.set_xlabel("records")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return figure_png(fig, dpi=130)


def validation_report(path: Path) -> tuple[str, str]:
    """(title, HTML body) of the report of validation directory ``path``."""
    card = read_json(path / "scorecard.json")
    try:
        t, records = card["totals"], card["records"]
    except (KeyError, TypeError):
        raise InputError(str(path / "scorecard.json"), "(file)",
                         "a scorecard written by raadsim validate") from None
    filters = {k: v for k, v in card.get("filters", {}).items() if v}
    parts = [f"<h1>raadsim validation report</h1><p><b>{t['passed']} of {t['records']} "
             "records reproduced</b></p>"
             f"<p class='meta'>raadsim {esc(card.get('raadsim_version', '?'))}; filters: "
             f"{esc(filters or 'none')}; source directory {esc(path)}</p>",
             "<h2>Scorecard</h2>", img(_bars(t["by_layer"]), "records by layer")]
    for title, key in (("kind", "by_kind"), ("layer", "by_layer"), ("drug", "by_drug")):
        parts.append(f"<h3>By {title}</h3>" + table(
            [title, "records", "passed"],
            [[k, v["records"], v["passed"]] for k, v in t[key].items()]))
    rows, classes = [], []
    for r in records:
        result = "pass" if r["passed"] else ("error: " + r["error"] if r.get("error")
                                             else "FAIL")
        rows.append([r["id"], r["kind"], r["layer"], r["drug"], r.get("species", ""),
                     r.get("published") or "", r["expected"],
                     "—" if r["simulated"] is None else r["simulated"], result])
        classes.append("pass" if r["passed"] else "fail")
    parts.append("<h3>Every record</h3>" + table(
        ["record", "kind", "layer", "drug", "species", "published", "expected", "simulated",
         "result"], rows, classes))
    if eeg_records(records):
        parts.append("<h3>EEG: simulated vs published band changes</h3><p>One row per EEG "
                     "record: the published result (grey, the record's pass range) and the "
                     "simulated value (green: passes, orange: fails).</p>"
                     + img(figure_png(plot_eeg_bands(records), dpi=130),
                           "EEG records: simulated vs published"))
    gaps = [r for r in records if not r["passed"] and r.get("known_gap")]
    if gaps:
        parts.append("<h3>Why the failing records fail (known gaps)</h3><ul>" + "".join(
            f"<li><b>{esc(r['id'])}</b>: {esc(r['known_gap'])}</li>" for r in gaps) + "</ul>")
    parts.append("<h2>Scenarios</h2><p>Each record names its own scenario (or trial file) "
                 "in <code>src/raadsim/data/evidence/*.toml</code>; drug parameters come "
                 "with each drug (see <code>raadsim drugs</code>).</p>")
    parts.append(parameter_section(data_file_parameters(), "Every parameter of the model's "
                                   "layer files (model/layers/*.toml) and parameter tables "
                                   "(data/parameters/*.toml), shared by all records"))
    return f"raadsim report: validation ({t['passed']}/{t['records']})", "".join(parts)
