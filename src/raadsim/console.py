"""Console output of the long commands: a progress bar when stdout is a terminal, and the
messages the solver and libraries print (CVODE's ``t + h = t`` warnings, ...) kept out of
the console, written to a log file and counted in one line.

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

from rich.console import Console

Update = Callable[..., None]


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


LOG_FILE = "warnings.log"
