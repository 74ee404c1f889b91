"""The tile and pass schedule of a mapped layer, with the traffic of each step.

Two granularities, following the hierarchy (see :mod:`accelsim.mapping.mapping`):

* a **tile** is one iteration of the DRAM loops: the outermost on-chip level
  (``T``) holds one tile of each tensor it keeps; moving to the next tile
  fills only the new words from DRAM and drains the ofmap words that leave;
* a **pass** is one iteration of the temporal loops of the on-chip levels
  above ``I``, the innermost level that receives a tensor across the array
  level ``A`` (whose fan-out is the PE array): every active PE holds its
  tiles and runs the loops of ``I`` and the levels inside it (one MAC per
  cycle per MAC unit); moving to the next pass delivers the new operand
  words and collects the psums that leave.  For the RF -> GLB -> DRAM form
  the passes are the GLB's loops.

Every word a step moves is a hop of :mod:`accelsim.cost.traffic` (the same
analysis the counts come from): the hops from DRAM into ``T`` at tile steps
are the tile level's loads and drains; every other hop is charged to the
pass it happens in, on its parent's read port (or the DRAM channel when the
parent is DRAM, e.g. a tensor that bypasses ``T``), and on the NoC link it
crosses.  Refills of a level inside the PE from loops inside the pass are
spread evenly over the passes.  A step's traffic depends on which loop
incremented into it (its *type*); the steps of one type share the type's
total evenly (exact for filters and psums, whose tiles never clip; an ifmap
step at a padded edge may in truth move a few words fewer or more).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..arch.spec import Architecture
from ..cost.traffic import Hop, hops, loop_strides, outer_loops
from ..mapping.mapping import Mapping
from ..workload.loopnest import RELEVANT, TENSORS, LoopNest

INPUTS = ("filter", "ifmap")


class Move(NamedTuple):
    """Mean words of one hop in one step: ``words`` into the child's instances, ``parent_reads`` after multicast."""

    tensor: str
    child: int
    parent: int
    link: int | None
    words: float
    parent_reads: float


@dataclass(frozen=True)
class StepTraffic:
    """Mean traffic of one step of a given type (words, totals over all instances).

    Attributes:
        steps: how many steps of this type the layer has.
        moves: the input-tensor :class:`Move` records of the step.
        psum_in: ofmap words entering the children's tiles after the union
            over a spatial-reduction group (what the parent sends back when
            the step revisits psums).
        psum_out: ofmap words leaving the children's tiles at the step, after
            spatial reduction (what reaches the parent).  Equal to ``psum_in``
            unless a tile is partial (imperfect factors).
    """

    steps: int
    moves: tuple
    psum_in: float
    psum_out: float

    def words(self, tensor: str) -> float:
        return sum(mv.words for mv in self.moves if mv.tensor == tensor)


@dataclass
class Schedule:
    """Everything the event simulator needs about one mapped layer.

    Attributes:
        loops: outer loops ``(dim, factor)``, DRAM loops first, then the pass loops (levels above ``I``).
        n_dram: how many of ``loops`` are DRAM loops.
        pass_types: per loop index, the :class:`StepTraffic` of a pass entered
            by that loop incrementing; ``first_pass`` for pass 0.
        tile_types: per DRAM-loop index, the tile-level traffic (DRAM -> T);
            ``first_tile`` for tile 0.
        psum_hop: the ofmap hop out of the PE (child inside the array, parent
            at or above the array level), or None.
        final_psum: ofmap words in the PEs' last tiles after spatial reduction (drained last).
        final_glb_psum: ofmap words of the last T tile (drained to DRAM last).
        pass_compute: cycles of one pass (product of the temporal factors of ``I`` and the levels inside it).
        hops: the traffic analysis per tensor.
        pass_inner: the level ``I``: temporal loops of levels above it step the passes, those at or
            below it run inside a pass.
    """

    loops: list
    n_dram: int
    pass_types: list
    first_pass: StepTraffic
    tile_types: list
    first_tile: StepTraffic
    psum_hop: Hop | None
    final_psum: int
    final_glb_psum: int
    pass_compute: int
    hops: dict
    pass_inner: int = 0

    @property
    def passes_per_tile(self) -> int:
        n = 1
        for _, f in self.loops[self.n_dram:]:
            n *= f
        return n

    @property
    def tiles(self) -> int:
        n = 1
        for _, f in self.loops[: self.n_dram]:
            n *= f
        return n

    def irrelevant_to_ofmap(self, j: int) -> bool:
        return self.loops[j][0] not in RELEVANT["ofmap"]


def _per_step(h: Hop, j: int | None, nloops: int):
    """``(steps, words, parent reads)`` of input hop ``h`` at a step of type j (None: the first), or None
    if it moves nothing there (the step is inside the child's tile)."""
    st = h.stats
    if j is None:
        return 1, st.first_pe, (st.first_union if h.multicast else st.first_pe)
    if j >= len(h.loops):
        return None
    steps, pe, un = st.per_loop[j][:3]
    return steps, pe / steps, (un if h.multicast else pe) / steps


