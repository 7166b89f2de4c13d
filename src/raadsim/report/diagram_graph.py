"""The mechanism diagram as data: nodes condensed and placed in bands by scale, edges signed.

:func:`diagram_layout` turns a model's :func:`~raadsim.report.diagram.mechanism_graph` into
what :func:`~raadsim.report.diagram.draw_mechanism` draws: one band per scale, top to bottom
(pharmacokinetics → targets → network → signalling → synapses → clinic), the per-analyte
copies of a PK or target variable folded into one node ("plasma concentration, 6 analytes"),
reference bookkeeping left out, and every edge signed by the equations themselves: the sign of
∂(equation of y)/∂x, by central differences at random positive points (parameters at their
values; each variable sampled in its layer's usual range: fractions 0–1 for targets, clinic
and psychoactive state and switches, 1–1.2 for synapses, 0.3–2 × baseline for the
rest). ``+`` (activation) when never negative, ``-`` (inhibition) when never positive,
``±`` when it depends on the state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..model.spec import ModelSpec, identifiers
from ..simulate.readout import compile_numpy

# (key, title, model layers) from the dose to the clinic.
SCALES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("pk", "Pharmacokinetics", ("pk",)),
    ("targets", "Receptor targets", ("targets",)),
    ("network", "Network and psychoactive state", ("network", "psychoactive", "eeg")),
    ("signalling", "Plasticity signalling", ("signalling",)),
    ("synapse", "Synapses", ("synapse",)),
    ("clinic", "Clinic and behaviour", ("clinic", "behaviour", "cardiovascular",
                                        "peripheral")),
)
SCALE_OF = {layer: i for i, (_, _, layers) in enumerate(SCALES) for layer in layers}
HIDDEN = re.compile(r"^(sw_reference|\w+_held|W_ref|S_ref)$")  # reference bookkeeping
# Words for the folded per-analyte nodes, by the variable's prefix.
GROUP_WORDS = {
    "A_c": "central amount", "C": "plasma concentration", "Cb": "brain concentration",
    "Cbu": "unbound brain (molar)", "Cart": "arterial concentration",
    "plasma_total": "plasma total", "brain_total": "brain total",
    "arterial_total": "arterial total", "B_int": "NMDAR block, interneuron",
    "B_pyr": "NMDAR block, pyramidal", "O_ampar": "AMPAR occupancy",
    "O_ht2a": "5-HT2A occupancy", "O_trkb": "TrkB occupancy", "O_sert": "SERT occupancy",
}
MAX_PER_ROW = 7
FRACTION_LAYERS = ("targets", "psychoactive", "clinic", "perturb")
SAMPLE_RANGE = {"synapse": (1.0, 1.2)} | {la: (0.01, 0.95) for la in FRACTION_LAYERS}


@dataclass(frozen=True)
class DNode:
    """A drawn node: one model variable, or the per-analyte copies of one."""

    key: str
    label: str
    scale: int
    members: tuple[str, ...]
    kind: str  # "state" | "rule" (a folded node: the kind of its members)
    observable: bool


@dataclass(frozen=True)
class DEdge:
    """``a`` appears in the equation of ``b``; ``sign`` is "+", "-" or "±"."""

    a: str
    b: str
    sign: str


@dataclass
class DiagramLayout:
    """Nodes with their band, row and position (x in 0–1 across the band); signed edges."""

    nodes: dict[str, DNode]
    edges: list[DEdge]
    rows: list[list[str]]  # top to bottom, each row left to right
    row_scale: list[int]
    group_of: dict[str, str]  # model variable -> node key

    def position(self, key: str) -> tuple[int, int]:
        """(row, column) of a node."""
        for r, row in enumerate(self.rows):
            if key in row:
                return r, row.index(key)
        raise KeyError(key)


def _analytes(spec: ModelSpec) -> list[str]:
    names = [s[4:] for s in spec.states if s.startswith("A_c_")]
    names += [r[len("plasma_total_"):] for r in spec.rules if r.startswith("plasma_total_")]
    return sorted(set(names), key=len, reverse=True)  # longest suffix first


def _group_key(name: str, layer: str, analytes: list[str]) -> tuple[str, str | None]:
    """(node key, prefix) of a model variable: PK and target variables ending in an
    analyte's name fold into ``prefix_*``."""
    if layer in ("pk", "targets"):
        for a in analytes:
            if name.endswith("_" + a) and len(name) > len(a) + 1:
                prefix = name[: -len(a) - 1]
                return f"{prefix}_*", prefix
    return name, None


def _expr(spec: ModelSpec, name: str) -> str:
    return spec.odes[name] if name in spec.odes else spec.rules[name].expr


def edge_sign(spec: ModelSpec, x: str, y: str, points: int = 24, seed: int = 0) -> str:
    """Sign of ∂(equation of ``y``)/∂``x`` over random positive states (see module doc)."""
    expr = _expr(spec, y)
    names = sorted(identifiers(expr) | {"time"})
    fn = compile_numpy(f"def f({', '.join(names)}):\n    return ({expr}) + 0 * time\n", "f")
    rng = np.random.default_rng(seed)
    args = {}
    for n in names:
        if n in spec.params:
            args[n] = np.full(points, float(spec.params[n].value))
        elif n in spec.inputs:
            args[n] = np.full(points, float(spec.inputs[n]))
        else:
            var = spec.states.get(n) or spec.rules.get(n)
            lo, hi = SAMPLE_RANGE.get(var.layer if var else "", (0.3, 2.0))
            args[n] = rng.uniform(lo, hi, points)
    h = 1e-6 * np.maximum(np.abs(args[x]), 1e-3)
    with np.errstate(all="ignore"):
        up = fn(**{**args, x: args[x] + h})
        down = fn(**{**args, x: args[x] - h})
        d = (np.asarray(up, float) - np.asarray(down, float)) / (2 * h)
    d = d[np.isfinite(d)]
    scale = np.max(np.abs(d)) if d.size else 0.0
    if scale == 0:
        return "±"
    tol = 1e-6 * scale
    if np.all(d >= -tol):
        return "+"
    if np.all(d <= tol):
        return "-"
    return "±"


