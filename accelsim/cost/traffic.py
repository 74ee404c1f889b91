"""Per-loop traffic of a mapped layer on a storage hierarchy: one analysis for the counts and the simulator.

Every tensor moves along the chain of levels that keep it (innermost first,
DRAM last); a level that does not keep it is bypassed.  A **hop** is one link
of that chain: the words entering the tiles of a child level (its *fills*),
from its parent keeper, with the parent's reads after multicast among the
child's sibling instances.  The nest analysis
(:func:`accelsim.cost.nest_analysis.analyse`) counts a hop exactly from:

* the temporal loops above the child (outermost first): they step its tiles;
* the child's tile extent: its own temporal loops and every slot below;
* the sibling digits: the spatial loops of the fan-outs between parent and
  child (the parent multicasts among them);
* the outer digits: the spatial loops above the parent (its own instances).

``TileStats.per_loop`` gives the traffic of each kind of step (which loop
incremented), which is what the simulator's schedule charges per tile and
per pass; its totals are what the cost model counts.  All counts in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import DIMS, TENSORS, LoopNest
from .nest_analysis import TileStats, analyse

#: (loop dim, factor, stride in iterations of that dim), outermost first.
Loop = tuple[str, int, int]


@dataclass(frozen=True)
class Hop:
    """One link of a tensor's chain of keepers.

    Attributes:
        tensor: ``filter``, ``ifmap`` or ``ofmap``.
        child: level index of the child keeper.
        parent: level index of the parent keeper (the next level out keeping the tensor).
        stats: the nest analysis of the child's tiles (fills = ``pe_fills``;
            parent reads under multicast = ``union_fills``).
        loops: the temporal loops above the child, outermost first (``stats.per_loop`` order).
        link: index of the level whose NoC carries the hop (the outermost fan-out
            crossed), or None when no fan-out lies between the two levels.
        multicast: whether one parent read serves every sibling needing the word
            (False for a unicast link).
    """

    tensor: str
    child: int
    parent: int
    stats: TileStats
    loops: tuple
    link: int | None
    multicast: bool

    @property
    def parent_reads(self) -> int:
        """Words the parent reads for this hop (input tensors): after multicast, unless unicast."""
        return self.stats.union_fills if self.multicast else self.stats.pe_fills


def loop_strides(m: Mapping) -> dict[str, dict[str, int]]:
    """``{slot name: {dim: stride}}``: iterations of the dim one step of that slot's loop advances
    (:meth:`~accelsim.mapping.mapping.Mapping.slot_strides`)."""
    return m.slot_strides()


def outer_loops(m: Mapping, slots, strides) -> list[Loop]:
    """The temporal loops of ``slots`` (outermost first, factor > 1 only) as ``(dim, factor, stride)``."""
    loops = []
    for s in slots:
        if not s.spatial:
            for d in m.nonunit_order(s.name):
                loops.append((d, m.factors[s.name][d], strides[s.name][d]))
    return loops


def digits(m: Mapping, slots, strides) -> dict[str, tuple[tuple[int, int], ...]]:
    """Per dim, the spatial digits ``(factor, stride)`` of the spatial ``slots`` (factor > 1 only)."""
    out: dict[str, tuple] = {}
    for s in slots:
        if s.spatial:
            for d in DIMS:
                f = m.factors[s.name][d]
                if f > 1:
                    out[d] = out.get(d, ()) + ((f, strides[s.name][d]),)
    return out


def link_level(arch: Architecture, child: int, parent: int) -> int | None:
    """The outermost level in ``child + 1 .. parent`` with a fan-out, i.e. a NoC (None if none)."""
    for i in range(parent, child, -1):
        if arch.levels[i].noc:
            return i
    return None


def hops(nest: LoopNest, arch: Architecture, m: Mapping, tensors=TENSORS) -> dict[str, list[Hop]]:
    """Per tensor, its hops innermost first (the last one's parent is DRAM); see the module doc."""
    strides = loop_strides(m)
    slots = m.slots
    # per slot position i: the temporal loops of slots[:i] and the spatial digits of slots[a:b]
    loops_before, flat = [], []
    for s in slots:
        loops_before.append(len(flat))
        if not s.spatial:
            f, st = m.factors[s.name], strides[s.name]
            flat.extend((d, f[d], st[d]) for d in m.nonunit_order(s.name))
    flat = tuple(flat)
    cache: dict = {}
    partial = not m.perfect(nest)

    def digits_in(a: int, b: int):
        key = (a, b)
        if key not in cache:
            cache[key] = digits(m, slots[a:b], strides)
        return cache[key]

    out: dict[str, list[Hop]] = {}
    for t in tensors:
        chain = arch.keepers(t)
        hs = []
        for c, p in zip(chain, chain[1:]):
            ic, ip = m.temporal_index(c), m.temporal_index(p)
            loops = flat[:loops_before[ic]]
            st = analyse(nest, t, loops, m.tile_extent(c), digits_in(ip, ic), digits_in(0, ip), partial)
            link = link_level(arch, c, p)
            mc = link is None or arch.levels[link].noc[t].type != "unicast"
            hs.append(Hop(t, c, p, st, loops, link, mc))
        out[t] = hs
    return out
