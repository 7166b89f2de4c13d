"""Layer 3b — electrophysiology: resting M/EEG power spectra from the network drug state.

Not part of the ODE model. At each output time the drug state of the trajectory sets the
receptor gains and drug-sensitive parameters of two cortical sources of SPM12's
conductance-based canonical microcircuit with AMPA, GABA-A and NMDA receptors
(``spm_fx_cmm_NMDA.m``, the family of models used in DCM of ketamine MEG). Each source is
linearised about its fixed point and its spectrum computed analytically for white-noise
input, as DCM for cross-spectral densities does (``spm_dcm_mtf.m``). Parameters:
``model/layers/eeg.toml``.

Sources. ``posterior`` (parieto-occipital and posterior cingulate cortex) is the microcircuit
at SPM's prior means (resonance 20.75 Hz; the alpha band lies on its low-frequency flank).
``frontal`` (medial prefrontal/anterior cingulate) is the same microcircuit with every time
constant (synaptic, membrane, delay) multiplied by ``timescale_frontal``, which moves its
resonance into the theta band. The two sources are independent; the whole-head signal is
their sum, each normalised to unit drug-free total power (equal weight).

Populations ``p`` = spiny stellate (ss), superficial pyramidal (sp), inhibitory interneurons
(ii), deep pyramidal (dp); each has a voltage ``V`` and AMPA, GABA-A and NMDA conductances::

    C_p V_p'  = g_L (V_L − V_p) + g_E,p (V_E − V_p) + g_I,p (V_I − V_p)
                + g_N,p (V_N − V_p) · mg(V_p)
    τ_AMPA g_E,p' = 2 a_p (Σ_q GE_pq m_q + BE) − g_E,p        (+ noise u into ss)
    τ_GABA g_I,p' =        Σ_q GI_pq m_q        − g_I,p
    τ_NMDA g_N,p' = 2 n_p (Σ_q GE_pq m_q + BE) − g_N,p        (+ noise u into ss)
    m_q = Φ((V_q − V_R)/σ_q),   mg(V) = 1.50265 / (1 + 0.33 exp(−0.06 V))

Drug couplings (``B`` NMDA receptor block, ``D`` = ``drive_ht2a`` 5-HT2A activation):

* NMDA availability ``n_p = 1 − B``: ``B_int_total`` on interneurons, ``B_pyr_total`` on the
  excitatory populations (ss, sp, dp): blocked channels carry no current.
* Superficial pyramidal capacitance ``C_sp · exp(−k_cap_sp · B_int_total)``: the DCM estimate
  that ketamine lowers the membrane capacitance of superficial pyramidal cells (Gilbert 2020),
  read as their disinhibition by interneuron NMDA block; ``k_cap_sp`` is fitted to the rat
  gamma increase (Pinault 2008).
* AMPA gain ``a_p = ampar_drive / G_glu`` = (1 − NBQX)·(1 + g_pam·O_ampar): the receptor
  part of the circuit layer's AMPA throughput (release is the microcircuit's own firing).
* 5-HT2A, three switchable hypotheses, each scaled by the source's ``w_ht2a_<source>``:
  ``GE_sp_ss · exp(−k_ht2a_ff·w·D)`` (reduced bottom-up drive, Michaiel 2019; the default,
  fitted to the DMT alpha EC50 of Eckernäs 2023), ``GI_sp_sp · exp(k_ht2a_si·w·D)``
  (superficial pyramidal self-inhibition up, DCM of psilocybin fMRI) and
  ``σ_E · exp(k_ht2a_gain·w·D)`` (gain of the excitatory populations, Burt 2021). Setting a
  hypothesis' coefficient (and zeroing the default) switches; ``raadsim calibrate --problem
  eeg_ht2a`` fits the default, and tests/model/test_eeg.py sizes each alternative the same way.
* The excitatory (AMPA and NMDA) drive of deep, layer-5 pyramidal cells is multiplied by the
  circuit layer's ``X_ext = 1 + g_ht2a_E·drive_ht2a`` (Muthukumaraswamy 2013: deep pyramidal
  excitability); in this microcircuit it barely reaches the signal.

The signal of each source is its superficial pyramidal voltage (SPM's ``CMM_NMDA`` lead field,
state 2). With intrinsic delays ``D`` the Jacobian is ``J = Q·∂f/∂x``,
``Q = (I − D∘∂f/∂x)⁻¹``; the transfer function from the noise to the signal is
``H(ω) = Σ_k (c·v_k)(w_k·b)/(iω − λ_k)`` over the eigenmodes, unstable modes conditioned as
in SPM (``Re λ → Re λ − exp(Re λ)``); the spectrum is ``|H|²``. Band powers are relative to
the drug-free state (= 1); spectral entropy is the Shannon entropy of the normalised 1–90 Hz
whole-head spectrum over ln(number of bins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import numpy as np
from scipy.special import ndtr

from ..errors import ModelError
from .layer import layer_params

LAYER = "eeg"
BANDS = ("delta", "theta", "alpha", "beta", "gamma")
SOURCES = ("frontal", "posterior")
SOURCE_LABEL = {"frontal": "medial frontal source", "posterior": "posterior source"}
OBSERVABLES: dict[str, str] = {
    **{f"eeg.{b}_power": f"{b}-band power of the resting M/EEG, whole head (drug-free = 1)"
       for b in BANDS},
    **{f"eeg.{s}.{b}_power": f"{b}-band power of the {SOURCE_LABEL[s]} (drug-free = 1)"
       for s in SOURCES for b in BANDS},
    "eeg.spectral_entropy": "normalised spectral entropy of the 1-90 Hz whole-head spectrum (0-1)",
}
# Trajectory variables that set the microcircuit (targets and circuit layers).
STATE = ("B_int_total", "B_pyr_total", "X_ext", "ampar_drive", "G_glu", "drive_ht2a")
POPULATIONS = ("ss", "sp", "ii", "dp")
SS, SP, II, DP = range(4)
EXCITATORY = np.array([1.0, 1.0, 0.0, 1.0])


@dataclass(frozen=True)
class Microcircuit:
    """Constants of one source's microcircuit in SI-like model units (s, mV), with its drug
    couplings."""

    GE: np.ndarray      # excitatory connections (target × source)
    GI: np.ndarray      # inhibitory connections
    C: np.ndarray       # C/g_L per population (s)
    k_ampa: float       # 1/s
    k_gaba: float
    k_nmda: float
    g_leak: float
    V_leak: float
    V_exc: float
    V_inh: float
    V_nmda: float
    V_thresh: float
    V_sd: float
    background: float
    mg: tuple[float, float, float]
    delay: float        # s
    freqs: np.ndarray   # Hz
    bands: dict[str, tuple[float, float]]
    source: str = "posterior"
    k_cap_sp: float = 0.0
    k_ht2a_ff: float = 0.0
    k_ht2a_si: float = 0.0
    k_ht2a_gain: float = 0.0
    w_ht2a: float = 1.0


@dataclass(frozen=True)
class Circuit:
    """The microcircuit's drug-dependent quantities at ``n`` time points."""

    ampa: np.ndarray    # (n, 4) AMPA gain
    nmda: np.ndarray    # (n, 4) NMDA availability (× deep pyramidal drive)
    GE: np.ndarray      # (n, 4, 4)
    GI: np.ndarray      # (n, 4, 4)
    C: np.ndarray       # (n, 4) s
    V_sd: np.ndarray    # (n, 4) mV


