"""A mapping: how one layer's loop nest is tiled, ordered and unrolled on a storage hierarchy.

The mapped nest has one *slot* of loops per storage level and per fan-out,
outermost first (Timeloop's mapping, Parashar et al., ISPASS 2019, sec. III)::

    DRAM      temporal loops                 -- tiles of the outermost on-chip level
    GLB       temporal loops                 -- tiles of the levels below
    GLB.rows  spatial loops across the GLB's fan-out rows  ("spatial_for")
    GLB.cols  spatial loops across its columns
    RF        temporal loops inside a PE, one MAC per cycle per MAC unit

A level's temporal slot is named as the arch file names the level; a fan-out's
slots are ``<level>.rows`` and ``<level>.cols`` (present when that side is
> 1).  An index in dimension d is the mixed-radix number over the slots,
inner slots the less significant digits, so the tile a level holds (its own
temporal loops and everything below) is a contiguous range in each dimension.

Factors may be **imperfect** (Timeloop's and ZigZag's imperfect
factorisation): their product may exceed the bound D, and an index >= D does
not exist, so the last tile along d is partial.  P = 55 in strips of 7 runs
8 strips, the last of 6 rows; a 29-wide output on 12 rows runs 3 folds, the
last on 5 rows.  Two rules keep every step real (:meth:`Mapping.check`):
each slot's last digit alone is a valid index, and so is the sum of every
temporal slot's last digit (no temporal step is empty, so a step takes its
cycle and compute cycles stay the product of the temporal factors).  A
partial tile shows in the spatial occupancy and in the words the tiles hold;
an instance whose share of d is empty at a step is idle and computes
nothing, but still holds the tiles of the tensors that do not depend on d
(a multicast or a systolic flow delivers them to every PE it reaches).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..workload.loopnest import DIMS, LoopNest


#: Largest P x R (Q x S) whose dims may take imperfect factors (see :meth:`Mapping.imperfect_allowed`).
WINDOW_PAIRS_MAX = 1 << 16
_WINDOW_PAIR = {"P": ("P", "R"), "R": ("P", "R"), "Q": ("Q", "S"), "S": ("Q", "S")}


@dataclass(frozen=True)
class Slot:
    """One group of loops of the mapped nest.

    Attributes:
        name: ``<level>`` (temporal) or ``<level>.rows`` / ``<level>.cols`` (spatial).
        kind: ``temporal``, ``rows`` or ``cols``.
        level: index of the storage level (innermost 0) the loops belong to;
            a spatial slot of level i unrolls across level i's fan-out.
        level_name: the level's name.
    """

    name: str
    kind: str
    level: int
    level_name: str

    @property
    def spatial(self) -> bool:
        return self.kind != "temporal"


@lru_cache(maxsize=256)
def _temporal_positions(slots: tuple[Slot, ...]) -> dict:
    return {s.level: i for i, s in enumerate(slots) if not s.spatial}


def slots_of(arch) -> tuple[Slot, ...]:
    """The slots of ``arch``'s hierarchy, outermost first (see module doc)."""
    out = []
    for lv in reversed(arch.levels):
        out.append(Slot(lv.name, "temporal", lv.index, lv.name))
        if lv.rows > 1:
            out.append(Slot(f"{lv.name}.rows", "rows", lv.index, lv.name))
        if lv.cols > 1:
            out.append(Slot(f"{lv.name}.cols", "cols", lv.index, lv.name))
    return tuple(out)


