"""The multiscale figure: stacked panels from PK to symptoms on one shared time axis.

:func:`plot_multiscale` draws one or more :class:`~raadsim.report.traces.Trace` (scenarios,
drugs, perturbations or trial arms) overlaid: with one trace, colour tells the observables
apart; with several, colour is the trace and line style the observable. Population traces
get a 5th–95th percentile band. The time axis is linear (hours up to two days, else days)
or logarithmic (minutes to weeks, ticks in words); dose times are marked on the top panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .panels import (
    Panel,
    default_observables,
    label,
    linear_unit,
    log_start,
    log_ticks,
    make_panels,
    visible,
)
from .traces import Trace

# Okabe & Ito (2008) colour-blind-safe palette, black last.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442",
           "#000000")
STYLES = ("-", "--", ":", "-.", (0, (4, 1, 1, 1, 1, 1)), (0, (1, 3)))
_RC = {"font.size": 7, "axes.labelsize": 7, "axes.titlesize": 7.5, "legend.fontsize": 6.2,
       "xtick.labelsize": 6.5, "ytick.labelsize": 6.5, "axes.linewidth": 0.6,
       "xtick.major.width": 0.6, "ytick.major.width": 0.6, "lines.linewidth": 1.2,
       "font.family": "DejaVu Sans", "svg.fonttype": "none", "pdf.fonttype": 42}


def choose_panels(traces: Sequence[Trace], observables: Sequence[str] | None = None
                  ) -> list[Panel]:
    """Panels for ``observables`` (default: the cascade's key observables present in the
    first trace), dropping PK/occupancy traces that stay at zero in every trace."""
    if not traces:
        raise ValueError("plot_multiscale needs at least one trace")
    union = list(dict.fromkeys(n for t in traces for n in t.values))
    names = list(observables) if observables else default_observables(union)
    present = [n for n in names if any(n in t.values for t in traces)]
    # all-zero PK traces are dropped, unless nothing else is left (a 0 mg dose: flat lines)
    shown = visible(present, lambda n: max(t.peak(n) for t in traces)) or present
    units: dict[str, str] = {}
    for t in traces:
        units.update({k: v for k, v in t.units.items() if k not in units})
    return make_panels(shown, units)


def _x(t: np.ndarray, log_time: bool, div: float) -> np.ndarray:
    return t if log_time else t / div


def multiscale_figure(traces: Sequence[Trace], observables: Sequence[str] | None = None,
                      log_time: bool = False, title: str | None = None,
                      width_in: float = 7.2) -> Figure:
    """The multiscale figure as a matplotlib :class:`~matplotlib.figure.Figure`."""
    panels = choose_panels(traces, observables)
    if not panels:
        raise ValueError("none of the requested observables is in the traces")
    t_all = np.concatenate([t.time_h for t in traces])
    t_end = float(t_all.max())
    div, xlabel = linear_unit(t_end)
    many = len(traces) > 1
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(width_in, 0.7 + 1.3 * len(panels)))
        axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)
        axes = axes[:, 0]
        for k, (ax, panel) in enumerate(zip(axes, panels, strict=True)):
            handles = []
            for j, name in enumerate(panel.observables):
                style = STYLES[j % len(STYLES)] if many else "-"
                for i, tr in enumerate(traces):
                    if name not in tr.values or (panel.key in ("pk", "targets")
                                                 and tr.peak(name) == 0):
                        continue
                    colour = PALETTE[(i if many else j) % len(PALETTE)]
                    keep = tr.time_h > 0 if log_time else slice(None)
                    x = _x(tr.time_h[keep], log_time, div)
                    if name in tr.low and name in tr.high:
                        ax.fill_between(x, tr.low[name][keep], tr.high[name][keep], lw=0,
                                        color=colour, alpha=0.18)
                    ax.plot(x, tr.values[name][keep], color=colour, ls=style)
                handles.append(Line2D([], [], color="0.2" if many else PALETTE[j % 8],
                                      ls=style, label=label(name)))
            ax.set_ylabel(panel.unit_label)
            ax.set_title(f"{chr(ord('A') + k)}   {panel.title}", loc="left", weight="bold",
                         pad=6)
            ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      frameon=False, borderaxespad=0, handlelength=2.4)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(alpha=0.25, lw=0.4)
        lo = log_start(t_all)
        doses = sorted({max(d, lo) if log_time else d for tr in traces for d in tr.doses_h})
        if doses:
            axes[0].plot(_x(np.asarray(doses), log_time, div),
                         np.full(len(doses), 1.0), marker="v", ls="none", ms=3.5,
                         color="0.25", transform=axes[0].get_xaxis_transform(),
                         clip_on=False)
            handles = [*axes[0].get_legend().legend_handles,
                       Line2D([], [], marker="v", ls="none", ms=3.5, color="0.25",
                              label="dose")]
            axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                           frameon=False, borderaxespad=0, handlelength=2.4)
        last = axes[-1]
        if log_time:
            last.set_xscale("log")
            last.set_xlim(lo, t_end)
            ticks = log_ticks(lo, t_end)
            last.set_xticks([t for t, _ in ticks], [s for _, s in ticks])
            last.minorticks_off()
            last.set_xlabel("time (log scale)")
        else:
            last.set_xlim(float(t_all.min()) / div, t_end / div)
            last.set_xlabel(xlabel)
        if many:
            fig.legend(handles=[Line2D([], [], color=PALETTE[i % 8], label=tr.label,
                                       lw=2) for i, tr in enumerate(traces)],
                       loc="upper left", ncol=min(len(traces), 4), frameon=False,
                       bbox_to_anchor=(0.08, 1 - (0.05 + (0.22 if title else 0))
                                       / fig.get_figheight()))
        height = fig.get_figheight()
        head = 0.12 + (0.22 if many else 0) + (0.22 if title else 0)  # inches
        if title:
            fig.suptitle(title, fontsize=8.5, x=0.02, ha="left", y=1 - 0.05 / height,
                         va="top")
        fig.subplots_adjust(left=0.1, right=0.76, top=1 - (head + 0.12) / height,
                            bottom=0.42 / height, hspace=0.42)
    return fig


def plot_multiscale(traces: Trace | Sequence[Trace], path: str | Path,
                    observables: Sequence[str] | None = None, log_time: bool = False,
                    title: str | None = None, dpi: int = 300) -> Path:
    """Draw the multiscale figure of ``traces`` to ``path`` (PNG, PDF or SVG by suffix)."""
    if isinstance(traces, Trace):
        traces = [traces]
    fig = multiscale_figure(traces, observables, log_time, title)
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
