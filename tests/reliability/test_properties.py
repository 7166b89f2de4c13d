"""Property-based tests of the CLI (issue 19): generated scenario files, trial files, drug-file
fragments, flags and paths, hostile values included (nan, inf, 1e308, 1e-300, huge integers,
wrong units and types, rich markup, odd paths).

For every example: exit 0 with the complete output, or exit 2 with exactly one line that names
a field, no traceback and nothing written; no file outside raadsim's own output changes
(:func:`~tests.reliability.cli_check.check_call`). Examples built only from valid values must
succeed, and examples with a value that is wrong for sure must fail.

Seeded (derandomized) and bounded: a smoke run of a few examples per property in the fast
tier, the full run (260 examples; most simulate, a few seconds each) marked slow. Set
``RAADSIM_PROPERTY_STATS=file.json`` to write the count of outcomes by class.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raadsim.io.outputs import MARKER
from tests.conftest import ROOT

from .cli_check import (
    RUN_FILES,
    SCENARIO,
    TRIAL_FILES,
    Call,
    check_call,
    error_class,
    invoke,
    own_paths,
    tree,
)

SMOKE = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))
FULL = settings(SMOKE, max_examples=50)

OUTCOMES: Counter[tuple[str, str]] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _outcome_stats():
    yield
    path = os.environ.get("RAADSIM_PROPERTY_STATS")
    if not path:
        return
    with open(path, "a+", encoding="utf-8") as f:  # pytest-xdist: one worker at a time
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        text = f.read()
        stats = json.loads(text) if text.strip() else {}
        for (suite, kind), n in OUTCOMES.items():
            stats.setdefault(suite, {})
            stats[suite][kind] = stats[suite].get(kind, 0) + n
        f.seek(0)
        f.truncate()
        f.write(json.dumps(stats, indent=1, sort_keys=True))


# -- values -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    """A value that no field of its kind accepts."""

    value: Any


MARKUP = ["[/]", "[[dose]]", "[bold red]x[/bold red]", "[link=file:///etc/passwd]x[/link]",
          "\x1b[31mred", "a\nb"]
NUMBERS = ["nan", "inf", "-inf", "1e308", "1e-300", "1e400", "-1", "0", "0.5", "40", "2e3",
           "1e-9"]
ANY = st.one_of(st.booleans(), st.integers(-(2**70), 2**70), st.just(2**2000),
                st.floats(), st.text(max_size=8), st.sampled_from(MARKUP),
                st.lists(st.integers(0, 3), max_size=2),
                st.dictionaries(st.sampled_from(["a", "value"]), st.integers(0, 3), max_size=2))


def _quantity(units: list[str], bad_units: list[str]) -> st.SearchStrategy:
    """Number-and-unit texts: sure failures (non-finite, wrong unit, no number) as Bad."""
    good = st.builds(lambda n, u: f"{n} {u}", st.sampled_from(NUMBERS), st.sampled_from(units))
    return st.one_of(
        good,
        st.builds(lambda n, u: Bad(f"{n} {u}"), st.sampled_from(["nan", "inf", "1e400"]),
                  st.sampled_from(units)),
        st.builds(lambda n, u: Bad(f"{n} {u}"), st.sampled_from(NUMBERS),
                  st.sampled_from(bad_units)),
        st.sampled_from([Bad(u) for u in units]),  # a unit without a number
        ANY.filter(lambda v: not isinstance(v, str)).map(Bad),  # not a string
        st.sampled_from([Bad(m) for m in MARKUP]))


TIME = _quantity(["h", "min", "s", "d", "ms"], ["kg", "mg", "uM", "parsec", "1/h", "h/h"])
DOSE = _quantity(["mg", "mg/kg", "ug", "g/kg"], ["kg/mg", "mL", "h", "uM", "mg/h"])
WEIGHT = st.one_of(_quantity(["kg", "lb", "g"], ["h", "mL", "mg/kg"]),
                   st.floats(), st.integers(-(2**70), 2**70), st.just(2**2000),
                   st.booleans().map(Bad))


def _name(good: list[str], bad: list[str]) -> st.SearchStrategy:
    """Names: other valid ones, and sure failures (unknown names, not a string)."""
    wrong = [st.sampled_from([Bad(b) for b in bad]),
             ANY.filter(lambda v: not isinstance(v, str)).map(Bad)]
    return st.one_of(*wrong, *([st.sampled_from(good)] if good else []))


@dataclass
class Case:
    """A generated input: the data, and whether it is valid or wrong for sure."""

    data: dict[str, Any]
    mutated: list[str] = field(default_factory=list)
    sure_bad: bool = False


def _set(d: dict, path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        d = d[int(k)] if isinstance(d, list) else d.setdefault(k, {})
    d[keys[-1]] = value


@st.composite
def mutated(draw, base: dict, hostile: dict[str, st.SearchStrategy],
            valid: dict[str, list]) -> Case:
    """``base`` with some keys set to valid alternatives and up to two to hostile values."""
    data = json.loads(json.dumps(base))
    case = Case(data)
    for path, choices in valid.items():
        v = draw(st.sampled_from(choices))
        if v is not None:
            _set(data, path, copy.deepcopy(v))
    paths = draw(st.lists(st.sampled_from(sorted(hostile)), max_size=2, unique=True))
    for path in [p for p in paths if not any(p.startswith(q + ".") for q in paths)]:
        v = draw(hostile[path])
        case.mutated.append(path)
        if isinstance(v, Bad):
            case.sure_bad, v = True, v.value
        _set(data, path, copy.deepcopy(v))
    if draw(st.sampled_from([False] * 9 + [True])):  # a key that does not exist
        _set(data, draw(st.sampled_from(["subject.weigth", "dose.0.amout", "extra"])), 1)
        case.sure_bad = True
        case.mutated.append("unknown key")
    return case


def _toml(data: dict) -> str:
    return tomlkit.dumps(data)


def _record(suite: str, kind: str, call: Call) -> None:
    OUTCOMES[(suite, "exit 0" if kind == "ok" else f"exit 2: {error_class(call)}")] += 1


def _expect(case: Case, kind: str, suite: str, call: Call) -> None:
    _record(suite, kind, call)
    if not case.mutated:
        assert kind == "ok", f"a valid input was rejected: {kind} ({case.data})"
    if case.sure_bad:
        assert kind != "ok", f"accepted although wrong: {case.mutated} ({case.data})"


# -- scenario files -------------------------------------------------------------------------------
SCENARIO_BASE = {
    "subject": {"species": "human", "weight_kg": 70, "condition": "trd"},
    "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv"}],
    "simulation": {"end": "2 h", "output_every": "20 min",
                   "observables": ["plasma.ketamine"]},
}
SCENARIO_VALID = {
    "subject.weight_kg": [70, 45.5, "80 kg", "154 lb"],
    "subject.condition": ["healthy", "trd", "mdd"],
    "dose.0.amount": ["0.5 mg/kg", "35 mg", "0 mg", "100 ug"],
    "dose.0.infusion": [None, "40 min", "1 s", "3 h"],
    "dose.0.at": [None, "30 min", "-1 h", "1e-300 h"],
    "dose.0.repeat": [None, {"every": "1 h", "count": 2}],
    "simulation.end": ["2 h", "90 min"],
    "simulation.output_every": ["20 min", "30 min"],
    "simulation.observables": [["plasma.ketamine"], ["plasma.ketamine", "occupancy.nmdar"]],
    "perturbation": [None, [{"name": "lithium"}], [{"name": "rapamycin", "at": "-1 h"}]],
}
SCENARIO_HOSTILE = {
    "subject.species": _name(["rat", "mouse", "culture", "human"], ["dog", "", "[/]"]),
    "subject.weight_kg": WEIGHT,
    "subject.condition": _name(["chronic_stress"], ["sad", "[/]"]),
    "dose.0.drug": _name(["esketamine", "saline", "lsd"], ["ketamin", "[/]", "[[dose]]", ""]),
    "dose.0.amount": DOSE,
    "dose.0.route": _name(["oral", "intranasal", "im"], ["rectal", "[/]"]),
    "dose.0.infusion": TIME,
    "dose.0.at": TIME,
    "dose.0.repeat.every": TIME,
    "dose.0.repeat.count": st.one_of(st.integers(-5, 1200), st.just(2**70),
                                     ANY.filter(lambda v: isinstance(v, str | bool | float)
                                                or v is None).map(Bad)),
    "simulation.end": TIME,
    "simulation.output_every": TIME,
    "simulation.observables": st.one_of(
        st.lists(st.sampled_from(["plasma.ketamine", "plasma.lsd", "eeg.alpha_power", "[/]",
                                  "occupancy.nmdar"]), min_size=1, max_size=2),
        ANY.filter(lambda v: not isinstance(v, list)).map(Bad)),
    "perturbation": st.one_of(st.just([{"name": "spine_ablation"}]),
                              st.just([{"name": "nbqx", "at": "nan h"}]).map(Bad),
                              st.just([{"name": "[/]"}]).map(Bad), ANY.map(Bad)),
    "bath": st.just([{"drug": "lsd", "concentration": "1 uM"}]).map(Bad),
}


def _scenario_property(case: Case) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "s.toml").write_text(_toml(case.data))
        before = tree(root)
        out = root / "out"
        call = invoke(["run", str(root / "s.toml"), "--out", str(out)])
        _expect(case, check_call(call, root, before, out, RUN_FILES), "scenario files", call)


SCENARIOS = mutated(SCENARIO_BASE, SCENARIO_HOSTILE, SCENARIO_VALID)


@SMOKE
@given(SCENARIOS)
def test_scenario_files_smoke(case):
    _scenario_property(case)


@pytest.mark.slow
@settings(FULL, max_examples=60)
@given(SCENARIOS)
def test_scenario_files(case):
    _scenario_property(case)


# -- trial files ----------------------------------------------------------------------------------
ARM = {"name": "ketamine", "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                                     "infusion": "40 min"}]}
SALINE = {"name": "saline", "dose": [{"drug": "saline", "amount": "0 mg", "route": "iv"}]}
TRIAL_BASE = {"population": {"n": 2, "seed": 7, "condition": "trd"},
              "trial": {"visits": ["1 h", "2 h"], "output_every": "1 h", "arm": [ARM]}}
TRIAL_VALID = {
    "population.n": [1, 2, 3],
    "population.seed": [0, 7, 2**31],
    "population.condition": ["trd", "mdd"],
    "population.weight_kg": [None, {"mean": 70.0, "sd": 10.0}],
    "population.female": [None, 0.5],
    "population.iiv": [None, {"clearance": 0.3}],
    "trial.visits": [["1 h", "2 h"], ["30 min"]],
    "trial.output_every": ["1 h", "30 min"],
    "trial.relapse": [None, "response lost"],
    "trial.design": ["parallel", "paired"],
    "trial.arm": [[ARM], [ARM, SALINE]],
}
COUNT = st.one_of(st.integers(-3, 5), st.just(2**70), st.just(10**7),
                  ANY.filter(lambda v: isinstance(v, str | bool | float)).map(Bad))
FRACTION = st.one_of(st.floats(), st.integers(-3, 3), ANY.filter(
    lambda v: isinstance(v, str | bool)).map(Bad))
TRIAL_HOSTILE = {
    "population.n": COUNT,
    "population.seed": COUNT,
    "population.condition": _name(["bipolar_depression"], ["chronic_stress", "[/]"]),
    "population.female": FRACTION,
    "population.rating_sd": FRACTION,
    "population.weight_kg": st.builds(lambda m, s: {"mean": m, "sd": s}, st.floats(),
                                      st.floats()),
    "population.genotype": st.dictionaries(st.sampled_from(["val/val", "met/met", "[/]"]),
                                           FRACTION.filter(lambda v: not isinstance(v, Bad)),
                                           min_size=1, max_size=2),
    "trial.visits": st.one_of(st.lists(TIME, min_size=1, max_size=2).map(
        lambda vs: Bad([v.value for v in vs]) if any(isinstance(v, Bad) for v in vs) else vs),
        ANY.map(Bad)),
    "trial.output_every": TIME,
    "trial.end": TIME,
    "trial.response": _name(["30%", "100%"], ["0%", "half", "[/]"]),
    "trial.control": _name(["ketamine"], ["nobody", "[/]"]),
    "trial.arm.0.name": _name(["k-1", "a.b"], ["[/]", "with space", ""]),
    "trial.arm.0.dose.0.amount": DOSE,
    "trial.arm.0.dose.0.infusion": TIME,
}


def _trial_property(case: Case) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "t.toml").write_text(_toml(case.data))
        before = tree(root)
        out = root / "out"
        call = invoke(["trial", str(root / "t.toml"), "--out", str(out), "--executor",
                       "serial"])
        _expect(case, check_call(call, root, before, out, TRIAL_FILES), "trial files", call)


TRIALS = mutated(TRIAL_BASE, TRIAL_HOSTILE, TRIAL_VALID)


@SMOKE
@given(TRIALS)
def test_trial_files_smoke(case):
    _trial_property(case)


@pytest.mark.slow
@settings(FULL, max_examples=30)
@given(TRIALS)
def test_trial_files(case):
    _trial_property(case)


# -- drug-file fragments -------------------------------------------------------------------------
DRUG_BASE = tomlkit.parse((ROOT / "examples" / "glun2b_antagonist.toml").read_text()).unwrap()
DRUG_SCENARIO = {"drug_files": ["d.toml"],
                 "dose": [{"drug": "glun2b_x", "amount": "0.5 mg/kg", "route": "iv"}],
                 "simulation": {"end": "1 h", "output_every": "20 min",
                                "observables": ["plasma.glun2b_x"]}}
PK = "analytes.glun2b_x.pk.human"
PARAM_VALUE = st.one_of(st.sampled_from([0.0, 1e-300, 1.5, 2.0]), st.floats(),
                        # no parameter accepts these (each has a finite, plausible range)
                        st.sampled_from([float("nan"), float("inf"), -1.0, 1e308, 2**2000])
                        .map(Bad),
                        ANY.filter(lambda v: isinstance(v, str | bool)).map(Bad))
DRUG_VALID = {f"{PK}.params.Vc.value": [50, 80.5], f"{PK}.params.CL.value": [20, 5.0],
              f"{PK}.params.fu.value": [0.2, 1.0], f"{PK}.reference_weight_kg": [70, 65.5],
              "label": ["X", "[/] x"]}
DRUG_HOSTILE = {
    **{f"{PK}.params.{k}.value": PARAM_VALUE for k in ("Vc", "CL", "Q2", "V2", "fu", "ke0")},
    "routes.human.oral.pathway.0.F.value": PARAM_VALUE,
    "routes.human.oral.pathway.0.ka.value": PARAM_VALUE,
    "composition.glun2b_x.value": PARAM_VALUE,
    "analytes.glun2b_x.targets.nmdar.K.value": PARAM_VALUE,
    f"{PK}.reference_weight_kg": PARAM_VALUE,
    f"{PK}.params.Vc.unit": _name(["mL", "L/kg"], ["kg", "h", "", "[/]"]),
    "routes.human.iv.infusion": ANY.filter(lambda v: not isinstance(v, bool)).map(Bad),
    "placebo": ANY.filter(lambda v: not isinstance(v, bool)).map(Bad),
    "analytes": ANY.filter(lambda v: not isinstance(v, dict)).map(Bad),
    "routes": ANY.map(Bad),
    "name": _name([], ["[/]", "has space", "ketamine", ""]),
    f"{PK}.structure": _name([], ["tubular", "[/]"]),
    "formula": _name([], ["C13H16ClNOX", "[/]", "c13"]),
}


def _drug_property(case: Case, command: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "d.toml").write_text(_toml(case.data))
        (root / "s.toml").write_text(_toml(DRUG_SCENARIO))
        before = tree(root)
        if command == "run":
            out, expected = root / "out", RUN_FILES
            call = invoke(["run", str(root / "s.toml"), "--out", str(out)])
        else:
            out, expected = root / "m.xml", None
            call = invoke(["export", "sbml", str(root / "s.toml"), "--out", str(out)])
        _expect(case, check_call(call, root, before, out, expected), "drug files", call)


DRUGS = mutated(DRUG_BASE, DRUG_HOSTILE, DRUG_VALID)


@SMOKE
@given(DRUGS, st.sampled_from(["run", "export sbml"]))
def test_drug_files_smoke(case, command):
    _drug_property(case, command)


@pytest.mark.slow
@settings(FULL, max_examples=60)
@given(DRUGS, st.sampled_from(["run", "export sbml"]))
def test_drug_files(case, command):
    _drug_property(case, command)


# -- flags ----------------------------------------------------------------------------------------
@st.composite
def flag_cases(draw) -> tuple[list[str], Case]:
    """``explain``/``simulate``/``trial`` with generated flag values (and unknown flags)."""
    command = draw(st.sampled_from(["explain", "explain", "simulate", "trial"]))
    case = Case({})
    flags: list[str] = []

    def flag(name: str, valid: list[str], hostile: st.SearchStrategy) -> None:
        if draw(st.sampled_from([False] * 3 + [True])):
            v = draw(hostile)
            case.mutated.append(name)
            if isinstance(v, Bad):
                case.sure_bad, v = True, v.value
            flags.extend([name, str(v)])
        else:
            flags.extend([name, draw(st.sampled_from(valid))])

    text = st.one_of(TIME, DOSE, st.text(max_size=6), st.sampled_from(MARKUP))
    if command == "trial":
        flag("--chunk", ["0", "1", "50"], st.one_of(
            st.integers(-2, 2000).map(str), st.sampled_from(["abc", "1e9", "1.5", ""]).map(Bad),
            st.just(str(2**70)).map(Bad)))
        flag("--workers", ["0", "1"], st.sampled_from(["-1", "abc", str(2**70), "2000"]).map(Bad))
        flags += ["--executor", "serial"]
    else:
        flag("--drug", ["ketamine"], _name(["esketamine"], ["[/]", "nope"]))
        flag("--dose", ["0.5 mg/kg", "35 mg"], st.one_of(DOSE, text))
        flag("--route", ["iv"], _name(["oral"], ["[/]", "rectal"]))
        flag("--species", ["human"], _name(["rat"], ["dog", "[/]"]))
    if command == "simulate":
        flag("--end", ["1 h", "2 h"], st.one_of(TIME, text))
        flag("--every", ["20 min", "30 min"], st.one_of(TIME, text))
        flag("--weight", ["70 kg", "80 kg"], st.one_of(WEIGHT.map(
            lambda v: v if isinstance(v, Bad) else str(v)), text))
    if draw(st.sampled_from([False] * 9 + [True])):
        flags.append(draw(st.sampled_from(["--bogus", "--out", "--depth=x", "-x"])))
        case.sure_bad = True
        case.mutated.append("usage")
    return [command, *flags], case


def _flags_property(args: list[str], case: Case) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "t.toml").write_text(_toml(TRIAL_BASE))
        out = root / "out"
        argv = {"explain": ["explain", "signal.mtorc1"], "simulate": ["simulate", "--out",
                                                                     str(out)],
                "trial": ["trial", str(root / "t.toml"), "--out", str(out)]}[args[0]]
        before = tree(root)
        call = invoke([*argv, *args[1:]])
        expected = {"explain": None, "simulate": RUN_FILES, "trial": TRIAL_FILES}[args[0]]
        kind = check_call(call, root, before, None if args[0] == "explain" else out, expected)
        assert kind != "ok" or args[0] != "explain" or "signal.mtorc1" in call.output
        _expect(case, kind, "flags", call)


@SMOKE
@given(flag_cases())
def test_flags_smoke(case):
    _flags_property(*case)


@pytest.mark.slow
@settings(FULL, max_examples=50)
@given(flag_cases())
def test_flags(case):
    _flags_property(*case)


# -- paths ----------------------------------------------------------------------------------------
TAKEN = {".", "..", "s.toml", "f.txt", "link", "dangling", "target", "nowhere", "work"}
NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
               min_size=1, max_size=12).filter(lambda s: s not in TAKEN)
OUT_KINDS = {  # kind -> (sure to fail, needs --overwrite to succeed)
    "new": (False, False), "nested new": (False, False), "empty dir": (False, False),
    "raadsim dir": (False, False), "foreign dir": (True, False),
    "foreign dir --overwrite": (False, True), "file": (True, False),
    "input file": (True, False), "symlink": (True, False), "dangling symlink": (True, False),
    "under a file": (True, False), "long name": (True, False), ".": (True, False),
    "": (True, False), "..": (True, False), "nul": (True, False),
}
SOURCE_KINDS = ["valid", "valid", "valid", "directory", "missing", "device", "markup name"]


def _place_out(kind: str, root: Path, name: str) -> Path | str:
    """Make the ``--out`` of ``kind`` in sandbox ``root``."""
    work = root / "work"
    if kind in ("new", "foreign dir --overwrite", "foreign dir", "empty dir", "raadsim dir"):
        out = root / name
        if kind != "new":
            out.mkdir(exist_ok=True)
        if kind.startswith("foreign"):
            (out / "notes.txt").write_text("mine")
        if kind == "raadsim dir":
            (out / MARKER).write_text(json.dumps({"written_by": "raadsim", "files": ["old"]}))
            (out / "old").write_text("from an earlier run")
        return out
    table = {"nested new": root / name / "a" / "b", "file": root / "f.txt",
             "input file": root / "s.toml", "symlink": root / "link",
             "dangling symlink": root / "dangling", "under a file": root / "f.txt" / name,
             "long name": root / ("n" * 250), ".": ".", "": "", "..": "..",
             "nul": str(root / "a\x00b")}
    (root / "f.txt").write_text("precious")
    (root / "target").mkdir(exist_ok=True)
    (root / "link").symlink_to(root / "target")
    (root / "dangling").symlink_to(root / "nowhere")
    work.mkdir(exist_ok=True)
    return table[kind]


def _paths_property(kind: str, source: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "s.toml").write_text(SCENARIO)
        out = _place_out(kind, root, name)
        scenario = {"valid": root / "s.toml", "directory": root, "missing": root / "no.toml",
                    "device": Path("/dev/null"), "markup name": root / "[/].toml"}[source]
        sure_bad = OUT_KINDS[kind][0] or source not in ("valid",)
        args = ["run", str(scenario), "--out", str(out)]
        if OUT_KINDS[kind][1]:
            args.append("--overwrite")
        cwd = os.getcwd()
        os.chdir(root / "work" if (root / "work").exists() else root)
        try:
            before = tree(root)
            target = Path(os.path.abspath(out)) if isinstance(out, str) else out
            own = own_paths(target) if target.is_dir() and not target.is_symlink() else None
            call = invoke(args)
            result = check_call(call, root, before, target, RUN_FILES, own or set())
        finally:
            os.chdir(cwd)
        _record("paths", result, call)
        assert (result != "ok") == sure_bad, (kind, source, call.output)
        if kind.startswith("foreign") and isinstance(out, Path):
            assert (out / "notes.txt").read_text() == "mine"


PATHS = st.tuples(st.sampled_from(sorted(OUT_KINDS)), st.sampled_from(SOURCE_KINDS), NAME)


@SMOKE
@given(PATHS)
def test_paths_smoke(case):
    _paths_property(*case)


@pytest.mark.slow
@settings(FULL, max_examples=60)
@given(PATHS)
def test_paths(case):
    _paths_property(*case)