@dataclass(frozen=True)
class Mapping:
    """Factors per slot and dimension, plus a loop order per temporal slot.

    Attributes:
        slots: the hierarchy's slots, outermost first (:func:`slots_of`).
        factors: ``{slot name: {dim: factor}}`` for every slot and every dim
            in DIMS (factor 1 = no loop).
        orders: ``{temporal slot name: tuple of dims}``, outermost first.
    """

    slots: tuple[Slot, ...]
    factors: dict[str, dict[str, int]]
    orders: dict[str, tuple[str, ...]]
    _key: tuple | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _strides: dict | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _temporal_index: dict = field(init=False, repr=False, compare=False, hash=False)
    _suffix: list = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_temporal_index", _temporal_positions(self.slots))
        # per slot index i: per dim, the product of the factors of slots[i:] (the tile extents)
        suffix = [None] * (len(self.slots) + 1)
        cur = dict.fromkeys(DIMS, 1)
        suffix[len(self.slots)] = cur
        for i in range(len(self.slots) - 1, -1, -1):
            f = self.factors[self.slots[i].name]
            cur = {d: cur[d] * f[d] for d in DIMS}
            suffix[i] = cur
        object.__setattr__(self, "_suffix", suffix)

    @property
    def key(self) -> tuple:
        """Factors per slot and the non-unit loop orders: identity, hashing and deterministic tie-breaks."""
        if self._key is None:
            k = tuple((s.name,) + tuple(self.factors[s.name][d] for d in DIMS) for s in self.slots) + tuple(
                self.nonunit_order(s.name) for s in self.slots if not s.spatial
            )
            object.__setattr__(self, "_key", k)
        return self._key

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and self.key == other.key

    # ---- structure
    def slot(self, name: str) -> Slot:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)

    def temporal_index(self, level: int) -> int:
        """Position in ``slots`` of level ``level``'s temporal slot (KeyError if no such level)."""
        return self._temporal_index[level]

    def temporal_slot(self, level: int) -> Slot:
        return self.slots[self._temporal_index[level]]

    def below(self, level: int) -> tuple[Slot, ...]:
        """Slots whose loops a level-``level`` tile spans: its temporal slot and every slot inside it."""
        return self.slots[self._temporal_index[level]:]

    def above(self, level: int) -> tuple[Slot, ...]:
        """Slots outside level ``level``'s temporal slot (outermost first)."""
        return self.slots[:self._temporal_index[level]]

    def spatial_between(self, inner: int, outer: int | None) -> tuple[Slot, ...]:
        """Spatial slots of the levels ``inner + 1 .. outer`` (the fan-outs between two levels);
        ``outer=None``: every level above ``inner``; ``inner=-1``: down to the MACs."""
        return tuple(s for s in self.slots if s.spatial and s.level > inner and (outer is None or s.level <= outer))

    # ---- sizes
    def nonunit_order(self, name: str) -> tuple[str, ...]:
        """Loop order of a temporal slot, loops with factor 1 dropped."""
        return tuple(d for d in self.orders[name] if self.factors[name][d] > 1)

    def extent(self, dim: str, slots) -> int:
        """Product of the factors of ``dim`` over ``slots`` (Slot records or names)."""
        n = 1
        for s in slots:
            n *= self.factors[s if isinstance(s, str) else s.name][dim]
        return n

    def tile_extent(self, level: int) -> dict[str, int]:
        """Iterations per dim one instance of level ``level`` holds a tile for (do not modify the dict)."""
        return self._suffix[self._temporal_index[level]]

    def inner_extent(self, level: int) -> dict[str, int]:
        """Iterations per dim below level ``level``'s temporal loops (its fan-outs included): what one
        step of the level spans (do not modify the dict)."""
        return self._suffix[self._temporal_index[level] + 1]

    def used(self, slots) -> int:
        """Instances the spatial ``slots`` use: product of all their factors."""
        n = 1
        for s in slots:
            for d in DIMS:
                n *= self.factors[s.name][d]
        return n

    @property
    def active_macs(self) -> int:
        """MAC units that receive work: product of every spatial factor."""
        return self.used([s for s in self.slots if s.spatial])

    def spatial(self, slot: str) -> int:
        """Children one spatial slot uses (1 if the slot does not exist)."""
        if slot not in self.factors:
            return 1
        n = 1
        for d in DIMS:
            n *= self.factors[slot][d]
        return n

    @property
    def temporal_steps(self) -> int:
        """Compute cycles if every MAC unit does one MAC per cycle: product of temporal factors."""
        n = 1
        for s in self.slots:
            if not s.spatial:
                for d in DIMS:
                    n *= self.factors[s.name][d]
        return n

    def slot_strides(self) -> dict[str, dict[str, int]]:
        """``{slot name: {dim: stride}}``: iterations of the dim one step of that slot's loop advances
        (inner slots are the less significant digits: the innermost slot's stride is 1, each outer
        slot's the product of the factors below).  Computed once; do not modify."""
        if self._strides is None:
            out: dict[str, dict[str, int]] = {s.name: {} for s in self.slots}
            for d in DIMS:
                st = 1
                for s in reversed(self.slots):
                    out[s.name][d] = st
                    st *= self.factors[s.name][d]
            object.__setattr__(self, "_strides", out)
        return self._strides

    def strides(self, dim: str) -> list[int]:
        """Per slot (outermost first), the iterations of ``dim`` one step of its loop advances."""
        st = self.slot_strides()
        return [st[s.name][dim] for s in self.slots]

    @staticmethod
    def imperfect_allowed(nest: LoopNest, dim: str) -> bool:
        """Whether ``dim`` may take imperfect factors: always for N, G, M, C; for an ifmap window's dims
        (P and R, Q and S) when the window's index pairs are at most ``WINDOW_PAIRS_MAX`` (their partial
        tiles are counted by enumerating tile origins, :mod:`accelsim.cost.clipped`)."""
        pair = _WINDOW_PAIR.get(dim)
        return pair is None or nest.dims[pair[0]] * nest.dims[pair[1]] <= WINDOW_PAIRS_MAX

    def perfect(self, nest: LoopNest) -> bool:
        """Whether every dim's factors multiply to its bound exactly (no partial tile)."""
        return all(self._suffix[0][d] == nest.dims[d] for d in DIMS)

    def partial_dims(self, nest: LoopNest) -> tuple[str, ...]:
        """Dims whose factors overshoot their bound (their last tile is partial)."""
        return tuple(d for d in DIMS if self._suffix[0][d] != nest.dims[d])

    def valid(self, nest: LoopNest) -> bool:
        """:meth:`check` as a bool."""
        try:
            self.check(nest)
        except ValueError:
            return False
        return True

    def check(self, nest: LoopNest) -> None:
        """Raise ValueError unless every dim's factors cover its bound with no empty step.

        The rules (module doc): the product of the factors is at least the
        bound; each slot's last digit alone is below it (no instance or step
        that never works); the temporal slots' last digits together are below
        it (no temporal step without work).
        """
        top = self._suffix[0]
        for d in DIMS:
            bound, total = nest.dims[d], top[d]
            if total == bound:
                continue
            got = " x ".join(str(self.factors[s.name][d]) for s in self.slots)
            if total < bound:
                raise ValueError(f"factors of {d} ({got}) multiply to {total}, less than the layer's {d} = {bound}")
            if not self.imperfect_allowed(nest, d):
                a, b = _WINDOW_PAIR[d]
                raise ValueError(f"factors of {d} ({got}) overshoot {bound}, but partial tiles of {d} need "
                                 f"{a} x {b} <= {WINDOW_PAIRS_MAX} (here {nest.dims[a] * nest.dims[b]}); "
                                 f"give factors of {d} that multiply to {bound}")
            st = self.strides(d)
            for i, s in enumerate(self.slots):
                f = self.factors[s.name][d]
                if (f - 1) * st[i] >= bound:
                    raise ValueError(f"factors of {d} ({got}) overshoot {bound}: the last of the {f} "
                                     f"steps of {s.name} would have no {d} index below {bound}")
            last = sum((self.factors[s.name][d] - 1) * st[i] for i, s in enumerate(self.slots) if not s.spatial)
            if last >= bound:
                raise ValueError(f"factors of {d} ({got}) overshoot {bound}: the last temporal step would "
                                 f"have {d} index {last}, so some steps would have no work; make the "
                                 f"outermost factor of {d} ceil({bound} / the rest) and the inner ones "
                                 f"spatial or dividing")

    # ---- views
    def loops(self) -> list[tuple[str, str, int]]:
        """The nest as (slot name, dim, factor) outermost first, factor-1 loops dropped."""
        out = []
        for s in self.slots:
            order = self.orders[s.name] if not s.spatial else DIMS
            for d in order:
                if self.factors[s.name][d] > 1:
                    out.append((s.name, d, self.factors[s.name][d]))
        return out

    def to_text(self, keeps: dict[str, tuple[str, ...]] | None = None, bounds: dict[str, int] | None = None) -> str:
        """Timeloop-style printable loop nest, one line per loop, level by level.

        ``keeps``: per level name, the tensors it keeps (printed in the level's
        header line, so a reader sees where each tensor lives).  ``bounds``:
        the layer's dims; the outermost loop of a dim with imperfect factors
        says how much of its last tile is real, e.g. ``for p in [0:8)  (last: 6 of 7, P = 55)``.
        """
        partial = self.partial_tiles(bounds) if bounds else {}
        marked = set()
        lines, indent = [], 0
        for s in self.slots:
            if not s.spatial:
                head = f"{s.level_name} "
                if keeps is not None:
                    head += "[" + ", ".join(keeps.get(s.level_name, ())) + "] "
                lines.append("  " * indent + head + "-" * 8)
            order = self.orders[s.name] if not s.spatial else DIMS
            for d in order:
                f = self.factors[s.name][d]
                if f > 1:
                    if s.spatial:
                        line = f"| spatial_for {d.lower()} in [0:{f})  ({s.level_name} {s.kind})"
                    else:
                        line = f"| for {d.lower()} in [0:{f})"
                    if d in partial and d not in marked:
                        real, full = partial[d]
                        line += f"  (last: {real} of {full}, {d} = {bounds[d]})"
                        marked.add(d)
                    lines.append("  " * indent + line)
                    indent += 1
        lines.append("  " * indent + "|   MAC")
        return "\n".join(lines)

    def partial_tiles(self, bounds: dict[str, int]) -> dict[str, tuple[int, int]]:
        """Per dim with imperfect factors: ``(real, full)`` iterations of the last tile of its outermost loop."""
        out = {}
        for d in DIMS:
            if self._suffix[0][d] == bounds[d]:
                continue
            st = self.strides(d)
            for i, s in enumerate(self.slots):
                f = self.factors[s.name][d]
                if f > 1:
                    out[d] = (bounds[d] - (f - 1) * st[i], st[i])
                    break
        return out

    def to_dict(self) -> dict:
        """JSON-able form: factors per slot (only non-1) and loop orders per temporal slot."""
        return {
            "factors": {s.name: {d: f for d, f in self.factors[s.name].items() if f > 1} for s in self.slots},
            "orders": {s.name: list(self.nonunit_order(s.name)) for s in self.slots if not s.spatial},
        }


def make_mapping(slots: tuple[Slot, ...], factors: dict[str, dict[str, int]],
                 orders: dict[str, tuple[str, ...]] | None = None) -> Mapping:
    """Build a Mapping, filling absent slots/dims with 1 and absent orders with DIMS order.

    An order may list only some dims; the unlisted ones are placed outside
    them (they are typically factor-1 loops).

    Raises:
        KeyError: a factor or order for a slot the hierarchy does not have.
    """
    names = {s.name for s in slots}
    for k in list(factors) + list(orders or {}):
        if k not in names:
            raise KeyError(k)
    full = {s.name: {d: int(factors.get(s.name, {}).get(d, 1)) for d in DIMS} for s in slots}
    ords = {}
    for s in slots:
        if not s.spatial:
            given = tuple((orders or {}).get(s.name, ()))
            ords[s.name] = tuple(d for d in DIMS if d not in given) + given
    return Mapping(tuple(slots), full, ords)
