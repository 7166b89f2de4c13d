"""Start-up stays light: ``import raadsim`` and ``raadsim --help`` import neither plotting,
the solver, Dask nor the web app (they load when a command needs them)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "roadrunner", "dask", "distributed", "dash", "antimony")


def _loaded(code: str) -> list[str]:
    probe = (f"{code}\nimport sys\n"
             f"print('LOADED:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    line = out.stdout.strip().splitlines()[-1]
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_import_raadsim_is_light():
    assert _loaded("import raadsim") == []


def test_cli_help_is_light():
    code = ("from raadsim.cli import app\n"
            "try:\n    app(['--help'])\nexcept SystemExit:\n    pass")
    assert _loaded(code) == []


def test_the_layer_contracts_hold():
    """import-linter's contracts in pyproject.toml (also run by .ci/run)."""
    out = subprocess.run(["lint-imports"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:]
