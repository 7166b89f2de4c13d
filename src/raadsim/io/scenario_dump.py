"""Scenarios and trial files back to data: the JSON that run outputs record, and TOML.

:func:`scenario_to_dict` is the inverse of :func:`raadsim.scenario_from_dict` (unset optional
fields and empty lists left out; ``drug_files`` made absolute when ``base_dir`` is given, so a
recorded scenario can be rebuilt from anywhere). :func:`trial_to_dict` does the same for a
:class:`~raadsim.io.trial_file.TrialFile`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit

from .scenario import Scenario
from .trial_file import TrialFile


def _prune(value: Any) -> Any:
    """Drop ``None`` values and empty lists, recursively."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _absolute(files: list[str], base_dir: Path | None) -> list[str]:
    if base_dir is None:
        return list(files)
    return [str(p if (p := Path(f)).is_absolute() else (base_dir / p).resolve()) for f in files]


def scenario_to_dict(sc: Scenario, base_dir: str | Path | None = None) -> dict[str, Any]:
    """The scenario as a dict that :func:`raadsim.scenario_from_dict` reads back unchanged."""
    raw = sc.model_dump(mode="json")
    raw["drug_files"] = _absolute(sc.drug_files, Path(base_dir) if base_dir else None)
    return _prune(raw)


def trial_to_dict(tf: TrialFile, base_dir: str | Path | None = None) -> dict[str, Any]:
    """The trial file as a dict that :func:`~raadsim.io.trial_file.trial_from_dict` reads."""
    raw = tf.model_dump(mode="json")
    raw["drug_files"] = _absolute(tf.drug_files, Path(base_dir) if base_dir else None)
    return _prune(raw)


def to_toml(data: dict[str, Any]) -> str:
    """A scenario or trial dict as TOML text (lists of tables as ``[[dose]]`` blocks)."""
    return tomlkit.dumps(data)


def scenario_to_toml(sc: Scenario, base_dir: str | Path | None = None) -> str:
    """The scenario as a TOML file that ``raadsim run`` accepts."""
    return to_toml(scenario_to_dict(sc, base_dir))
