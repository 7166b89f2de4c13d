"""The drug and analyte catalogue: built-in files plus users' own drug files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import InputError
from .schema import Analyte, Drug, parse_analyte, parse_drug


@dataclass
class Catalogue:
    """All analytes and drugs known to a run."""

    analytes: dict[str, Analyte] = field(default_factory=dict)
    drugs: dict[str, Drug] = field(default_factory=dict)

    def drug(self, name: str, field_name: str = "drug") -> Drug:
        if name not in self.drugs:
            raise InputError(field_name, name, f"one of {sorted(self.drugs)} or a drug file")
        return self.drugs[name]

    def analyte(self, name: str) -> Analyte:
        return self.analytes[name]

    def with_drug_file(self, path: str | Path) -> Catalogue:
        """A copy of this catalogue with a user's drug file (and its inline analytes) added."""
        path = Path(path)
        where = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("drug_file", where, "an existing TOML drug file") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(where, "(file)", f"valid TOML ({exc})") from None
        new = Catalogue(dict(self.analytes), dict(self.drugs))
        for an, araw in raw.get("analytes", {}).items():
            if an in self.analytes:
                raise InputError(f"{where}.analytes.{an}", an, "a name not used by raadsim")
            new.analytes[an] = parse_analyte(an, araw, f"{where}.analytes.{an}")
        name = raw.get("name")
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"{where}.name", name, "a drug name made of letters, digits, _")
        if name in self.drugs:
            raise InputError(f"{where}.name", name, "a name not used by a built-in drug")
        drug = parse_drug(name, raw, where)
        new.drugs[name] = drug
        new.validate_drug(drug)
        return new

    def validate_drug(self, drug: Drug) -> None:
        """Check that a drug's analytes exist and have PK for each species it is dosed in."""
        for an in drug.composition:
            if an not in self.analytes:
                raise InputError(f"{drug.source_file}.composition", an,
                                 f"an analyte among {sorted(self.analytes)}")
            for sp in drug.routes:
                chain = [an, *self.metabolites_of(an, sp)]
                for a in chain:
                    if sp not in self.analytes[a].pk:
                        raise InputError(
                            f"{drug.source_file}.routes.{sp}", sp,
                            f"a species for which analyte '{a}' has PK "
                            f"({sorted(self.analytes[a].pk)})",
                        )

    def metabolites_of(self, analyte: str, species: str) -> list[str]:
        """All downstream metabolites of ``analyte`` in ``species`` (depth first)."""
        out: list[str] = []
        pk = self.analytes[analyte].pk.get(species)
        if pk is None:
            return out
        mets = list(pk.formation)
        if pk.hepatic_metabolite:
            mets.append(pk.hepatic_metabolite)
        for m in mets:
            if m not in self.analytes:
                raise InputError(f"analytes.{analyte}.pk.{species}", m, "a known analyte")
            if m not in out:
                out.append(m)
                out.extend(x for x in self.metabolites_of(m, species) if x not in out)
        return out


@lru_cache(maxsize=1)
def builtin() -> Catalogue:
    """The catalogue shipped with raadsim (``data/analytes`` and ``data/drugs``)."""
    cat = Catalogue()
    root = resources.files("raadsim").joinpath("data")
    for entry in sorted(root.joinpath("analytes").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            name = entry.name[:-5]
            raw = tomllib.loads(entry.read_text(encoding="utf-8"))
            cat.analytes[name] = parse_analyte(name, raw, f"analytes/{entry.name}")
    for entry in sorted(root.joinpath("drugs").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            name = entry.name[:-5]
            raw = tomllib.loads(entry.read_text(encoding="utf-8"))
            cat.drugs[name] = parse_drug(name, raw, f"drugs/{entry.name}")
    for drug in cat.drugs.values():
        cat.validate_drug(drug)
    return cat
