"""Layer 3b — electrophysiology: resting M/EEG power spectra from the network drug state.

Not part of the ODE model. At each output time the drug state of the trajectory sets the
receptor gains of one cortical source of SPM12's conductance-based canonical microcircuit with
AMPA, GABA-A and NMDA receptors (``spm_fx_cmm_NMDA.m``, the family of models used in DCM of
ketamine MEG). The microcircuit is linearised about its fixed point and its spectrum computed
analytically for white-noise input, as DCM for cross-spectral densities does
(``spm_dcm_mtf.m``). Parameters: ``data/parameters/eeg.toml``.

Populations ``p`` = spiny stellate (ss), superficial pyramidal (sp), inhibitory interneurons
(ii), deep pyramidal (dp); each has a voltage ``V`` and AMPA, GABA-A and NMDA conductances::

    C_p V_p'  = g_L (V_L − V_p) + g_E,p (V_E − V_p) + g_I,p (V_I − V_p)
                + g_N,p (V_N − V_p) · mg(V_p)
    τ_AMPA g_E,p' = 2 a_p (Σ_q GE_pq m_q + BE) − g_E,p        (+ noise u into ss)
    τ_GABA g_I,p' =        Σ_q GI_pq m_q        − g_I,p
    τ_NMDA g_N,p' = 2 n_p (Σ_q GE_pq m_q + BE) − g_N,p        (+ noise u into ss)
    m_q = Φ((V_q − V_R)/√V_var),   mg(V) = 1.50265 / (1 + 0.33 exp(−0.06 V))

Drug state (from the trajectory, no new parameters):

* NMDA availability ``n_p = 1 − B``: ``B_int_total`` on interneurons, ``B_pyr_total`` on the
  excitatory populations (ss, sp, dp): blocked channels carry no current.
* AMPA gain ``a_p = ampar_drive / G_glu`` = (1 − NBQX)·(1 + g_pam·O_ampar): the receptor
  part of the circuit layer's AMPA throughput (release is the microcircuit's own firing).
* 5-HT2A: the excitatory (AMPA and NMDA) drive of deep, layer-5 pyramidal cells is multiplied
  by the circuit layer's ``X_ext = 1 + g_ht2a_E·drive_ht2a`` (Muthukumaraswamy 2013: 5-HT2A
  excitation of deep pyramidal cells).

The signal is the superficial pyramidal voltage (SPM's ``CMM_NMDA`` lead field, state 2).
With intrinsic delays ``D`` the Jacobian is ``J = Q·∂f/∂x``, ``Q = (I − D∘∂f/∂x)⁻¹``; the
transfer function from the noise to the signal is ``H(ω) = Σ_k (c·v_k)(w_k·b)/(iω − λ_k)`` over
the eigenmodes, unstable modes conditioned as in SPM (``Re λ → Re λ − exp(Re λ)``); the
spectrum is ``|H|²``. Band powers are relative to the drug-free microcircuit (= 1); spectral
entropy is the Shannon entropy of the normalised 1–90 Hz spectrum over ln(number of bins).
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
OBSERVABLES: dict[str, str] = {
    **{f"eeg.{b}_power": f"{b}-band power of the resting M/EEG (drug-free baseline = 1)"
       for b in BANDS},
    "eeg.spectral_entropy": "normalised spectral entropy of the 1-90 Hz spectrum (0-1)",
}
# Trajectory variables that set the microcircuit (targets and circuit layers).
STATE = ("B_int_total", "B_pyr_total", "X_ext", "ampar_drive", "G_glu")
POPULATIONS = ("ss", "sp", "ii", "dp")
SS, SP, II, DP = range(4)


@dataclass(frozen=True)
class Microcircuit:
    """Constants of the microcircuit in SI-like model units (s, mV)."""

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
def microcircuit(overrides: Overrides = ()) -> Microcircuit:
    """The microcircuit built from ``data/parameters/eeg.toml``; ``overrides`` replace
    parameter values (each in the unit ``eeg.toml`` gives it)."""
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
    return Microcircuit(
        GE=GE, GI=GI, C=np.array([v(f"C_{p}", "s") for p in POPULATIONS]),
        k_ampa=1 / v("tau_ampa", "s"), k_gaba=1 / v("tau_gaba", "s"),
        k_nmda=1 / v("tau_nmda", "s"), g_leak=v("g_leak"), V_leak=v("V_leak"),
        V_exc=v("V_exc"), V_inh=v("V_inh"), V_nmda=v("V_nmda"), V_thresh=v("V_thresh"),
        V_sd=float(np.sqrt(v("V_var"))), background=v("background"),
        mg=(v("mg_a"), v("mg_b"), v("mg_k")), delay=v("delay", "s"),
        freqs=np.arange(edges[0], edges[-1] + df / 2, df),
        bands=dict(zip(BANDS, pairwise(edges), strict=True)),
    )


def gains(state: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AMPA and NMDA gains per population, shape (n, 4), from the trajectory's drug state."""
    n_int = 1 - np.asarray(state["B_int_total"], float)
    n_pyr = 1 - np.asarray(state["B_pyr_total"], float)
    x = np.asarray(state["X_ext"], float)
    g_ampa = np.asarray(state["ampar_drive"], float) / np.asarray(state["G_glu"], float)
    dp = np.stack([np.ones_like(x), np.ones_like(x), np.ones_like(x), x], axis=1)
    ampa = g_ampa[:, None] * dp
    nmda = np.stack([n_pyr, n_pyr, n_int, n_pyr], axis=1) * dp
    return ampa, nmda


