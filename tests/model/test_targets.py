"""Target layer: occupancy, trapping, metabolite contributions (pkpd.md §4, §6, §9)."""

from __future__ import annotations

import numpy as np
import pytest

from raadsim import scenario_from_dict
from raadsim.model.build import build_model
from raadsim.simulate.engines import output_times
from raadsim.simulate.simulator import default_simulator
from tests.conftest import peak, run_single


def test_psilocybin_ht2a_occupancy_dose_response():
    """Madsen 2019: occupancy 'up to 72%' at 3-30 mg (validation: 30 mg peak within 0.60-0.80);
    10 mg/70 kg gave 39.5 % ± 10.9 % (jhu2022_occupancy, the calibration point: ±5 points)."""
    occ10, _ = peak(run_single("psilocybin", "10 mg", "oral", end="12 h"), "occupancy.ht2a")
    occ30, _ = peak(run_single("psilocybin", "30 mg", "oral", end="12 h"), "occupancy.ht2a")
    assert occ10 == pytest.approx(0.395, abs=0.05)
    assert 0.60 <= occ30 <= 0.80
    assert occ30 > occ10


def test_ketamine_does_not_bind_ht2a_and_psychedelics_do_not_block_nmdar():
    k = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", end="6 h")
    p = run_single("psilocybin", "25 mg", "oral", end="12 h")
    assert peak(k, "occupancy.ht2a")[0] == 0.0
    assert peak(p, "occupancy.nmdar")[0] == 0.0
    assert peak(k, "occupancy.nmdar")[0] > 0.2


def test_trkb_binding_by_lsd_and_psilocin_only():
    """Moliner 2023: LSD and psilocin bind TrkB; ketamine's affinity is ~1000-fold lower (not
    represented: no ketamine TrkB affinity is in the model)."""
    for drug, dose in (("lsd", "100 ug"), ("psilocybin", "25 mg")):
        assert peak(run_single(drug, dose, "oral", end="12 h"), "occupancy.trkb")[0] > 0.1
    k = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", end="6 h")
    assert peak(k, "occupancy.trkb")[0] == 0.0


def test_norketamine_is_a_weaker_blocker():
    """Ebert 1997: S-norketamine Ki 1.7 uM vs S-ketamine 0.3 uM. At equal unbound brain
    concentration the norketamine block must be smaller."""
    r = run_single("esketamine", "84 mg", "iv", infusion="40 min", end="8 h")
    sc = r.scenario
    spec = build_model(sc, sc.catalogue(), equilibrate=False)
    assert spec.params["K_nmdar_s_norketamine"].value > 5 * spec.params["K_nmdar_s_ketamine"].value
    v, _ = default_simulator().run_variables(spec, ["B_pyr_s_ketamine", "B_pyr_s_norketamine",
                                                    "Cbu_s_ketamine", "Cbu_s_norketamine",
                                                    "B_pyr_total"],
                                             output_times(0, 8, 1 / 60))
    # block per uM of unblocked receptors (1/K at equilibrium), each at its own peak: the
    # competition for the same receptors is divided out
    i, j = np.argmax(v[:, 1]), np.argmax(v[:, 0])
    per_uM_nor = v[i, 1] / (v[i, 3] * (1 - v[i, 4]))
    per_uM_parent = v[j, 0] / (v[j, 2] * (1 - v[j, 4]))
    assert per_uM_nor < per_uM_parent / 3


def test_hnk_drives_ampar_without_nmdar_block():
    """(2R,6R)-HNK: functional NMDAR IC50 46 uM (Mol Pharmacol 2020), antidepressant actions
    independent of NMDAR inhibition and AMPAR-dependent (Zanos 2016, secondary). At 1 mg/kg IV
    over 40 min (within the human phase 1 range 0.1-4 mg/kg, Raja 2024) HNK must engage the
    AMPA site more than it blocks NMDA receptors, and block less than a fifth of what ketamine
    0.5 mg/kg blocks."""
    r = run_single("hnk_2r6r", "1 mg/kg", "iv", infusion="40 min", weight=70, end="6 h")
    k = run_single("ketamine", "0.5 mg/kg", "iv", infusion="40 min", weight=70, end="6 h")
    ampar, nmdar = peak(r, "occupancy.ampar")[0], peak(r, "occupancy.nmdar")[0]
    assert ampar > nmdar
    assert nmdar < peak(k, "occupancy.nmdar")[0] / 5


def test_use_dependent_trapping_block_outlasts_brain_ketamine():
    """Ma 2023: ketamine keeps NMDARs blocked after the drug is gone, through use-dependent
    trapping whose release depends on neural activity (mouse t1/2 13 min). With pyramidal
    firing silenced (channel activity left to spontaneous release, a0 = 10 % of baseline),
    block at 6 h must exceed the equilibrium block for the brain concentrations at 6 h
    (at least 2-fold), and exceed the block of normally active tissue."""
    sc = scenario_from_dict({"subject": {"species": "mouse"},
                             "dose": [{"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}],
                             "simulation": {"end": "6 h"}})
    spec = build_model(sc, sc.catalogue(), equilibrate=False)
    sim, times = default_simulator(), output_times(0, 6, 1 / 60)
    blockers = [k[len("K_nmdar_"):] for k in spec.params if k.startswith("K_nmdar_")]
    names = ["B_pyr_total"] + [f"Cbu_{b}" for b in blockers]
    active, _ = sim.run_variables(spec, names, times)
    quiet, _ = sim.run_variables(spec, names, times, params={"activity_scale_pyr": 0.0})
    ratio = sum(quiet[-1, 1 + i] / spec.params[f"K_nmdar_{b}"].value
                for i, b in enumerate(blockers))
    equilibrium = ratio / (1 + ratio)
    assert quiet[-1, 0] > 2 * equilibrium
    assert quiet[-1, 0] > 2 * active[-1, 0]


@pytest.mark.xfail(strict=True, reason=(
    "Not reproduced: with spontaneous channel activity a0 = 10 % of baseline (assumed), trapped "
    "block decays with a ~50 min half-time; Ma 2023 saw LHb block for up to 24 h. Needs an LHb "
    "population whose bursting stops under block (not modelled)."))
def test_trapped_block_lasts_24h_as_in_lhb():
    """Ma 2023: 'ketamine continues to suppress burst firing and block NMDARs in the lateral
    habenula (LHb) for up to 24 h' after one systemic injection in mice."""
    sc = scenario_from_dict({"subject": {"species": "mouse"},
                             "dose": [{"drug": "ketamine", "amount": "10 mg/kg", "route": "ip"}],
                             "simulation": {"end": "24 h"}})
    spec = build_model(sc, sc.catalogue(), equilibrate=False)
    quiet, _ = default_simulator().run_variables(spec, ["B_pyr_total"], output_times(0, 24, 0.25),
                                                 params={"activity_scale_pyr": 0.0})
    assert quiet[-1, 0] > 0.25 * quiet[:, 0].max()
