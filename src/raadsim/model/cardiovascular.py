"""Acute side effect — the systolic blood-pressure rise during and after ketamine (humans).

    ΔSBP = s_sbp · (C_S-ketamine + C_R-ketamine)          mmHg, plasma concentrations in ng/mL

Ketamine's pressor effect is sympathomimetic and concentration-dependent (S-ketamine raised mean
arterial pressure "in a concentration-dependent manner", Anesthesiology 2005;103:258), and the
rise peaks at the end of a 40-min infusion, when plasma ketamine peaks (Yale 2024 chart review).
The model is the simplest one these facts allow: proportional to plasma ketamine, no delay, both
enantiomers equally potent (the Vankawala 2021 meta-analysis found no difference between
ketamine and esketamine). ``s_sbp`` is fitted to the meta-analysis' mean rise
(``raadsim calibrate --problem ketamine_sbp``); the time course, the single-centre magnitudes
and esketamine are held out (``data/evidence/cardiovascular.toml``).

Only the ketamine enantiomers (analyte group ``ketamine``) have a pressor term; norketamine,
HNK and the psychedelics have none, because no source gave a blood-pressure change for them
(psilocybin: absolute peak pressures only). The observable exists only in human models that
contain ketamine, so no other drug reports a silent zero.
"""

from __future__ import annotations

from ..drugs.catalogue import Catalogue
from .layer import use_params
from .spec import ModelSpec

LAYER = "cardiovascular"
PRESSOR_GROUP = "ketamine"


def has_pressor(cat: Catalogue, analytes: list[str]) -> bool:
    """Whether any analyte of the model belongs to the pressor group (ketamine enantiomers)."""
    return any(PRESSOR_GROUP in cat.analytes[a].groups for a in analytes)


def build_cardiovascular() -> ModelSpec:
    """ΔSBP from plasma ketamine; call only when :func:`has_pressor` is true."""
    m = ModelSpec()
    use_params(m, LAYER)
    m.rule("sbp_change", f"s_sbp*plasma_total_{PRESSOR_GROUP}", "mmHg",
           "systolic blood-pressure rise above the drug-free value", LAYER)
    m.observable("clinic.sbp_change", "sbp_change", "mmHg",
                 "systolic blood-pressure rise (mmHg above pre-dose)", LAYER)
    return m
