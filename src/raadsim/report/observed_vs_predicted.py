"""Observed vs predicted: goodness-of-fit plot, summary and output files.

Works on the table returned by :func:`raadsim.evidence.nonmem_predict.predict` (columns
``ID, observable, DV, PRED, unit``; any other columns are kept in ``predictions.csv``).

Summary statistics per observable, over the observations where both DV and PRED are > 0:

* geometric mean fold error ``GMFE = 10 ** mean(|log10(PRED / DV)|)`` (1 = perfect);
* fraction within 2-fold: ``|log10(PRED / DV)| <= log10(2)``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..io.outputs import atomic_dir, write_json

FILES = ("predictions.csv", "summary.json", "observed_vs_predicted.png")


def _stats(dv: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    ok = (dv > 0) & (pred > 0) & np.isfinite(dv) & np.isfinite(pred)
    n = int(ok.sum())
    out: dict[str, Any] = {"n_obs": len(dv), "n_used": n, "n_excluded_nonpositive": len(dv) - n,
                           "gmfe": None, "within_2fold": None}
    if n:
        err = np.abs(np.log10(pred[ok] / dv[ok]))
        out["gmfe"] = float(10 ** err.mean())
        out["within_2fold"] = float(np.mean(err <= math.log10(2.0) + 1e-12))
    return out


def summarize(table: pd.DataFrame) -> dict[str, Any]:
    """``{"observables": {name: {unit, n_obs, n_used, n_excluded_nonpositive, gmfe,
    within_2fold}}, "overall": {...}}`` (``gmfe``/``within_2fold`` are None without usable
    observations)."""
    obs = {}
    for name, g in table.groupby("observable", sort=False):
        units = list(dict.fromkeys(g["unit"])) if "unit" in g else []
        obs[str(name)] = {"unit": units[0] if len(units) == 1 else units,
                          "n_ids": int(g["ID"].nunique()) if "ID" in g else None,
                          **_stats(g["DV"].to_numpy(float), g["PRED"].to_numpy(float))}
    overall = _stats(table["DV"].to_numpy(float), table["PRED"].to_numpy(float))
    return {"observables": obs, "overall": overall}


def plot_observed_vs_predicted(table: pd.DataFrame, path: str | Path,
                               title: str | None = None) -> None:
    """Log–log observed (y) vs predicted (x), one panel per observable, with the identity line
    and the 2-fold band; points coloured by ID (values <= 0 cannot be shown and are counted
    in the panel)."""
    names = list(dict.fromkeys(table["observable"])) or ["(no observations)"]
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig = Figure(figsize=(4.2 * ncol, 4.0 * nrow + 0.4))
    axes = fig.subplots(nrow, ncol, squeeze=False)
    ids = list(dict.fromkeys(table["ID"])) if "ID" in table else []
    cmap = matplotlib.colormaps.get_cmap("tab10" if len(ids) <= 10 else "viridis")
    colour = {sid: cmap(i / max(len(ids) - 1, 1) if len(ids) > 10 else i)
              for i, sid in enumerate(ids)}
    for ax, name in zip(axes.flat, names, strict=False):
        g = table[table["observable"] == name]
        dv, pred = g["DV"].to_numpy(float), g["PRED"].to_numpy(float)
        ok = (dv > 0) & (pred > 0) & np.isfinite(dv) & np.isfinite(pred)
        if ok.any():
            lo = min(dv[ok].min(), pred[ok].min()) / 1.5
            hi = max(dv[ok].max(), pred[ok].max()) * 1.5
        else:
            lo, hi = 0.1, 10.0
        x = np.array([lo, hi])
        ax.plot(x, x, color="k", lw=1.0, label="identity")
        ax.plot(x, 2 * x, color="grey", lw=0.8, ls="--", label="2-fold")
        ax.plot(x, x / 2, color="grey", lw=0.8, ls="--")
        sub = g[ok]
        for sid, gi in sub.groupby("ID", sort=False) if "ID" in sub else []:
            ax.scatter(gi["PRED"], gi["DV"], s=18, alpha=0.8, color=colour.get(sid),
                       label=f"ID {sid}" if len(ids) <= 10 else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        unit = ", ".join(dict.fromkeys(g["unit"])) if "unit" in g and len(g) else ""
        ax.set_xlabel(f"predicted ({unit})" if unit else "predicted")
        ax.set_ylabel(f"observed ({unit})" if unit else "observed")
        s = _stats(dv, pred)
        text = f"n = {s['n_used']}"
        if s["gmfe"] is not None:
            text += f"\nGMFE {s['gmfe']:.2f}\nwithin 2-fold {100 * s['within_2fold']:.0f}%"
        if s["n_excluded_nonpositive"]:
            text += f"\n{s['n_excluded_nonpositive']} ≤ 0 not shown"
        ax.text(0.04, 0.96, text, transform=ax.transAxes, va="top", fontsize=8)
        ax.set_title(str(name), fontsize=10)
        ax.grid(alpha=0.3, which="both", lw=0.4)
        ax.legend(fontsize=7, loc="lower right", frameon=False)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_observed_vs_predicted(table: pd.DataFrame, out: str | Path,
                                title: str | None = None,
                                meta: dict[str, Any] | None = None) -> Path:
    """Write ``predictions.csv``, ``summary.json`` (plus ``meta``, e.g. the data file) and
    ``observed_vs_predicted.png`` into ``out``, atomically: on any failure ``out`` is left as
    it was (absent, or the previous complete output)."""
    with atomic_dir(out) as tmp:
        table.to_csv(tmp / FILES[0], index=False, float_format="%.8g")
        summary = summarize(table)
        if meta:
            summary["meta"] = meta
        write_json(tmp / FILES[1], summary)
        plot_observed_vs_predicted(table, tmp / FILES[2], title)
    return Path(out)
