"""Cause 5 of issue 19: drug files are validated by pydantic models with physical ranges and
strict types; errors name the file and the key."""

from __future__ import annotations

import pytest

from raadsim.drugs.catalogue import builtin
from raadsim.drugs.schema import AnalyteTable, DrugTable
from tests.conftest import ROOT

from .cli_check import check_call, invoke, tree

DRUG = (ROOT / "examples" / "glun2b_antagonist.toml").read_text()
SCENARIO = """\
drug_files = ["d.toml"]
[[dose]]
drug = "glun2b_x"
amount = "0.5 mg/kg"
route = "iv"
[simulation]
end = "1 h"
output_every = "20 min"
observables = ["plasma.glun2b_x"]
"""
VC = "[analytes.glun2b_x.pk.human.params.Vc]\nvalue = 50"
CL = "[analytes.glun2b_x.pk.human.params.CL]\nvalue = 20"
F = "[routes.human.oral.pathway.F]\nvalue = 0.3"
FU = "[analytes.glun2b_x.pk.human.params.fu]\nvalue = 0.2"
KA = "[routes.human.oral.pathway.ka]\nvalue = 1.0"
K = "[analytes.glun2b_x.targets.nmdar.K]\nvalue = 30"

# (text in the example drug file, replacement, key the error names, words of what is accepted)
CASES = [
    (VC, VC.replace("50", "-50"), "analytes.glun2b_x.pk.human.params.Vc.value",
     "from 0.0001, up to 100000 (in L)"),
    (VC, VC.replace("50", "0"), "analytes.glun2b_x.pk.human.params.Vc.value", "from 0.0001"),
    # absurd values that reached the solver and ran for hours
    (VC, VC.replace("50", "1e-300"), "analytes.glun2b_x.pk.human.params.Vc.value",
     "from 0.0001"),
    (VC, VC.replace("50", "1e308"), "analytes.glun2b_x.pk.human.params.Vc.value",
     "up to 100000 (in L)"),
    (CL, CL.replace("20", "1e308"), "analytes.glun2b_x.pk.human.params.CL.value",
     "above 0, up to 100000 (in L/h)"),
    (KA, KA.replace("1.0", "1e308"), "routes.human.oral.pathway[0].ka.value",
     "up to 10000 (in 1/h)"),
    (K, K.replace("30", "1e-300"), "analytes.glun2b_x.targets.nmdar.K.value", "from 1e-09"),
    (VC, VC.replace("50", "nan"), "analytes.glun2b_x.pk.human.params.Vc.value", "finite"),
    (VC, VC.replace("50", "inf"), "analytes.glun2b_x.pk.human.params.Vc.value", "finite"),
    (VC, VC.replace("50", '"50"'), "analytes.glun2b_x.pk.human.params.Vc.value", "a number"),
    (CL, CL.replace("20", "-1"), "analytes.glun2b_x.pk.human.params.CL.value", "above 0"),
    (F, F.replace("0.3", "1.5"), "routes.human.oral.pathway[0].F.value", "above 0, up to 1"),
    (F, F.replace("0.3", "-0.3"), "routes.human.oral.pathway[0].F.value", "above 0, up to 1"),
    (FU, FU.replace("0.2", "2"), "analytes.glun2b_x.pk.human.params.fu.value", "up to 1"),
    ("infusion = true", 'infusion = "no"', "routes.human.iv.infusion", "true or false"),
    ("infusion = true", "infusion = 1", "routes.human.iv.infusion", "true or false"),
    ('name = "glun2b_x"', 'name = "glun2b_x"\nanalytes = 5', "analytes", "a table"),
    ("reference_weight_kg = 70", "reference_weight_kg = true",
     "analytes.glun2b_x.pk.human.reference_weight_kg", "a number"),
    ("reference_weight_kg = 70", "reference_weight_kg = 7000",
     "analytes.glun2b_x.pk.human.reference_weight_kg", "from 0.005 to 300 kg"),
    ('unit = "L"', 'unit = "kg"', "analytes.glun2b_x.pk.human.params.Vc.unit", "L or L/kg"),
    ('structure = "mammillary"', 'structure = "tubular"', "analytes.glun2b_x.pk.human.structure",
     "mammillary"),
    ('name = "glun2b_x"', 'name = "glun2b_x"\nplacebo = "yes"', "placebo", "true or false"),
    ('kind = "assumed"\nnote = "dose stated as base"', 'kind = "guessed"',
     "composition.glun2b_x.kind", "literature"),
    ('name = "gut"\ninto = "central"', 'name = "gut"\ninto = "liver"',
     "routes.human.oral.pathway[0].into", "no liver compartment"),
]


@pytest.mark.parametrize(("old", "new", "key", "words"), CASES)
def test_bad_drug_files_name_the_file_and_key(tmp_path, old, new, key, words):
    assert old in DRUG, old
    text = DRUG.replace(old, new, 1)
    if "analytes = 5" in new:  # a top-level value, so no [analytes.*] tables
        text = text[:text.index("[analytes.glun2b_x]")]
    (tmp_path / "d.toml").write_text(text)
    (tmp_path / "s.toml").write_text(SCENARIO)
    for command in (["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")],
                    ["export", "sbml", str(tmp_path / "s.toml"), "--out",
                     str(tmp_path / "m.xml")]):
        before = tree(tmp_path)
        call = invoke(command)
        assert check_call(call, tmp_path, before, None, None) != "ok"
        assert call.lines[0].startswith(f"error: {tmp_path / 'd.toml'}: {key}: got "), \
            call.output
        assert words in call.output, call.output


def test_a_cycle_of_metabolites_is_an_error_not_a_recursion(tmp_path):
    cyclic = DRUG.replace('structure = "mammillary"\n',
                          'structure = "mammillary"\nhepatic_metabolite = "glun2b_x"\n')
    (tmp_path / "d.toml").write_text(cyclic.replace('structure = "mammillary"',
                                                    'structure = "hepatic"'))
    (tmp_path / "s.toml").write_text(SCENARIO)
    call = invoke(["run", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out")])
    assert call.code == 2 and len(call.lines) == 1 and "d.toml" in call.output


def test_the_builtin_files_pass_the_same_models():
    cat = builtin()
    assert {"ketamine", "psilocybin", "lsd"} <= set(cat.drugs)
    assert cat.analytes["s_ketamine"].pk["human"].params["Vc"].origin == \
        "analytes/s_ketamine.toml: pk.human.params.Vc"
    assert DrugTable.model_config["strict"] and AnalyteTable.model_config["strict"]
