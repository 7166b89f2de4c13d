"""Console output of the commands: a progress bar when stdout is a terminal; the messages
the solver and libraries print (CVODE's ``t + h = t`` warnings, ...) kept out of the console,
written to a log file and counted in one line; the key values of a run and the one-screen
summary of a validation.

The messages are caught at the file-descriptor level (fd 2), so those that libRoadRunner's
C++ code and the worker processes started meanwhile print are caught too.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

Update = Callable[..., None]
LOG_FILE = "warnings.log"  # in the output directory


def interactive(console: Console) -> bool:
    """A person watches: ``console`` writes to a terminal, and not in CI."""
    return console.is_terminal and not os.environ.get("CI")


@contextlib.contextmanager
def progress(console: Console, description: str, total: float | None = None
             ) -> Iterator[Update]:
    """Yield ``update(done, total=None)``: a transient progress bar on a terminal, nothing
    otherwise (pipes, files, CI)."""
    if not interactive(console):
        yield lambda done, total=None: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console, transient=True, redirect_stderr=False) as bar:
        task = bar.add_task(description, total=total)

        def update(done: float, total: float | None = None) -> None:
            bar.update(task, completed=done, **({} if total is None else {"total": total}))

        yield update


@dataclass
class Messages:
    """What was printed to stderr while :func:`caught_messages` ran."""

    text: str = ""

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    def count(self) -> tuple[int, int]:
        """(solver warnings, other lines)."""
        solver = sum(1 for line in self.lines
                     if line.startswith("[WARNING]") or "CVode" in line or "CVODE" in line)
        return solver, len(self.lines) - solver


@contextlib.contextmanager
def caught_messages() -> Iterator[Messages]:
    """Redirect fd 2 to a temporary file while the block runs; the text is in the yielded
    :class:`Messages` afterwards. Without a usable fd 2 nothing is caught."""
    messages = Messages()
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield messages
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield messages
        finally:
            with contextlib.suppress(AttributeError, ValueError, OSError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            messages.text = tmp.read().decode("utf-8", errors="replace")


def write_messages(messages: Messages, directory: Path | None) -> str | None:
    """Write the messages to ``directory/warnings.log`` (or, without a directory, to a new
    file in the temporary folder) and return the one line that counts them; None if there
    were none."""
    if not messages.lines:
        return None
    from .io.outputs import write_text_atomic

    if directory is not None:
        path = write_text_atomic(directory / LOG_FILE, messages.text)
    else:
        fd, name = tempfile.mkstemp(prefix="raadsim-warnings-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(messages.text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(name, 0o666 & ~mask)
        path = Path(name)
    solver, other = messages.count()
    parts = [f"{solver} solver warning{'s' * (solver != 1)}"] if solver else []
    parts += [f"{other} other message line{'s' * (other != 1)}"] if other else []
    return f"{' and '.join(parts)} (not shown) written to {path}"


# -- what the commands print ----------------------------------------------------------------------
def _plain(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _cells(*values: object) -> list[str]:
    return [escape(str(v)) for v in values]


def unit_text(unit: str) -> str:
    """A unit as a person reads it: '1' (dimensionless) as 'dimensionless' and the MADRS
    score in points."""
    return {"1": "dimensionless", "": "dimensionless", "points": "score points"}.get(unit, unit)


_CONDITION_WORDS = {"healthy": "healthy", "mdd": "major depressive disorder",
                    "trd": "treatment-resistant depression",
                    "bipolar_depression": "bipolar depression",
                    "chronic_stress": "chronic stress"}


def subject_line(sc: Any) -> str:
    """``subject: human, 70 kg, treatment-resistant depression (condition trd)``."""
    s = sc.subject
    parts = [s.species]
    if s.species != "culture":
        parts.append(f"{s.weight:g} kg" + ("" if s.weight_kg is not None else " (default)"))
    parts.append(f"{_CONDITION_WORDS.get(s.condition, s.condition)} (condition {s.condition})")
    if s.age_years is not None:
        parts.append(f"{s.age_years:g} years")
    if s.ancestry != "not_asian":
        parts.append(f"ancestry {s.ancestry}")
    perts = [p.name + (f" ({p.genotype})" if p.genotype else "") for p in sc.perturbation]
    return "subject: " + ", ".join(parts) + (f"; perturbations: {', '.join(perts)}"
                                             if perts else "")


def print_key_values(console: Console, result: Any, sc: Any) -> None:
    """The values `raadsim demo` prints, for any run: plasma peaks, peak occupancy of the
    main targets and the MADRS total score before and 24 h after the first dose."""
    s = result.summary()["observables"]
    _plain(console, subject_line(sc))
    table = Table(title="key values (all observables: summary.json, timecourse.csv)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    plasma = sorted((v["peak"], name) for name, v in s.items()
                    if name.startswith("plasma.") and v["peak"] > 0)[::-1]
    for _, name in plasma[:3]:  # the three highest: the drug and its main analytes
        v = s[name]
        table.add_row(*_cells(f"peak plasma {name.split('.', 1)[1]}",
                              f"{v['peak']:.3g} {v['unit']} at {v['time_of_peak_h']:.2f} h"))
    for name, label in (("occupancy.nmdar", "NMDA receptor block"),
                        ("occupancy.ht2a", "5-HT2A receptor occupancy"),
                        ("occupancy.trkb", "TrkB occupancy")):
        if name in s and s[name]["peak"] > 0:
            table.add_row(*_cells(f"peak {label}", f"{s[name]['peak']:.0%}"))
    if "clinic.madrs" in result.values:
        t0 = min((d.at.value for d in sc.dose), default=0.0)
        before = result.at("clinic.madrs", t0)
        row = f"{before:.1f} before the first dose"
        if t0 + 24 <= result.time_h[-1]:
            row += f", {result.at('clinic.madrs', t0 + 24):.1f} 24 h after it"
        table.add_row("MADRS total score (points)", row)
    if table.row_count:
        console.print(table)


def print_scorecard_summary(console: Console, card: dict, out: Path) -> None:
    """One screen: totals by kind, layer and drug, and the ids of the failing records (the
    full table is in the files written)."""
    t = card["totals"]
    console.print(f"[bold]raadsim validation: {t['passed']} of {t['records']} records "
                  "reproduced[/]")
    for title, key in (("kind", "by_kind"), ("layer", "by_layer"), ("drug", "by_drug")):
        _plain(console, f"  by {title}: " + ", ".join(
            f"{k} {v['passed']}/{v['records']}" for k, v in t[key].items()))
    for label, rows in (
            ("not reproduced", [r for r in card["records"] if not r["passed"] and not r["error"]]),
            ("did not run (error)", [r for r in card["records"] if r["error"]])):
        if rows:
            console.print(Text(f"{label} ({len(rows)}): " + ", ".join(r["id"] for r in rows)))
    _plain(console, f"full table and known gaps: {out}/scorecard.md (also .html, .json)")
