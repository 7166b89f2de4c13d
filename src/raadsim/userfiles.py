"""Reading users' input files: every problem is one :class:`~raadsim.errors.InputError`
naming the path and what went wrong.

A scenario, trial, drug, mapping or data file may be missing, a directory, a device such as
``/dev/zero``, a symbolic-link loop, a name too long, too large, not UTF-8 or not valid TOML;
each is reported as such, never as a traceback, and nothing is read without bound.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from .errors import InputError

# Far above any scenario, trial, drug, mapping or NONMEM file (the largest shipped file is
# ~100 kB); stops a device or a mistaken multi-gigabyte file from being read into memory.
MAX_INPUT_BYTES = 64 * 2**20
# Deeper than any raadsim file format nests (a drug file: 6 levels); deeper documents are
# rejected before validation so that nothing recurses without bound.
MAX_TOML_DEPTH = 32


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def read_bytes(path: str | Path, what: str) -> bytes:
    """The content of the regular file ``path`` (a ``what`` file, e.g. ``scenario``)."""
    p = Path(path)
    try:
        st = p.stat()
    except (OSError, ValueError) as exc:  # ValueError: an embedded NUL byte
        reason = _reason(exc) if isinstance(exc, OSError) else "not a valid path"
        raise InputError(what, str(p), f"a readable file ({reason})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(what, str(p), "a file (this is a directory)")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(what, str(p), "a regular file (this is a device, pipe or socket)")
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(what, str(p), f"a file of at most {MAX_INPUT_BYTES // 2**20} MiB")
    try:
        with open(p, "rb") as f:
            data = f.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(what, str(p), f"a readable file ({_reason(exc)})") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(what, str(p), f"a file of at most {MAX_INPUT_BYTES // 2**20} MiB")
    return data


def read_text(path: str | Path, what: str, encoding: str = "utf-8") -> str:
    """The text of ``path``; not UTF-8 (``encoding``) is an :class:`InputError`."""
    data = read_bytes(path, what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(what, str(path), f"a UTF-8 text file (byte {exc.start} is not "
                         "UTF-8)") from None


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in ``value`` (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if d <= MAX_TOML_DEPTH:
            children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
            stack.extend((c, d + 1) for c in children)
    return deepest


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The parsed TOML file ``path`` (a ``what`` file); any problem is one InputError."""
    text = read_text(path, what)
    where = str(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(where, "(file)", f"valid TOML ({exc})") from None
    except RecursionError:
        raise InputError(where, "(file)", f"valid TOML nested at most {MAX_TOML_DEPTH} "
                         "levels deep") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(where, "(file)", f"valid TOML ({exc})") from None
    if _depth(raw) > MAX_TOML_DEPTH:
        raise InputError(where, "(file)", f"tables and arrays nested at most {MAX_TOML_DEPTH} "
                         "levels deep")
    return raw


def same_file(a: str | Path, b: str | Path) -> bool:
    """True if ``a`` and ``b`` are the same existing file (hard links and symlinks included)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False