def _rates(V: np.ndarray, mc: Microcircuit) -> tuple[np.ndarray, np.ndarray]:
    z = (V - mc.V_thresh) / mc.V_sd
    return ndtr(z), np.exp(-0.5 * z**2) / (np.sqrt(2 * np.pi) * mc.V_sd)


def _mg(V: np.ndarray, mc: Microcircuit) -> tuple[np.ndarray, np.ndarray]:
    a, b, k = mc.mg
    e = b * np.exp(-k * V)
    return a / (1 + e), a * k * e / (1 + e) ** 2


def _currents(V: np.ndarray, ampa: np.ndarray, nmda: np.ndarray, mc: Microcircuit):
    """Membrane currents at steady conductances, their Jacobian in V (n, 4, 4), and the
    terms the linearisation needs."""
    m, dm = _rates(V, mc)
    s = m @ mc.GE.T + mc.background
    gE, gN, gI = 2 * ampa * s, 2 * nmda * s, m @ mc.GI.T
    mg, dmg = _mg(V, mc)
    F = (mc.g_leak * (mc.V_leak - V) + gE * (mc.V_exc - V) + gI * (mc.V_inh - V)
         + gN * (mc.V_nmda - V) * mg)
    own = -mc.g_leak - gE - gI - gN * mg + gN * (mc.V_nmda - V) * dmg
    coupling = ((2 * ampa * (mc.V_exc - V) + 2 * nmda * (mc.V_nmda - V) * mg)[:, :, None]
                * mc.GE[None] + (mc.V_inh - V)[:, :, None] * mc.GI[None]) * dm[:, None, :]
    dF = coupling + own[:, :, None] * np.eye(4)
    return F, dF, (own, dm, mg)


def fixed_point(ampa: np.ndarray, nmda: np.ndarray, V0: np.ndarray | None = None,
                mc: Microcircuit | None = None) -> np.ndarray:
    """Steady voltages (n, 4) by damped Newton iteration, vectorised over time points."""
    mc = mc or microcircuit()
    V = np.broadcast_to(_baseline_V() if V0 is None else V0, ampa.shape).copy()
    for _ in range(100):
        F, dF, _ = _currents(V, ampa, nmda, mc)
        step = np.clip(np.linalg.solve(dF, -F[..., None])[..., 0], -5.0, 5.0)
        V += step
        if np.abs(step).max() < 1e-9:
            return V
    raise ModelError("eeg: the microcircuit's fixed point did not converge")


