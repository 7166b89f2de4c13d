"""Plotly figures for the app: the cascade (same panels as the report's multiscale figure)
and trial bands. One legend per panel, beside it; linear or logarithmic time, or "auto":
logarithmic for a single session, linear for repeated dosing (as the run figures). With
several traces (compare mode, trial arms) colour is the trace, named once in the top panel's
legend, and line style the observable, named once per panel: a panel's legend has one entry
per observable (at most six), not one per line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..report.multiscale import PALETTE, choose_panels
from ..report.panels import auto_log_time, label, linear_unit, log_start, log_ticks
from ..report.traces import Trace

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
MAX_POINTS = 1500  # per line sent to the browser


def _thin(n: int) -> np.ndarray | slice:
    return slice(None) if n <= MAX_POINTS else np.unique(
        np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def wants_log(traces: Sequence[Trace], log_time: bool | str) -> bool:
    """Whether to draw on logarithmic time: ``True``/``"log"``, ``False``/``"linear"``, or
    ``"auto"``: logarithmic when every trace is a single session (see
    :func:`~raadsim.report.panels.auto_log_time`)."""
    if isinstance(log_time, bool):
        return log_time
    if log_time == "auto":
        return all(auto_log_time(float(t.time_h.max()), t.doses_h) for t in traces)
    return log_time == "log"


def cascade_figure(traces: Sequence[Trace], log_time: bool | str = "auto",
                   observables: Sequence[str] | None = None, height_per_panel: int = 165
                   ) -> go.Figure:
    """Stacked panels PK → occupancy → network → signalling → synapses → symptoms."""
    log_time = wants_log(traces, log_time)
    panels = choose_panels(traces, observables)
    n = max(len(panels), 1)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.22 / n,
                        subplot_titles=[f"{chr(65 + i)}  {p.title} ({p.unit_label})"
                                        for i, p in enumerate(panels)])
    t_end = max(float(t.time_h.max()) for t in traces)
    div, xlabel = linear_unit(t_end)
    many = len(traces) > 1
    for k, panel in enumerate(panels):
        legend = "legend" if k == 0 else f"legend{k + 1}"
        for j, name in enumerate(panel.observables):
            for i, tr in enumerate(traces):
                if name not in tr.values:
                    continue
                keep = np.flatnonzero(tr.time_h > 0) if log_time else np.arange(len(tr.time_h))
                keep = keep[_thin(len(keep))]
                x = tr.time_h[keep] if log_time else tr.time_h[keep] / div
                colour = PALETTE[(i if many else j) % len(PALETTE)]
                dash = DASHES[j % len(DASHES)] if many else "solid"
                text = f"{label(name)} ({tr.label})" if many else label(name)
                legend_entry = {} if not many else {"showlegend": False}
                if name in tr.low:
                    fig.add_trace(go.Scatter(
                        x=np.r_[x, x[::-1]], y=np.r_[tr.high[name][keep],
                                                     tr.low[name][keep][::-1]],
                        fill="toself", line={"width": 0}, fillcolor=colour, opacity=0.2,
                        hoverinfo="skip", showlegend=False, legend=legend), row=k + 1, col=1)
                fig.add_trace(go.Scatter(
                    x=x, y=tr.values[name][keep], name=text, mode="lines", legend=legend,
                    line={"color": colour, "dash": dash, "width": 1.8}, **legend_entry,
                    hovertemplate=f"{text}: %{{y:.3g}}<extra></extra>"), row=k + 1, col=1)
            if many:  # one legend entry per observable: its line style, in grey
                fig.add_trace(go.Scatter(
                    x=[None], y=[None], mode="lines", name=label(name), legend=legend,
                    line={"color": "#555", "dash": DASHES[j % len(DASHES)], "width": 1.8},
                    hoverinfo="skip"), row=k + 1, col=1)
        if many and k == 0:  # the traces by colour, once, at the top
            for i, tr in enumerate(traces):
                fig.add_trace(go.Scatter(
                    x=[None], y=[None], mode="lines", name=tr.label, legend=legend,
                    line={"color": PALETTE[i % len(PALETTE)], "width": 4},
                    hoverinfo="skip"), row=1, col=1)
        y1 = fig.layout[f"yaxis{'' if k == 0 else k + 1}"].domain[1]
        fig.update_layout({legend: {"x": 1.01, "y": y1, "yanchor": "top",
                                    "font": {"size": 10}, "tracegroupgap": 0}})
    if log_time:
        lo = log_start(np.concatenate([t.time_h for t in traces]))
        ticks = log_ticks(lo, t_end)
        fig.update_xaxes(type="log", range=[np.log10(lo), np.log10(t_end)],
                         tickvals=[t for t, _ in ticks], ticktext=[s for _, s in ticks])
        fig.update_xaxes(title_text="time (log scale)", row=n, col=1)
    else:
        fig.update_xaxes(title_text=xlabel, row=n, col=1)
    fig.update_xaxes(showticklabels=True)  # on every panel: the page scrolls
    fig.update_annotations(font_size=12, x=0, xanchor="left")
    fig.update_layout(height=height_per_panel * n + 80, margin={"l": 55, "r": 10, "t": 40,
                                                                 "b": 45},
                      template="plotly_white", hovermode="x unified", uirevision="keep")
    return fig


def empty_figure(text: str) -> go.Figure:
    """A blank figure carrying a message (before the first result)."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(template="plotly_white", height=240, xaxis={"visible": False},
                      yaxis={"visible": False})
    return fig
