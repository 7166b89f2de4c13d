"""``raadsim report`` of a ``raadsim demo`` folder: one page with the run report of each
flagship scenario, built from the demo's time course, summary and figure and the scenario
the demo ran (the model is rebuilt from it, with today's code)."""

from __future__ import annotations

from pathlib import Path


def demo_runs(directory: Path) -> list[str]:
    """The flagship runs of a `raadsim demo` folder (empty if it is not one)."""
    import json

    from .report.demo import FLAGSHIPS

    try:
        summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    names = list(summary) if isinstance(summary, dict) else []
    if not names or not set(names) <= set(FLAGSHIPS) or not (directory / "index.html").is_file():
        return []
    return [n for n in names if (directory / f"{n}.csv").is_file()]


def demo_report(directory: Path, names: list[str]) -> str:
    """One HTML report of a demo folder: the run report of each flagship scenario, each
    built from the demo's time course, summary and figure and the scenario the demo ran."""
    import json
    import shutil
    import tempfile

    import numpy as np
    import pandas as pd

    from .io.outputs import write_json
    from .io.scenario import scenario_from_dict
    from .io.scenario_dump import scenario_to_dict
    from .model.build import build_model
    from .report.artifacts import MODEL_FILE, model_record
    from .report.demo import FLAGSHIPS
    from .report.html_parts import esc, page
    from .report.run_report import run_report

    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    sections, contents = [], []
    for name in names:
        csv = directory / f"{name}.csv"
        times = np.unique(pd.read_csv(csv, usecols=["time_h"])["time_h"].to_numpy())
        step_min = float(np.median(np.diff(times))) * 60 if len(times) > 1 else 10.0
        sc = scenario_from_dict({
            "subject": {"species": "human", "weight_kg": 70, "condition": "trd"},
            "dose": FLAGSHIPS[name]["dose"],
            "simulation": {"end": f"{times[-1]:g} h", "output_every": f"{step_min:g} min"}})
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp)
            shutil.copyfile(csv, run / "timecourse.csv")
            write_json(run / "summary.json", summary[name])
            write_json(run / "scenario.json", scenario_to_dict(sc))
            cat = sc.catalogue()
            write_json(run / MODEL_FILE, model_record(build_model(sc, cat), sc, cat))
            if (directory / f"{name}.png").is_file():
                shutil.copyfile(directory / f"{name}.png", run / "figure.png")
            _, body = run_report(run)
        body = body.replace("<h1>raadsim run report</h1>", "", 1).replace(
            esc(str(run)), esc(f"{directory}/{name}.csv"))
        title = FLAGSHIPS[name]["title"]
        contents.append(f"<li><a href='#{name}'>{esc(title)}</a></li>")
        sections.append(f"<section id='{name}'><h1>{esc(title)}</h1>{body}</section>")
    head = (f"<h1>raadsim demo report</h1><p>The flagship scenarios of <code>raadsim demo"
            f"</code> (typical 70 kg adult with treatment-resistant depression), from "
            f"{esc(str(directory))}.</p><ul>{''.join(contents)}</ul>")
    return page("raadsim demo report", head + "".join(sections))
