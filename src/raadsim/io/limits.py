"""Plausible ranges of the quantities of scenario and trial files, and why.

Every quantity a user gives is finite and inside one of these ranges (checked when the file is
read, before a model is built); the error names the field and the range. The ranges are wide:
they exclude only values no experiment or treatment has (and that would exhaust memory or
defeat the solver), not unusual ones.
"""

from __future__ import annotations

from ..errors import InputError

# Body weight per species (kg): a newborn to the heaviest adults, for human; a weanling to a
# large adult male, for rat and mouse. (A culture has no body weight.)
WEIGHT_RANGE_KG = {"human": (2.0, 300.0), "rat": (0.04, 1.0), "mouse": (0.008, 0.08)}

# Anaesthetic dose of ketamine (mg/kg), the largest per-weight dose of any catalogue drug:
# human IV induction 1-4.5 mg/kg (Ketalar label); rat i.p. 75-100 mg/kg; mouse i.p.
# 100-200 mg/kg (surgical anaesthesia protocols). A dose may be up to MAX_DOSE_MULTIPLE times
# the upper value for the subject's species, whichever the drug.
ANAESTHETIC_MG_PER_KG = {"human": 4.5, "rat": 100.0, "mouse": 200.0}
MAX_DOSE_MULTIPLE = 10
# The smallest dose other than 0 (mg, or mg/kg): a nanogram, a five-thousandth of an LSD
# microdose; smaller amounts are rounding errors, not doses.
MIN_DOSE = 1e-6

# Bath concentration (µM): 10 mM is above the solubility or the osmotic tolerance of a slice
# or culture for every catalogue drug.
MAX_BATH_UM = 10_000.0
MIN_BATH_UM = 1e-6  # 1 pM, the smallest concentration other than 0: far below any affinity

# Times (h): |at|, end, visits and the last dose of a repeat lie within two years of time 0,
# longer than any trial, maintenance course or chronic-stress protocol raadsim models.
MAX_TIME_H = 2 * 365 * 24.0

# The shortest interval the solver resolves (h): 1 s. An infusion, or an interval between
# repeated doses, shorter than this would be merged or lost by the integrator (an infusion of
# 1e-8 s delivered nothing); give such a dose as a bolus instead.
RESOLUTION_H = 1 / 3600

# Output rows of one simulation: 100 000 rows of every observable (~80) are ~65 MB in memory
# and ~250 MB of CSV; a finer grid would only exhaust memory (1e-9 s over 1 d is 9e13 rows).
MAX_OUTPUT_POINTS = 100_000

# Administrations of one scenario (all doses, repeats included): daily dosing for almost
# three years. Each is one or two solver events; 500 infusions take ~11 s to simulate, and
# 100 000 made the model compiler abort the process (std::bad_alloc).
MAX_ADMINISTRATIONS = 1000

# Virtual trial population.
MAX_PATIENTS = 1_000_000  # per arm: ~1 h per 1000 patients and core for a 2-week course
MAX_SEED = 2**63 - 1  # a seed is stored as a 64-bit integer (patients.parquet, trial.json)
AGE_RANGE = (0.0, 120.0)  # years
MADRS_RANGE = (0.0, 60.0)  # the scale's range
MAX_IIV_CV = 3.0  # coefficient of variation: already a 30-fold spread between patients
MAX_RATING_SD = 20.0  # MADRS points: a third of the scale


def max_mg_per_kg(species: str) -> float:
    """The largest dose accepted for ``species`` (mg/kg)."""
    return MAX_DOSE_MULTIPLE * ANAESTHETIC_MG_PER_KG[species]


def check_range(field: str, given: object, value: float, lo: float, hi: float, unit: str,
                what: str, *, lo_open: bool = False) -> float:
    """``value`` if ``lo <= value <= hi`` (``lo < value`` if ``lo_open``), else an
    :class:`InputError` naming ``field``, the ``given`` value and the range."""
    ok = (lo < value if lo_open else lo <= value) and value <= hi
    if not ok:
        span = f"above {_num(lo)}, up to {_num(hi)}" if lo_open else \
            f"from {_num(lo)} to {_num(hi)}"
        raise InputError(field, given, f"{what} {span} {unit}".rstrip())
    return value


def _num(x: float) -> str:
    """``1000000`` rather than ``1e+06`` for whole numbers."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e19 else f"{x:g}"
