"""Result files and directories: written atomically, never over anything raadsim did not write.

* **Nothing foreign is lost.** raadsim never deletes, renames or hides a file it did not
  write. An output directory holds a marker, ``.raadsim-output`` (JSON: the command, raadsim's
  version and the entries raadsim wrote). An existing directory is written into only when it
  has the marker, is empty, or the caller allows ``overwrite`` (``--overwrite``); then
  raadsim's own entries are replaced (with ``overwrite`` also the entries named like its
  outputs) and every other file stays. An existing file is replaced only when its directory's
  marker lists it, or with ``overwrite``. Input files are never replaced.
* **Refused before any computation** (:func:`check_output`): ``--out`` naming ``''``, ``.``,
  the current directory or one above it, a symbolic link, an input file, a directory where a
  file is written (or a file where a directory is), an unwritable place or a name too long.
* **Atomic.** Outputs are written into a temporary sibling first and put in place only when
  complete: a failure (full disk, Ctrl-C, SIGTERM) leaves the previous output as it was and no
  partial one. The swap runs under an exclusive lock on the parent directory with SIGINT and
  SIGTERM held back, so concurrent writers to one ``--out`` each install a complete output in
  turn (the last one stays) and never fail.

The CLI states what a command may replace with :func:`output_policy`; the Python API's
default is to replace only what raadsim wrote.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._version import __version__
from ..errors import InputError
from ..userfiles import same_file

try:  # POSIX: serialise the final swap between processes and threads
    import fcntl
except ImportError:  # pragma: no cover - Windows: serialise within this process only
    fcntl = None  # type: ignore[assignment]

MARKER = ".raadsim-output"
# Characters raadsim adds to an output's name for its temporary sibling.
_TMP_EXTRA_CHARS = 32
_LOCAL_LOCK = threading.Lock()


@dataclass(frozen=True)
class OutputPolicy:
    """What a write may replace: ``overwrite`` allows writing into an existing directory or
    over a file raadsim did not write; ``inputs`` are never replaced; ``command`` and
    ``arguments`` are recorded in the marker."""

    overwrite: bool = False
    command: str = "raadsim (Python API)"
    arguments: tuple[tuple[str, str], ...] = ()
    inputs: tuple[Path, ...] = ()


_POLICY: contextvars.ContextVar[OutputPolicy | None] = contextvars.ContextVar(
    "raadsim_output_policy", default=None)


def current_policy() -> OutputPolicy:
    """The policy of the enclosing :func:`output_policy` (default: replace only raadsim's
    own files)."""
    return _POLICY.get() or OutputPolicy()


@contextlib.contextmanager
def output_policy(policy: OutputPolicy) -> Iterator[OutputPolicy]:
    """Write with ``policy`` inside the block (the CLI: ``--overwrite`` and the inputs)."""
    token = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(token)


# -- checks ---------------------------------------------------------------------------------------
def _refuse(out: str | Path, accepted: str) -> InputError:
    return InputError("--out", str(out), accepted)


def read_marker(directory: str | Path) -> dict | None:
    """The marker of ``directory`` if raadsim wrote it (else None)."""
    try:
        data = json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and data.get("written_by") == "raadsim"
            and isinstance(data.get("files"), list)):
        return None
    return data


def _own(directory: Path) -> set[str]:
    """The entries of ``directory`` that raadsim wrote (from its marker)."""
    marker = read_marker(directory)
    return {str(f) for f in marker["files"]} if marker else set()


def _check_path(out: Path, inputs: Sequence[Path]) -> None:
    """Refusals common to files and directories."""
    if str(out) in ("", "."):
        raise _refuse(out, "a path other than the current directory")
    try:
        if out.is_symlink():
            raise _refuse(out, "a path that is not a symbolic link (give the path it points "
                          "to)")
        resolved = out.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise _refuse(out, f"a valid path ({exc})") from None
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise _refuse(out, "a path other than the current directory or one above it")
    if any(same_file(out, i) for i in inputs):
        raise _refuse(out, "a path that is not one of the command's input files")
    _check_writable_place(out)


def _check_writable_place(out: Path) -> None:
    """The nearest existing ancestor of ``out`` is a writable directory; the name fits."""
    parent = out.absolute().parent
    ancestor = parent
    while not os.path.lexists(ancestor):
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise _refuse(out, f"a path inside a directory ({ancestor} is a file)")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _refuse(out, f"a writable location ({ancestor}: permission denied or "
                      "read-only)")
    try:
        name_max = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    if len(os.fsencode(out.name)) + _TMP_EXTRA_CHARS > name_max:
        raise _refuse(out, f"a name of at most {name_max - _TMP_EXTRA_CHARS} bytes")


def check_output(out: str | Path, kind: Literal["dir", "file"],
                 policy: OutputPolicy | None = None) -> None:
    """Refuse, before any computation, an ``--out`` that raadsim may not write (see the
    module docstring); ``kind`` is what the command writes there."""
    policy = policy or current_policy()
    out = Path(out)
    _check_path(out, policy.inputs)
    parent = out.absolute().parent
    with _locked(parent) if parent.is_dir() else contextlib.nullcontext():
        _check_existing(out, kind, policy)  # under the lock: never half-way through a swap


def _check_existing(out: Path, kind: Literal["dir", "file"], policy: OutputPolicy) -> None:
    """The checks of an ``out`` that exists (one ``lstat``: it may be replaced meanwhile)."""
    try:
        mode = os.lstat(out).st_mode
    except FileNotFoundError:
        return
    if kind == "dir":
        if not stat.S_ISDIR(mode):
            raise _refuse(out, "a directory path (this is an existing file)")
        if not os.access(out, os.W_OK | os.X_OK):
            raise _refuse(out, "a writable directory (permission denied or read-only)")
        if not (policy.overwrite or read_marker(out) is not None or not any(out.iterdir())):
            raise _refuse(out, "a new directory, one raadsim wrote, or --overwrite (this "
                          "directory was not written by raadsim; with --overwrite only the "
                          "files raadsim writes are replaced)")
        return
    if stat.S_ISDIR(mode):
        raise _refuse(out, "a file path (this is a directory)")
    if not stat.S_ISREG(mode):
        raise _refuse(out, "a regular file path (this is a device, pipe or socket)")
    if not (policy.overwrite or out.name in _own(out.absolute().parent)):
        raise _refuse(out, "a new file, or --overwrite to replace this existing file")
    if not os.access(out, os.W_OK):
        raise _refuse(out, "a file raadsim may replace (this one is read-only or immutable)")


# -- the swap -------------------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (flock: between processes and between threads)."""
    if fcntl is None:  # pragma: no cover
        with _LOCAL_LOCK:
            yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (main thread, POSIX) so that a swap is never cut short."""
    if threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _protected(out: Path, inputs: Sequence[Path]) -> set[str]:
    """Entries of ``out`` that are (or contain) input files."""
    names = set()
    root = out.resolve()
    for i in inputs:
        try:
            rel = Path(i).resolve().relative_to(root)
        except (ValueError, OSError, RuntimeError):
            continue
        if rel.parts:
            names.add(rel.parts[0])
    return names


def _marker_text(names: list[str], policy: OutputPolicy) -> str:
    return json.dumps({"written_by": "raadsim", "version": __version__,
                       "command": policy.command, "arguments": dict(policy.arguments),
                       "files": names}, indent=2) + "\n"


def _install_dir(tmp: Path, out: Path, names: list[str], policy: OutputPolicy) -> None:
    """Put the complete directory ``tmp`` in place of ``out`` (caller holds the lock)."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
        return
    if out.is_symlink() or not out.is_dir():  # appeared since check_output
        raise _refuse(out, "a directory path (this is now an existing file or link)")
    marker = read_marker(out)
    own = _own(out)
    present = {p.name for p in out.iterdir()} - {MARKER}
    replaceable = own | (set(names) if policy.overwrite else set())
    protected = _protected(out, policy.inputs)
    foreign = (present - replaceable) | (present & protected)
    if marker is None and not policy.overwrite and present:
        raise _refuse(out, "a new directory, one raadsim wrote, or --overwrite (files "
                      "appeared in it during the run)")
    clash = sorted(foreign & set(names))
    if clash:
        raise _refuse(out, f"a directory whose {clash[0]!r} raadsim may replace (it was not "
                      "written by raadsim" + ("" if policy.overwrite else ": --overwrite")
                      + (" / it is an input file)" if clash[0] in protected else ")"))
    if marker is not None and not foreign:  # all raadsim's: swap the whole directory
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    stale = sorted(own - set(names) - protected)
    stuck = [n for n in [*names, *stale, MARKER] if os.path.lexists(out / n)
             and not os.path.islink(out / n) and not os.access(out / n, os.W_OK)]
    if stuck:  # found before anything is replaced: never a partial output
        raise _refuse(out, f"a directory whose {stuck[0]!r} raadsim may replace (it is "
                      "read-only or immutable)")
    for name in names:  # next to files raadsim did not write: entry by entry
        if (out / name).is_dir() and not (out / name).is_symlink():
            _remove(out / name)
        os.replace(tmp / name, out / name)
    for name in stale:
        if os.path.lexists(out / name):
            _remove(out / name)
    os.replace(tmp / MARKER, out / MARKER)