Overrides = tuple[tuple[str, float], ...]


def parameter_names() -> list[str]:
    """Names of the ``eeg.toml`` parameters."""
    return list(layer_params(LAYER))


def overrides_from(params: Mapping[str, float] | None) -> Overrides:
    """The user parameter overrides (names or ``fnmatch`` patterns) that name ``eeg.toml``
    parameters, as :func:`microcircuit` takes them (values in each parameter's unit)."""
    import fnmatch

    names, hits = parameter_names(), {}
    for pattern, value in (params or {}).items():
        hits |= dict.fromkeys(fnmatch.filter(names, pattern), float(value))
    return tuple(sorted(hits.items()))


@cache
def microcircuit(overrides: Overrides = (), source: str = "posterior") -> Microcircuit:
    """The microcircuit of ``source`` built from ``model/layers/eeg.toml``; ``overrides``
    replace parameter values (each in the unit ``eeg.toml`` gives it)."""
    if source not in SOURCES:
        raise ModelError(f"eeg: unknown source {source!r}; one of {', '.join(SOURCES)}")
    P = layer_params(LAYER)
    over = dict(overrides)
    unknown = [n for n in over if n not in P]
    if unknown:
        raise ModelError(f"eeg: unknown parameter {unknown[0]}")

    def v(name: str, unit: str | None = None) -> float:
        p = P[name].model_copy(update={"value": over[name]}) if name in over else P[name]
        return p.in_unit(unit or p.unit)

    GE = np.zeros((4, 4))
    GI = np.zeros((4, 4))
    for name in P:
        kind, _, pair = name.partition("_")
        if kind in ("gE", "gI") and pair.count("_") == 1:
            tgt, src = pair.split("_")
            (GE if kind == "gE" else GI)[POPULATIONS.index(tgt), POPULATIONS.index(src)] = v(name)
    edges = [v("f_min"), v("theta_low"), v("alpha_low"), v("beta_low"), v("gamma_low"),
             v("f_max")]
    df = v("df")
    ts = v(f"timescale_{source}")
    return Microcircuit(
        GE=GE, GI=GI, C=ts * np.array([v(f"C_{p}", "s") for p in POPULATIONS]),
        k_ampa=1 / (ts * v("tau_ampa", "s")), k_gaba=1 / (ts * v("tau_gaba", "s")),
        k_nmda=1 / (ts * v("tau_nmda", "s")), g_leak=v("g_leak"), V_leak=v("V_leak"),
        V_exc=v("V_exc"), V_inh=v("V_inh"), V_nmda=v("V_nmda"), V_thresh=v("V_thresh"),
        V_sd=float(np.sqrt(v("V_var"))), background=v("background"),
        mg=(v("mg_a"), v("mg_b"), v("mg_k")), delay=ts * v("delay", "s"),
        freqs=np.arange(edges[0], edges[-1] + df / 2, df),
        bands=dict(zip(BANDS, pairwise(edges), strict=True)),
        source=source, k_cap_sp=v("k_cap_sp"), k_ht2a_ff=v("k_ht2a_ff"),
        k_ht2a_si=v("k_ht2a_si"), k_ht2a_gain=v("k_ht2a_gain"), w_ht2a=v(f"w_ht2a_{source}"),
    )


