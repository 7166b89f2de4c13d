"""Named experimental interventions (blockers, knockouts, genotypes).

A perturbation sets model parameters while it is active. Its effect sizes, with provenance,
live in ``data/parameters/perturbations.toml``; ``raadsim.model.perturbations`` applies them
to a model. In the model each perturbation is a switch
state ``sw_<name>`` (0 → 1 at ``at``; 1 from the start when no time is given, e.g. knockouts
and genotypes), and every parameter it sets becomes ``p := default + (value − default)·sw``.
Models are pre-equilibrated drug-free, so a lifelong perturbation also sets the baseline.

| name | acts on | what it is |
|---|---|---|
| rapamycin | signalling.mtor_block | mTORC1 inhibitor: near-complete in rodent brain, little in |
|  |  | human brain after 6 mg oral (raadsim's reading of Li 2010 vs Abdallah 2020) |
| nbqx | network.nbqx_block | AMPA receptor antagonist |
| ketanserin | targets.O_ht2a_antagonist | 5-HT2A antagonist occupying receptors |
| anti_bdnf | signalling.bdnf_neutralized | intra-mPFC neutralising antibody |
| ana12 | signalling.trkb_block | TrkB antagonist |
| trkb_mutation | targets.trkb_site | TrkB drug-binding motif mutated |
| eef2k_knockout | signalling.eef2k_present | eEF2 kinase knockout |
| gsk3_knockin | signalling.gsk3_inhibitable | constitutively active GSK-3 |
| bdnf_val66met | signalling.release_genotype | genotype val/met or met/met |
| l_vdcc_blocker | signalling.vdcc_block | nifedipine / verapamil |
| anti_igf1 | signalling.igf1_neutralized | IGF-1 neutralising antibody |
| vegf_knockout | signalling.vegf_present | VEGF (or Flk-1) deletion |
| vgf_knockdown | signalling.vgf_present | VGF knockdown |
| interneuron_glun2b_knockdown | network.phi_I | GluN2B knockdown in GABA interneurons |
| principal_glun2b_knockdown | network.phi_E | GluN2B knockdown in principal neurons |
| spine_ablation | synapse.S_spine (event) | photo-deletion of newly formed spines at ``at`` |
| glua2_knockout | synapse.glua2_present | GluA2 knockout |
| lithium | signalling.lithium_inhibition | GSK-3 inhibition |
| chronic_stress | synapse.stress_elimination | rodent chronic-stress model |
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import InputError
from ..provenance import Param, param_from_table

GENOTYPES = {"bdnf_val66met": ("val/met", "met/met")}
NEEDS_AT = {"spine_ablation"}


@dataclass(frozen=True)
class PerturbationDef:
    name: str
    description: str
    effects: dict[str, Param]  # effect key -> value while active


DESCRIPTIONS = {
    "rapamycin": "mTORC1 inhibitor",
    "nbqx": "AMPA receptor antagonist",
    "ketanserin": "5-HT2A antagonist",
    "anti_bdnf": "intra-mPFC BDNF-neutralising antibody",
    "ana12": "TrkB antagonist",
    "trkb_mutation": "mutation of the psychedelic/antidepressant binding site on TrkB",
    "eef2k_knockout": "eEF2 kinase knockout",
    "gsk3_knockin": "constitutively active GSK-3 knock-in",
    "bdnf_val66met": "BDNF Val66Met (genotype = 'val/met' or 'met/met')",
    "l_vdcc_blocker": "L-type voltage-dependent Ca2+ channel blocker (nifedipine/verapamil)",
    "anti_igf1": "IGF-1 neutralising antibody",
    "vegf_knockout": "VEGF (or Flk-1) deletion in forebrain excitatory neurons",
    "vgf_knockdown": "VGF knockdown",
    "interneuron_glun2b_knockdown": "GluN2B knockdown in GABA interneurons",
    "principal_glun2b_knockdown": "GluN2B knockdown in principal neurons",
    "spine_ablation": "photo-deletion of newly formed spines (needs 'at')",
    "glua2_knockout": "GluA2 knockout",
    "lithium": "lithium (GSK-3 inhibition)",
    "chronic_stress": "chronic stress (rodent depression model)",
}


@lru_cache(maxsize=1)
def registry() -> dict[str, PerturbationDef]:
    """All named perturbations with their sourced effect sizes."""
    path = resources.files("raadsim").joinpath("data", "parameters", "perturbations.toml")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, desc in DESCRIPTIONS.items():
        effects = {k: param_from_table(k, v, f"perturbations.toml:{name}.{k}")
                   for k, v in raw.get(name, {}).items()}
        out[name] = PerturbationDef(name, desc, effects)
    return out


def get(name: str, field: str = "perturbation.name") -> PerturbationDef:
    """The registered perturbation ``name``; an :class:`InputError` listing the known ones."""
    reg = registry()
    if name not in reg:
        raise InputError(field, name, f"a known perturbation ({', '.join(sorted(reg))})")
    return reg[name]


def validate(name: str, genotype: str | None, at: float | None, where: str) -> None:
    get(name, f"{where}.name")
    if name in GENOTYPES:
        if genotype not in GENOTYPES[name]:
            raise InputError(f"{where}.genotype", genotype, " or ".join(GENOTYPES[name]))
    elif genotype is not None:
        raise InputError(f"{where}.genotype", genotype, f"no genotype for {name}")
    if name in NEEDS_AT and at is None:
        raise InputError(f"{where}.at", None, f"a time for {name}, e.g. '24 h'")
