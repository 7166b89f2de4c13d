"""Cause 10 of issue 19: every command that reads a scenario rejects what ``run`` rejects,
with the same error (one validation path: ``check_scenario``)."""

from __future__ import annotations

import pytest

from .cli_check import SCENARIO, check_call, invoke, tree

BAD = [
    ('observables = ["plasma.ketamine", "occupancy.nmdar"]', 'observables = ["plasma.lsd"]'),
    ('amount = "0.5 mg/kg"', 'amount = "1e308 mg"'),
    ('infusion = "40 min"', 'infusion = "nan min"'),
    ('end = "2 h"', 'end = "1e9 h"'),
    ('[simulation]', '[[perturbation]]\nname = "spine_ablation"\n[simulation]'),
    ('[simulation]', '[[perturbation]]\nname = "bdnf_val66met"\ngenotype = "x"\n[simulation]'),
    ('route = "iv"', 'route = "oral"'),
    ('weight_kg = 70', 'weight_kg = 700'),
]


def _commands(path, tmp_path):
    return {"run": ["run", str(path), "--out", str(tmp_path / "out")],
            "export sbml": ["export", "sbml", str(path), "--out", str(tmp_path / "m.xml")],
            "export omex": ["export", "omex", str(path), "--out", str(tmp_path / "m.omex")],
            "explain": ["explain", "signal.mtorc1", "--scenario", str(path)],
            "diagram": ["diagram", "--scenario", str(path), "--out", str(tmp_path / "m.png")],
            "sensitivity": ["sensitivity", str(path), "--out", str(tmp_path / "sens")]}


@pytest.mark.parametrize(("old", "new"), BAD)
def test_every_command_rejects_what_run_rejects(tmp_path, old, new):
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO.replace(old, new, 1))
    lines = {}
    for name, args in _commands(path, tmp_path).items():
        before = tree(tmp_path)
        call = invoke(args)
        assert check_call(call, tmp_path, before, None, None) != "ok", name
        lines[name] = call.lines[0]
    assert len(set(lines.values())) == 1, lines


@pytest.mark.parametrize(("flags", "flag"), [
    (["--dose", "1e308 mg"], "--dose"), (["--dose", "nan mg"], "--dose"),
    (["--dose", "mg"], "--dose"), (["--route", "oral", "--drug", "lsd", "--dose", "1 kg"],
                                   "--dose"),
    (["--drug", "[/]"], "--drug"), (["--species", "dog"], "--species"),
    (["--route", "rectal"], "--route"),
])
def test_flags_are_checked_as_run_checks_a_file(tmp_path, flags, flag):
    for command in (["explain", "signal.mtorc1"], ["diagram", "--out", str(tmp_path / "m.png")],
                    ["simulate", "--drug", "ketamine", "--dose", "0.5 mg/kg", "--route", "iv",
                     "--end", "1 h", "--out", str(tmp_path / "o")]):
        before = tree(tmp_path)
        call = invoke([*command, *flags])
        assert check_call(call, tmp_path, before, None, None) == flag, call.output
