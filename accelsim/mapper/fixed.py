"""User-given mappings (``--mapping FILE``): validated, then evaluated instead of searched.

Mapping file schema (factors per level; unlisted dims are 1; orders outermost first)::

    layers:
      conv1:                       # a layer name of the workload
        dram: {P: 8, M: 2}
        glb:  {Q: 112, S: 3}
        rows: {C: 3, R: 3}         # spatial across PE rows
        cols: {P: 14}              # spatial across PE columns
        rf:   {M: 16}
        orders: {dram: [P, M], glb: [Q, S], rf: [M]}

This is the Timeloop map-file idea (per-level factors and permutations) in
YAML, so published mappings can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..arch.spec import Architecture
from ..cost.model import fits
from ..errors import InputError, short
from ..files import load_yaml, validate
from ..limits import MAX_DIM
from ..workload.loopnest import DIMS, LoopNest
from ..mapping.dataflow import Dataflow, Dim
from ..mapping.mapping import LEVELS, Mapping, make_mapping


Factor = Annotated[int, Field(ge=1, le=MAX_DIM)]


class _Orders(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    dram: list[Dim] = Field(default_factory=list)
    glb: list[Dim] = Field(default_factory=list)
    rf: list[Dim] = Field(default_factory=list)


class LayerMappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    dram: dict[Dim, Factor] = Field(default_factory=dict)
    glb: dict[Dim, Factor] = Field(default_factory=dict)
    rows: dict[Dim, Factor] = Field(default_factory=dict)
    cols: dict[Dim, Factor] = Field(default_factory=dict)
    rf: dict[Dim, Factor] = Field(default_factory=dict)
    orders: _Orders = _Orders()


class MappingFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    layers: dict[str, LayerMappingSpec]


@dataclass(frozen=True)
class MappingFile:
    """A parsed ``--mapping`` file.

    Attributes:
        source: the file as the user named it; path: its absolute path.
        layers: ``{layer name: LayerMappingSpec}``.
    """

    source: str
    path: str
    layers: dict


def load_mappings(path: str) -> MappingFile:
    """Parse a mapping file.

    Raises:
        InputError: file missing, unreadable or malformed, unknown fields or
            dims, factors < 1 or over the size limit.
    """
    f, data = load_yaml(path, "mapping")
    spec: MappingFileSpec = validate(MappingFileSpec, data, f.display)
    return MappingFile(f.display, f.path, spec.layers)


def build_fixed(spec: LayerMappingSpec, nest: LoopNest, arch: Architecture, df: Dataflow,
                src: str, layer: str) -> Mapping:
    """Turn a layer's mapping spec into a Mapping and check it against the layer, arch and dataflow.

    Raises:
        InputError: factors < 1 or not multiplying to the layer's bounds, a
            spatial or RF dim the dataflow does not allow, an order naming a
            dim twice, or a mapping that does not fit the array or a buffer.
    """
    where = f"layers.{layer}"
    factors = {l: dict(getattr(spec, l)) for l in LEVELS}
    for l in LEVELS:
        for d, f in factors[l].items():
            if f < 1:
                raise InputError(f"factor must be >= 1, got {f}", source=src, field=f"{where}.{l}.{d}")
    for axis, allowed in (("rows", df.rows), ("cols", df.cols)):
        for d, f in factors[axis].items():
            if f > 1 and d not in allowed:
                raise InputError(f"dataflow {short(df.name)} does not unroll {d} across {axis} "
                                 f"(allowed: {', '.join(allowed) or 'none'})", source=src, field=f"{where}.{axis}.{d}")
    for d, f in factors["rf"].items():
        if f > 1 and d not in df.rf_dims:
            raise InputError(f"dataflow {short(df.name)} keeps no {d} loop inside a PE "
                             f"(allowed: {', '.join(df.rf_dims) or 'none'})", source=src, field=f"{where}.rf.{d}")
    orders = {}
    for l in ("dram", "glb", "rf"):
        o = getattr(spec.orders, l)
        if len(set(o)) != len(o):
            raise InputError("a dim is listed twice", source=src, field=f"{where}.orders.{l}")
        orders[l] = tuple(o)
    m = make_mapping(factors, orders)
    for d in DIMS:
        got = m.extent(d, LEVELS)
        if got != nest.dims[d]:
            raise InputError(f"factors of {d} multiply to {got}, but the layer has {d} = {nest.dims[d]}",
                             source=src, field=where)
    why = fits(nest, arch, m)
    if why:
        raise InputError(f"mapping does not fit {arch.name}: {why}", source=src, field=where)
    return m
