"""NONMEM-style datasets: import, scenarios per subject, measurements and predictions.

A NONMEM-style dataset is a CSV file with one record (row) per event::

    ID,TIME,EVID,AMT,RATE,CMT,DV,MDV,WT
    1,0,1,35,52.5,1,.,1,70
    1,0.5,0,.,.,2,181.2,0,70
    1,2,0,.,.,2,64.3,0,70

Required columns: ``ID, TIME, EVID, AMT, CMT, DV`` (names are matched case-insensitively).
Optional columns: ``MDV, RATE, DUR, II, ADDL, SS`` and the covariate columns named in the
mapping. Missing values are empty cells or ``.``. Rows whose ID starts with ``#`` are comments
(NONMEM's default ``IGNORE=#``) and, like blank lines, are skipped. The rows of one ID must be
contiguous and in time order.

* ``EVID = 1`` — a dose of ``AMT`` into compartment ``CMT``; a bolus, or an infusion lasting
  ``AMT/RATE`` (``RATE > 0``, in AMT units per TIME unit) or ``DUR`` (TIME units).
  ``ADDL > 0`` additional doses every ``II`` become the dose's ``repeat``.
* ``EVID = 0`` — an observation ``DV`` of compartment ``CMT`` (skipped if ``MDV = 1``).
* Not supported, each an :class:`~raadsim.errors.InputError`: ``EVID`` 2, 3, 4 (other-type and
  reset events), ``SS ≠ 0`` (steady state), ``RATE = -1/-2`` (rate or duration modelled in the
  control stream), and covariates that change within an ID.

NONMEM compartments are model-specific, so a **mapping** file (TOML) says what each CMT and
covariate column means in raadsim::

    [subject]            # defaults for every ID (the keys of a scenario's [subject])
    species = "human"
    condition = "trd"

    [time]
    unit = "h"           # unit of TIME (and of DUR and II; RATE is AMT unit per TIME unit)

    [dose.1]             # CMT 1 on a dose record: this drug by this route; AMT in this unit
    drug = "ketamine"
    route = "iv"
    unit = "mg"          # a mass, or a dose per weight such as "mg/kg"

    [observation.2]      # CMT 2 on an observation record: this raadsim observable
    observable = "plasma.ketamine"
    unit = "ng/mL"       # unit of DV (converted with pint)

    [covariates]         # data column -> key of the scenario's [subject]
    WT = "weight_kg"     # or WT = { key = "weight_kg", unit = "lb" }

Every ID becomes one :class:`~raadsim.io.scenario.Scenario`. Covariates are taken from the
ID's first row; a covariate that changes within an ID is an error (time-varying covariates are
not modelled).

Every problem in the data is one :class:`~raadsim.errors.InputError` whose field names the
file, the line and the column, e.g. ``data.csv row 7, column AMT`` (rows are line numbers in
the file; the header is line 1).

Public API: :func:`load_mapping` / :func:`mapping_from_dict`, :func:`read_dataset` (→
:class:`NonmemDataset`), :func:`measurements` (long-format observations for calibration) and
:func:`predict` (observed vs model-predicted table).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, field_validator

from ..drugs.catalogue import Catalogue, builtin
from ..errors import InputError, from_validation_error
from ..model.build import build_model
from ..units import convert, parse_dose, parse_time, ureg
from .scenario import Scenario, Subject, read_toml, scenario_from_dict

REQUIRED = ("ID", "TIME", "EVID", "AMT", "CMT", "DV")
OPTIONAL = ("MDV", "RATE", "DUR", "II", "ADDL", "SS")
MISSING = ("", ".")
# Units of raadsim observables that pint does not know (or would misread: pint's "point" is a
# length). Values in these units are only accepted in exactly the same unit.
NON_PINT_UNITS = frozenset({"points"})
_REL_TOL = 1e-6  # agreement required between AMT/RATE and DUR when both are given


# -- mapping -------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_cmt_keys(v: Any) -> Any:
    if isinstance(v, dict):
        for k in v:
            try:
                ok = int(str(k)) >= 1 and str(int(str(k))) == str(k).strip()
            except ValueError:
                ok = False
            if not ok:
                raise InputError(str(k), k, "a compartment number (CMT): a whole number >= 1")
    return v


class DoseCompartment(_Strict):
    """What a dose record into this CMT is: ``drug`` by ``route``, ``AMT`` in ``unit``."""

    drug: str
    route: str
    unit: str = "mg"

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        parse_dose(f"1 {v}", "unit")
        return v


class ObservationCompartment(_Strict):
    """What an observation of this CMT is: raadsim ``observable``, ``DV`` in ``unit``."""

    observable: str
    unit: str

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in NON_PINT_UNITS:
            try:
                ureg().Quantity(1, v)
            except Exception:
                raise InputError("unit", v, "a unit pint understands, e.g. 'ng/mL'") from None
        return v


class TimeUnit(_Strict):
    unit: str = "h"

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if parse_time(f"1 {v}", "unit") <= 0:
            raise InputError("unit", v, "a unit of time such as 'h' or 'min'")
        return v


class Covariate(_Strict):
    """A covariate column: the scenario subject ``key`` it sets, with an optional ``unit``
    appended to the value (e.g. ``lb`` for a weight)."""

    key: str
    unit: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if v not in Subject.model_fields:
            raise InputError("key", v, f"a subject key: {', '.join(Subject.model_fields)}")
        return v


class NonmemMapping(_Strict):
    """The meaning of compartments and columns of a NONMEM-style dataset (see module doc)."""

    subject: Subject = Subject()
    time: TimeUnit = TimeUnit()
    dose: dict[int, DoseCompartment] = {}
    observation: dict[int, ObservationCompartment] = {}
    covariates: dict[str, str | Covariate] = {}
    _source: str = PrivateAttr(default="mapping")

    @field_validator("dose", "observation", mode="before")
    @classmethod
    def _cmt_keys(cls, v: Any) -> Any:
        return _check_cmt_keys(v)

    @field_validator("covariates")
    @classmethod
    def _covariates(cls, v: dict[str, str | Covariate]) -> dict[str, str | Covariate]:
        for col, target in v.items():
            if isinstance(target, str) and target not in Subject.model_fields:
                raise InputError(col, target, f"a subject key: {', '.join(Subject.model_fields)}")
        return v

    @property
    def source(self) -> str:
        """Where the mapping came from (file name), used in error messages."""
        return self._source

    def covariate(self, column: str) -> Covariate:
        target = self.covariates[column]
        return Covariate(key=target) if isinstance(target, str) else target


def mapping_from_dict(raw: dict[str, Any], source: str = "mapping") -> NonmemMapping:
    """Validate a mapping given as a dict (as read from TOML); errors name ``source``."""
    try:
        m = NonmemMapping.model_validate(raw)
    except ValidationError as exc:
        err = from_validation_error(exc)
        raise InputError(f"{source}: {err.field}", err.value, err.accepted) from None
    m._source = source
    return m


def load_mapping(path: str | Path) -> NonmemMapping:
    """Read and validate a mapping TOML file."""
    path = Path(path)
    return mapping_from_dict(read_toml(path, "NONMEM mapping"), path.name)


# -- the dataset ---------------------------------------------------------------------------
@dataclass
class NonmemDataset:
    """A validated dataset: one scenario per ID, its doses and its observations.

    ``observations`` has one row per used observation record: ``ID, line, TIME`` (file unit),
    ``time_h``, ``CMT``, ``observable``, ``DV`` (mapped unit) and ``unit``. ``doses`` has one
    row per dose record: ``ID, line, TIME, CMT, drug, route, AMT, unit, infusion`` (duration in
    TIME units or NaN), ``II, ADDL``. ``scenarios`` maps each ID (in file order) to its
    scenario; ``simulation.end`` is the last event of the ID and ``simulation.observables``
    the observables it has data for.
    """

    name: str
    mapping: NonmemMapping
    scenarios: dict[Any, Scenario]
    observations: pd.DataFrame
    doses: pd.DataFrame
    catalogue: Catalogue = field(repr=False)

    @property
    def ids(self) -> list[Any]:
        return list(self.scenarios)


def _cell(v: Any) -> str:
    if isinstance(v, str):
        return v.strip()
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_table(data: str | Path | pd.DataFrame, name: str | None) -> tuple[pd.DataFrame, str]:
    """All cells as stripped strings, and the name used in errors. Row ``i`` of the table is
    line ``i + 2`` of the file (blank lines are kept as empty rows)."""
    if isinstance(data, pd.DataFrame):
        df = data.reset_index(drop=True).map(_cell)
        df.columns = [str(c).strip() for c in df.columns]
        return df, name or "data"
    path = Path(data)
    label = name or path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("data", str(path), "an existing CSV file") from None
    except UnicodeDecodeError:
        raise InputError(label, "(file)", "a UTF-8 text file") from None
    if not text.strip():
        raise InputError(f"{label} row 1", "(empty file)", "a header line: "
                         + ",".join(REQUIRED)) from None
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                         skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f"{label} row {line.group(1)}" if line else label
        raise InputError(where, "(row)", f"a well-formed CSV row ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.columns[0].startswith("#"):  # a header written as a NONMEM comment ("#ID,TIME,...")
        df = df.rename(columns={df.columns[0]: df.columns[0].lstrip("#").strip()})
    return df.map(_cell), label


def _fmt(x: float) -> str:
    return f"{x:.12g}"


class _Row:
    """Typed access to one record; errors name the line and the column."""

    def __init__(self, label: str, line: int, values: dict[str, str], names: dict[str, str]):
        self.label, self.line, self.values, self.names = label, line, values, names

    def where(self, col: str) -> str:
        return f"{self.label} row {self.line}, column {self.names.get(col, col)}"

    def raw(self, col: str) -> str:
        return self.values.get(col, "")

    def missing(self, col: str) -> bool:
        return self.raw(col) in MISSING

    def num(self, col: str, default: float | None = None, *, nonneg: bool = False,
            what: str = "a number") -> float:
        s = self.raw(col)
        if s in MISSING:
            if default is None:
                raise InputError(self.where(col), s, f"{what} (this record needs a value)")
            return default
        try:
            v = float(s)
        except ValueError:
            raise InputError(self.where(col), s, what) from None
        if not math.isfinite(v):
            raise InputError(self.where(col), s, f"{what}, finite")
        if nonneg and v < 0:
            raise InputError(self.where(col), s, f"{what}, not negative")
        return v

    def whole(self, col: str, default: int | None = None, *, what: str = "a whole number"
              ) -> int:
        v = self.num(col, None if default is None else float(default), what=what)
        if not v.is_integer():
            raise InputError(self.where(col), self.raw(col), what)
        return int(v)


def _ids(raw: list[str]) -> dict[str, Any]:
    """ID text → ID value: integers if every ID is a whole number, else the text."""
    try:
        nums = [float(s) for s in raw]
    except ValueError:
        return {s: s for s in raw}
    if all(math.isfinite(v) and v.is_integer() for v in nums) and len(set(nums)) == len(nums):
        return {s: int(v) for s, v in zip(raw, nums, strict=True)}
    return {s: s for s in raw}


def read_dataset(data: str | Path | pd.DataFrame, mapping: NonmemMapping | str | Path,
                 cat: Catalogue | None = None, name: str | None = None) -> NonmemDataset:
    """Read and validate a NONMEM-style dataset and build one scenario per ID.

    ``data`` is a CSV path or a DataFrame (rows are then numbered as if written to a file with
    a header: row ``i`` is line ``i + 2``); ``name`` is the file name used in errors.
    ``mapping`` is a :class:`NonmemMapping` or the path of its TOML file. Any problem raises
    one :class:`~raadsim.errors.InputError` naming the row and the column.
    """
    if not isinstance(mapping, NonmemMapping):
        mapping = load_mapping(mapping)
    cat = cat or builtin()
    for cmt, d in mapping.dose.items():
        cat.drug(d.drug, f"{mapping.source}: dose.{cmt}.drug")
    df, label = _read_table(data, name)

    upper = {c.upper(): c for c in df.columns}
    covariates = list(mapping.covariates)
    needed = [*REQUIRED, *(c.upper() for c in covariates)]
    for col in needed:
        if col not in upper:
            accepted = (f"a header with the columns {', '.join(REQUIRED)}"
                        + (f" and the covariates {', '.join(covariates)}" if covariates else ""))
            raise InputError(f"{label} row 1 (header), column {col}", list(df.columns),
                             f"{accepted} (column {col} is missing)")
    names = upper
    tunit = mapping.time.unit
    to_h = convert(1.0, tunit, "h", f"{mapping.source}: time.unit")

    obs_rows: list[dict[str, Any]] = []
    dose_rows: list[dict[str, Any]] = []
    order: list[str] = []
    first_cov: dict[str, tuple[dict[str, str], int]] = {}
    last_time: dict[str, tuple[float, int]] = {}
    finished: set[str] = set()
    current: str | None = None
    cols = list(df.columns)
    for i, rec in enumerate(df.itertuples(index=False, name=None)):
        line = i + 2
        values = {c.upper(): v for c, v in zip(cols, rec, strict=True)}
        if all(v == "" for v in values.values()) or values["ID"].startswith("#"):
            continue
        row = _Row(label, line, values, names)
        sid = row.raw("ID")
        if sid in MISSING:
            raise InputError(row.where("ID"), sid, "a subject identifier")
        if sid != current:
            if sid in finished:
                raise InputError(row.where("ID"), sid, f"the rows of ID {sid} together (they "
                                 "must be contiguous, as NONMEM starts a new individual "
                                 "whenever ID changes)")
            if current is not None:
                finished.add(current)
            current = sid
            order.append(sid)
        time = row.num("TIME", nonneg=True, what="a time (number)")
        if sid in last_time and time < last_time[sid][0]:
            raise InputError(row.where("TIME"), row.raw("TIME"),
                             f"a time >= {_fmt(last_time[sid][0])} (the previous record of ID "
                             f"{sid}, row {last_time[sid][1]}): rows must be in time order")
        last_time[sid] = (time, line)
        # columns that must be numeric (or missing) on every record
        evid = row.whole("EVID", what="an event type: 0 (observation) or 1 (dose)")
        if evid in (2, 3, 4):
            kind = {2: "other-type events", 3: "reset events", 4: "reset-and-dose events"}[evid]
            raise InputError(row.where("EVID"), row.raw("EVID"),
                             f"0 (observation) or 1 (dose); EVID {evid} ({kind}) is not "
                             "supported")
        if evid not in (0, 1):
            raise InputError(row.where("EVID"), row.raw("EVID"), "0 (observation) or 1 (dose)")
        amt = row.num("AMT", 0.0, nonneg=True, what="a dose amount (number)")
        for col in ("DV", "RATE", "DUR", "II", "ADDL", "MDV"):
            if col in names:
                row.num(col, 0.0)
        if "SS" in names and row.num("SS", 0.0) != 0:
            raise InputError(row.where("SS"), row.raw("SS"),
                             "0 or empty: steady-state dosing (SS) is not supported; give the "
                             "doses explicitly (e.g. with ADDL and II)")
        mdv = row.whole("MDV", 0, what="0 or 1") if "MDV" in names else 0
        if mdv not in (0, 1):
            raise InputError(row.where("MDV"), row.raw("MDV"), "0 or 1")
        # covariates: present and numeric on every record, constant within an ID
        cov = {}
        for col in covariates:
            cu = col.upper()
            row.num(cu, what=f"a number (covariate {names[cu]})")
            cov[cu] = row.raw(cu)
        if sid not in first_cov:
            first_cov[sid] = (cov, line)
        else:
            for cu, v in cov.items():
                v0, line0 = first_cov[sid][0][cu], first_cov[sid][1]
                if float(v) != float(v0):
                    raise InputError(row.where(cu), v, f"{v0} as in row {line0}: covariates "
                                     "must be constant within an ID (time-varying covariates "
                                     "are not supported)")
        if evid == 1:
            cmt = row.whole("CMT", what="a compartment number")
            if cmt not in mapping.dose:
                raise InputError(row.where("CMT"), row.raw("CMT"),
                                 f"a dose compartment of {mapping.source}: "
                                 f"{_cmts(mapping.dose)}")
            if row.missing("AMT"):
                raise InputError(row.where("AMT"), row.raw("AMT"),
                                 "a dose amount (a dose record, EVID 1, needs AMT)")
            if amt <= 0:
                raise InputError(row.where("AMT"), row.raw("AMT"), "a positive dose amount")
            dose_rows.append(_dose_record(row, sid, time, cmt, amt, mapping))
        else:
            if mdv == 1:
                continue
            cmt = row.whole("CMT", what="a compartment number")
            if cmt not in mapping.observation:
                raise InputError(row.where("CMT"), row.raw("CMT"),
                                 f"an observation compartment of {mapping.source}: "
                                 f"{_cmts(mapping.observation)} (or MDV = 1)")
            if row.missing("DV"):
                raise InputError(row.where("DV"), row.raw("DV"),
                                 "an observed value (an observation record, EVID 0, needs DV "
                                 "unless MDV = 1)")
            o = mapping.observation[cmt]
            obs_rows.append({"ID": sid, "line": line, "TIME": time, "time_h": time * to_h,
                             "CMT": cmt, "observable": o.observable, "DV": row.num("DV"),
                             "unit": o.unit})
    if not order:
        raise InputError(f"{label} row 2", "(no records)", "at least one data record")

    id_values = _ids(order)
    obs = pd.DataFrame(obs_rows, columns=["ID", "line", "TIME", "time_h", "CMT", "observable",
                                          "DV", "unit"])
    doses = pd.DataFrame(dose_rows, columns=["ID", "line", "TIME", "CMT", "drug", "route", "AMT",
                                             "unit", "infusion", "II", "ADDL", "infusion_col"])
    scenarios = {}
    for sid in order:
        scenarios[id_values[sid]] = _scenario(
            sid, mapping, first_cov[sid], doses[doses["ID"] == sid], obs[obs["ID"] == sid],
            label, names, cat, to_h)
    obs["ID"] = obs["ID"].map(id_values)
    doses["ID"] = doses["ID"].map(id_values)
    return NonmemDataset(label, mapping, scenarios, obs.reset_index(drop=True),
                         doses.drop(columns="infusion_col").reset_index(drop=True), cat)


def _cmts(table: Mapping[int, Any]) -> str:
    return ", ".join(str(k) for k in sorted(table)) or "none (the mapping defines none)"


def _dose_record(row: _Row, sid: str, time: float, cmt: int, amt: float,
                 mapping: NonmemMapping) -> dict[str, Any]:
    d = mapping.dose[cmt]
    duration = math.nan
    infusion_col = ""
    if "RATE" in row.names:
        rate = row.num("RATE", 0.0)
        if rate in (-1.0, -2.0):
            what = "rate" if rate == -1 else "duration"
            raise InputError(row.where("RATE"), row.raw("RATE"),
                             f"0 (bolus) or a positive infusion rate: RATE {int(rate)} "
                             f"(infusion {what} modelled in the control stream) is not "
                             "supported; give RATE > 0 or DUR")
        if rate < 0:
            raise InputError(row.where("RATE"), row.raw("RATE"),
                             "0 (bolus) or a positive infusion rate")
        if rate > 0:
            duration, infusion_col = amt / rate, "RATE"
    if "DUR" in row.names:
        dur = row.num("DUR", 0.0, nonneg=True, what="an infusion duration (number)")
        if dur > 0:
            if infusion_col and abs(dur - duration) > _REL_TOL * dur:
                raise InputError(row.where("DUR"), row.raw("DUR"),
                                 f"AMT/RATE = {_fmt(duration)} (or an empty DUR, or RATE 0)")
            duration, infusion_col = dur, "DUR"
    addl = row.whole("ADDL", 0, what="a number of additional doses (whole number >= 0)") \
        if "ADDL" in row.names else 0
    if addl < 0:
        raise InputError(row.where("ADDL"), row.raw("ADDL"),
                         "a number of additional doses (whole number >= 0)")
    ii = row.num("II", 0.0, nonneg=True, what="a dosing interval") if "II" in row.names else 0.0
    if addl > 0 and ii <= 0:
        raise InputError(row.where("II"), row.raw("II"),
                         f"a positive dosing interval (ADDL = {addl} additional doses)")
    return {"ID": sid, "line": row.line, "TIME": time, "CMT": cmt, "drug": d.drug,
            "route": d.route, "AMT": amt, "unit": d.unit, "infusion": duration,
            "II": ii, "ADDL": addl, "infusion_col": infusion_col}


def _scenario(sid: str, mapping: NonmemMapping, cov: tuple[dict[str, str], int],
              doses: pd.DataFrame, obs: pd.DataFrame, label: str, names: dict[str, str],
              cat: Catalogue, to_h: float) -> Scenario:
    tunit = mapping.time.unit
    subject = mapping.subject.model_dump(exclude_unset=True)
    values, cov_line = cov
    for col in mapping.covariates:
        c = mapping.covariate(col)
        v = float(values[col.upper()])
        subject[c.key] = f"{_fmt(v)} {c.unit}" if c.unit else v
    dose_list = []
    for d in doses.itertuples(index=False):
        entry: dict[str, Any] = {"drug": d.drug, "route": d.route,
                                 "amount": f"{_fmt(d.AMT)} {d.unit}",
                                 "at": f"{_fmt(d.TIME)} {tunit}"}
        if not math.isnan(d.infusion):
            entry["infusion"] = f"{_fmt(d.infusion)} {tunit}"
        if d.ADDL > 0:
            entry["repeat"] = {"every": f"{_fmt(d.II)} {tunit}", "count": int(d.ADDL) + 1}
        dose_list.append(entry)
    times = [*obs["TIME"], *(t + a * ii for t, ii, a in zip(doses["TIME"], doses["II"],
                                                             doses["ADDL"], strict=True))]
    end = max(times, default=0.0) * to_h
    raw = {"subject": subject, "dose": dose_list,
           "simulation": {"end": f"{_fmt(end if end > 0 else 1.0)} h",
                          "observables": list(dict.fromkeys(obs["observable"])) or None}}
    if raw["simulation"]["observables"] is None:
        del raw["simulation"]["observables"]
    lines = list(doses["line"])
    try:
        sc = scenario_from_dict(raw)
        sc.administrations(cat)
        sc.window()
    except InputError as err:
        raise _locate(err, sid, mapping, cov_line, lines, list(doses["infusion_col"]), label,
                      names) from None
    return sc


def _locate(err: InputError, sid: str, mapping: NonmemMapping, cov_line: int, lines: list[int],
            infusion_cols: list[str], label: str, names: dict[str, str]) -> InputError:
    """Re-address a scenario error to the row and column (or mapping key) it came from."""
    m = re.match(r"dose\[(\d+)\]\.?(\w*)", err.field)
    if m:
        i, key = int(m.group(1)), m.group(2)
        col = {"amount": "AMT", "infusion": infusion_cols[i] or "RATE"}.get(key, "CMT")
        return InputError(f"{label} row {lines[i]}, column {names.get(col, col)}", err.value,
                          f"{err.accepted} (ID {sid}, {err.field})")
    m = re.match(r"subject\.(\w+)", err.field)
    if m:
        key = m.group(1)
        for col in mapping.covariates:
            if mapping.covariate(col).key == key:
                return InputError(f"{label} row {cov_line}, column {names[col.upper()]}",
                                  err.value, f"{err.accepted} (ID {sid}, subject.{key})")
        return InputError(f"{mapping.source}: subject.{key}", err.value, err.accepted)
    return InputError(f"{label} ID {sid}: {err.field}", err.value, err.accepted)


# -- units of observables -------------------------------------------------------------------
def _factor(value_unit: str, model_unit: str, where: str, observable: str) -> float:
    """Multiply a value in ``value_unit`` by this to get ``model_unit``."""
    if value_unit == model_unit:
        return 1.0
    accepted = f"a unit convertible to {model_unit!r} (the unit of raadsim's {observable})"
    if value_unit in NON_PINT_UNITS or model_unit in NON_PINT_UNITS:
        raise InputError(where, value_unit, accepted)
    try:
        return convert(1.0, value_unit, model_unit, where)
    except InputError:
        raise InputError(where, value_unit, accepted) from None


def _observable_units(ds: NonmemDataset, sid: Any) -> dict[str, tuple[str, str]]:
    """observable -> (model variable, model unit) for one ID; errors name the first row of an
    observable that its model does not have."""

    sc = ds.scenarios[sid]
    spec = build_model(sc, ds.catalogue)
    obs = ds.observations[ds.observations["ID"] == sid]
    out = {}
    for name, first in obs.groupby("observable", sort=False)["line"].min().items():
        if name not in spec.observables:
            prefix = name.split(".", 1)[0] + "."
            similar = sorted(o for o in spec.observables if o.startswith(prefix)) \
                or sorted(spec.observables)
            cmt = int(obs.loc[obs["line"] == first, "CMT"].iloc[0])
            drugs = sorted({d.drug for d in sc.dose}) or ["no drug"]
            raise InputError(f"{ds.name} row {first}, column CMT", cmt,
                             f"a compartment whose observable exists for ID {sid} "
                             f"({', '.join(drugs)}): {ds.mapping.source} maps CMT {cmt} to "
                             f"{name!r}, which this subject's model does not have; it has "
                             f"{', '.join(similar)}")
        o = spec.observables[name]
        out[name] = (o.var, o.unit)
    return out


def conversion_factors(ds: NonmemDataset
                        ) -> dict[Any, tuple[dict[str, tuple[str, str]], dict[int, float]]]:
    """Per ID: observable -> (model variable, model unit), and CMT -> factor from the DV unit
    to the model unit (per CMT: two CMTs may observe one observable in different units)."""
    out = {}
    for sid in ds.ids:
        units = _observable_units(ds, sid)
        obs = ds.observations[ds.observations["ID"] == sid]
        factors = {}
        for cmt in dict.fromkeys(obs["CMT"]):
            o = ds.mapping.observation[int(cmt)]
            factors[int(cmt)] = _factor(o.unit, units[o.observable][1],
                                        f"{ds.mapping.source}: observation.{cmt}.unit",
                                        o.observable)
        out[sid] = (units, factors)
    return out


# -- calibration records ----------------------------------------------------------------------
def condition_id(sid: Any) -> str:
    """A PEtab-safe identifier for the scenario of subject ``sid`` (e.g. ``subject_12``)."""
    return "subject_" + re.sub(r"\W", "_", str(sid))


def measurements(ds: NonmemDataset) -> pd.DataFrame:
    """The observations as calibration records: one row per observation.

    Columns:

    * ``subject_id`` — the dataset's ID (int if every ID is a whole number, else str);
    * ``condition_id`` — a PEtab-safe identifier of the subject's scenario
      (:func:`condition_id`);
    * ``time_h`` — time in hours from the dataset's time 0 (= scenario time);
    * ``observable`` — the raadsim observable (as in ``simulate(...).values``);
    * ``value`` and ``unit`` — the observation converted to the **unit of the raadsim
      observable** (e.g. ng/mL for plasma concentrations), so that it compares directly with
      simulation output;
    * ``scenario`` — the subject's :class:`~raadsim.io.scenario.Scenario` (the same object for
      every row of an ID; simulate it to predict the row);
    * ``line`` — the record's line in the data file (for traceability).

    Rows are in file order. Raises :class:`InputError` if a mapped observable does not exist
    in a subject's model or its unit does not convert.
    """
    factors = conversion_factors(ds)
    o = ds.observations
    rows = []
    for r in o.itertuples(index=False):
        units, factor = factors[r.ID]
        unit, f = units[r.observable][1], factor[r.CMT]
        rows.append({"subject_id": r.ID, "condition_id": condition_id(r.ID),
                     "time_h": r.time_h, "observable": r.observable, "value": r.DV * f,
                     "unit": unit, "scenario": ds.scenarios[r.ID], "line": r.line})
    return pd.DataFrame(rows, columns=["subject_id", "condition_id", "time_h", "observable",
                                       "value", "unit", "scenario", "line"])
