"""Result files, written atomically: a failed or interrupted run leaves no partial output."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(out: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``out`` only if the block succeeds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        backup = None
        if out.exists():
            backup = out.with_name(f".{out.name}.old")
            if backup.exists():
                shutil.rmtree(backup)
            out.rename(backup)
        tmp.rename(out)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_run(result, out: str | Path, figure: Callable[[object, Path], None] | None = None,
              base_dir: str | Path | None = None) -> Path:
    """``timecourse.csv`` (long format), ``summary.json``, ``figure.png`` and
    ``scenario.json`` (the scenario, so that ``raadsim report`` can rebuild the model; drug
    files made absolute against ``base_dir``, the scenario file's folder) in ``out``."""
    from ..report.figures import plot_result
    from .scenario_dump import scenario_to_dict

    with atomic_dir(out) as tmp:
        result.to_long().to_csv(tmp / "timecourse.csv", index=False, float_format="%.8g")
        write_json(tmp / "summary.json", result.summary())
        write_json(tmp / "scenario.json", scenario_to_dict(result.scenario, base_dir))
        (figure or plot_result)(result, tmp / "figure.png")
    return Path(out)


def write_trial(result, out: str | Path, base_dir: str | Path | None = None) -> Path:
    """``trial.json``, ``patients.parquet``, ``timecourse.csv``, ``figure.png`` and
    ``trial_file.json`` (the trial file, for ``raadsim report``) in ``out``."""
    from ..report.trial_figure import plot_trial
    from .scenario_dump import trial_to_dict

    with atomic_dir(out) as tmp:
        write_json(tmp / "trial.json", result.summary)
        write_json(tmp / "trial_file.json", trial_to_dict(result.trial, base_dir))
        result.patients.to_parquet(tmp / "patients.parquet", index=False)
        result.timecourse.to_csv(tmp / "timecourse.csv", index=False, float_format="%.8g")
        plot_trial(result.timecourse, tmp / "figure.png", result.trial.trial.visit_times_h())
    return Path(out)
