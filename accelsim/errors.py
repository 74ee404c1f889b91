"""User-facing errors and warnings.

Every problem with user input is raised as :class:`InputError`, which names
the file, the field (or layer) and what is wrong.  The CLI prints it and exits
with code 2; no traceback reaches the user.  Something worth telling the user
that does not stop the run is an :class:`InputWarning` (printed as
``warning: ...``).
"""

from __future__ import annotations

import reprlib

#: Longest message a user sees; anything a message quotes is cut well before this.
MAX_MESSAGE_CHARS = 2000

_repr = reprlib.Repr()
_repr.maxlevel = 2
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 4
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlong = 40


def short(value, limit: int = 80, quote: bool = True) -> str:
    """A short, printable rendering of a user value for a message (at most ``limit`` characters).

    Strings are quoted (unless ``quote`` is false); nested and long values are
    cut with ``...`` (reprlib), so an alias-expanded or huge value never
    floods a message.  Control characters are escaped.
    """
    try:
        text = _repr.repr(value) if quote or not isinstance(value, str) else value
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` with control characters (ANSI escapes, newlines, ...) shown as ``\\x..`` escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class InputError(Exception):
    """Bad user input.

    Attributes:
        source: file the problem is in (path as given), or ``None``.
        field: dotted field path or layer name, or ``None``.
        message: what is wrong, in words a user can act on.
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None):
        self.source = None if source is None else str(source)
        self.field = None if field is None else str(field)
        self.message = str(message)
        super().__init__(self.__str__())

    def __reduce__(self):  # keep the fields when raised in a worker process
        return (self.__class__, (self.message, self.source, self.field))

    def __str__(self) -> str:
        where = [x for x in (self.source, self.field) if x]
        text = ": ".join(where + [self.message])
        return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


class MappingError(InputError):
    """A layer cannot be mapped onto the architecture under the dataflow."""


class InputWarning(UserWarning):
    """Something about the input the user should know, which does not stop the run."""
