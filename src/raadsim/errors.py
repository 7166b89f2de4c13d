"""Errors raised for bad user input.

Every problem a user can cause (a scenario file, a drug file, a CLI option) is reported as
one :class:`InputError` naming the field, the offending value and what is accepted. The CLI
prints it as one line and exits with code 2.
"""

from __future__ import annotations

# A value is shown up to this many characters (its repr), so a message stays one short line.
MAX_SHOWN_CHARS = 120


def shown(value: object) -> str:
    """``repr(value)`` on one line, shortened to :data:`MAX_SHOWN_CHARS`."""
    if isinstance(value, int) and value.bit_length() > 256:  # too long to print usefully
        return f"<an integer of {len(format(value, 'x'))} hexadecimal digits>"
    try:
        text = repr(value)
    except Exception:  # a repr that fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS - 3] + "..."


def one_line(text: str) -> str:
    """``text`` with line breaks turned into spaces."""
    return " ".join(text.split()) if ("\n" in text or "\r" in text) else text


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
        super().__init__(one_line(f"{field}: got {shown(value)}; expected {accepted}"))


class ModelError(RuntimeError):
    """The model could not be built or integrated (an internal or data-file problem)."""


# What a pydantic error type means to a user (strict validation: no coercion).
_ACCEPTED = {
    "int_type": "a whole number (not a string, a decimal or true/false)",
    "float_type": "a number (not a string or true/false)",
    "finite_number": "a finite number",
    "string_type": "a string",
    "bool_type": "true or false (not a string or a number)",
    "list_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "extra_forbidden": "no such key (check the spelling)",
    "missing": "a value (this field is required)",
}


def _location(loc: tuple[object, ...]) -> list[str]:
    """``("dose", 0, "amount")`` → ``["dose[0]", "amount"]`` (dict-key markers dropped)."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        elif part != "[key]":
            parts.append(str(part))
    return parts


def from_validation_error(exc: Exception, where: str | None = None) -> InputError:
    """The first error of a pydantic ``ValidationError`` as one :class:`InputError` naming
    the key (prefixed by ``where``, e.g. a drug file, as ``where: key``)."""
    err = exc.errors()[0]  # type: ignore[attr-defined]
    loc = _location(err["loc"])
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, InputError):
        # A field validator names its field (loc ends with it); a model validator names a
        # key of its model (loc is the model's place).
        last = loc[-1] if loc else ""
        own = bool(last) and (cause.field == last
                              or cause.field.startswith((f"{last}.", f"{last}[")))
        field = ".".join([*(loc[:-1] if own else loc), cause.field])
        value, accepted = cause.value, cause.accepted
    else:
        field = ".".join(loc)
        value = None if err["type"] == "missing" else err.get("input")
        accepted = (f"one of {err['ctx']['expected']}" if err["type"] == "literal_error"
                    else _ACCEPTED.get(err["type"], err["msg"]))
    if where:
        field = f"{where}: {field}" if field else where
    return InputError(field or "input", value, accepted)
