"""Validation of parsed input files with pydantic, and its errors rewritten for a user.

Every arch, workload, dataflow and mapping file is validated here after
:mod:`accelsim.files` has loaded it safely.  The first error becomes an
:class:`~accelsim.errors.InputError` that names the file and the dotted field
(``levels.1.capacity_words``), says what is wrong in plain words (``must be >=
1, got 0``), and never shows pydantic's internal class names or union tags.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import InputError, short


def type_word(v: Any) -> str:
    """A user's word for a value's type: ``a list``, ``a string``, ``a number``, ``a boolean``."""
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(v), type(v).__name__)


def validate(model: type[BaseModel], data: Any, source: str, prefix: str = "") -> Any:
    """Validate ``data`` against a pydantic model; turn the first error into an InputError.

    The field path in the message is dotted, with list indices, e.g.
    ``layers.3.kernel``; ``prefix`` is prepended.  Quoted values are cut to a
    short prefix; internal class names never appear.
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        # an unknown field is usually a typo of a field reported "missing": name the typo first
        # a value that fits no member of a union gets one error per member: report the deepest (the
        # member whose shape the value has, e.g. the mapping form for a dict)
        deepest = max(errors, key=lambda x: sum(1 for p in x["loc"] if _is_data_loc(p)))
        if sum(1 for p in deepest["loc"] if _is_data_loc(p)) == sum(1 for p in errors[0]["loc"] if _is_data_loc(p)):
            deepest = errors[0]
        err = next((x for x in errors if x["type"] == "extra_forbidden"), deepest)
        loc = ".".join(str(x) for x in err["loc"] if _is_data_loc(x))
        field = ".".join(x for x in (prefix, loc) if x) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] in _BOUNDS:
            op, key = _BOUNDS[err["type"]]
            bound = err.get("ctx", {}).get(key)
            msg = f"must be {op} {_num(bound)}, got {short(err.get('input'))}"
            if key in ("le", "lt"):
                msg += " (an input limit; see 'Input limits' in the README)"
        elif err["type"] == "too_long":
            ctx = err.get("ctx", {})
            msg = (f"has {ctx.get('actual_length')} items; at most {ctx.get('max_length')} are allowed "
                   "(an input limit; see 'Input limits' in the README)")
        elif err["type"] == "too_short":
            ctx = err.get("ctx", {})
            msg = f"needs at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
        elif err["type"] in ("model_type", "model_attributes_type", "dict_type"):
            msg = f"expected a mapping of fields, got {type_word(err.get('input'))}"
        elif "input" in err:
            got = short(err["input"])
            if got not in msg:
                msg = f"{msg} (got {got})"
        raise InputError(msg, source=source, field=field) from None


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"), "less_than_equal": ("<=", "le"),
           "less_than": ("<", "lt")}


def _num(x) -> str:
    if isinstance(x, int) and x >= 2**20 and x & (x - 1) == 0:
        return f"{x:,} (2**{x.bit_length() - 1})"
    return f"{x:,}" if isinstance(x, int) else f"{x:g}" if isinstance(x, float) else str(x)


def _is_data_loc(part) -> bool:
    """False for the tags pydantic adds to a location for union members and dict keys."""
    if isinstance(part, int):
        return True
    return bool(part) and part != "[key]" and "[" not in part and part not in (
        "int", "str", "float", "bool", "list", "dict") and not part.startswith(("function-", "constrained-")) \
        and part not in _model_names()


def _model_names() -> set[str]:
    """Class names of every pydantic model (pydantic tags a union member's errors with its class name)."""
    names, seen, todo = set(), set(), [BaseModel]
    while todo:
        c = todo.pop()
        for sub in c.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                names.add(sub.__name__)
                todo.append(sub)
    return names
