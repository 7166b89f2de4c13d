"""Errors raised for bad user input.

Every problem a user can cause (a scenario file, a drug file, a CLI option) is reported as
one :class:`InputError` naming the field, the offending value and what is accepted. The CLI
prints it as one line and exits with code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """A user-supplied value is invalid.

    Parameters
    ----------
    field:
        Where the value came from, e.g. ``dose[0].amount`` or ``subject.species``.
    value:
        The value as the user gave it.
    accepted:
        What would have been accepted.
    """

    def __init__(self, field: str, value: object, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"{field}: got {value!r}; expected {accepted}")


class ModelError(RuntimeError):
    """The model could not be built or integrated (an internal or data-file problem)."""
