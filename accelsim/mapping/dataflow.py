"""Dataflows as data: what stays in the RF, what unrolls across rows and columns.

Dataflow file schema::

    name: rs
    description: ...
    stationary: filter       # filter | ifmap | ofmap | null
    rf_dims: [S, C, M]       # dims allowed temporal factors > 1 inside a PE
    spatial:
      rows: [R, C, M, G]     # dims allowed to unroll across PE rows
      cols: [P, M, G, N]

``stationary: T`` fixes the loop order at the GLB level (the loops that
step the RF tiles): the dims that do not index T are innermost, so T's RF
tile stays while they run (Chen et al., ISCA 2016, section IV).  The same
family of orders is used inside the RF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, short
from ..files import bundled_names, is_path, load_yaml
from ..validation import validate
from ..workload.loopnest import DIMS, RELEVANT

Dim = Literal["N", "G", "M", "C", "P", "Q", "R", "S"]


class _SpatialSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    rows: list[Dim] = Field(default_factory=list)
    cols: list[Dim] = Field(default_factory=list)


class DataflowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    name: str
    description: str | None = None
    stationary: Literal["filter", "ifmap", "ofmap"] | None
    rf_dims: list[Dim]
    spatial: _SpatialSpec

    @field_validator("rf_dims")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError("dims listed twice")
        return v


@dataclass(frozen=True)
class Dataflow:
    """Resolved dataflow constraints (see module doc)."""

    name: str
    description: str | None
    stationary: str | None
    rf_dims: tuple[str, ...]
    rows: tuple[str, ...]
    cols: tuple[str, ...]
    path: str
    resolved_path: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "file": self.path, "path": self.resolved_path, "stationary": self.stationary,
                "rf_dims": list(self.rf_dims), "spatial": {"rows": list(self.rows), "cols": list(self.cols)}}


def stationary_order(tensor: str | None) -> tuple[str, ...]:
    """Loop order (outermost first) that keeps ``tensor`` stationary: its irrelevant dims innermost."""
    if tensor is None:
        return DIMS
    rel = [d for d in DIMS if d in RELEVANT[tensor]]
    irr = [d for d in DIMS if d not in RELEVANT[tensor]]
    return tuple(rel + irr)


def load_dataflow(name: str, base: str | None = None, source: str | None = None,
                  field: str = "--dataflow") -> Dataflow:
    """Load a dataflow file: a bundled name (``rs``, ``ws.yaml``) or a path.

    Args:
        name: as the user wrote it.  A bare name means the bundled dataflow
            when one exists; otherwise it is a path.
        base: folder that a relative path starts from (the arch file's folder
            for its ``default_dataflow``); ``None``: the working directory.
        source, field: where the name was written, for messages (the arch
            file and ``default_dataflow``, or the ``--dataflow`` option).
    Raises:
        InputError: unknown dataflow, malformed file, unknown dims or fields.
    """
    name = str(name)
    if not name.strip():
        raise InputError(f"is empty; give {_known()} or a dataflow YAML path", source=source, field=field)
    bare = not is_path(name)
    try:
        f, data = load_yaml(name, "dataflow", base)
    except InputError as e:
        if bare and e.message.startswith("no such file"):
            raise InputError(f"no dataflow named {short(name)} ({_known()}, or a dataflow YAML path)",
                             source=source, field=field) from None
        raise
    s: DataflowSpec = validate(DataflowSpec, data, f.display)
    return Dataflow(s.name, s.description, s.stationary, tuple(s.rf_dims), tuple(s.spatial.rows),
                    tuple(s.spatial.cols), f.display, f.path)


def _known() -> str:
    return "bundled: " + ", ".join(n.rsplit(".", 1)[0] for n in bundled_names("dataflow"))
