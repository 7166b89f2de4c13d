"""The app's behaviour. Pure functions (``update_side``, ``trial_outputs``, …) do the work
and are tested directly; :func:`register` wires them to the page as Dash callbacks."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dash import Dash, Input, Output, State, dcc, html, no_update

from ..errors import InputError, ModelError
from ..io.scenario import Scenario
from ..io.scenario_dump import scenario_to_toml
from ..model.build import build_model
from ..report.touched import draw_touched
from ..report.traces import dose_times, trace_from_result, traces_from_trial
from ..report.trial_report import pct_ci
from . import form, trial_jobs
from .compute import simulate_cached
from .figures import cascade_figure
from .layout import FIELD_STYLE, SIDES, fid
from .values import key_values

ERROR_KEYS = (*form.FIELD_KEYS, "general")


def _errors(exc: Exception | None) -> list[str]:
    """One message per form field (plus 'general'); only the failing field has text."""
    out = dict.fromkeys(ERROR_KEYS, "")
    if isinstance(exc, InputError):
        out[form.field_of(exc)] = form.message(exc)
    elif exc is not None:
        out["general"] = str(exc)
    return [out[k] for k in ERROR_KEYS]


def _table(rows: list[tuple[str, str]]) -> list[html.Tr]:
    return [html.Tr([html.Td(k, style={"padding": "1px 10px 1px 0", "color": "#555"}),
                     html.Td(v, className="value")]) for k, v in rows]


def describe(sc: Scenario) -> str:
    d = sc.dose[0]
    text = f"{d.drug} {d.amount} {d.route}"
    if d.repeat:
        text += f" ×{d.repeat.count}"
    if sc.perturbation:
        text += " + " + ", ".join(p.name for p in sc.perturbation)
    return text


def time_axis(choice: Any) -> str:
    """The time-axis radio value ('auto', 'linear' or 'log'; 'auto' when unset)."""
    return choice if choice in ("auto", "linear", "log") else "auto"


def update_side(values: dict[str, Any], log_time: bool | str) -> tuple[Any, Any, str, list[str]]:
    """(figure, key-value rows, status, field errors) for one scenario form; on bad input
    the figure and rows are ``no_update`` and the failing field gets the message."""
    try:
        sc, cat = form.scenario_of(values)
        result = simulate_cached(sc, cat)
    except (InputError, ModelError) as exc:
        return no_update, no_update, "not simulated: fix the marked field", _errors(exc)
    fig = cascade_figure([trace_from_result(result, describe(sc))], log_time=log_time)
    status = f"simulated in {result.meta['seconds']:.2f} s"
    return fig, _table(key_values(result)), status, _errors(None)


def overlay(a: dict[str, Any], b: dict[str, Any], log_time: bool | str) -> Any:
    """Scenarios A and B in one cascade figure (``no_update`` if either is invalid)."""
    try:
        traces = []
        for name, values in (("A", a), ("B", b)):
            sc, cat = form.scenario_of(values)
            traces.append(trace_from_result(simulate_cached(sc, cat),
                                            f"{name}: {describe(sc)}"))
    except (InputError, ModelError):
        return no_update
    return cascade_figure(traces, log_time=log_time)


def form_values(args: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(form.FIELD_KEYS, args, strict=True))


def drug_choices(species: str, drug: str) -> tuple[list[str], str]:
    options = form.drug_options(species)
    return options, drug if drug in options else (options[0] if options else "")


def route_choices(drug: str, species: str, route: str) -> tuple[list[str], str]:
    options = form.route_options(drug, species)
    return options, route if route in options else (options[0] if options else "")


def infusion_state(drug: str, species: str, route: str, infusion: str | None
                   ) -> tuple[bool, str]:
    """(disabled, value) of the infusion field: cleared for routes without infusion."""
    if form.infusion_allowed(drug, species, route):
        return False, infusion or ""
    return True, ""


def csv_download(values: dict[str, Any], side: str) -> Any:
    sc, cat = form.scenario_of(values)
    result = simulate_cached(sc, cat)
    text = result.to_long().to_csv(index=False, float_format="%.8g")
    return dcc.send_string(text, f"raadsim_{side.upper()}_timecourse.csv")


def toml_download(values: dict[str, Any], side: str) -> Any:
    sc, _ = form.scenario_of(values)
    return dcc.send_string(scenario_to_toml(sc), f"raadsim_{side.upper()}_scenario.toml")


def mechanism_image(values: dict[str, Any]) -> Any:
    """The mechanism diagram of the scenario with its drug's and perturbations' nodes red:
    SVG at 1000 px wide (its text about 10 px), scrolling sideways in a narrow column."""
    sc, cat = form.scenario_of(values)
    spec = build_model(sc, cat)
    with tempfile.TemporaryDirectory() as tmp:  # matplotlib's object API: thread-safe
        svg = draw_touched(spec, sc, cat, Path(tmp) / "m.svg").read_bytes()
    src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return html.Img(src=src, style={"width": "1000px", "maxWidth": "none"},
                    alt="mechanism diagram")


def start_trial(a: dict[str, Any], b: dict[str, Any] | None, n: Any, seed: Any,
                visits: str) -> tuple[str | None, list[str]]:
    """(job id, [n error, visits error, general error]) for the Run trial button."""
    errs = {"n": "", "visits": "", "general": ""}
    try:
        try:
            n_int, seed_int = int(n), int(seed or 0)
        except (TypeError, ValueError):
            raise InputError("trial.n", n, "a whole number of patients per arm") from None
        sc_a, _ = form.scenario_of(a)
        arms = {"A": sc_a, **({"B": form.scenario_of(b)[0]} if b else
                              {"placebo": trial_jobs.placebo_of(sc_a)})}
        tf = trial_jobs.small_trial(arms, n_int, seed_int, form.visit_times(visits))
    except InputError as exc:
        key = "n" if exc.field == "trial.n" else "visits" if "visits" in exc.field \
            else "general"
        errs[key] = form.message(exc) if key != "general" else str(exc)
        return None, list(errs.values())
    return trial_jobs.start(tf), list(errs.values())


def trial_outputs(job: trial_jobs.Job, log_time: bool | str) -> tuple[Any, Any, str]:
    """(figure, summary table, status) of a finished trial."""
    if job.error:
        return no_update, no_update, f"trial failed: {job.error}"
    res = job.result
    doses = {a.name: dose_times(res.trial.arm_scenario(a)) for a in res.trial.trial.arm}
    units = {o: a.spec.observables[o].unit for a in res.arms for o in a.observables}
    fig = cascade_figure(traces_from_trial(res.timecourse, units, doses), log_time=log_time)
    head = ["arm", "visit", "mean MADRS (points)", "mean change (points)",
            "response [95 % CI]", "remission [95 % CI]", "n"]
    rows = []
    for arm, entry in res.summary["arms"].items():
        for visit, v in entry["visits"].items():
            rows.append([arm, visit, f"{v['madrs_mean']:.1f}", f"{v['madrs_change_mean']:+.1f}",
                         pct_ci(v["response_rate"], v["response_ci95"], digits=0),
                         pct_ci(v["remission_rate"], v["remission_ci95"], digits=0),
                         str(v["n"])])
    for name, visits in res.summary.get("contrasts", {}).items():
        for visit, c in visits.items():
            p = c.get("p_value")
            rows.append([name, visit, "", f"{c['madrs_change_difference']:+.1f}",
                         f"{100 * c['response_rate_difference']:+.0f} percentage points",
                         "",
                         f"p = {p:.3g}" if p is not None and np.isfinite(p) else ""])
    cell = {"padding": "1px 10px 1px 0", "textAlign": "left"}
    table = html.Table([html.Tr([html.Th(h, style=cell) for h in head])]
                       + [html.Tr([html.Td(c, style=cell) for c in r]) for r in rows])
    status = (f"{job.done} patients in {job.seconds:.1f} s; bands: 5th–95th percentile, "
              f"visits at {', '.join(res.trial.trial.visits)}")
    return fig, table, status


def trial_csv(job: trial_jobs.Job | None) -> Any:
    if job is None or job.result is None:
        return no_update
    df: pd.DataFrame = job.result.timecourse
    return dcc.send_data_frame(df.to_csv, "raadsim_trial_timecourse.csv", index=False,
                               float_format="%.8g")


def register(app: Dash) -> None:
    """Wire the page's controls to the functions above."""
    for side in SIDES:
        _register_side(app, side)
    _register_overlay(app)
    _register_trial(app)


