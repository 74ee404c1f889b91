"""User-given mappings (``--mapping FILE``): validated, then evaluated instead of searched.

Mapping file schema (factors per slot of the arch's hierarchy; unlisted dims
are 1; orders outermost first).  A slot is a level's name (its temporal
loops) or ``<level>.rows`` / ``<level>.cols`` (spatial loops across that
level's fan-out; see :mod:`accelsim.mapping.mapping`)::

    layers:
      conv1:                       # a layer name of the workload
        DRAM: {P: 8, M: 2}
        GLB:  {Q: 112, S: 3}
        GLB.rows: {C: 3, R: 3}     # spatial across the GLB's fan-out rows (the PE array)
        GLB.cols: {P: 14}
        spad: {M: 16}
        orders: {DRAM: [P, M], GLB: [Q, S], spad: [M]}

The earlier keys ``dram``, ``glb``, ``rows``, ``cols`` and ``rf`` still work:
they name DRAM, the array level, its fan-out and the single level inside
the PE array.  This is the Timeloop map-file idea (per-level factors and
permutations) in YAML, so published mappings can be reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..arch.spec import Architecture
from ..cost.fits import fits
from ..errors import InputError, short
from ..files import load_yaml
from ..validation import validate
from ..limits import MAX_DIM
from ..workload.loopnest import LoopNest
from ..mapping.dataflow import Dataflow, Dim
from ..mapping.mapping import Mapping, make_mapping, slots_of


Factor = Annotated[int, Field(ge=1, le=MAX_DIM)]
LEGACY = ("dram", "glb", "rows", "cols", "rf")


class LayerMappingSpec(BaseModel):
    """One layer's factors per slot (``{slot: {dim: factor}}``) and ``orders`` per temporal slot."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)
    orders: dict[str, list[Dim]] = Field(default_factory=dict)

    def slot_factors(self) -> dict:
        return dict(self.__pydantic_extra__ or {})


class _Factors(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    f: dict[Dim, Factor]


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


def _slot_name(key: str, arch: Architecture, src: str, where: str) -> str:
    """A slot of the arch's hierarchy named by ``key`` (a level name, ``<level>.rows|cols`` or an earlier key)."""
    names = {s.name for s in slots_of(arch)}
    if key in names:
        return key
    a = arch.levels[arch.array_level]
    inside = [lv for lv in arch.onchip if lv.index < arch.array_level]
    legacy = {"dram": arch.dram.name, "glb": a.name, "rows": f"{a.name}.rows", "cols": f"{a.name}.cols",
              "rf": inside[0].name if len(inside) == 1 else None}
    if key in legacy and legacy[key] is not None and (legacy[key] in names or key in ("rows", "cols")):
        return legacy[key]
    raise InputError(f"{short(key)} is not a level or fan-out of {arch.name} (slots: {', '.join(sorted(names))})",
                     source=src, field=where)


def build_fixed(spec: LayerMappingSpec, nest: LoopNest, arch: Architecture, df: Dataflow,
                src: str, layer: str) -> Mapping:
    """Turn a layer's mapping spec into a Mapping and check it against the layer, arch and dataflow.

    Raises:
        InputError: an unknown slot, factors < 1 or not covering the
            layer's bounds (imperfect factors are allowed under the rules of
            :meth:`~accelsim.mapping.mapping.Mapping.check`), a spatial or in-PE dim the dataflow does not
            allow, an order naming a dim twice, or a mapping that does not
            fit the array or a buffer.
    """
    where = f"layers.{layer}"
    slots = slots_of(arch)
    by_name = {s.name: s for s in slots}
    a = arch.levels[arch.array_level]
    factors: dict[str, dict[str, int]] = {}
    for key, raw in spec.slot_factors().items():
        name = _slot_name(key, arch, src, f"{where}.{key}")
        f = validate(_Factors, {"f": raw}, src, f"{where}.{key}").f if raw is not None else {}
        if name not in by_name:  # rows/cols of an array without that side: only factor 1 is legal
            bad = {d: v for d, v in f.items() if v > 1}
            if bad:
                raise InputError(f"{arch.name}'s {a.name} has no fan-out along {key}", source=src,
                                 field=f"{where}.{key}")
            continue
        if name in factors:
            raise InputError(f"slot {name} is given twice", source=src, field=f"{where}.{key}")
        factors[name] = dict(f)
        s = by_name[name]
        if s.spatial and s.level == arch.array_level:
            allowed = df.rows if s.kind == "rows" else df.cols
            for d, v in f.items():
                if v > 1 and d not in allowed:
                    raise InputError(f"dataflow {short(df.name)} does not unroll {d} across {s.kind} "
                                     f"(allowed: {', '.join(allowed) or 'none'})", source=src,
                                     field=f"{where}.{key}.{d}")
        if not s.spatial and s.level < arch.array_level:
            for d, v in f.items():
                if v > 1 and d not in df.rf_dims:
                    raise InputError(f"dataflow {short(df.name)} keeps no {d} loop inside a PE "
                                     f"(allowed: {', '.join(df.rf_dims) or 'none'})", source=src,
                                     field=f"{where}.{key}.{d}")
    orders = {}
    for key, o in spec.orders.items():
        name = _slot_name(key, arch, src, f"{where}.orders.{key}")
        if by_name.get(name) is None or by_name[name].spatial:
            raise InputError("orders are given for temporal slots (levels) only", source=src,
                             field=f"{where}.orders.{key}")
        if len(set(o)) != len(o):
            raise InputError("a dim is listed twice", source=src, field=f"{where}.orders.{key}")
        orders[name] = tuple(o)
    m = make_mapping(slots, factors, orders)
    try:
        m.check(nest)  # imperfect factors are fine: the product may overshoot, the last tile partial
    except ValueError as e:
        raise InputError(str(e), source=src, field=where) from None
    why = fits(nest, arch, m)
    if why:
        raise InputError(f"mapping does not fit {arch.name}: {why}", source=src, field=where)
    return m
