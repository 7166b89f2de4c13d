"""The drug and analyte catalogue: built-in files plus users' own drug files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import InputError
from ..userfiles import read_toml
from .schema import Analyte, Drug, parse_analyte, parse_drug, parse_drug_file


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
        """A copy of this catalogue with a user's drug file (and its inline analytes) added;
        errors name the file and the key."""
        where = str(path)
        drug, analytes = parse_drug_file(read_toml(path, "drug file"), where)
        for an in analytes:
            if an in self.analytes:
                raise InputError(f"{where}: analytes.{an}", an, "a name not used by raadsim")
        if drug.name in self.drugs:
            raise InputError(f"{where}: name", drug.name, "a name not used by a built-in drug")
        new = Catalogue(self.analytes | analytes, self.drugs | {drug.name: drug})
        new.validate_drug(drug)
        return new

    def validate_drug(self, drug: Drug) -> None:
        """Check that a drug's analytes exist, have PK for each species it is dosed in, and
        a liver compartment where a route doses into the liver."""
        for an in drug.composition:
            if an not in self.analytes:
                raise InputError(f"{drug.source_file}: composition.{an}", an,
                                 f"an analyte among {sorted(self.analytes)}")
            for sp, routes in drug.routes.items():
                for a in [an, *self.metabolites_of(an, sp, drug.source_file)]:
                    if sp not in self.analytes[a].pk:
                        raise InputError(
                            f"{drug.source_file}: routes.{sp}", sp,
                            f"a species for which analyte '{a}' has PK "
                            f"({sorted(self.analytes[a].pk)})",
                        )
                self._check_liver(drug, an, sp, routes)

    def _check_liver(self, drug: Drug, analyte: str, species: str, routes: dict) -> None:
        for r in routes.values():
            for i, pw in enumerate(r.pathways):
                if pw.into == "liver" and self.analytes[analyte].pk[species].structure \
                        != "hepatic":
                    raise InputError(
                        f"{drug.source_file}: routes.{species}.{r.name}.pathway[{i}].into",
                        "liver", f"'central': analyte '{analyte}' has no liver compartment "
                        f"in {species} (a mammillary model)")

    def metabolites_of(self, analyte: str, species: str, where: str = "drug file",
                       _chain: tuple[str, ...] = ()) -> list[str]:
        """All downstream metabolites of ``analyte`` in ``species`` (depth first); an unknown
        metabolite or a cycle of metabolites is an :class:`InputError`."""
        out: list[str] = []
        pk = self.analytes[analyte].pk.get(species)
        if pk is None:
            return out
        chain = (*_chain, analyte)
        for m in [*pk.formation, *([pk.hepatic_metabolite] if pk.hepatic_metabolite else [])]:
            if m not in self.analytes:
                raise InputError(f"{where}: analytes.{analyte}.pk.{species}", m,
                                 f"a known analyte ({', '.join(sorted(self.analytes))})")
            if m in chain:
                raise InputError(f"{where}: analytes.{analyte}.pk.{species}", m,
                                 "a metabolite that is not its own precursor")
            if m not in out:
                out.append(m)
                out.extend(x for x in self.metabolites_of(m, species, where, chain)
                           if x not in out)
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