def _psum_step(h: Hop, j: int | None) -> tuple[float, float]:
    """Mean ofmap words of hop ``h`` at a step of type j after the union over a reduction group:
    ``(entering, leaving)``."""
    st = h.stats
    if j is None:
        return float(st.first_union), 0.0
    if j >= len(h.loops):
        return 0.0, 0.0
    steps, _, un, _, un_out = st.per_loop[j]
    return un / steps, un_out / steps


def _traffic(hs: dict, j: int | None, steps_of_j: int, tile_level: bool, top: int, array: int,
             nloops: int, passes: int, dram: int) -> StepTraffic:
    """The traffic of one step type at the tile level (``tile_level``: hops DRAM -> T) or the pass level."""
    moves = []
    p_in = p_out = 0.0
    for t in TENSORS:
        for h in hs[t]:
            is_tile = h.child == top and h.parent == dram
            if tile_level != is_tile or (tile_level and j is not None and j >= nloops):
                continue
            if t == "ofmap":
                if tile_level or (h.child < array <= h.parent):
                    a, b = _psum_step(h, j)
                    p_in += a
                    p_out += b
                continue
            got = _per_step(h, j, nloops)
            w = pr = 0.0
            if got is not None:
                _, w, pr = got
            if not tile_level and h.child < array and len(h.loops) > nloops:
                inner = h.stats.per_loop[nloops:]
                w += sum(x[1] for x in inner) / passes
                pr += sum(x[2] if h.multicast else x[1] for x in inner) / passes
            if w or pr:
                moves.append(Move(t, h.child, h.parent, h.link, w, pr))
    return StepTraffic(steps_of_j, tuple(moves), p_in, p_out)


def build_schedule(nest: LoopNest, arch: Architecture, m: Mapping) -> Schedule:
    """Tile/pass schedule of ``m`` on ``arch`` with per-step-type traffic (see module doc)."""
    strides = loop_strides(m)
    dram, top, array = arch.dram.index, arch.onchip[-1].index, arch.array_level
    dram_loops = outer_loops(m, [m.temporal_slot(dram)], strides)
    hs = hops(nest, arch, m)
    # the pass boundary: just above the innermost level that receives a tensor across the array level
    crossing = [h.child for t in TENSORS for h in hs[t] if h.child < array <= h.parent]
    inner = min(crossing) if crossing else array - 1
    side = [m.temporal_slot(i) for i in range(top, inner, -1)]
    pass_loops = outer_loops(m, side, strides)
    loops = dram_loops + pass_loops
    nd, nl = len(dram_loops), len(dram_loops) + len(pass_loops)
    tiles = 1
    for _, f, _ in dram_loops:
        tiles *= f
    passes = tiles
    for _, f, _ in pass_loops:
        passes *= f
    steps = [1] * nl
    before = 1
    for j, (_, f, _) in enumerate(loops):
        steps[j] = before * (f - 1)
        before *= f
    psum_hop = next((h for h in hs["ofmap"] if h.child < array <= h.parent), None)
    inside = [s for s in m.slots if not s.spatial and s.level <= inner]
    pass_compute = 1
    for s in inside:
        for f in m.factors[s.name].values():
            pass_compute *= f
    final_psum = psum_hop.stats.last_union if psum_hop is not None else 0
    top_hop = next((h for h in hs["ofmap"] if h.child == top and h.parent == dram), None)
    final_glb = top_hop.stats.last_pe if top_hop is not None else 0
    return Schedule(
        loops=[(d, f) for d, f, _ in loops],
        n_dram=nd,
        pass_types=[_traffic(hs, j, steps[j], False, top, array, nl, passes, dram) for j in range(nl)],
        first_pass=_traffic(hs, None, 1, False, top, array, nl, passes, dram),
        tile_types=[_traffic(hs, k, steps[k], True, top, array, nd, passes, dram) for k in range(nd)],
        first_tile=_traffic(hs, None, 1, True, top, array, nd, passes, dram),
        psum_hop=psum_hop,
        final_psum=final_psum,
        final_glb_psum=final_glb,
        pass_compute=pass_compute,
        hops=hs,
        pass_inner=inner,
    )


def odometer(factors: list[int]):
    """Yield ``(type, values)`` for every step of a mixed-radix counter, outermost digit first.

    ``type`` is the index of the digit that incremented into the step (None
    for the first step); ``values`` is the live list of digit values (do not keep it).
    """
    vals = [0] * len(factors)
    yield None, vals
    n = len(factors)
    while True:
        i = n - 1
        while i >= 0 and vals[i] == factors[i] - 1:
            vals[i] = 0
            i -= 1
        if i < 0:
            return
        vals[i] += 1
        yield i, vals
