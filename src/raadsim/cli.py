"""Command-line interface: ``raadsim run | simulate | trial | validate | calibrate | export |
data | sensitivity | drugs | demo | explain | diagram``.

Every problem a user can cause ends in one line on stderr and exit code 2, never a
traceback: bad input (an :class:`~raadsim.errors.InputError` naming the field), a model that
cannot be built or integrated, an OS error on a path, and usage errors of the flags. User text
is printed as text, never parsed as rich markup. Ctrl-C exits with 130 and SIGTERM with 143,
both with nothing written and no worker process left. Outputs follow
:mod:`raadsim.io.outputs`: nothing raadsim did not write is replaced unless ``--overwrite``.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from .errors import InputError, ModelError, one_line

# The click that typer runs on: vendored as typer._click since typer 0.2x, click before.
_click: Any = getattr(typer.core, "_click", None) or __import__("click")
_NoArgsIsHelp = getattr(_click.exceptions, "NoArgsIsHelpError", ())


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (a KeyboardInterrupt stops the worker pools)."""


_SIGNALLED = {"terminated": False, "reported": False}


def _raise_terminated(signum: int, frame: object) -> None:
    _SIGNALLED["terminated"] = True
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _OneLineErrors(TyperGroup):
    """The root command: usage errors as one line (exit 2); SIGTERM like Ctrl-C."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            with _sigterm_as_interrupt():
                code = super().main(args, prog_name, complete_var, standalone_mode=False,
                                    **extra)
        except _NoArgsIsHelp as exc:  # `raadsim` or `raadsim export`: the help
            console.print(exc.format_message(), markup=False, highlight=False)
            code = exc.exit_code
        except _click.ClickException as exc:
            err_console.print(Text.assemble(("error: ", "bold red"), _usage_line(exc)),
                              soft_wrap=True)
            code = exc.exit_code
        except typer.Abort:
            err_console.print("aborted", markup=False)
            code = 130
        code = code if isinstance(code, int) else 0
        if _SIGNALLED["terminated"] and code in (130, 143):
            # SIGTERM outside a command's own handling (its imports, argument parsing):
            # typer turns the interrupt into exit 130 without a word
            if not _SIGNALLED["reported"]:
                err_console.print("terminated", markup=False)
            code = 143
        if not standalone_mode:
            return code
        sys.exit(code)


def _usage_line(exc: Any) -> str:
    """``raadsim run: No such option: --bogus (see raadsim run --help)``."""
    ctx = getattr(exc, "ctx", None)
    command = " ".join(["raadsim", *ctx.command_path.split()[1:]]) if ctx else "raadsim"
    return one_line(f"{command}: {exc.format_message()} (see {command} --help)")


app = typer.Typer(cls=_OneLineErrors, add_completion=False, no_args_is_help=True,
                  help="raadsim: multiscale simulation of rapid-acting antidepressants.")
console = Console()
err_console = Console(stderr=True)

# A flag takes no value, so typer's help shows no type for it (typer 0.2x prints <bool>).
_display_type = typer.core.TyperOption.display_type_rich


def _flag_without_type(self: Any, ctx: Any) -> str | None:
    return None if getattr(self, "is_flag", False) else _display_type(self, ctx)


typer.core.TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign]


def _summary_line(*, help_text: str, markup_mode: Any) -> Any:
    """A command's summary in the command list: its first paragraph as one line (typer's
    rich mode keeps the docstring's line breaks there)."""
    import inspect

    first = inspect.cleandoc(help_text).split("\n\n")[0].replace("\n", " ")
    return _command_help(help_text=first, markup_mode=markup_mode)


with contextlib.suppress(ImportError, AttributeError):
    import typer.rich_utils

    _command_help = typer.rich_utils._make_command_help
    typer.rich_utils._make_command_help = _summary_line


def _print_version(value: bool) -> None:
    if value:
        from ._version import __version__

        console.print(f"raadsim {__version__}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version,
                                       is_eager=True, help="print the version and exit")
          ) -> None:
    """raadsim: multiscale simulation of rapid-acting antidepressants."""

OVERWRITE_HELP = ("write into an existing directory (or over a file) that raadsim did not "
                  "write; only the files raadsim writes are replaced, never others")


def _overwrite_option() -> Any:
    return typer.Option(False, "--overwrite", help=OVERWRITE_HELP)


def _say(text: str) -> None:
    """Print a line that contains user text (paths, names) as plain text."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _cells(*values: object) -> list[str]:
    """Table cells: user and data text escaped, so that ``[/]`` is shown, not parsed."""
    return [escape(str(v)) for v in values]


def _fail(exc: BaseException) -> None:
    err_console.print(Text.assemble(("error: ", "bold red"), one_line(str(exc))),
                      soft_wrap=True)
    raise typer.Exit(code=2)


@contextlib.contextmanager
def _reported(interrupted: str = "interrupted: no output written") -> Iterator[None]:
    """Bad input, a model failure or an OS error → one line and exit 2; Ctrl-C → a message
    and exit 130; SIGTERM → the same message and exit 143."""
    try:
        yield
    except (InputError, ModelError) as exc:
        _fail(exc)
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "a file"
        _fail(InputError(str(where), "(path)", f"a path raadsim can read or write "
                         f"({exc.strerror or type(exc).__name__})"))
    except Terminated:
        _SIGNALLED["reported"] = True
        err_console.print(f"terminated: {interrupted.split(': ', 1)[-1]}", markup=False)
        raise typer.Exit(code=143) from None
    except KeyboardInterrupt:
        err_console.print(interrupted, markup=False)
        raise typer.Exit(code=130) from None


@contextlib.contextmanager
def _writing(out: Path, kind: Literal["dir", "file"], overwrite: bool,
             inputs: Sequence[Path] = ()) -> Iterator[None]:
    """Check ``--out`` before any computation, then write the block's outputs under the
    command's output policy (``--overwrite``, the inputs that must stay untouched)."""
    from .io.outputs import OutputPolicy, check_output, output_policy

    ctx = _click.globals.get_current_context(silent=True)
    command = " ".join(["raadsim", *ctx.command_path.split()[1:]]) if ctx else "raadsim"
    arguments = tuple((k, str(v)) for k, v in (ctx.params.items() if ctx else ()))
    policy = OutputPolicy(overwrite, command, arguments, tuple(Path(p) for p in inputs))
    check_output(out, kind, policy)
    with output_policy(policy):
        yield