@contextlib.contextmanager
def atomic_dir(out: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``out`` only if the block succeeds (see the
    module docstring for what may be replaced)."""
    out = Path(out)
    policy = current_policy()
    check_output(out, "dir", policy)
    with _parents_made(out) as parent:
        yield from _written_dir(out, parent, policy)


def _written_dir(out: Path, parent: Path, policy: OutputPolicy) -> Iterator[Path]:
    """The body of :func:`atomic_dir` (delegated to with ``yield from``)."""
    with _write_errors(out):
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.raadsim-", dir=parent))
    try:
        with _write_errors(out):
            yield tmp
            names = sorted(p.name for p in tmp.iterdir())
            (tmp / MARKER).write_text(_marker_text(names, policy), encoding="utf-8")
            tmp.chmod(0o777 & ~_umask())
            with _locked(tmp.parent), _signals_held():
                _install_dir(tmp, out, names, policy)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _parents_made(out: Path) -> Iterator[Path]:
    """Make the missing parent directories of ``out``; remove them if the block fails."""
    parent = out.absolute().parent
    missing, p = [], parent
    while not os.path.lexists(p):
        missing.append(p)  # innermost first
        p = p.parent
    with _write_errors(out):
        parent.mkdir(parents=True, exist_ok=True)
    try:
        yield parent
    except BaseException:
        for d in missing:
            with contextlib.suppress(OSError):
                d.rmdir()
        raise


@contextlib.contextmanager
def _write_errors(out: Path) -> Iterator[None]:
    """An OS error while writing ``out`` (a full disk, ...) as one InputError naming it."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError("--out", str(out), f"a place raadsim can write ({reason}); nothing "
                         "was written") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _register(path: Path, policy: OutputPolicy) -> None:
    """List ``path`` in its directory's marker, if raadsim wrote that directory."""
    marker = read_marker(path.parent)
    if marker is None or path.name in marker["files"]:
        return
    text = _marker_text(sorted([*marker["files"], path.name]),
                        OutputPolicy(command=marker.get("command", policy.command),
                                     arguments=tuple(marker.get("arguments", {}).items())))
    fd, tmp = tempfile.mkstemp(prefix=f".{MARKER}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a new file gets the umask's mode
    os.replace(tmp, path.parent / MARKER)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path (same suffix as ``path``) that replaces ``path`` only if the
    block succeeds; the file gets the permissions the umask gives new files."""
    path = Path(path)
    policy = current_policy()
    check_output(path, "file", policy)
    with _parents_made(path) as parent:
        yield from _written_file(path, parent, policy)


def _written_file(path: Path, parent: Path, policy: OutputPolicy) -> Iterator[Path]:
    """The body of :func:`atomic_file` (delegated to with ``yield from``)."""
    with _write_errors(path):
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.raadsim-", suffix=path.suffix,
                                    dir=parent)
        os.close(fd)
    tmp = Path(name)
    try:
        with _write_errors(path):
            yield tmp
            tmp.chmod(0o666 & ~_umask())
            with _locked(parent), _signals_held():
                if path.is_symlink() or path.is_dir():
                    raise _refuse(path, "a file path (this is now a directory or a link)")
                os.replace(tmp, path)
                _register(path.absolute(), policy)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
