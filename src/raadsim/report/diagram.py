"""Mechanism diagram: which model variable feeds which, scale by scale.

:func:`mechanism_graph` reads the graph off a :class:`~raadsim.model.spec.ModelSpec` (an edge
``x -> y`` when ``x`` appears in the equation of ``y``); :func:`draw_mechanism` draws it with
matplotlib from :func:`raadsim.report.diagram_graph.diagram_layout`: one band per scale from
top (PK) to bottom (clinic), activation and inhibition drawn differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from ..model.layer import LAYERS as LAYER_ORDER
from ..model.spec import ModelSpec, identifiers

PLUMBING_PREFIXES = ("Rin_", "D_", "A_p", "A_h_")  # PK bookkeeping left out of the diagram
_COLOURS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd", "#dd8452",
            "#937860", "#da8bc3", "#8c8c8c")
_HIGHLIGHT = "#d7301f"

Edge = tuple[str, str]


@dataclass(frozen=True)
class Node:
    """A state or assigned variable of the model, as drawn."""

    name: str
    label: str  # the observable name when the variable is an observable's, else ``name``
    layer: str
    kind: str  # "state" | "rule"
    description: str


def layer_key(layer: str) -> tuple[int, str]:
    """Sort key putting layers in mechanistic order (pk ... cardiovascular), unknown ones last."""
    return (LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER), layer)


def mechanism_graph(spec: ModelSpec) -> tuple[list[Node], list[Edge]]:
    """Nodes (states and rules, grouped by layer, PK plumbing and parameters excluded) and
    edges ``(x, y)`` meaning "``x`` appears in the equation of ``y``" (self-loops dropped)."""
    labels: dict[str, str] = {}
    for ob in spec.observables.values():
        labels.setdefault(ob.var, ob.name)
    raw = [Node(s.name, labels.get(s.name, s.name), s.layer, "state", s.description)
           for s in spec.states.values()]
    raw += [Node(r.name, labels.get(r.name, r.name), r.layer, "rule", r.description)
            for r in spec.rules.values()]
    nodes = sorted((n for n in raw if not n.name.startswith(PLUMBING_PREFIXES)),
                   key=lambda n: layer_key(n.layer))
    keep = {n.name for n in nodes}
    order = {n.name: i for i, n in enumerate(nodes)}
    edges: list[Edge] = []
    for n in nodes:
        expr = spec.odes[n.name] if n.kind == "state" else spec.rules[n.name].expr
        srcs = (identifiers(expr) & keep) - {n.name}
        edges.extend((s, n.name) for s in sorted(srcs, key=order.__getitem__))
    return nodes, edges


SIGN_WORDS = {"+": "activation", "-": "inhibition", "±": "mixed"}
# arrow style, colour and line style per edge sign
EDGE_STYLE = {"+": ("-|>", "0.3", "-"), "-": ("-[, widthB=0.35, lengthB=0", "#b2182b", "-"),
              "±": ("->", "0.45", (0, (3, 2)))}
WIDTH_IN, ROW_IN, BAND_GAP_IN, LEFT_IN = 11.0, 0.62, 0.3, 1.35


def _wrap(text: str, width: int = 22) -> str:
    words, lines = text.split(" "), [""]
    for w in words:
        if lines[-1] and len(lines[-1]) + 1 + len(w) > width:
            lines.append(w)
        else:
            lines[-1] = (lines[-1] + " " + w).strip()
    return "\n".join(lines)


def draw_mechanism(spec: ModelSpec, path: str | Path, highlight: set[str] | None = None,
                   title: str | None = None, dpi: int = 150) -> Path:
    """Draw the mechanism of ``spec`` to ``path`` (PNG, SVG, PDF by suffix), top to bottom
    by scale (:data:`raadsim.report.diagram_graph.SCALES`), about 11 inches wide.

    Solid boxes are states (ODEs), dashed boxes assigned variables, bold labels observables;
    arrows: activation (filled head), inhibition (red, flat bar), state-dependent (dashed);
    upward arrows are feedback. ``highlight`` (model variables or observable names) is drawn
    in red. SVG elements carry ids ``node-<n>`` and ``edge-<activation|inhibition|mixed>-<n>``.
    """
    from .diagram_graph import SCALES, diagram_layout

    lay = diagram_layout(spec)
    hl_vars = {spec.observables[h].var if h in spec.observables else h
               for h in highlight or set()}
    hl = {lay.group_of[v] for v in hl_vars if v in lay.group_of}
    head = 0.75 if title else 0.5
    ys, y = [], head + 0.35
    for r, s in enumerate(lay.row_scale):
        if r and s != lay.row_scale[r - 1]:
            y += BAND_GAP_IN
        ys.append(y + ROW_IN / 2)
        y += ROW_IN
    height = y + 0.2
    fig = Figure(figsize=(WIDTH_IN, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH_IN)
    ax.set_ylim(height, 0)
    ax.axis("off")
    fs = 7.5
    span = WIDTH_IN - LEFT_IN - 0.15
    centre: dict[str, tuple[float, float, float, float]] = {}  # x, y, half-width, half-height
    for r, row in enumerate(lay.rows):
        slot = span / max(len(row), 1)
        for i, key in enumerate(row):
            text = _wrap(lay.nodes[key].label)
            n_lines = text.count("\n") + 1
            hw = min(max(len(t) for t in text.split("\n")) * 0.058 + 0.1, slot / 2 - 0.05)
            centre[key] = (LEFT_IN + (i + 0.5) * slot, ys[r], hw, 0.09 + 0.055 * n_lines)
    for si, (_, name, _) in enumerate(SCALES):
        rows = [r for r, s in enumerate(lay.row_scale) if s == si]
        if not rows:
            continue
        y0, y1 = ys[rows[0]] - ROW_IN / 2, ys[rows[-1]] + ROW_IN / 2
        ax.add_patch(Rectangle((0.08, y0 - 0.06), WIDTH_IN - 0.16, y1 - y0 + 0.12,
                               color=_COLOURS[si], alpha=0.08, lw=0))
        ax.text(0.16, (y0 + y1) / 2, _wrap(name, 14), fontsize=fs + 1.5, weight="bold",
                color=_COLOURS[si], va="center", ha="left")
    for i, e in enumerate(lay.edges):
        (xa, ya, wa, ha), (xb, yb, wb, hb) = centre[e.a], centre[e.b]
        arrow, colour, ls = EDGE_STYLE[e.sign]
        on = e.a in hl and e.b in hl
        if yb > ya:
            start, end, rad, lw, alpha = (xa, ya + ha), (xb, yb - hb), 0.0, 0.6, 0.85
        elif yb == ya:
            above = -1 if xb > xa else 1
            start, end = (xa, ya - ha), (xb, yb - hb)
            rad, lw, alpha = 0.35 * above, 0.5, 0.7
        else:  # feedback, upwards
            start, end, rad, lw, alpha = (xa + wa, ya), (xb + wb, yb), -0.3, 0.45, 0.45
        p = FancyArrowPatch(start, end, arrowstyle=arrow, mutation_scale=7,
                            connectionstyle=f"arc3,rad={rad}",
                            color=_HIGHLIGHT if on else colour, ls=ls,
                            lw=1.1 if on else lw, alpha=1.0 if on else alpha,
                            shrinkA=1, shrinkB=1, zorder=3 if on else 1)
        p.set_gid(f"edge-{SIGN_WORDS[e.sign]}-{i}")
        ax.add_patch(p)
    for j, (key, (cx, cy, hw, hh)) in enumerate(centre.items()):
        n = lay.nodes[key]
        on = key in hl
        box = FancyBboxPatch(
            (cx - hw, cy - hh), 2 * hw, 2 * hh, boxstyle="round,pad=0,rounding_size=0.05",
            fc="#fde0dd" if on else ("white" if n.kind == "state" else "#f6f6f6"),
            ec=_HIGHLIGHT if on else _COLOURS[n.scale], lw=1.2 if on else 0.7,
            ls="-" if n.kind == "state" else "--", zorder=4)
        box.set_gid(f"node-{j}")
        ax.add_patch(box)
        ax.text(cx, cy, _wrap(n.label), ha="center", va="center", fontsize=fs, zorder=5,
                weight="bold" if n.observable else "normal", linespacing=1.0,
                color="#67000d" if on else "black")
    if title:
        ax.text(0.16, 0.3, title, fontsize=fs + 3.5, weight="bold", va="center")
    ly = head + 0.05
    x = 0.16
    for sign in ("+", "-", "±"):
        arrow, colour, ls = EDGE_STYLE[sign]
        ax.add_patch(FancyArrowPatch((x, ly), (x + 0.45, ly), arrowstyle=arrow,
                                     mutation_scale=7, color=colour, ls=ls, lw=0.8))
        ax.text(x + 0.52, ly, SIGN_WORDS[sign] + ("" if sign != "±" else
                                                  " (depends on the state)"),
                fontsize=fs, va="center")
        x += 1.5 if sign != "±" else 2.4
    ax.text(x, ly, "solid box: state (ODE); dashed box: assigned variable; bold: observable;"
            " upward arrow: feedback", fontsize=fs, va="center", color="0.35")
    path = Path(path)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text
        fig.savefig(path, dpi=dpi)
    return path