def condense(spec: ModelSpec, nodes, edges) -> tuple[dict[str, DNode], list[DEdge],
                                                        dict[str, str]]:
    """Fold per-analyte copies, hide reference bookkeeping, sign the edges."""
    analytes = _analytes(spec)
    layer = {n.name: n.layer for n in nodes}
    succ_scale: dict[str, int] = {}
    for a, b in edges:  # perturbation switches sit in the band of what they act on
        if layer.get(b) in SCALE_OF:
            succ_scale[a] = min(succ_scale.get(a, 99), SCALE_OF[layer[b]])
    group_of: dict[str, str] = {}
    members: dict[str, list] = {}
    for n in nodes:
        if HIDDEN.match(n.name):
            continue
        key, prefix = _group_key(n.name, n.layer, analytes)
        group_of[n.name] = key
        members.setdefault(key, []).append((n, prefix))
    out: dict[str, DNode] = {}
    for key, ms in members.items():
        n, prefix = ms[0]
        scale = SCALE_OF.get(n.layer, succ_scale.get(n.name, 1))
        if prefix is None:
            text = n.label.split(".", 1)[-1] if n.label != n.name else n.name
            out[key] = DNode(key, text, scale, (n.name,), n.kind, n.label != n.name)
        else:
            words = GROUP_WORDS.get(prefix, prefix)
            text = f"{words} ({len(ms)} analytes)" if len(ms) > 1 else \
                f"{words} ({n.name[len(prefix) + 1:]})"
            out[key] = DNode(key, text, scale, tuple(m.name for m, _ in ms), n.kind,
                             any(m.label != m.name for m, _ in ms))
    tails = [n.label for n in out.values() if n.observable and len(n.members) == 1]
    for key, n in list(out.items()):  # a tail two observables share keeps its prefix
        if n.observable and len(n.members) == 1 and tails.count(n.label) > 1:
            full = next(m.label for m in nodes if m.name == n.members[0])
            out[key] = DNode(key, full, n.scale, n.members, n.kind, True)
    signs: dict[tuple[str, str], set[str]] = {}
    for a, b in edges:
        ga, gb = group_of.get(a), group_of.get(b)
        if ga is None or gb is None or ga == gb:
            continue
        signs.setdefault((ga, gb), set()).add(edge_sign(spec, a, b))
    dedges = [DEdge(a, b, s.pop() if len(s) == 1 else "±") for (a, b), s in signs.items()]
    return out, dedges, group_of


def _rank_rows(keys: list[str], edges: list[DEdge]) -> list[list[str]]:
    """Rows within a band: longest path from the band's entries (feedback cut by order)."""
    inside = set(keys)
    order = {k: i for i, k in enumerate(keys)}
    pred: dict[str, list[str]] = {k: [] for k in keys}
    for e in edges:
        if e.a in inside and e.b in inside and order[e.a] < order[e.b]:
            pred[e.b].append(e.a)
    rank: dict[str, int] = {}
    for k in keys:  # keys come in equation order: predecessors first
        rank[k] = max((rank[p] + 1 for p in pred[k] if p in rank), default=0)
    levels: dict[int, list[str]] = {}
    for k in keys:
        levels.setdefault(rank[k], []).append(k)
    rows: list[list[str]] = []
    for r in sorted(levels):
        row = levels[r]
        for i in range(0, len(row), MAX_PER_ROW):
            rows.append(row[i:i + MAX_PER_ROW])
    # merge short consecutive rows so a band is not a tall thin column
    merged: list[list[str]] = []
    for row in rows:
        if merged and len(merged[-1]) + len(row) <= 4:
            merged[-1] = merged[-1] + row
        else:
            merged.append(row)
    return merged


def diagram_layout(spec: ModelSpec) -> DiagramLayout:
    """The layered, signed, condensed mechanism diagram of ``spec`` (see the module doc)."""
    from .diagram import mechanism_graph

    nodes, edges = mechanism_graph(spec)
    dnodes, dedges, group_of = condense(spec, nodes, edges)
    rows: list[list[str]] = []
    row_scale: list[int] = []
    for s in range(len(SCALES)):
        keys = [k for k, n in dnodes.items() if n.scale == s]
        if not keys:
            continue
        band = _rank_rows(keys, dedges)
        rows += band
        row_scale += [s] * len(band)
    nbrs: dict[str, list[str]] = {k: [] for k in dnodes}
    for e in dedges:
        nbrs[e.a].append(e.b)
        nbrs[e.b].append(e.a)
    for sweep in range(6):  # barycentre ordering against the rows above (then below)
        down = sweep % 2 == 0
        pos = {k: (i + 0.5) / len(row) for row in rows for i, k in enumerate(row)}
        row_of = {k: r for r, row in enumerate(rows) for k in row}
        for r in range(len(rows)) if down else reversed(range(len(rows))):
            row = rows[r]
            bary = {}
            for k in row:
                side = [pos[v] for v in nbrs[k] if (row_of[v] < r if down else row_of[v] > r)]
                bary[k] = sum(side) / len(side) if side else pos[k]
            row.sort(key=bary.__getitem__)
            pos.update({k: (i + 0.5) / len(row) for i, k in enumerate(row)})
    return DiagramLayout(dnodes, dedges, rows, row_scale, group_of)