def _register_side(app: Dash, side: str) -> None:
    inputs = [Input(fid(side, k), "value") for k in form.FIELD_KEYS]
    states = [State(fid(side, k), "value") for k in form.FIELD_KEYS]

    @app.callback(Output(fid(side, "drug"), "options"), Output(fid(side, "drug"), "value"),
                  Input(fid(side, "species"), "value"), State(fid(side, "drug"), "value"))
    def _drugs(species: str, drug: str) -> tuple[list[str], str]:
        return drug_choices(species, drug)

    @app.callback(Output(fid(side, "route"), "options"), Output(fid(side, "route"), "value"),
                  Input(fid(side, "drug"), "value"), Input(fid(side, "species"), "value"),
                  State(fid(side, "route"), "value"))
    def _routes(drug: str, species: str, route: str) -> tuple[list[str], str]:
        return route_choices(drug, species, route)

    @app.callback(Output(fid(side, "infusion"), "disabled"),
                  Output(fid(side, "infusion"), "value"),
                  Input(fid(side, "route"), "value"), State(fid(side, "drug"), "value"),
                  State(fid(side, "species"), "value"), State(fid(side, "infusion"), "value"))
    def _infusion(route: str, drug: str, species: str, infusion: str) -> tuple[bool, str]:
        return infusion_state(drug, species, route, infusion)

    @app.callback(Output(fid(side, "genotype-box"), "style"),
                  Input(fid(side, "perturbations"), "value"))
    def _genotype(perts: list[str] | None) -> dict[str, str]:

        shown = "bdnf_val66met" in (perts or [])
        return {**FIELD_STYLE, "display": "flex" if shown else "none"}

    extra = [Input("compare", "value")] if side == "b" else []

    @app.callback(Output(fid(side, "graph"), "figure"), Output(fid(side, "values"), "children"),
                  Output(fid(side, "status"), "children"),
                  *[Output(fid(side, f"{k}-error"), "children") for k in ERROR_KEYS],
                  *inputs, Input("log-time", "value"), *extra)
    def _update(*args: Any) -> tuple[Any, ...]:
        values = form_values(args[:len(form.FIELD_KEYS)])
        log_time = time_axis(args[len(form.FIELD_KEYS)])
        if side == "b" and "on" not in (args[-1] or []):
            return (no_update, no_update, "", *[""] * len(ERROR_KEYS))
        fig, rows, status, errs = update_side(values, log_time)
        return (fig, rows, status, *errs)

    @app.callback(Output(fid(side, "download"), "data"),
                  Input(fid(side, "dl-csv"), "n_clicks"), Input(fid(side, "dl-toml"),
                                                                "n_clicks"),
                  *states, prevent_initial_call=True)
    def _download(_csv: int | None, _toml: int | None, *args: Any) -> Any:
        from dash import ctx

        try:
            values = form_values(args)
            if ctx.triggered_id == fid(side, "dl-toml"):
                return toml_download(values, side)
            return csv_download(values, side)
        except (InputError, ModelError):
            return no_update

    @app.callback(Output(fid(side, "mech"), "children"), Input(fid(side, "mech-btn"),
                                                              "n_clicks"),
                  *states, prevent_initial_call=True)
    def _mechanism(_n: int | None, *args: Any) -> Any:
        try:
            return mechanism_image(form_values(args))
        except (InputError, ModelError) as exc:
            return html.Div(str(exc), className="field-error")

    if side == "b":
        @app.callback(Output(fid("b", "column"), "style"), Input("compare", "value"),
                      State(fid("b", "column"), "style"))
        def _show_b(compare: list[str] | None, style: dict[str, Any]) -> dict[str, Any]:
            return {**(style or {}), "display": "block" if "on" in (compare or []) else "none"}