def _column(state: Mapping[str, np.ndarray], name: str, default: float) -> np.ndarray:
    return np.atleast_1d(np.asarray(state.get(name, default), float))


def circuit(state: Mapping[str, np.ndarray], mc: Microcircuit | None = None) -> Circuit:
    """The drug-dependent quantities of ``mc`` at each time point of a drug state (missing
    state variables take their drug-free values)."""
    mc = mc or microcircuit()
    b_int = _column(state, "B_int_total", 0.0)
    n = len(b_int)
    b_pyr = np.broadcast_to(_column(state, "B_pyr_total", 0.0), (n,))
    x = np.broadcast_to(_column(state, "X_ext", 1.0), (n,))
    g_ampa = np.broadcast_to(_column(state, "ampar_drive", 1.0)
                             / _column(state, "G_glu", 1.0), (n,))
    drive = np.broadcast_to(_column(state, "drive_ht2a", 0.0), (n,)) * mc.w_ht2a
    ones = np.ones(n)
    dp = np.stack([ones, ones, ones, x], axis=1)
    ampa = g_ampa[:, None] * dp
    nmda = np.stack([1 - b_pyr, 1 - b_pyr, 1 - b_int, 1 - b_pyr], axis=1) * dp
    GE = np.repeat(mc.GE[None], n, axis=0)
    GE[:, SP, SS] *= np.exp(-mc.k_ht2a_ff * drive)
    GI = np.repeat(mc.GI[None], n, axis=0)
    GI[:, SP, SP] *= np.exp(mc.k_ht2a_si * drive)
    C = np.repeat(mc.C[None], n, axis=0)
    C[:, SP] *= np.exp(-mc.k_cap_sp * b_int)
    V_sd = mc.V_sd * np.exp(mc.k_ht2a_gain * drive[:, None] * EXCITATORY[None, :])
    return Circuit(ampa, nmda, GE, GI, C, V_sd)