@cache
def _baseline_V() -> np.ndarray:
    mc = microcircuit()
    ones = np.ones((1, 4))
    return fixed_point(ones, ones, np.full((1, 4), -60.0), mc)[0]


def linearise(V: np.ndarray, ampa: np.ndarray, nmda: np.ndarray,
              mc: Microcircuit | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Jacobian (n, 16, 16) and noise input vector (n, 16) at the fixed point ``V``, with the
    delay operator applied. State order: V (4), g_E (4), g_I (4), g_N (4)."""
    mc = mc or microcircuit()
    n = V.shape[0]
    _, _, (own, dm, mg) = _currents(V, ampa, nmda, mc)
    eye = np.eye(4)
    inv_C = 1 / mc.C
    J = np.zeros((n, 16, 16))
    J[:, 0:4, 0:4] = (own * inv_C)[:, :, None] * eye
    J[:, 0:4, 4:8] = ((mc.V_exc - V) * inv_C)[:, :, None] * eye
    J[:, 0:4, 8:12] = ((mc.V_inh - V) * inv_C)[:, :, None] * eye
    J[:, 0:4, 12:16] = ((mc.V_nmda - V) * mg * inv_C)[:, :, None] * eye
    J[:, 4:8, 0:4] = mc.k_ampa * 2 * ampa[:, :, None] * mc.GE[None] * dm[:, None, :]
    J[:, 8:12, 0:4] = mc.k_gaba * mc.GI[None] * dm[:, None, :]
    J[:, 12:16, 0:4] = mc.k_nmda * 2 * nmda[:, :, None] * mc.GE[None] * dm[:, None, :]
    J[:, 4:8, 4:8] = -mc.k_ampa * eye
    J[:, 8:12, 8:12] = -mc.k_gaba * eye
    J[:, 12:16, 12:16] = -mc.k_nmda * eye
    b = np.zeros((n, 16))
    b[:, 4 + SS] = mc.k_ampa * ampa[:, SS]   # noise enters the stellate AMPA and NMDA inputs
    b[:, 12 + SS] = mc.k_nmda * nmda[:, SS]
    pop = np.tile(np.arange(4), 4)
    D = np.where(pop[:, None] != pop[None, :], -mc.delay, 0.0)
    Q = np.linalg.inv(np.eye(16) - D * J)
    return Q @ J, np.einsum("nij,nj->ni", Q, b)


def spectra(state: Mapping[str, np.ndarray], mc: Microcircuit | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power spectra (n, n_freqs) of the signal for each time point of a drug state, the
    frequencies (Hz) and the largest real part of the Jacobian's eigenvalues per time point
    (negative: stable fixed point). Identical drug states are computed once."""
    mc = mc or microcircuit()
    ampa, nmda = gains(state)
    key = np.round(np.hstack([ampa, nmda]), 12)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    ua, un = uniq[:, :4], uniq[:, 4:]
    V = fixed_point(ua, un, mc=mc)
    J, b = linearise(V, ua, un, mc)
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


@cache
def baseline_spectrum(overrides: Overrides = ()) -> np.ndarray:
    """Spectrum of the drug-free microcircuit (with the same parameter ``overrides``)."""
    one = np.ones(1)
    state = {"B_int_total": 0 * one, "B_pyr_total": 0 * one, "X_ext": one,
             "ampar_drive": one, "G_glu": one}
    return spectra(state, microcircuit(overrides))[1][0]


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
    freqs, P, _ = spectra(state, mc)
    rel = band_powers(freqs, P, mc)
    base_P = baseline_spectrum(overrides) if reference is None else spectra(reference, mc)[1][0]
    base = band_powers(freqs, base_P, mc)
    values = {f"eeg.{b}_power": rel[b] / base[b] for b in BANDS}
    values["eeg.spectral_entropy"] = spectral_entropy(P)
    return {n: values[n] for n in names}
