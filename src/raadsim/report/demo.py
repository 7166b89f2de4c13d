"""The main job: simulate the flagship scenarios, print a summary, write CSV, figures, HTML."""

from __future__ import annotations

import html
from pathlib import Path

from ..io.outputs import atomic_dir, write_json
from ..io.scenario import scenario_from_dict
from ..simulate.run import Result, simulate
from .figures import plot_result

FLAGSHIPS = {
    "ketamine_iv": {
        "title": "Ketamine 0.5 mg/kg IV over 40 min",
        "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                  "infusion": "40 min"}],
        "key": "plasma.ketamine",
    },
    "esketamine_in": {
        "title": "Esketamine 84 mg intranasal",
        "dose": [{"drug": "esketamine", "amount": "84 mg", "route": "intranasal"}],
        "key": "plasma.s_ketamine",
    },
    "psilocybin_oral": {
        "title": "Psilocybin 25 mg oral",
        "dose": [{"drug": "psilocybin", "amount": "25 mg", "route": "oral"}],
        "key": "plasma.psilocin",
    },
    "lsd_oral": {
        "title": "LSD 100 µg oral",
        "dose": [{"drug": "lsd", "amount": "100 ug", "route": "oral"}],
        "key": "plasma.lsd",
    },
}


def run_demo(out: str | Path = "raadsim-demo", end: str = "24 h") -> dict[str, Result]:
    """Simulate the flagship scenarios and write ``out/`` (atomically)."""
    results: dict[str, Result] = {}
    for name, spec in FLAGSHIPS.items():
        sc = scenario_from_dict({
            "subject": {"species": "human", "weight_kg": 70, "condition": "trd"},
            "dose": spec["dose"],
            "simulation": {"end": end, "output_every": "2 min"},
        })
        results[name] = simulate(sc)
    with atomic_dir(out) as tmp:
        rows = []
        for name, r in results.items():
            r.to_long().to_csv(tmp / f"{name}.csv", index=False, float_format="%.6g")
            plot_result(r, tmp / f"{name}.png", FLAGSHIPS[name]["title"])
            rows.append(summary_row(name, r))
        write_json(tmp / "summary.json", {n: r.summary() for n, r in results.items()})
        (tmp / "index.html").write_text(_html(results, rows), encoding="utf-8")
    return results


def summary_row(name: str, r: Result) -> dict[str, str]:
    s = r.summary()["observables"]
    key = FLAGSHIPS[name]["key"]
    occ = {k: s[k]["peak"] for k in ("occupancy.nmdar", "occupancy.ht2a", "occupancy.trkb")}
    return {
        "scenario": FLAGSHIPS[name]["title"],
        "analyte": key.split(".", 1)[1],
        "Cmax (ng/mL)": f"{s[key]['peak']:.3g}",
        "Tmax (h)": f"{s[key]['time_of_peak_h']:.2f}",
        "NMDAR block": f"{occ['occupancy.nmdar']:.0%}",
        "5-HT2A occ.": f"{occ['occupancy.ht2a']:.0%}",
        "TrkB occ.": f"{occ['occupancy.trkb']:.0%}",
    }


def _html(results: dict[str, Result], rows: list[dict[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>"
                   for r in rows)
    figs = []
    for name in results:
        figs.append(f'<h2>{html.escape(FLAGSHIPS[name]["title"])}</h2>'
                    f'<img src="{name}.png" alt="{name}" width="720">')
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>raadsim demo</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style>"
        "</head><body><h1>raadsim demo: flagship scenarios</h1>"
        "<p>Typical 70 kg adult. Plasma concentrations, unbound brain concentrations and "
        "target occupancy; every parameter carries its provenance (see <code>raadsim "
        "drugs</code>).</p>"
        f"<table><tr>{head}</tr>{body}</table>{''.join(figs)}</body></html>"
    )
