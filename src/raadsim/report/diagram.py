"""Mechanism diagram: which model variable feeds which, layer by layer.

:func:`mechanism_graph` reads the graph off a :class:`~raadsim.model.spec.ModelSpec` (an edge
``x -> y`` when ``x`` appears in the equation of ``y``); :func:`draw_mechanism` draws it with
matplotlib, one band of columns per layer from left (PK) to right (behaviour).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

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


def _reach(succ: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for v in succ[todo.pop()]:
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return seen


def _ranks(members: list[str], edges: list[Edge], entries: set[str]) -> dict[str, int]:
    """Column of each node within its layer: longest path after cutting feedback edges.

    Feedback edges are those inside a cycle that do not lead further from the layer's
    entry points (breadth-first distance), e.g. a total feeding back into its summands.
    """
    succ: dict[str, list[str]] = {m: [] for m in members}
    for a, b in edges:
        if a in succ and b in succ:
            succ[a].append(b)
    dist = {m: 0 for m in members if m in entries}
    for seed in [None, *members]:  # all entries at once, then anything left unreached
        if seed is not None:
            if seed in dist:
                continue
            dist[seed] = max(dist.values(), default=-1) + 1
        queue = deque(dist if seed is None else [seed])
        while queue:
            u = queue.popleft()
            for v in succ[u]:
                if v not in dist:
                    dist[v] = dist[u] + 1
                    queue.append(v)
    reach = {m: _reach(succ, m) for m in members}
    pred: dict[str, list[str]] = {m: [] for m in members}
    for a in members:
        for b in succ[a]:
            if not (a in reach[b] and dist[b] <= dist[a]):
                pred[b].append(a)
    rank: dict[str, int] = {}

    def depth(u: str) -> int:
        if u not in rank:
            rank[u] = 0  # guard; the kept graph is acyclic
            rank[u] = max((depth(p) + 1 for p in pred[u]), default=0)
        return rank[u]

    for m in members:
        depth(m)
    return rank


def _layout(nodes: list[Node], edges: list[Edge]) -> tuple[list[list[str]], list[str]]:
    """Columns (each a top-to-bottom list of names) and the layer of each column."""
    layer_of = {n.name: n.layer for n in nodes}
    layers = list(dict.fromkeys(n.layer for n in nodes))
    columns: list[list[str]] = []
    col_layers: list[str] = []
    for layer in layers:
        members = [n.name for n in nodes if n.layer == layer]
        fed = {b for a, b in edges if layer_of[b] == layer and layer_of[a] == layer}
        upstream = {b for a, b in edges
                    if layer_of[b] == layer and layer_key(layer_of[a]) < layer_key(layer)}
        entries = (set(members) - fed) | upstream  # no input from this layer, or from earlier
        rank = _ranks(members, edges, entries)
        for r in range(max(rank.values()) + 1):
            columns.append([m for m in members if rank[m] == r])
            col_layers.append(layer)
    col_of = {m: i for i, col in enumerate(columns) for m in col}
    nbrs: dict[str, list[str]] = {n.name: [] for n in nodes}
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    for sweep in range(6):  # barycentre ordering to reduce crossings
        forward = sweep % 2 == 0
        pos = {m: i - (len(c) - 1) / 2 for c in columns for i, m in enumerate(c)}
        for ci in range(len(columns)) if forward else reversed(range(len(columns))):
            col = columns[ci]
            bary = {}
            for m in col:
                side = [pos[v] for v in nbrs[m] if (col_of[v] < ci if forward else col_of[v] > ci)]
                bary[m] = sum(side) / len(side) if side else pos[m]
            col.sort(key=bary.__getitem__)
            pos.update({m: i - (len(col) - 1) / 2 for i, m in enumerate(col)})
    return columns, col_layers


def draw_mechanism(spec: ModelSpec, path: str | Path, highlight: set[str] | None = None,
                   title: str | None = None) -> Path:
    """Draw the mechanism graph of ``spec`` as a layered left-to-right PNG at ``path``.

    One band of columns per layer (pk, targets, circuit, ... then others); solid boxes are
    states (ODEs), dashed boxes assigned variables, bold labels observables. ``highlight``
    (model variables or observable names) is drawn in red with the edges between highlighted
    nodes; edges touching one highlighted node are tinted. Returns the path.
    """
    nodes, edges = mechanism_graph(spec)
    by_name = {n.name: n for n in nodes}
    hl = {spec.observables[h].var if h in spec.observables else h for h in highlight or set()}
    columns, col_layers = _layout(nodes, edges)
    layers = list(dict.fromkeys(col_layers))
    colour = {la: _COLOURS[i % len(_COLOURS)] for i, la in enumerate(layers)}
    fs = 7.0 if len(nodes) <= 40 else 6.0
    char_w, row_h, gap = 0.62 * fs / 72, 0.30 * fs / 6, 0.45  # inches
    widths = [max(len(by_name[m].label) for m in col) * char_w + 0.16 for col in columns]
    xs, x = [], 0.3
    for ci, w in enumerate(widths):
        if ci and col_layers[ci] != col_layers[ci - 1]:
            x += 0.3  # extra space between layers
        xs.append(x + w / 2)
        x += w + gap
    n_rows = max(len(c) for c in columns)
    top, height = 0.9 if title else 0.6, n_rows * row_h + 0.3
    fig_w, fig_h = x - gap + 0.3, height + (0.9 if title else 0.6) + 0.25
    fig = Figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(-height - 0.25, top)
    ax.axis("off")
    centre: dict[str, tuple[float, float, float]] = {}  # name -> (x, y, half-width)
    for ci, col in enumerate(columns):
        for i, m in enumerate(col):
            y = -height / 2 - (i - (len(col) - 1) / 2) * row_h
            centre[m] = (xs[ci], y, widths[ci] / 2)
    for la in layers:
        cis = [i for i, c in enumerate(col_layers) if c == la]
        x0, x1 = xs[cis[0]] - widths[cis[0]] / 2 - 0.12, xs[cis[-1]] + widths[cis[-1]] / 2 + 0.12
        ax.add_patch(Rectangle((x0, -height - 0.1), x1 - x0, height + 0.4, color=colour[la],
                               alpha=0.07, lw=0))
        ax.text((x0 + x1) / 2, 0.15, la, ha="center", va="center", fontsize=fs + 2,
                weight="bold", color=colour[la])
    if title:
        ax.text(0.3, top - 0.2, title, fontsize=fs + 4, weight="bold", va="center")
    ax.text(fig_w - 0.3, top - 0.2 if title else 0.45,
            "solid box: state (ODE)   dashed box: assigned variable   bold: observable   "
            "dotted arrow: feedback", fontsize=fs, ha="right", va="center", color="0.35")
    for a, b in edges:
        (xa, ya, wa), (xb, yb, wb) = centre[a], centre[b]
        n_hl = (a in hl) + (b in hl)
        col = _HIGHLIGHT if n_hl else "0.55"
        style = {"lw": 1.0 if n_hl == 2 else 0.4, "alpha": 0.35 if n_hl == 1 else 0.9,
                 "zorder": 3 if n_hl == 2 else 1}
        if xb > xa:
            start, end, rad, ls = (xa + wa, ya), (xb - wb, yb), 0.0, "-"
        elif xb == xa:
            start, end, rad, ls = (xa + wa, ya), (xb + wb, yb), 0.6, ":"
        else:
            start, end, rad, ls = (xa - wa, ya), (xb + wb, yb), -0.25, ":"
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=fs * 0.9,
                                     connectionstyle=f"arc3,rad={rad}", color=col, ls=ls,
                                     shrinkA=0, shrinkB=0, **style))
    box_h = row_h * 0.72
    for name, (cx, cy, hw) in centre.items():
        n = by_name[name]
        on = name in hl
        ax.add_patch(FancyBboxPatch(
            (cx - hw, cy - box_h / 2), 2 * hw, box_h, boxstyle="round,pad=0,rounding_size=0.04",
            fc="#fde0dd" if on else ("white" if n.kind == "state" else "#f4f4f4"),
            ec=_HIGHLIGHT if on else colour[n.layer], lw=1.2 if on else 0.6,
            ls="-" if n.kind == "state" else "--", zorder=4))
        ax.text(cx, cy, n.label, ha="center", va="center", fontsize=fs, zorder=5,
                weight="bold" if n.label != name else "normal",
                color="#67000d" if on else "black")
    path = Path(path)
    fig.savefig(path, dpi=200)
    return path
