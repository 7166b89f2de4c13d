"""Electrophysiology layer (model/eeg.py): spectrum properties, the linearisation, cost, and
the eeg.* observables of simulate() (every drug, species and route: test_every_drug.py)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from raadsim import scenario_from_dict, simulate
from raadsim.model import eeg
from raadsim.model.layer import layer_params
from raadsim.provenance import sources

BANDS = [f"eeg.{b}_power" for b in eeg.BANDS]
ONE = np.ones(1)
DRUG_FREE = {"B_int_total": 0 * ONE, "B_pyr_total": 0 * ONE, "X_ext": ONE,
             "ampar_drive": ONE, "G_glu": ONE, "drive_ht2a": 0 * ONE}


def _state(**kw: float) -> dict[str, np.ndarray]:
    return DRUG_FREE | {k: np.array([v]) for k, v in kw.items()}


def _peak_hz(mc: eeg.Microcircuit) -> float:
    f, P, lead = eeg.spectra(DRUG_FREE, mc)
    assert lead[0] < 0
    return float(f[np.argmax(P[0])])


def _rhs(x: np.ndarray, c: eeg.Circuit, mc: eeg.Microcircuit) -> np.ndarray:
    """The microcircuit's full nonlinear equations (one state vector, the first time point of
    ``c``), written out again."""
    V, gE, gI, gN = x[0:4], x[4:8], x[8:12], x[12:16]
    m, _ = eeg._rates(V, mc, c.V_sd[0])
    mg, _ = eeg._mg(V, mc)
    s = c.GE[0] @ m + mc.background
    dV = (mc.g_leak * (mc.V_leak - V) + gE * (mc.V_exc - V) + gI * (mc.V_inh - V)
          + gN * (mc.V_nmda - V) * mg) / c.C[0]
    return np.concatenate([dV, mc.k_ampa * (2 * c.ampa[0] * s - gE),
                           mc.k_gaba * (c.GI[0] @ m - gI), mc.k_nmda * (2 * c.nmda[0] * s - gN)])


def test_parameters_have_provenance():
    bib = sources()
    for p in layer_params("eeg").values():
        assert p.provenance.source is None or p.provenance.source in bib, p.name


def test_drug_free_band_powers_are_one():
    sc = scenario_from_dict({"subject": {"species": "human"},
                             "dose": [{"drug": "saline", "amount": "0 mg", "route": "iv"}],
                             "simulation": {"end": "12 h", "output_every": "1 h"}})
    r = simulate(sc)
    for name in BANDS:
        np.testing.assert_allclose(r.values[name], 1.0, atol=1e-9)
    assert 0 < r.values["eeg.spectral_entropy"][0] < 1


@pytest.mark.parametrize("source", eeg.SOURCES)
def test_fixed_point_is_unique_and_stable(source):
    mc = eeg.microcircuit((), source)
    c = eeg.circuit(DRUG_FREE, mc)
    ends = [eeg.fixed_point(c, np.full((1, 4), v0), mc) for v0 in (-85.0, -60.0, -30.0, 0.0)]
    for V in ends[1:]:
        np.testing.assert_allclose(V, ends[0], atol=1e-6)
    assert eeg.spectra(DRUG_FREE, mc)[2][0] < 0


# every drug coupling at once: NMDA block, AMPA gain, deep pyramidal drive, superficial
# pyramidal capacitance (interneuron block) and the three 5-HT2A hypotheses
COUPLED = _state(B_int_total=0.3, B_pyr_total=0.2, X_ext=1.1, ampar_drive=1.2, G_glu=1.05,
                 drive_ht2a=0.4)
ALL_HT2A = (("k_ht2a_gain", 0.3), ("k_ht2a_si", 0.5))


@pytest.mark.parametrize("source", eeg.SOURCES)
def test_jacobian_matches_finite_differences(source):
    mc = dataclasses.replace(eeg.microcircuit(ALL_HT2A, source), delay=0.0)
    c = eeg.circuit(COUPLED, mc)
    V = eeg.fixed_point(c, mc=mc)
    J, _ = eeg.linearise(V, c, mc)
    m, _ = eeg._rates(V[0], mc, c.V_sd[0])
    s = c.GE[0] @ m + mc.background
    x0 = np.concatenate([V[0], 2 * c.ampa[0] * s, c.GI[0] @ m, 2 * c.nmda[0] * s])
    assert np.abs(_rhs(x0, c, mc)).max() < 1e-6   # a fixed point
    h = 1e-6
    num = np.column_stack([(_rhs(x0 + h * e, c, mc) - _rhs(x0 - h * e, c, mc)) / (2 * h)
                           for e in np.eye(16)])
    np.testing.assert_allclose(J[0], num, rtol=1e-5, atol=1e-5 * np.abs(num).max())


def test_spectrum_equals_transfer_function_of_the_jacobian():
    """Eigenmode sum = c (iωI − J)⁻¹ b (SPM's conditioning changes stable modes by < 1e-4)."""
    mc = eeg.microcircuit(ALL_HT2A)
    st = _state(B_int_total=0.4, B_pyr_total=0.4, drive_ht2a=0.3)
    f, P, _ = eeg.spectra(st, mc)
    c = eeg.circuit(st, mc)
    V = eeg.fixed_point(c, mc=mc)
    J, b = eeg.linearise(V, c, mc)
    for i in (0, 40, 200, len(f) - 1):
        H = np.linalg.solve(2j * np.pi * f[i] * np.eye(16) - J[0], b[0])[eeg.SP]
        assert abs(abs(H) ** 2 / P[0, i] - 1) < 1e-3


@pytest.mark.parametrize(("field", "factor", "direction"),
                         [("k_gaba", 1 / 1.5, -1), ("k_gaba", 1.5, 1),
                          ("k_ampa", 1 / 1.5, -1), ("k_ampa", 1.5, 1)])
def test_slower_synapses_lower_the_peak_frequency(field, factor, direction):
    mc = eeg.microcircuit()
    changed = dataclasses.replace(mc, **{field: getattr(mc, field) * factor})
    assert np.sign(_peak_hz(changed) - _peak_hz(mc)) == direction


def test_nmda_block_lowers_slow_power_monotonically():
    blocks = np.linspace(0, 0.8, 9)
    st = {"B_int_total": blocks, "B_pyr_total": blocks}
    names = ["eeg.delta_power", "eeg.posterior.alpha_power"]
    for over in ((), (("k_cap_sp", 0.0),)):
        v = eeg.observables(st, names, over)
        assert all(np.all(np.diff(v[n]) < 0) for n in names)


def test_ampa_gain_raises_power_and_nbqx_lowers_it():
    up = eeg.observables(_state(ampar_drive=1.2))
    down = eeg.observables(_state(ampar_drive=0.5))
    assert all(up[b][0] > 1 for b in BANDS)
    assert all(down[b][0] < 1 for b in BANDS)


def _ketamine_iv(end: str, observables: list[str]) -> dict:
    """Raw scenario: 0.5 mg/kg ketamine IV over 40 min, output every 10 min."""
    return {"subject": {"species": "human"},
            "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                      "infusion": "40 min"}],
            "simulation": {"end": end, "output_every": "10 min", "observables": observables}}


def test_observables_are_selectable_and_ordered():
    raw = _ketamine_iv("2 h", ["eeg.gamma_power", "occupancy.nmdar",
                               "eeg.posterior.alpha_power"])
    r = simulate(scenario_from_dict(raw))
    assert list(r.values) == ["eeg.gamma_power", "occupancy.nmdar", "eeg.posterior.alpha_power"]
    assert r.units["eeg.gamma_power"] == "1"
    assert r.values["eeg.posterior.alpha_power"][4] < 0.95   # 40 min: posterior alpha down
    none = simulate(scenario_from_dict(raw), observables=["occupancy.nmdar"])
    assert list(none.values) == ["occupancy.nmdar"]
    every = simulate(scenario_from_dict(raw | {"simulation": {"end": "1 h"}}))
    assert set(eeg.OBSERVABLES) <= set(every.values)


@pytest.mark.slow
def test_fourteen_days_at_ten_minutes_runs_in_seconds():
    raw = {"subject": {"species": "human", "condition": "trd"},
           "dose": [{"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv",
                     "infusion": "40 min", "repeat": {"every": "3.5 d", "count": 4}}],
           "simulation": {"end": "14 d", "output_every": "10 min"}}
    sc = scenario_from_dict(raw)
    eeg.baseline_spectrum()
    t0 = time.perf_counter()
    r = simulate(sc, observables=list(eeg.OBSERVABLES))
    elapsed = time.perf_counter() - t0
    assert len(r.time_h) > 2000
    assert elapsed < 10, f"{elapsed:.1f} s"
    n = 2000                                    # the spectral part alone, all states distinct
    st = {"B_int_total": np.linspace(0, 0.6, n), "B_pyr_total": np.linspace(0, 0.5, n),
          "X_ext": np.linspace(1, 1.2, n), "ampar_drive": np.linspace(1, 1.3, n),
          "G_glu": np.ones(n), "drive_ht2a": np.linspace(0, 0.5, n)}
    t0 = time.perf_counter()
    eeg.observables(st)
    assert time.perf_counter() - t0 < 10   # two sources


def test_culture_bath_gives_spectra():
    sc = scenario_from_dict({"subject": {"species": "culture"},
                             "bath": [{"drug": "ketamine", "concentration": "1 uM"}],
                             "simulation": {"end": "2 h", "output_every": "30 min",
                                            "observables": ["eeg.gamma_power"]}})
    v = simulate(sc).values["eeg.gamma_power"]
    assert np.all(np.isfinite(v)) and v[-1] != pytest.approx(1.0)


def test_simulate_params_reach_the_eeg_parameters():
    """simulate(params=...) overrides eeg.toml values (in their own unit) as it does model
    parameters: a slower NMDA synapse changes the ketamine spectrum, leaves the ODE
    observables alone, and a name matching nothing anywhere is still an error."""
    from raadsim.errors import InputError

    sc = scenario_from_dict(_ketamine_iv("1 h", ["eeg.gamma_power", "eeg.delta_power",
                                                 "occupancy.nmdar"]))
    base = simulate(sc)
    tau = layer_params("eeg")["tau_nmda"].value
    slow = simulate(sc, params={"tau_nmda": 2 * tau})
    assert not np.allclose(slow.values["eeg.delta_power"], base.values["eeg.delta_power"])
    np.testing.assert_array_equal(slow.values["occupancy.nmdar"], base.values["occupancy.nmdar"])
    # drug-free points stay at 1: the baseline is the overridden microcircuit's own
    assert slow.values["eeg.gamma_power"][0] == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(InputError):
        simulate(sc, params={"no_such_parameter": 1.0})
    assert eeg.overrides_from({"tau_*": 1.0}) == (("tau_ampa", 1.0), ("tau_gaba", 1.0),
                                                 ("tau_nmda", 1.0))


# --- two sources and the drug couplings of issue 23 -------------------------------------------

def _alpha_at(drive: float, over: eeg.Overrides) -> float:
    return float(eeg.observables(_state(drive_ht2a=drive), ["eeg.posterior.alpha_power"],
                                 over)["eeg.posterior.alpha_power"][0])


def test_sources_resonate_where_their_parameters_say():
    """Posterior: SPM's prior means (20.75 Hz); frontal: time constants x timescale_frontal,
    so the resonance moves down by that factor, into the theta band."""
    post = _peak_hz(eeg.microcircuit((), "posterior"))
    front = _peak_hz(eeg.microcircuit((), "frontal"))
    assert post == pytest.approx(20.75, abs=0.3)
    ts = layer_params("eeg")["timescale_frontal"].value
    assert front == pytest.approx(post / ts, abs=0.5)
    assert 4 <= front < 8


def test_an_alpha_resonant_posterior_source_would_not_lower_alpha_under_nmda_block():
    """The claim behind timescale_posterior = 1: NMDA block lowers power below the
    resonance, so a source resonating at 10 Hz keeps its alpha (the prior-mean one loses it)."""
    st = _state(B_int_total=0.41, B_pyr_total=0.44)
    name = ["eeg.posterior.alpha_power"]
    prior = eeg.observables(st, name, (("k_cap_sp", 0.0),))[name[0]][0]
    slow = eeg.observables(st, name, (("k_cap_sp", 0.0), ("timescale_posterior", 2.0)))[name[0]][0]
    assert _peak_hz(eeg.microcircuit((("timescale_posterior", 2.0),), "posterior")) < 11
    assert prior < 0.85 < 0.98 < slow


def test_capacitance_coupling_follows_interneuron_block_and_raises_gamma():
    names = ["eeg.gamma_power", "eeg.posterior.gamma_power", "eeg.frontal.gamma_power"]
    pyr_only = eeg.observables(_state(B_pyr_total=0.45), names)
    both = eeg.observables(_state(B_int_total=0.45, B_pyr_total=0.45), names)
    off = eeg.observables(_state(B_int_total=0.45, B_pyr_total=0.45), names,
                          (("k_cap_sp", 0.0),))
    c = eeg.circuit(_state(B_pyr_total=0.45))
    assert c.C[0, eeg.SP] == pytest.approx(eeg.microcircuit().C[eeg.SP])
    for n in names:
        assert both[n][0] > 1.3 > off[n][0] and abs(off[n][0] - 1) < 0.05
        assert abs(pyr_only[n][0] - 1) < 0.05


def test_default_5ht2a_coupling_suppresses_alpha_before_beta():
    """Eckernäs 2023: alpha is suppressed completely and more potently than beta."""
    st = _state(drive_ht2a=0.373)
    v = eeg.observables(st)
    assert v["eeg.posterior.alpha_power"][0] < v["eeg.posterior.beta_power"][0]
    assert v["eeg.posterior.alpha_power"][0] < v["eeg.beta_power"][0]
    deep = eeg.observables(_state(drive_ht2a=0.95))
    assert deep["eeg.posterior.alpha_power"][0] < 0.3
    assert all(deep[b][0] < 1 for b in BANDS)


@pytest.mark.parametrize("name", ["k_ht2a_ff", "k_ht2a_si", "k_ht2a_gain"])
def test_each_5ht2a_hypothesis_can_be_switched_on_alone(name):
    """Every hypothesis, sized (as the calibration does) to halve posterior alpha at the DMT
    alpha EC50, lowers alpha; none of them raises whole-head delta and theta (the claim of
    timmermann2019_dmt_delta_theta_emerge's known gap); only self-inhibition raises posterior
    gamma (the claim of tyls2016_psilocybin_gamma_up's known gap)."""
    from scipy.optimize import brentq

    zero = tuple((k, 0.0) for k in ("k_ht2a_ff", "k_ht2a_si", "k_ht2a_gain") if k != name)
    drive = 0.373
    k = brentq(lambda x: _alpha_at(drive, (*zero, (name, x))) - 0.5, 1e-3, 10.0)
    over = (*zero, (name, k))
    v = eeg.observables(_state(drive_ht2a=0.7), overrides=over)
    assert v["eeg.posterior.alpha_power"][0] < 0.5
    assert min(v["eeg.delta_power"][0], v["eeg.theta_power"][0]) < 1.05
    assert (v["eeg.posterior.gamma_power"][0] > 1.05) == (name == "k_ht2a_si")


def test_whole_head_is_the_equal_weight_sum_of_the_sources():
    st = _state(B_int_total=0.4, B_pyr_total=0.4, drive_ht2a=0.2)
    freqs, P, ref = eeg.source_spectra(st)
    mc = eeg.microcircuit()
    rel = {s: eeg.band_powers(freqs, P[s], mc) for s in eeg.SOURCES}
    base = {s: eeg.band_powers(freqs, ref[s], mc) for s in eeg.SOURCES}
    tot = {s: ref[s].sum() for s in eeg.SOURCES}
    v = eeg.observables(st)
    for b in eeg.BANDS:
        num = sum(rel[s][b][0] / tot[s] for s in eeg.SOURCES)
        den = sum(base[s][b] / tot[s] for s in eeg.SOURCES)
        assert v[f"eeg.{b}_power"][0] == pytest.approx(num / den, rel=1e-9)
        lo, hi = sorted(v[f"eeg.{s}.{b}_power"][0] for s in eeg.SOURCES)
        assert lo - 1e-12 <= v[f"eeg.{b}_power"][0] <= hi + 1e-12


def _run(doses: list[dict], end: str = "3 h") -> dict[str, np.ndarray]:
    sc = scenario_from_dict({"subject": {"species": "human"}, "dose": doses,
                             "simulation": {"end": end, "output_every": "10 min",
                                            "observables": list(eeg.OBSERVABLES)}})
    return simulate(sc).values


KETANSERIN = {"drug": "ketanserin", "amount": "40 mg", "route": "oral", "at": "-1 h"}


def test_nmda_driven_eeg_changes_do_not_depend_on_5ht2a():
    """Ketanserin neither changes the EEG by itself (an antagonist has no drive) nor the
    ketamine EEG change; it abolishes most of the psilocybin change."""
    ket = {"drug": "ketamine", "amount": "0.5 mg/kg", "route": "iv", "infusion": "40 min"}
    alone, blocked = _run([ket]), _run([KETANSERIN, ket])
    only = _run([KETANSERIN])
    for n in eeg.OBSERVABLES:   # the ketanserin runs start 1 h earlier (6 more outputs)
        np.testing.assert_allclose(blocked[n][-len(alone[n]):], alone[n], rtol=1e-6)
        if n != "eeg.spectral_entropy":
            np.testing.assert_allclose(only[n], 1.0, atol=1e-9)
    assert alone["eeg.gamma_power"].max() > 1.3
    psi = {"drug": "psilocybin", "amount": "25 mg", "route": "oral"}
    p, pk = _run([psi], "4 h"), _run([KETANSERIN, psi], "4 h")
    fall, left = 1 - p["eeg.posterior.alpha_power"].min(), 1 - pk["eeg.posterior.alpha_power"].min()
    assert fall > 0.4 and left < 0.3 * fall
