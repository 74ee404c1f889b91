"""Sweep specs: a base arch, workloads and axes, expanded into design points.

Spec schema (YAML)::

    name: eyeriss_pe_glb
    arch: eyeriss.yaml                      # the base arch file (bundled name or path)
    workloads: [mobilenet.yaml]
    objective: edp                          # default for every point (an axis may vary it)
    budget: 150                             # mappings evaluated per layer
    axes:
      - {name: rows, path: levels.GLB.fanout.rows, values: [8, 12, 16]}
      - {name: glb, path: levels.GLB.capacity_words.ifmap+ofmap, range: {start: 25600, stop: 102400, step: 25600}}
      - zip:                                # values taken together, not crossed
          - {name: bw, path: dram.bw_bytes_per_cycle, values: [4, 8]}
          - {name: lat, path: dram.latency_cycles, values: [100, 50]}
      - {name: dataflow, path: dataflow, values: [rs, ws]}
    constraints: ["pes <= 256", "onchip_kb <= 512"]

An axis ``path`` is a field of the arch file, dotted: ``levels.<level name or index>.<field>...`` or
``dram.<field>`` or a top-level field (``word_bits``, ``clock_mhz``); or one of the run's own settings
``dataflow``, ``objective``, ``batch``, ``precision`` (``--precision``: int8, fp16, fp32).  Axes cross (a grid); a ``zip`` group advances together.  A
constraint ``<quantity> <op> <number>`` drops points: the quantities are ``pes`` (the PE array's fan-out),
``mac_units``, ``onchip_kb`` (every on-chip level's capacity x instances, in KiB of its word widths)
and any axis name.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import re
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from ..arch import Architecture, build_arch
from ..errors import InputError
from ..files import load_yaml, resolve
from ..mapper.search import DEFAULT_BUDGET
from ..validation import validate

RUN_AXES = ("dataflow", "objective", "batch", "precision")
CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RangeSpec(_Strict):
    start: float
    stop: float
    step: float = Field(gt=0)


class AxisSpec(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    path: str = Field(min_length=1, max_length=300)
    values: list[Any] | None = Field(default=None, min_length=1, max_length=10000)
    range: RangeSpec | None = None


class ZipSpec(_Strict):
    zip: list[AxisSpec] = Field(min_length=1, max_length=32)


class SweepSpec(_Strict):
    name: str = Field(default="sweep", min_length=1, max_length=128)
    arch: str = Field(min_length=1)
    workloads: list[str] = Field(min_length=1, max_length=64)
    objective: Literal["edp", "energy", "cycles"] = "edp"
    budget: int = Field(default=DEFAULT_BUDGET, ge=1, le=100000)
    batch: int | None = Field(default=None, ge=1)
    axes: list[Union[AxisSpec, ZipSpec]] = Field(default_factory=list, max_length=32)
    constraints: list[str] = Field(default_factory=list, max_length=64)


@dataclass(frozen=True)
class Axis:
    """One resolved axis: its name, arch-file path (or run setting) and values."""

    name: str
    path: str
    values: tuple


@dataclass(frozen=True)
class Point:
    """One design point: the base spec plus a value per axis (``values``: axis name -> value)."""

    values: tuple  # ((axis name, value), ...) in axis order
    workload: str

    def as_dict(self) -> dict:
        return dict(self.values)


@dataclass
class Sweep:
    """A resolved spec: its axes (``groups``: each a list of axes advancing together) and the base arch."""

    spec: SweepSpec
    source: str
    groups: list[list[Axis]]
    base_arch: dict
    base_dir: str | None
    workload_files: dict  # workload as written -> what to load (bundled name or absolute path)
    spec_hash: str

    @property
    def axes(self) -> list[Axis]:
        return [a for g in self.groups for a in g]


def _values(ax: AxisSpec, where: str, src: str) -> tuple:
    if (ax.values is None) == (ax.range is None):
        raise InputError("give either values or range", source=src, field=where)
    if ax.values is not None:
        return tuple(ax.values)
    r = ax.range
    n = int((r.stop - r.start) / r.step + 1e-9) + 1
    if n < 1 or n > 10000:
        raise InputError(f"range gives {n} values (1 to 10,000 allowed)", source=src, field=f"{where}.range")
    vals = [r.start + i * r.step for i in range(n)]
    return tuple(int(v) if float(v).is_integer() else v for v in vals)


def load_sweep_spec(path: str) -> Sweep:
    """Read and check a sweep spec (module doc).

    Raises:
        InputError: a malformed spec, an axis without values, a zip of unequal lengths, a duplicate
            axis name, a malformed constraint; each names the field.
    """
    f, data = load_yaml(path, "sweep")
    spec: SweepSpec = validate(SweepSpec, data, f.display)
    groups, names = [], set()
    for i, entry in enumerate(spec.axes):
        members = entry.zip if isinstance(entry, ZipSpec) else [entry]
        group = []
        for j, ax in enumerate(members):
            where = f"axes.{i}.zip.{j}" if isinstance(entry, ZipSpec) else f"axes.{i}"
            name = ax.name or ax.path
            if name in names:
                raise InputError(f"axis name {name!r} is used twice", source=f.display, field=f"{where}.name")
            names.add(name)
            group.append(Axis(name, ax.path, _values(ax, where, f.display)))
        if len({len(a.values) for a in group}) > 1:
            raise InputError("the axes of a zip need the same number of values", source=f.display, field=f"axes.{i}.zip")
        groups.append(group)
    for k, c in enumerate(spec.constraints):
        if not CONSTRAINT.match(c):
            raise InputError(f"{c!r} is not '<quantity> <op> <number>' (op: <=, <, >=, >, ==, !=)",
                             source=f.display, field=f"constraints.{k}")
    folder = None if f.bundled else str(Path(f.path).parent)
    af, base = load_yaml(spec.arch, "arch", base=folder)
    wl = {}
    for k, w in enumerate(spec.workloads):
        src = resolve(w, "workload", base=folder)
        wl[w] = src.display if src.bundled else src.path
    return Sweep(spec, f.display, groups, base, folder, wl, hashlib.sha256(f.text.encode()).hexdigest()[:16])


def points(sw: Sweep) -> list[Point]:
    """Every point of the grid (zip groups advance together), for every workload, before constraints."""
    per_group = [[tuple((a.name, a.values[k]) for a in g) for k in range(len(g[0].values))] for g in sw.groups]
    out = []
    for combo in itertools.product(*per_group) if per_group else [()]:
        vals = tuple(v for group in combo for v in group)
        for wl in sw.spec.workloads:
            out.append(Point(vals, wl))
    return out


def _set(d: Any, parts: list[str], value, where: str) -> None:
    cur = d
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if isinstance(cur, list):
            idx = next((i for i, x in enumerate(cur) if isinstance(x, dict) and x.get("name") == part), None)
            if idx is None and part.isdigit() and int(part) < len(cur):
                idx = int(part)
            if idx is None:
                names = ", ".join(str(x.get("name")) for x in cur if isinstance(x, dict))
                raise ValueError(f"no element {part!r} at {'.'.join(parts[:k]) or where} (there are: {names})")
            if last:
                cur[idx] = value
            cur = cur[idx]
        elif isinstance(cur, dict):
            if last:
                cur[part] = value
                return
            if part not in cur:
                cur[part] = {}
            elif not isinstance(cur[part], (dict, list)):
                raise ValueError(f"{'.'.join(parts[:k + 1])} is {cur[part]!r}, which has no field {parts[k + 1]!r}")
            cur = cur[part]
        else:
            raise ValueError(f"{'.'.join(parts[:k])} has no field {part!r}")


def resolve_point(sw: Sweep, p: Point) -> tuple[Architecture, dict, dict]:
    """``(arch, arch dict, run settings)`` of a point: the base arch with the point's values written at
    their paths, and its dataflow, objective, batch and precision (``--precision``, applied to the arch
    dict when it is built).

    Raises:
        InputError: a path that does not lead to a field, or a value the arch refuses; the message names
            the axis, the path and the point.
    """
    d = copy.deepcopy(sw.base_arch)
    run = {"dataflow": None, "objective": sw.spec.objective, "batch": sw.spec.batch}  # + precision if an axis
    axes = {a.name: a for a in sw.axes}
    for name, value in p.values:
        ax = axes[name]
        if ax.path in RUN_AXES:
            run[ax.path] = value
            continue
        try:
            _set(d, ax.path.split("."), value, ax.path)
        except ValueError as e:
            raise InputError(f"axis {name!r} (path {ax.path}) at point {p.as_dict()}: {e}", source=sw.source,
                             field="axes") from None
    try:
        arch = build_arch(d, f"{sw.spec.arch} at {p.as_dict()}", resolved_path=None, precision=run.get("precision"))
    except InputError as e:
        raise InputError(f"point {p.as_dict()} gives a bad arch: {e.message}", source=sw.source,
                         field=f"axes ({e.field})") from None
    return arch, d, run


def quantities(arch: Architecture, p: Point) -> dict:
    """The constraint quantities of a point (module doc)."""
    kb = 0.0
    for lv in arch.onchip:
        for part in lv.partitions:
            if part.cap_bits is not None:
                kb += part.cap_bits * lv.instances / 8 / 1024
    q = {"pes": arch.pes, "mac_units": arch.mac_units, "onchip_kb": kb}
    q.update({k: v for k, v in p.values if isinstance(v, (int, float))})
    return q


def satisfies(constraints: list[str], q: dict, source: str) -> bool:
    """Whether a point's quantities meet every constraint.

    Raises:
        InputError: a constraint on an unknown quantity.
    """
    ops = {"<=": float.__le__, "<": float.__lt__, ">=": float.__ge__, ">": float.__gt__, "==": float.__eq__,
           "!=": float.__ne__}
    for k, c in enumerate(constraints):
        name, op, num = CONSTRAINT.match(c).groups()
        if name not in q:
            raise InputError(f"unknown quantity {name!r}: use {', '.join(sorted(q))}", source=source,
                             field=f"constraints.{k}")
        if not ops[op](float(q[name]), float(num)):
            return False
    return True
