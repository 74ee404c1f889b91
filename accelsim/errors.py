"""User-facing errors.

Every problem with user input is raised as :class:`InputError`, which names
the file, the field (or layer) and what is wrong.  The CLI prints it and exits
with code 2; no traceback reaches the user.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad user input.

    Attributes:
        source: file the problem is in (path as given), or ``None``.
        field: dotted field path or layer name, or ``None``.
        message: what is wrong, in words a user can act on.
    """

    def __init__(self, message: str, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        self.message = message
        super().__init__(self.__str__())

    def __reduce__(self):  # keep the fields when raised in a worker process
        return (self.__class__, (self.message, self.source, self.field))

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.field:
            where.append(str(self.field))
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class MappingError(InputError):
    """A layer cannot be mapped onto the architecture under the dataflow."""