def gains(state: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AMPA and NMDA gains per population, shape (n, 4), from the trajectory's drug state."""
    c = circuit(state)
    return c.ampa, c.nmda


def _rates(V: np.ndarray, mc: Microcircuit, V_sd: np.ndarray | float | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    sd = mc.V_sd if V_sd is None else V_sd
    z = (V - mc.V_thresh) / sd
    return ndtr(z), np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * sd)


def _mg(V: np.ndarray, mc: Microcircuit) -> tuple[np.ndarray, np.ndarray]:
    a, b, k = mc.mg
    e = b * np.exp(-k * V)
    return a / (1 + e), a * k * e / (1 + e) ** 2


def _currents(V: np.ndarray, c: Circuit, mc: Microcircuit):
    """Membrane currents at steady conductances, their Jacobian in V (n, 4, 4), and the
    terms the linearisation needs."""
    m, dm = _rates(V, mc, c.V_sd)
    s = np.einsum("nij,nj->ni", c.GE, m) + mc.background
    gE, gN, gI = 2 * c.ampa * s, 2 * c.nmda * s, np.einsum("nij,nj->ni", c.GI, m)
    mg, dmg = _mg(V, mc)
    F = (mc.g_leak * (mc.V_leak - V) + gE * (mc.V_exc - V) + gI * (mc.V_inh - V)
         + gN * (mc.V_nmda - V) * mg)
    own = -mc.g_leak - gE - gI - gN * mg + gN * (mc.V_nmda - V) * dmg
    coupling = ((2 * c.ampa * (mc.V_exc - V) + 2 * c.nmda * (mc.V_nmda - V) * mg)[:, :, None]
                * c.GE + (mc.V_inh - V)[:, :, None] * c.GI) * dm[:, None, :]
    dF = coupling + own[:, :, None] * np.eye(4)
    return F, dF, (own, dm, mg)


def fixed_point(c: Circuit, V0: np.ndarray | None = None, mc: Microcircuit | None = None
                ) -> np.ndarray:
    """Steady voltages (n, 4) by damped Newton iteration, vectorised over time points."""
    mc = mc or microcircuit()
    V = np.broadcast_to(np.full(4, -60.0) if V0 is None else V0, c.ampa.shape).copy()
    for _ in range(100):
        F, dF, _ = _currents(V, c, mc)
        step = np.clip(np.linalg.solve(dF, -F[..., None])[..., 0], -5.0, 5.0)
        V += step
        if np.abs(step).max() < 1e-9:
            return V
    raise ModelError("eeg: the microcircuit's fixed point did not converge")


def linearise(V: np.ndarray, c: Circuit, mc: Microcircuit | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Jacobian (n, 16, 16) and noise input vector (n, 16) at the fixed point ``V``, with the
    delay operator applied. State order: V (4), g_E (4), g_I (4), g_N (4)."""
    mc = mc or microcircuit()
    n = V.shape[0]
    _, _, (own, dm, mg) = _currents(V, c, mc)
    eye = np.eye(4)
    inv_C = 1 / c.C
    J = np.zeros((n, 16, 16))
    J[:, 0:4, 0:4] = (own * inv_C)[:, :, None] * eye
    J[:, 0:4, 4:8] = ((mc.V_exc - V) * inv_C)[:, :, None] * eye
    J[:, 0:4, 8:12] = ((mc.V_inh - V) * inv_C)[:, :, None] * eye
    J[:, 0:4, 12:16] = ((mc.V_nmda - V) * mg * inv_C)[:, :, None] * eye
    J[:, 4:8, 0:4] = mc.k_ampa * 2 * c.ampa[:, :, None] * c.GE * dm[:, None, :]
    J[:, 8:12, 0:4] = mc.k_gaba * c.GI * dm[:, None, :]
    J[:, 12:16, 0:4] = mc.k_nmda * 2 * c.nmda[:, :, None] * c.GE * dm[:, None, :]
    J[:, 4:8, 4:8] = -mc.k_ampa * eye
    J[:, 8:12, 8:12] = -mc.k_gaba * eye
    J[:, 12:16, 12:16] = -mc.k_nmda * eye
    b = np.zeros((n, 16))
    b[:, 4 + SS] = mc.k_ampa * c.ampa[:, SS]   # noise enters the stellate AMPA and NMDA inputs
    b[:, 12 + SS] = mc.k_nmda * c.nmda[:, SS]
    pop = np.tile(np.arange(4), 4)
    D = np.where(pop[:, None] != pop[None, :], -mc.delay, 0.0)
    Q = np.linalg.inv(np.eye(16) - D * J)
    return Q @ J, np.einsum("nij,nj->ni", Q, b)


def _state_matrix(state: Mapping[str, np.ndarray]) -> np.ndarray:
    n = len(_column(state, "B_int_total", 0.0))
    defaults = {"B_int_total": 0.0, "B_pyr_total": 0.0, "X_ext": 1.0, "ampar_drive": 1.0,
                "G_glu": 1.0, "drive_ht2a": 0.0}
    return np.stack([np.broadcast_to(_column(state, k, d), (n,)) for k, d in defaults.items()],
                    axis=1)


def spectra(state: Mapping[str, np.ndarray], mc: Microcircuit | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power spectra (n, n_freqs) of one source's signal for each time point of a drug state,
    the frequencies (Hz) and the largest real part of the Jacobian's eigenvalues per time point
    (negative: stable fixed point). Identical drug states are computed once."""
    mc = mc or microcircuit()
    X = _state_matrix(state)
    uniq, inverse = np.unique(np.round(X, 12), axis=0, return_inverse=True)
    c = circuit(dict(zip(("B_int_total", "B_pyr_total", "X_ext", "ampar_drive", "G_glu",
                          "drive_ht2a"), uniq.T, strict=True)), mc)
    V = fixed_point(c, mc=mc)
    J, b = linearise(V, c, mc)
    lam, W = np.linalg.eig(J)
    lead = lam.real.max(axis=1)
    lam = 1j * lam.imag + lam.real - np.exp(lam.real)      # SPM: condition unstable modes
    out = W[:, SP, :] * np.linalg.solve(W, b[..., None])[..., 0]    # (c·v_k)(w_k·b)
    s = 2j * np.pi * mc.freqs[None, :]
    H = np.zeros((len(uniq), len(mc.freqs)), complex)
    for k in range(lam.shape[1]):          # a loop over modes beats one large einsum
        H += out[:, k:k + 1] / (s - lam[:, k:k + 1])
    P = np.abs(H) ** 2
    inverse = np.asarray(inverse).reshape(-1)
    return mc.freqs, P[inverse], lead[inverse]


DRUG_FREE: dict[str, np.ndarray] = {k: np.array([v]) for k, v in (
    ("B_int_total", 0.0), ("B_pyr_total", 0.0), ("X_ext", 1.0), ("ampar_drive", 1.0),
    ("G_glu", 1.0), ("drive_ht2a", 0.0))}


@cache
def baseline_spectrum(overrides: Overrides = (), source: str = "posterior") -> np.ndarray:
    """Spectrum of the drug-free microcircuit of ``source`` (with the same ``overrides``)."""
    return spectra(DRUG_FREE, microcircuit(overrides, source))[1][0]


def source_spectra(state: Mapping[str, np.ndarray], overrides: Overrides = (),
                   reference: Mapping[str, np.ndarray] | None = None
                   ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Frequencies, each source's spectra (n, n_freqs) and its reference spectrum (the
    ``reference`` drug state, or the drug-free microcircuit)."""
    out, ref = {}, {}
    freqs = microcircuit(overrides).freqs
    for s in SOURCES:
        mc = microcircuit(overrides, s)
        out[s] = spectra(state, mc)[1]
        ref[s] = (baseline_spectrum(overrides, s) if reference is None
                  else spectra(reference, mc)[1][0])
    return freqs, out, ref


def whole_head(freqs: np.ndarray, P: Mapping[str, np.ndarray], ref: Mapping[str, np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Whole-head spectra and reference: the sources' sum, each in units of its own reference
    total power (so the sources weigh equally in the drug-free state; the sum integrates to 1
    there)."""
    df = freqs[1] - freqs[0]
    scale = {s: 1 / (len(P) * ref[s].sum() * df) for s in P}
    return (sum(P[s] * scale[s] for s in P), sum(ref[s] * scale[s] for s in P))


def band_powers(freqs: np.ndarray, P: np.ndarray, mc: Microcircuit | None = None
                ) -> dict[str, np.ndarray]:
    """Power in each band (lower edge inclusive), absolute, per row of ``P``."""
    mc = mc or microcircuit()
    df = freqs[1] - freqs[0]
    out = {}
    for band, (lo, hi) in mc.bands.items():
        mask = (freqs >= lo - 1e-9) & ((freqs < hi - 1e-9) if band != BANDS[-1]
                                       else (freqs <= hi + 1e-9))
        out[band] = P[..., mask].sum(axis=-1) * df
    return out


def spectral_entropy(P: np.ndarray) -> np.ndarray:
    """Shannon entropy of the normalised spectrum over ln(number of bins), 0-1."""
    p = P / P.sum(axis=-1, keepdims=True)
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=-1) / np.log(P.shape[-1])


def observables(state: Mapping[str, np.ndarray], names: Sequence[str] | None = None,
                overrides: Overrides = (), reference: Mapping[str, np.ndarray] | None = None
                ) -> dict[str, np.ndarray]:
    """The ``eeg.*`` observables (all, or ``names``) for each time point of a drug state;
    ``overrides`` replace ``eeg.toml`` parameter values (see :func:`microcircuit`). Band
    powers are relative to the ``reference`` state (one time point: the subject's own
    drug-free state), or to the default drug-free microcircuit when none is given."""
    names = list(OBSERVABLES) if names is None else list(names)
    unknown = [n for n in names if n not in OBSERVABLES]
    if unknown:
        raise ModelError(f"eeg: unknown observable {unknown[0]}")
    mc = microcircuit(overrides)
    freqs, P, ref = source_spectra(state, overrides, reference)
    values: dict[str, np.ndarray] = {}
    for s in SOURCES:
        rel, base = band_powers(freqs, P[s], mc), band_powers(freqs, ref[s], mc)
        values |= {f"eeg.{s}.{b}_power": rel[b] / base[b] for b in BANDS}
    W, W0 = whole_head(freqs, P, ref)
    rel, base = band_powers(freqs, W, mc), band_powers(freqs, W0, mc)
    values |= {f"eeg.{b}_power": rel[b] / base[b] for b in BANDS}
    values["eeg.spectral_entropy"] = spectral_entropy(W)
    return {n: values[n] for n in names}
