"""The page: two scenario forms (A, and B for comparison) with their cascades and key
values, and a virtual-trial panel. Element ids are ``{side}-{field}`` (side ``a`` or ``b``);
the message for a field is in ``{side}-{field}-error``."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from ..io.scenario import CONDITIONS
from . import form
from .figures import empty_figure

SIDES = ("a", "b")
TIME_AXES = [{"label": " auto (logarithmic for one session)", "value": "auto"},
             {"label": " linear", "value": "linear"},
             {"label": " logarithmic", "value": "log"}]
FIELD_STYLE = {"display": "flex", "flexDirection": "column", "margin": "0 10px 6px 0",
               "width": "150px"}
ERROR_STYLE = {"color": "#b3261e", "fontSize": "12px", "minHeight": "0"}
CSS_TEXT = {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
            "color": "#222"}


def fid(side: str, key: str) -> str:
    return f"{side}-{key}"


def _options(key: str, defaults: dict[str, Any]) -> list[str]:
    species, drug = defaults["species"], defaults["drug"]
    return {"species": list(form.SPECIES), "condition": list(CONDITIONS),
            "drug": form.drug_options(species), "route": form.route_options(drug, species),
            "genotype": list(form.genotype_options())}[key]


def _control(side: str, f: form.Field, defaults: dict[str, Any]) -> Any:
    i, value = fid(side, f.key), defaults[f.key]
    if f.kind == "select":
        return dcc.Dropdown(id=i, options=_options(f.key, defaults), value=value,
                            clearable=False)
    if f.kind == "multi":
        return dcc.Dropdown(id=i, options=[{"label": f"{n} — {d}", "value": n}
                                           for n, d in form.perturbation_options()],
                            value=value, multi=True, placeholder="none")
    return dcc.Input(id=i, type="number" if f.kind == "number" else "text", value=value,
                     placeholder=f.placeholder, debounce=True,
                     min=1 if f.kind == "number" else None,
                     style={"padding": "4px", "width": "100%", "boxSizing": "border-box"})


def scenario_form(side: str) -> html.Div:
    defaults = form.DEFAULTS_B if side == "b" else form.DEFAULTS
    fields = []
    for f in form.FIELDS:
        fields.append(html.Div([
            html.Label(f.label, htmlFor=fid(side, f.key), style={"fontSize": "12px",
                                                                  "color": "#555"}),
            _control(side, f, defaults),
            html.Div(id=fid(side, f"{f.key}-error"), className="field-error",
                     style=ERROR_STYLE)], style=FIELD_STYLE, id=fid(side, f"{f.key}-box"),
            title=f.hint or f.placeholder or None))
    return html.Div([
        html.Div(fields, style={"display": "flex", "flexWrap": "wrap"}),
        html.Div(id=fid(side, "general-error"), className="field-error", style=ERROR_STYLE),
    ])


def scenario_column(side: str) -> html.Div:
    title = "Scenario A" if side == "a" else "Scenario B"
    return html.Div([
        html.H3(title, style={"margin": "8px 0"}),
        scenario_form(side),
        html.Div([
            html.Button("Download CSV", id=fid(side, "dl-csv")),
            html.Button("Download scenario TOML", id=fid(side, "dl-toml"),
                        style={"marginLeft": "6px"}),
            html.Button("Mechanism diagram", id=fid(side, "mech-btn"),
                        style={"marginLeft": "6px"}),
            dcc.Download(id=fid(side, "download")),
            html.Span(id=fid(side, "status"), style={"marginLeft": "10px", "color": "#666",
                                                      "fontSize": "12px"})],
            style={"margin": "6px 0"}),
        html.Table(id=fid(side, "values"), style={"fontSize": "13px",
                                                   "borderCollapse": "collapse"}),
        dcc.Loading(dcc.Graph(id=fid(side, "graph"), figure=empty_figure("simulating…"),
                              config={"displaylogo": False}), delay_show=800),
        html.Div(id=fid(side, "mech"), style={"overflowX": "auto"}),
    ], id=fid(side, "column"), style={"flex": "1 1 0", "minWidth": "420px",
                                       "padding": "0 8px"})


def trial_panel() -> html.Div:
    def field(label: str, control: Any, key: str) -> html.Div:
        return html.Div([html.Label(label, htmlFor=f"trial-{key}",
                                    style={"fontSize": "12px", "color": "#555"}), control,
                         html.Div(id=f"trial-{key}-error", className="field-error",
                                  style=ERROR_STYLE)], style=FIELD_STYLE)

    return html.Div([
        html.H3("Virtual trial", style={"margin": "8px 0"}),
        html.P("Arms: scenario A, and scenario B when comparing (else placebo on A's route "
               "and schedule). Human patients of A's condition, with the package's "
               "population model (weight, variability, genotype, rating noise).",
               style={"fontSize": "13px", "color": "#555"}),
        html.Div([
            field("patients per arm", dcc.Input(id="trial-n", type="number", value=20, min=1,
                                                max=200, debounce=True), "n"),
            field("seed", dcc.Input(id="trial-seed", type="number", value=1, min=0,
                                    debounce=True), "seed"),
            field("visits", dcc.Input(id="trial-visits", type="text", value="1 d, 7 d",
                                      debounce=True), "visits"),
            html.Div([html.Button("Run trial", id="trial-run"),
                      html.Button("Download trial CSV", id="trial-dl-csv",
                                  style={"marginLeft": "6px"})],
                     style={"alignSelf": "center"}),
        ], style={"display": "flex", "flexWrap": "wrap"}),
        html.Progress(id="trial-progress", value="0", max="1", style={"width": "320px"}),
        html.Span(id="trial-status", style={"marginLeft": "10px", "fontSize": "13px"}),
        html.Div(id="trial-error", className="field-error", style=ERROR_STYLE),
        dcc.Store(id="trial-job"),
        dcc.Interval(id="trial-poll", interval=250, disabled=True),
        dcc.Download(id="trial-download"),
        html.Div(id="trial-table", style={"fontSize": "13px", "margin": "6px 0"}),
        dcc.Graph(id="trial-graph", figure=empty_figure("no trial run yet"),
                  config={"displaylogo": False}),
    ], style={"padding": "0 8px", "borderTop": "1px solid #ddd", "marginTop": "12px"})


def page() -> html.Div:
    return html.Div([
        html.H2("raadsim explorer", style={"margin": "6px 8px"}),
        html.P("Dose → PK → receptor occupancy → network state → plasticity signalling → "
               "synapses → symptoms, for one typical subject. Mechanism variables are "
               "relative to the drug-free baseline (1). Text fields apply on Enter or when "
               "you leave them.", style={"margin": "0 8px", "fontSize": "13px",
                                          "color": "#555"}),
        html.Div([
            html.Span("time axis:", style={"marginRight": "6px"}),
            dcc.RadioItems(id="log-time", options=TIME_AXES, value="auto", inline=True,
                           labelStyle={"marginRight": "10px"}),
            dcc.Checklist(id="compare", options=[{"label": " compare with scenario B",
                                                  "value": "on"}], value=[], inline=True,
                          style={"marginLeft": "20px"}),
        ], style={"display": "flex", "margin": "8px"}),
        html.Div([scenario_column("a"), scenario_column("b")],
                 style={"display": "flex", "flexWrap": "wrap"}),
        html.Div([html.H3("A and B overlaid", style={"margin": "8px"}),
                  dcc.Graph(id="overlay-graph", figure=empty_figure(""),
                            config={"displaylogo": False})],
                 id="overlay-box", style={"display": "none", "padding": "0 8px"}),
        trial_panel(),
    ], style=CSS_TEXT)