def _register_overlay(app: Dash) -> None:
    nk = len(form.FIELD_KEYS)

    @app.callback(Output("overlay-graph", "figure"), Output("overlay-box", "style"),
                  *[Input(fid(s, k), "value") for s in SIDES for k in form.FIELD_KEYS],
                  Input("log-time", "value"), Input("compare", "value"),
                  State("overlay-box", "style"))
    def _overlay(*args: Any) -> tuple[Any, Any]:
        style = args[-1] or {}
        if "on" not in (args[-2] or []):
            return no_update, {**style, "display": "none"}
        fig = overlay(form_values(args[:nk]), form_values(args[nk:2 * nk]),
                      time_axis(args[-3]))
        return fig, {**style, "display": "block"}


def _register_trial(app: Dash) -> None:
    a_states = [State(fid("a", k), "value") for k in form.FIELD_KEYS]
    b_states = [State(fid("b", k), "value") for k in form.FIELD_KEYS]
    nk = len(form.FIELD_KEYS)

    @app.callback(Output("trial-job", "data"), Output("trial-poll", "disabled"),
                  Output("trial-n-error", "children"), Output("trial-visits-error", "children"),
                  Output("trial-error", "children"), Output("trial-status", "children",
                                                            allow_duplicate=True),
                  Input("trial-run", "n_clicks"), State("trial-n", "value"),
                  State("trial-seed", "value"), State("trial-visits", "value"),
                  State("compare", "value"), *a_states, *b_states, prevent_initial_call=True)
    def _start(_n: int | None, n: Any, seed: Any, visits: str, compare: list[str] | None,
               *args: Any) -> tuple[Any, ...]:
        a = form_values(args[:nk])
        b = form_values(args[nk:]) if "on" in (compare or []) else None
        job_id, errs = start_trial(a, b, n, seed, visits)
        if job_id is None:
            return (no_update, True, *errs, "")
        return (job_id, False, *errs, "running…")

    @app.callback(Output("trial-progress", "value"), Output("trial-progress", "max"),
                  Output("trial-status", "children"), Output("trial-graph", "figure"),
                  Output("trial-table", "children"), Output("trial-poll", "disabled",
                                                            allow_duplicate=True),
                  Input("trial-poll", "n_intervals"), State("trial-job", "data"),
                  State("log-time", "value"), prevent_initial_call=True)
    def _poll(_n: int, job_id: str | None, log: str | None) -> tuple[Any, ...]:
        job = trial_jobs.status(job_id)
        if job is None:
            return (no_update,) * 5 + (True,)
        if not job.finished:
            return (str(job.done), str(job.total), f"{job.done} of {job.total} patients…",
                    no_update, no_update, False)
        fig, table, status = trial_outputs(job, time_axis(log))
        return (str(job.done), str(job.total), status, fig, table, True)

    @app.callback(Output("trial-download", "data"), Input("trial-dl-csv", "n_clicks"),
                  State("trial-job", "data"), prevent_initial_call=True)
    def _trial_csv(_n: int | None, job_id: str | None) -> Any:
        return trial_csv(trial_jobs.status(job_id))

