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
             "ampar_drive": ONE, "G_glu": ONE}


def _state(**kw: float) -> dict[str, np.ndarray]:
    return DRUG_FREE | {k: np.array([v]) for k, v in kw.items()}


def _peak_hz(mc: eeg.Microcircuit) -> float:
    f, P, lead = eeg.spectra(DRUG_FREE, mc)
    assert lead[0] < 0
    return float(f[np.argmax(P[0])])


def _rhs(x: np.ndarray, ampa: np.ndarray, nmda: np.ndarray, mc: eeg.Microcircuit) -> np.ndarray:
    """The microcircuit's full nonlinear equations (one state vector), written out again."""
    V, gE, gI, gN = x[0:4], x[4:8], x[8:12], x[12:16]
    m, _ = eeg._rates(V, mc)
    mg, _ = eeg._mg(V, mc)
    s = mc.GE @ m + mc.background
    dV = (mc.g_leak * (mc.V_leak - V) + gE * (mc.V_exc - V) + gI * (mc.V_inh - V)
          + gN * (mc.V_nmda - V) * mg) / mc.C
    return np.concatenate([dV, mc.k_ampa * (2 * ampa * s - gE), mc.k_gaba * (mc.GI @ m - gI),
                           mc.k_nmda * (2 * nmda * s - gN)])


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


def test_fixed_point_is_unique_and_stable():
    one = np.ones((1, 4))
    ends = [eeg.fixed_point(one, one, np.full((1, 4), v0)) for v0 in (-85.0, -60.0, -30.0, 0.0)]
    for V in ends[1:]:
        np.testing.assert_allclose(V, ends[0], atol=1e-6)
    assert eeg.spectra(DRUG_FREE)[2][0] < 0


def test_jacobian_matches_finite_differences():
    mc = dataclasses.replace(eeg.microcircuit(), delay=0.0)
    ampa, nmda = eeg.gains(_state(B_int_total=0.3, B_pyr_total=0.2, X_ext=1.1,
                                  ampar_drive=1.2, G_glu=1.05))
    V = eeg.fixed_point(ampa, nmda, mc=mc)
    J, _ = eeg.linearise(V, ampa, nmda, mc)
    m, _ = eeg._rates(V[0], mc)
    s = mc.GE @ m + mc.background
    x0 = np.concatenate([V[0], 2 * ampa[0] * s, mc.GI @ m, 2 * nmda[0] * s])
    assert np.abs(_rhs(x0, ampa[0], nmda[0], mc)).max() < 1e-6   # a fixed point
    h = 1e-6
    num = np.column_stack([(_rhs(x0 + h * e, ampa[0], nmda[0], mc)
                            - _rhs(x0 - h * e, ampa[0], nmda[0], mc)) / (2 * h)
                           for e in np.eye(16)])
    np.testing.assert_allclose(J[0], num, rtol=1e-5, atol=1e-5 * np.abs(num).max())


def test_spectrum_equals_transfer_function_of_the_jacobian():
    """Eigenmode sum = c (iωI − J)⁻¹ b (SPM's conditioning changes stable modes by < 1e-4)."""
    st = _state(B_int_total=0.4, B_pyr_total=0.4)
    f, P, _ = eeg.spectra(st)
    ampa, nmda = eeg.gains(st)
    V = eeg.fixed_point(ampa, nmda)
    J, b = eeg.linearise(V, ampa, nmda)
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
    st = {"B_int_total": blocks, "B_pyr_total": blocks, "X_ext": np.ones(9),
          "ampar_drive": np.ones(9), "G_glu": np.ones(9)}
    delta = eeg.observables(st, ["eeg.delta_power"])["eeg.delta_power"]
    assert np.all(np.diff(delta) < 0)


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
    raw = _ketamine_iv("2 h", ["eeg.gamma_power", "occupancy.nmdar", "eeg.alpha_power"])
    r = simulate(scenario_from_dict(raw))
    assert list(r.values) == ["eeg.gamma_power", "occupancy.nmdar", "eeg.alpha_power"]
    assert r.units["eeg.gamma_power"] == "1"
    assert r.values["eeg.alpha_power"][4] < 0.95            # 40 min: alpha down
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
          "G_glu": np.ones(n)}
    t0 = time.perf_counter()
    eeg.observables(st)
    assert time.perf_counter() - t0 < 5


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