# A Dask scheduler address: 'local', or [scheme://]host:port.
_DASK_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)"
                           r":(?P<port>\d{1,5})$")


def _check_executor(executor: str, dask: str) -> str:
    from .simulate.executors import EXECUTORS

    executor = "dask" if dask else executor
    if executor not in EXECUTORS:
        raise InputError("--executor", executor, f"one of {', '.join(EXECUTORS)}")
    if dask and dask != "local":
        m = _DASK_ADDRESS.match(dask)
        if not m or not 1 <= int(m.group("port")) <= 65535:
            raise InputError("--dask", dask, "'local' or a scheduler address with a port "
                             "from 1 to 65535, such as tcp://host:8786")
    return executor


def _check_listen(host: str, port: int) -> None:
    """``--host`` names an address of this machine and ``port`` is free on it."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise InputError("--host", host, f"an address to listen on such as 127.0.0.1 "
                         f"({getattr(exc, 'strerror', None) or exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise InputError("--port", port, f"a port free on {host} "
                             f"({exc.strerror or exc})") from None


@contextlib.contextmanager
def _quiet_solver(out: Path | None) -> Iterator[None]:
    """What the solver and libraries print meanwhile goes to ``out/warnings.log`` (a file in
    the temporary folder without ``out`` or if the block fails), counted in one line."""
    from .console import caught_messages, write_messages

    messages = None
    try:
        with caught_messages() as messages:
            yield
    except Exception:
        line = write_messages(messages, None) if messages is not None else None
        if line:
            err_console.print(line, markup=False, highlight=False, soft_wrap=True)
        raise
    line = write_messages(messages, out)
    if line:
        _say(line)


def _progress(description: str, total: float | None = None):
    """A progress bar on a terminal (stdout), nothing in pipes and CI: yields
    ``update(done, total=None)``."""
    from .console import progress

    return progress(console, description, total)


def _workers_option() -> Any:
    return typer.Option(0, min=0, max=1024, help="worker processes (0 = all cores)")


# -- scenarios from flags ------------------------------------------------------------------------
# The scenario keys the flags of `simulate`, `explain` and `diagram` set, to name in errors.
_FLAG_OF = {"dose[0].drug": "--drug", "dose[0].amount": "--dose", "dose[0].route": "--route",
            "dose[0].infusion": "--infusion", "simulation.end": "--end",
            "simulation.output_every": "--every", "subject.species": "--species",
            "subject.weight_kg": "--weight", "subject": "--species", "dose[0]": "--drug",
            "subject.condition": "--condition", "subject.age_years": "--age",
            "subject.ancestry": "--ancestry", "dose[0].at": "--at",
            "simulation.observables": "--observable", "dose[0].repeat.every": "--repeat-every",
            "dose[0].repeat.count": "--repeat-count"}


def _perturbation_entry(text: str) -> dict[str, Any]:
    """``NAME``, ``NAME@TIME`` or ``NAME:GENOTYPE`` (``--perturbation``) as a scenario entry."""
    entry: dict[str, Any] = {}
    rest, _, genotype = text.partition(":")
    name, _, at = rest.partition("@")
    entry["name"] = name.strip()
    if at.strip():
        entry["at"] = at.strip()
    if genotype.strip():
        entry["genotype"] = genotype.strip()
    return entry


def _scenario_from_flags(drug: str, dose: str, route: str, species: str, *,
                         infusion: str | None = None, end: str | None = None,
                         every: str | None = None, weight: str | None = None,
                         condition: str | None = None, at: str | None = None,
                         repeat_every: str | None = None, repeat_count: int | None = None,
                         perturbation: Sequence[str] = (), age: float | None = None,
                         ancestry: str | None = None, observable: Sequence[str] = ()):
    """The one-dose scenario of the flags, checked as `run` checks a file; errors name the
    flag. The condition defaults to TRD for humans (as in `raadsim demo`), healthy for the
    other species."""
    from .io.scenario import check_scenario, scenario_from_dict

    d: dict[str, Any] = {"drug": drug, "amount": dose, "route": route}
    if infusion:
        d["infusion"] = infusion
    if at:
        d["at"] = at
    if (repeat_every is None) != (repeat_count is None):
        raise InputError("--repeat-every" if repeat_every is None else "--repeat-count", None,
                         "--repeat-every and --repeat-count together (e.g. --repeat-every "
                         "'3.5 d' --repeat-count 8)")
    if repeat_every is not None:
        d["repeat"] = {"every": repeat_every, "count": repeat_count}
    subject: dict[str, Any] = {"species": species, "condition": condition or (
        "trd" if species == "human" else "healthy")}
    if weight:
        subject["weight_kg"] = weight
    if age is not None:
        subject["age_years"] = age
    if ancestry:
        subject["ancestry"] = ancestry
    simulation: dict[str, Any] = {k: v for k, v in (("end", end), ("output_every", every))
                                  if v is not None}
    if observable:
        simulation["observables"] = list(observable)
    raw = {"subject": subject, "dose": [d], "simulation": simulation,
           "perturbation": [_perturbation_entry(p) for p in perturbation]}
    try:
        sc = scenario_from_dict(raw)
        return sc, check_scenario(sc)
    except InputError as exc:
        raise InputError(_flag_of(exc.field), exc.value, exc.accepted) from None


def _flag_of(field: str) -> str:
    """The flag that sets scenario key ``field`` (the key itself if no flag does)."""
    if field in _FLAG_OF:
        return _FLAG_OF[field]
    m = re.match(r"perturbation\[(\d+)\]", field)
    if m:
        return f"--perturbation (#{int(m.group(1)) + 1})"
    if field.startswith("dose[0].repeat"):
        return "--repeat-every/--repeat-count"
    return field


def _load(scenario: Path):
    """A scenario file, checked, with the files it reads (itself and its drug files)."""
    from .io.scenario import load_scenario

    sc = load_scenario(scenario)
    return sc, sc.catalogue(), [scenario, *sc.drug_file_paths(scenario.parent)]


@app.command()
def run(scenario: Path = typer.Argument(..., help="scenario TOML file"),
        out: Path = typer.Option(..., "--out", help="output directory"),
        engine: str = typer.Option("roadrunner", help="roadrunner or scipy"),
        overwrite: bool = _overwrite_option()) -> None:
    """Simulate a scenario file; write timecourse.csv, summary.json and figure.png to OUT."""
    from .console import print_key_values
    from .report.artifacts import write_run
    from .simulate.run import simulate

    with _reported():
        if engine not in ("roadrunner", "scipy"):
            raise InputError("--engine", engine, "roadrunner or scipy")
        sc, cat, inputs = _load(scenario)
        with _writing(out, "dir", overwrite, inputs), _quiet_solver(out):
            result = simulate(sc, cat, engine=engine)  # type: ignore[arg-type]
            write_run(result, out, base_dir=scenario.parent, cat=cat)
    print_key_values(console, result, sc)
    _say(f"wrote {out}/timecourse.csv, summary.json, figure.png, scenario.json")


@app.command("simulate")
def simulate_cmd(
    drug: str = typer.Option(..., help="drug name (see `raadsim drugs`)"),
    dose: str = typer.Option(..., help="amount, e.g. '0.5 mg/kg' or '84 mg'"),
    route: str = typer.Option(..., help="iv, intranasal, oral, im, ip, sc, sublingual"),
    out: Path = typer.Option(..., "--out", help="output directory"),
    infusion: str | None = typer.Option(None, help="IV infusion duration, e.g. '40 min'"),
    at: str | None = typer.Option(None, help="time of the (first) dose, e.g. '0 h'"),
    repeat_every: str | None = typer.Option(None, help="repeat the dose this often, e.g. "
                                            "'3.5 d' (with --repeat-count)"),
    repeat_count: int | None = typer.Option(None, min=1, help="number of doses in all "
                                            "(with --repeat-every)"),
    end: str = typer.Option("7 d", help="simulation end, e.g. '7 d'"),
    every: str = typer.Option("10 min", help="output interval"),
    species: str = typer.Option("human", help="human, rat or mouse"),
    weight: str | None = typer.Option(None, help="body weight, e.g. '70 kg' (default: 70 kg "
                                      "human, 0.3 kg rat, 0.025 kg mouse)"),
    condition: str | None = typer.Option(None, help="healthy, mdd, trd, bipolar_depression "
                                         "or chronic_stress (default: trd for humans, as in "
                                         "`raadsim demo`; healthy for rodents)"),
    age: float | None = typer.Option(None, help="age in years, 18-100 (default: an adult of "
                                     "60 or younger)"),
    ancestry: str | None = typer.Option(None, help="not_asian (default), asian or japanese"),
    perturbation: list[str] = typer.Option([], "--perturbation", help="NAME, NAME@TIME or "
                                           "NAME:GENOTYPE (repeat), e.g. 'rapamycin@-1 h', "
                                           "'bdnf_val66met:met/met'"),
    observable: list[str] = typer.Option([], "--observable", help="only these observables "
                                         "(repeat; default: all)"),
    overwrite: bool = _overwrite_option(),
) -> None:
    """Simulate a dose given by flags, with the options of a scenario file (same outputs
    as `run`); prints the subject used and the key values."""
    from .console import print_key_values
    from .report.artifacts import write_run
    from .simulate.run import simulate

    with _reported():
        sc, cat = _scenario_from_flags(
            drug, dose, route, species, infusion=infusion, end=end, every=every,
            weight=weight, condition=condition, at=at, repeat_every=repeat_every,
            repeat_count=repeat_count, perturbation=perturbation, age=age,
            ancestry=ancestry, observable=observable)
        with _writing(out, "dir", overwrite), _quiet_solver(out):
            result = simulate(sc, cat)
            write_run(result, out, cat=cat)
    print_key_values(console, result, sc)
    _say(f"wrote {out}/timecourse.csv, summary.json, figure.png, scenario.json")


@app.command()
def drugs() -> None:
    """List drugs, their routes per species and the sources of their parameters."""
    from .drugs.catalogue import builtin
    from .provenance import sources

    cat = builtin()
    table = Table(title="raadsim drugs", show_lines=True)
    for col in ("drug", "analytes", "routes by species", "parameter sources"):
        table.add_column(col, overflow="fold")
    bib = sources()
    for name, d in sorted(cat.drugs.items()):
        analytes = []
        for an in d.composition:
            analytes += [an, *[m for m in cat.metabolites_of(an, "human") if m not in analytes]]
        routes = "\n".join(f"{sp}: {', '.join(sorted(r))}" for sp, r in d.routes.items())
        srcs: dict[str, int] = {}
        params = [p for an in analytes for sp in cat.analytes[an].pk.values()
                  for p in sp.params.values()]
        params += [p for an in analytes for t in cat.analytes[an].targets.values()
                   for p in t.params.values()]
        params += [p for rs in d.routes.values() for r in rs.values() for pw in r.pathways
                   for p in (pw.F, pw.ka, pw.duration) if p is not None]
        for p in params:
            key = p.provenance.source or p.provenance.kind
            if p.provenance.kind == "fitted":
                key = "fitted"
            srcs[key] = srcs.get(key, 0) + 1
        lines = [f"{bib[k].citation.split('(')[0].strip()[:40]} ({k}) ×{n}" if k in bib
                 else f"{k} ×{n}" for k, n in sorted(srcs.items(), key=lambda kv: -kv[1])]
        table.add_row(f"{escape(name)}\n[dim]{escape(d.label)}[/]",
                      *_cells(", ".join(analytes) or "—", routes, "\n".join(lines) or "—"))
    console.print(table)


@app.command()
def demo(out: Path = typer.Option(Path("raadsim-demo"), "--out", help="output directory"),
         overwrite: bool = _overwrite_option()) -> None:
    """Simulate the flagship scenarios; print a summary; write CSV, figures and HTML."""
    from .report.demo import run_demo, summary_row

    with _reported(), _writing(out, "dir", overwrite), _quiet_solver(out):
        results = run_demo(out)
    table = Table(title="raadsim demo — typical 70 kg adult")
    rows = [summary_row(n, r) for n, r in results.items()]
    for col in rows[0]:
        table.add_column(col)
    for r in rows:
        table.add_row(*_cells(*r.values()))
    console.print(table)
    _say(f"wrote {out}/index.html, figures (*.png), time courses (*.csv)")


def _spec_for(scenario: Path | None, drug: str, dose: str, route: str, species: str):
    """The model of a scenario file, or of the one-dose scenario of the flags."""
    from .model.build import build_model

    if scenario is not None:
        sc, cat, _ = _load(scenario)
    else:
        sc, cat = _scenario_from_flags(drug, dose, route, species, condition="healthy")
    return build_model(sc, cat)


@app.command()
def explain(
    observable: str | None = typer.Argument(None, help="e.g. signal.mtorc1 or occupancy.nmdar"),
    layer: str | None = typer.Option(None, help="print one layer file instead: equations and "
                                     "parameters (pk, targets, network, ..., cardiovascular)"),
    scenario: Path | None = typer.Option(None, help="scenario file (default: ketamine IV)"),
    drug: str = typer.Option("ketamine", help="drug of the default scenario"),
    dose: str = typer.Option("0.5 mg/kg", help="dose of the default scenario"),
    route: str = typer.Option("iv", help="route of the default scenario"),
    species: str = typer.Option("human", help="species of the default scenario"),
    depth: int = typer.Option(2, min=0, max=20, help="how many levels of inputs to expand"),
) -> None:
    """Print the equations that govern an observable (or a whole layer), with parameters,
    units, sources and the file and line each is written in."""
    from .model.explain import explain as explain_text

    with _reported():
        if layer is not None:
            from .model.layer import ALIASES, LAYERS
            from .model.layer_docs import layer_text

            if ALIASES.get(layer, layer) not in LAYERS:
                raise InputError("--layer", layer, f"one of {', '.join(LAYERS)}")
            text = layer_text(layer)
        elif observable is None:
            raise InputError("observable", None, "an observable such as signal.mtorc1 (or "
                             "--layer NAME)")
        else:
            spec = _spec_for(scenario, drug, dose, route, species)
            text = explain_text(spec, observable, depth=depth)
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def _check_figure_format(out: Path) -> None:
    """``out`` ends in a format matplotlib writes (checked before anything is drawn)."""
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if out.suffix.lower().lstrip(".") not in formats:
        raise InputError("--out", str(out), "a file name ending in a figure format: "
                         + ", ".join(f".{f}" for f in sorted(formats)))


@app.command()
def diagram(
    out: Path = typer.Option(Path("mechanism.png"), "--out", help="figure file to write "
                             "(.png, .pdf, .svg, ...)"),
    scenario: Path | None = typer.Option(None, help="scenario file (default: ketamine IV)"),
    drug: str = typer.Option("ketamine", help="drug of the default scenario"),
    dose: str = typer.Option("0.5 mg/kg", help="dose of the default scenario"),
    route: str = typer.Option("iv", help="route of the default scenario"),
    species: str = typer.Option("human", help="species of the default scenario"),
    overwrite: bool = _overwrite_option(),
) -> None:
    """Draw the mechanism (layers, nodes, arrows) generated from the model itself."""
    from .io.outputs import atomic_file
    from .report.diagram import draw_mechanism

    with _reported():
        _check_figure_format(out)
        with _writing(out, "file", overwrite, [scenario] if scenario else []):
            spec = _spec_for(scenario, drug, dose, route, species)
            with atomic_file(out) as tmp:
                draw_mechanism(spec, tmp)
    _say(f"wrote {out}")


@app.command()
def trial(
    trial_file: Path = typer.Argument(..., help="trial TOML file"),
    out: Path = typer.Option(..., "--out", help="output directory"),
    executor: str = typer.Option("processes", help="serial, processes or dask"),
    workers: int = _workers_option(),
    chunk: int = typer.Option(0, min=0, max=1_000_000,
                              help="patients per chunk (0 = automatic, 100-1000)"),
    dask: str = typer.Option("", "--dask", help="'local' or a scheduler address "
                             "(tcp://host:8786); implies --executor dask"),
    keep_trajectories: bool = typer.Option(False, help="also keep per-patient trajectories "
                                           "(memory grows with n)"),
    overwrite: bool = _overwrite_option(),
) -> None:
    """Run a virtual trial; write trial.json, patients.parquet, timecourse.csv, figure.png."""
    from .io.trial_file import load_trial
    from .report.artifacts import write_trial
    from .simulate.trial import run_trial

    with _reported():
        executor = _check_executor(executor, dask)
        tf = load_trial(trial_file)
        cat = tf.catalogue()
        inputs = [trial_file, *tf.drug_file_paths(trial_file.parent)]
        with _writing(out, "dir", overwrite, inputs), _quiet_solver(out):
            _say(f"trial context: {tf.trial.context.resolved().describe()}")
            with _progress("patients", tf.population.n * len(tf.trial.arm)) as update:
                result = run_trial(tf, cat, executor=executor, workers=workers or None,
                                   chunk_size=chunk or None, dask_address=dask or None,
                                   keep_trajectories=keep_trajectories, on_chunk=update)
            write_trial(result, out, base_dir=trial_file.parent)
    _print_endpoints(result.summary, tf.population.n)
    _say(f"wrote {out}/trial.json, patients.parquet, timecourse.csv, figure.png, "
         "trial_file.json")


def _print_endpoints(summary: dict, n: int) -> None:
    """The per-arm endpoints of a trial, with their 95 % CIs, as rich tables."""
    from .report.trial_report import ENDPOINT_HEAD, RELAPSE_HEAD, endpoint_rows, relapse_rows

    shown = ("arm", "visit", "mean change [95 % CI]", "response [95 % CI]",
             "remission [95 % CI]")
    keep = [ENDPOINT_HEAD.index(c) for c in shown]
    endpoints = [[row[i] for i in keep] for row in endpoint_rows(summary)]
    for title, head, rows in (
            (f"trial endpoints, {n} virtual patients per arm (95 % CIs: Monte-Carlo "
             "uncertainty; all columns in trial.json and raadsim report)", shown, endpoints),
            ("relapse after the last dose", RELAPSE_HEAD, relapse_rows(summary))):
        if not rows:
            continue
        table = Table(title=escape(title))
        for col in head:
            table.add_column(escape(col), overflow="fold")
        for row in rows:
            table.add_row(*_cells(*row))
        console.print(table)


@app.command()
def validate(
    out: Path = typer.Option(Path("raadsim-validation"), "--out", help="output directory"),
    kind: str | None = typer.Option(None, help="calibration or validation"),
    layer: str | None = typer.Option(None, help="pk, targets, network, signalling, synapse, "
                                     "clinic or behaviour"),
    drug: str | None = typer.Option(None, help="only records of this drug"),
    executor: str = typer.Option("processes", help="serial, processes or dask"),
    workers: int = _workers_option(),
    dask: str = typer.Option("", "--dask", help="a scheduler address; implies --executor dask"),
    overwrite: bool = _overwrite_option(),
    hypotheses: str = typer.Option("", "--hypotheses", help="compare hypothesis variants: "
                                   "'all' or question=variant,... (each variant runs the "
                                   "records it can change)"),
) -> None:
    """Run the evidence records; print the scorecard and write scorecard.json/.md/.html.

    Exits 0 whatever the pass rate (a failing record is a finding, not an error)."""
    from .console import print_scorecard_summary
    from .evidence import hypothesis_compare
    from .evidence.records import load_records, select
    from .evidence.runner import run_records
    from .evidence.scorecard import scorecard, write_scorecard

    with _reported():
        executor = _check_executor(executor, dask)
        choices = hypothesis_compare.parse_choice(hypotheses) if hypotheses else {}
        records = select(load_records(), kind=kind, layer=layer, drug=drug)
        if not records:
            raise InputError("filters", {"kind": kind, "layer": layer, "drug": drug},
                             "a combination that selects at least one record")
        with _writing(out, "dir", overwrite), _quiet_solver(out):
            with _progress(f"{len(records)} records: simulations") as update:
                outcomes = run_records(records, executor=executor, workers=workers or None,
                                       address=dask or None, on_step=update)
            card = scorecard(outcomes, {"kind": kind, "layer": layer, "drug": drug})
            if choices:
                with console.status("comparing hypothesis variants"):
                    card["hypotheses"] = hypothesis_compare.compare(
                        records, choices, outcomes, executor=executor,
                        workers=workers or None, address=dask or None)
            write_scorecard(card, out)
    print_scorecard_summary(console, card, out)
    for q in card.get("hypotheses", {}).get("questions", []):
        _say(f"{q['question']} (default {q['default']}): " + "; ".join(
            f"{vn} {s['relevant_passed']}/{s['relevant_records']}"
            for vn, s in q["by_variant"].items())
            + f"; {sum(r['discriminating'] for r in q['records'])} discriminating records")


@app.command()
def calibrate(
    problem: list[str] = typer.Option([], "--problem", help="a calibration problem (repeat "
                                      "for several; default: all fast problems)"),
    write: bool = typer.Option(False, "--write", help="store the fitted values in the data "
                               "files (a source checkout) with the ids of their records"),
    maxiter: int = typer.Option(150, min=1, max=100_000,
                                help="generations of the clinic fit (differential evolution)"),
    engine: str = typer.Option("raadsim", help="raadsim (the documented procedures) or "
                               "pypesto (multi-start + profiles on the PEtab problem)"),
    starts: int = typer.Option(10, min=1, max=100_000, help="pypesto: number of starts"),
    profiles: bool = typer.Option(True, help="pypesto: compute profile likelihoods"),
    out: Path = typer.Option(Path("raadsim-calibration"), "--out",
                             help="pypesto: output directory"),
    workers: int = typer.Option(0, min=0, max=1024, help="pypesto: worker processes for the "
                                "starts and the profiles (0 = all cores, 1 = no subprocesses)"),
    overwrite: bool = _overwrite_option(),
) -> None:
    """Fit parameters to the calibration records and compare them with the stored values.

    Problems run in order (PK, occupancy, intensity, then the slow 'clinic'); validation
    records are never read. See raadsim.evidence.calibrate for each procedure. With
    ``--engine pypesto`` the PEtab problem (see `raadsim export petab`) is fitted by pyPESTO
    and written to OUT (petab/, result.hdf5, fit.json, waterfall.png, profiles.png)."""
    from .console import unit_text
    from .evidence.calibrate import (
        PROBLEMS,
        reload_data,
        run_problem,
        stored,
        stored_units,
        write_back,
        write_fit_summary,
    )

    if engine not in ("raadsim", "pypesto"):
        with _reported():
            raise InputError("--engine", engine, "raadsim or pypesto")
    if engine == "pypesto":
        _calibrate_pypesto(starts, profiles, out, workers, overwrite)
        return
    with _reported("interrupted: problems finished before this one were already written"
                   if write else "interrupted: nothing written"):
        chosen = [p for p in PROBLEMS if p.id in problem] if problem else [
            p for p in PROBLEMS if not p.slow]
        unknown = sorted(set(problem) - {p.id for p in PROBLEMS})
        if unknown:
            raise InputError("--problem", unknown[0], ", ".join(p.id for p in PROBLEMS))
        table = Table(title="calibration (values in the unit each data file stores)")
        for col in ("problem", "parameter", "unit", "stored", "fitted", "change (%)"):
            table.add_column(col)
        with _quiet_solver(None), _progress("calibration problems", len(chosen)) as update:
            for i, p in enumerate(chosen):
                console.print(f"[bold]{escape(p.id)}[/]: {escape(p.description)} — fitted to "
                              f"{escape(', '.join(p.records))}")
                kwargs = {"maxiter": maxiter, "log": _say} if p.slow else {}
                before, units = stored(p), stored_units(p)
                values = run_problem(p, **kwargs)
                for name, v in values.items():
                    table.add_row(*_cells(p.id, name, unit_text(units[name]),
                                          f"{before[name]:.6g}", f"{v:.6g}",
                                          f"{100 * (v / before[name] - 1):+.3f}"))
                if write:
                    write_back(p, values)
                    reload_data()
                    if p.slow:
                        write_fit_summary(p)
                update(i + 1)
    console.print(table)
    _say("written to the data files" if write else "not written (use --write)")


def _calibrate_pypesto(starts: int, profiles: bool, out: Path, workers: int = 0,
                       overwrite: bool = False) -> None:
    import os
    import time

    from .evidence.petab_problem import write_petab
    from .evidence.pypesto_fit import fit, write_fit
    from .io.outputs import atomic_dir

    t0 = time.perf_counter()
    with _reported(), _writing(out, "dir", overwrite), _quiet_solver(out), \
            atomic_dir(out) as tmp:
        write_petab(tmp / "petab")
        result, summary = fit(tmp / "petab" / "problem.yaml", n_starts=starts,
                              profiles=profiles, log=_say,
                              workers=workers or os.cpu_count() or 1)
        write_fit(result, summary, tmp)
    from .console import unit_text
    from .evidence.petab_problem import parameter_units

    units = parameter_units()
    table = Table(title="pyPESTO fit of the PEtab problem (95 % profile intervals; values in "
                  "model units)")
    for col in ("parameter", "unit", "stored", "best fit", "95 % interval", "identifiable"):
        table.add_column(col)
    for k, v in summary.best.items():
        lo, hi = summary.intervals.get(k, (None, None))
        interval = (f"{'—' if lo is None else f'{lo:.4g}'} … {'—' if hi is None else f'{hi:.4g}'}"
                    if k in summary.intervals else "not profiled")
        ident = ("yes" if summary.identifiable[k] else "no") if k in summary.intervals else ""
        unit = unit_text(units[k]) if k in units else ""
        table.add_row(*_cells(k, unit, f"{summary.stored[k]:.4g}", f"{v:.4g}", interval, ident))
    console.print(table)
    _say(f"negative log-likelihood: best {summary.fval_best:.4f}, stored values "
         f"{summary.fval_stored:.4f}; wrote {out}/ ({time.perf_counter() - t0:.0f} s)")


@app.command()
def sensitivity(
    scenario: Path = typer.Argument(..., help="scenario TOML file"),
    observable: str = typer.Option("clinic.madrs", help="observable, e.g. clinic.madrs"),
    at: list[str] = typer.Option(["24 h"], "--at", help="scenario time (repeat), e.g. '7 d'"),
    method: str = typer.Option("morris", help="morris (screening) or sobol"),
    n: int = typer.Option(0, min=0, max=100_000,
                          help="Morris trajectories or Sobol base samples (0 = default)"),
    param: list[str] = typer.Option([], "--param", help="parameter name or pattern (repeat; "
                                    "default: every parameter with a recorded range)"),
    out: Path = typer.Option(Path("raadsim-sensitivity"), "--out", help="output directory"),
    executor: str = typer.Option("processes", help="serial, processes or dask"),
    workers: int = _workers_option(),
    dask: str = typer.Option("", "--dask", help="a scheduler address; implies --executor dask"),
    seed: int = typer.Option(0, min=0, max=2**32 - 1, help="sampling seed"),
    overwrite: bool = _overwrite_option(),
) -> None:
    """Global sensitivity (SALib) of an observable to the parameters, over the ranges recorded
    with their provenance; writes sensitivity.csv/.json/.png."""
    from .analysis.sensitivity import INDEX_COLUMNS, run_sensitivity, write_sensitivity
    from .console import unit_text

    with _reported():
        executor = _check_executor(executor, dask)
        sc, cat, inputs = _load(scenario)
        with _writing(out, "dir", overwrite, inputs), _quiet_solver(out):
            with _progress(f"{method}: simulations") as update:
                result = run_sensitivity(sc, cat, observable, at, method=method, n=n or None,
                                         params=param or None, executor=executor,
                                         workers=workers or None, address=dask or None,
                                         seed=seed, progress=update)
            write_sensitivity(result, out)
    cols = INDEX_COLUMNS[result.method]
    unit = unit_text(result.unit)
    index_unit = unit if result.method == "morris" else "fraction of variance"
    for label in result.at:
        table = Table(title=escape(f"{result.observable} at {label}: most influential "
                                   f"parameters ({', '.join(cols)} in {index_unit})"))
        table.add_column("parameter")
        table.add_column("range", justify="right")
        for c in cols:
            table.add_column(c, justify="right")
        for r in result.top(label, 8).to_dict("records"):
            table.add_row(*_cells(r["parameter"],
                                  f"{r['low']:.3g}–{r['high']:.3g} {unit_text(r['unit'])}",
                                  *(f"{r[c]:.3g}" for c in cols)))
        console.print(table)
        nominal = result.nominal.get(label)
        if nominal is not None:
            _say(f"{result.observable} at {label} with the stored values: {nominal:.4g} {unit}")
    _say(f"{result.runs} simulations; wrote {out}/sensitivity.csv, sensitivity.json, "
         "sensitivity.png")


export_app = typer.Typer(no_args_is_help=True,
                         help="Export a scenario's model: SBML, COMBINE archive, PEtab.")
app.add_typer(export_app, name="export")


@export_app.command("sbml")
def export_sbml(scenario: Path = typer.Argument(..., help="scenario TOML file"),
                out: Path = typer.Option(Path("model.xml"), "--out", help="SBML file to write"),
                overwrite: bool = _overwrite_option()) -> None:
    """SBML L3V2 with units, dosing events and provenance notes (libsbml-checked)."""
    from .io.outputs import write_text_atomic
    from .io.sbml_export import check_sbml, to_sbml

    with _reported():
        sc, cat, inputs = _load(scenario)
        with _writing(out, "file", overwrite, inputs):
            ex = to_sbml(sc, cat)
            report = check_sbml(ex.sbml)
            if not report.ok:
                raise ModelError("libsbml found errors in the exported model: "
                                 + "; ".join(report.errors[:3]))
            write_text_atomic(out, ex.sbml)
    _say(f"wrote {out} ({len(ex.spec.params)} parameters, {len(ex.spec.states)} states, "
         f"{len(ex.spec.merged_events())} events; libsbml: 0 errors, {report.warnings} "
         "unit/modelling-practice warnings)")


@export_app.command("omex")
def export_omex(scenario: Path = typer.Argument(..., help="scenario TOML file"),
                out: Path = typer.Option(Path("raadsim.omex"), "--out",
                                         help="COMBINE archive to write"),
                overwrite: bool = _overwrite_option()) -> None:
    """COMBINE archive: the SBML model, SED-ML reproducing the run, and the scenario."""
    from .io.omex import write_omex

    with _reported():
        sc, cat, inputs = _load(scenario)
        with _writing(out, "file", overwrite, inputs):
            write_omex(sc, out, cat)
    _say(f"wrote {out} (model.xml, simulation.sedml, scenario.json, manifest.xml)")


@export_app.command("petab")
def export_petab(out: Path = typer.Option(Path("raadsim-petab"), "--out",
                                          help="directory for the PEtab problem"),
                 overwrite: bool = _overwrite_option()) -> None:
    """The psychedelic PK/PD calibration problem (calibration records only) in PEtab v1."""
    from .evidence.petab_problem import write_petab

    with _reported(), _writing(out, "dir", overwrite):
        write_petab(out)
    _say(f"wrote {out}/problem.yaml, model.xml, conditions.tsv, observables.tsv, "
         "measurements.tsv, parameters.tsv (petab lint: ok)")


data_app = typer.Typer(no_args_is_help=True,
                       help="Your own NONMEM-style data: compare with the model, fit to it.")
app.add_typer(data_app, name="data")


@data_app.command("compare")
def data_compare(data: Path = typer.Argument(..., help="NONMEM-style CSV"),
                 mapping: Path = typer.Option(..., help="mapping TOML (CMTs, units, "
                                              "covariates)"),
                 out: Path = typer.Option(Path("raadsim-data"), "--out",
                                          help="output directory"),
                 executor: str = typer.Option("serial", help="serial, processes or dask"),
                 overwrite: bool = _overwrite_option()) -> None:
    """Simulate every subject of the dataset; write predictions.csv, summary.json and an
    observed-vs-predicted plot."""
    from .evidence.nonmem_predict import predict
    from .io.nonmem import read_dataset
    from .report.observed_vs_predicted import summarize, write_observed_vs_predicted

    with _reported():
        executor = _check_executor(executor, "")
        ds = read_dataset(data, mapping)
        with _writing(out, "dir", overwrite, [data, mapping]), _quiet_solver(out):
            table = predict(ds, executor=executor)
            write_observed_vs_predicted(table, out, title=f"raadsim vs {data.name}",
                                        meta={"data": str(data), "mapping": str(mapping)})
        summary = summarize(table)
    gm, w2 = summary["overall"]["gmfe"], summary["overall"]["within_2fold"]
    stats = ("no positive observations to compare" if gm is None else
             f"geometric mean fold error {gm:.3g}, within 2-fold {100 * w2:.0f} %")
    _say(f"{len(table)} observations of {len(ds.ids)} subjects; {stats}; wrote {out}/")


@data_app.command("fit")
def data_fit(data: Path = typer.Argument(..., help="NONMEM-style CSV"),
             mapping: Path = typer.Option(..., help="mapping TOML"),
             param: list[str] = typer.Option(..., "--param", help="parameter name or pattern "
                                             "to scale (repeat), e.g. 'Vc_*_ketamine'"),
             out: Path = typer.Option(Path("raadsim-data-fit"), "--out",
                                      help="output directory"),
             overwrite: bool = _overwrite_option()) -> None:
    """Fit one factor per parameter pattern to the dataset (least squares on log
    concentrations); write fit.json, predictions.csv and the observed-vs-predicted plot."""
    from .evidence.data_fit import fit_data
    from .io.nonmem import read_dataset
    from .io.outputs import atomic_dir, write_json
    from .report.observed_vs_predicted import plot_observed_vs_predicted

    with _reported():
        ds = read_dataset(data, mapping)
        with _writing(out, "dir", overwrite, [data, mapping]), _quiet_solver(out):
            with _progress("model evaluations (at most)") as update:
                f = fit_data(ds, param, progress=update)
            with atomic_dir(out) as tmp:
                write_json(tmp / "fit.json", {
                    "data": str(data), "factors": f.factors, "values_by_subject": f.values,
                    "n_used": f.n_used, "n_excluded_nonpositive": f.n_excluded,
                    "rms_log_residual_before": f.rms_log_before,
                    "rms_log_residual_after": f.rms_log_after, "converged": f.success,
                    "message": f.message})
                f.table.to_csv(tmp / "predictions.csv", index=False, float_format="%.8g")
                plot_observed_vs_predicted(f.table.rename(columns={"PRED_after": "PRED"}),
                                           tmp / "observed_vs_predicted.png",
                                           title=f"fitted to {data.name}")
    for k, v in f.factors.items():
        _say(f"{k}: × {v:.4g}")
    _say(f"RMS log residual {f.rms_log_before:.4f} → {f.rms_log_after:.4f} "
         f"({f.n_used} observations); wrote {out}/")


@app.command()
def report(
    directory: Path = typer.Argument(..., metavar="DIR",
                                     help="output of raadsim run, simulate, trial or validate"),
    out: Path | None = typer.Option(None, "--out", help="HTML file (default DIR/report.html)"),
    overwrite: bool = _overwrite_option(),
) -> None:
    """One self-contained HTML report (figures, tables, scenario, parameters with sources,
    scorecard) of a run, trial or validation output directory."""
    from .demo_report import demo_report, demo_runs
    from .report.html_report import detect_kind, report_inputs, write_report

    target = out if out is not None else directory / "report.html"
    with _reported():
        demo = demo_runs(directory)
        kind = "demo" if demo else detect_kind(directory)
        with _writing(target, "file", overwrite, report_inputs(directory)):
            if demo:
                from .io.outputs import write_text_atomic

                path = write_text_atomic(target, demo_report(directory, demo))
            else:
                path = write_report(directory, target)
    _say(f"wrote {path} ({kind} report)")


@app.command("app")
def app_cmd(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8050, min=1, max=65535, help="port"),
    debug: bool = typer.Option(False, help="Dash debug mode (reloads on code changes)"),
) -> None:
    """Start the local web explorer (Dash): pick a scenario, see the cascade, compare two
    scenarios, run a small virtual trial, download CSV and TOML."""
    with _reported("raadsim app stopped"):
        try:
            from .app.server import create_app
        except ImportError as exc:
            raise InputError("raadsim app", str(exc), "the app extra: pip install "
                             "'raadsim[app]'") from None
        import logging

        _check_listen(host, port)
        if not debug:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        _say(f"raadsim explorer on http://{host}:{port}/ (Ctrl-C stops it)")
        create_app().run(host=host, port=port, debug=debug)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
