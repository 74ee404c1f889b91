"""The tile and pass schedule of a mapped layer, with the traffic of each step.

Two granularities, following the mapping's levels (see mapping.py):

* a **tile** is one iteration of the DRAM loops: the GLB holds one tile of
  every tensor; moving to the next tile fills only the new words from DRAM
  and drains the ofmap words that leave;
* a **pass** is one iteration of the GLB loops within a tile: every active
  PE holds one RF tile and runs the RF loops (one MAC per cycle); moving to
  the next pass delivers the new operand words over the NoC and collects the
  psums that leave (after spatial reduction).

A step's traffic depends on which loop incremented into it (its *type*).
The exact total of every type comes from the nest analysis
(:mod:`accelsim.cost.nest_analysis`, ``TileStats.per_loop``); the steps of
one type share it evenly (exact for filters and psums, whose tiles never
clip; an ifmap step at a padded edge may in truth move a few words fewer or
more than its type's mean).  Whether a psum tile that enters was seen before
(and is fetched back) is decided per step from the loop values, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.spec import Architecture
from ..cost.model import level_extents, loop_strides, outer_loops, tile_words
from ..cost.nest_analysis import TileStats, analyse
from ..mapping.mapping import Mapping
from ..workload.loopnest import DIMS, RELEVANT, TENSORS, LoopNest

INPUTS = ("filter", "ifmap")


@dataclass(frozen=True)
class StepTraffic:
    """Mean traffic of one step of a given type (words, totals over all PEs).

    Attributes:
        steps: how many steps of this type the layer has.
        noc: per input tensor, words delivered to PEs (per-PE fills).
        parent: per input tensor, words read from the parent level (multicast counted once).
        psum_in: ofmap words entering the child tiles (also the words leaving, tiles never clip).
    """

    steps: int
    noc: dict
    parent: dict
    psum_in: float


@dataclass
class Schedule:
    """Everything the event simulator needs about one mapped layer.

    Attributes:
        loops: outer loops ``(dim, factor)``, DRAM loops first, then GLB loops.
        n_dram: how many of ``loops`` are DRAM loops.
        pass_types: per loop index, the RF-level :class:`StepTraffic` of a
            pass entered by that loop incrementing; ``first_pass`` for pass 0.
        tile_types: per DRAM-loop index, the GLB-level traffic of a tile;
            ``first_tile`` for tile 0.
        rho: spatial-reduction fan-in (PEs sharing one psum).
        final_psum: ofmap words in all PEs' RF tiles at the end (drained last).
        final_glb_psum: ofmap words of the last GLB tile (drained to DRAM last).
        pass_compute: cycles of one pass (product of RF factors).
        stats_rf, stats_glb: the nest analysis per tensor (totals for checks).
    """

    loops: list
    n_dram: int
    pass_types: list
    first_pass: StepTraffic
    tile_types: list
    first_tile: StepTraffic
    rho: int
    final_psum: int
    final_glb_psum: int
    pass_compute: int
    unicast: dict
    stats_rf: dict
    stats_glb: dict

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


def _traffic(stats: dict[str, TileStats], j: int | None, unicast: dict) -> StepTraffic:
    if j is None:
        steps = 1
        noc = {t: stats[t].first_pe for t in INPUTS}
        parent = {t: (stats[t].first_pe if unicast[t] else stats[t].first_union) for t in INPUTS}
        return StepTraffic(steps, noc, parent, float(stats["ofmap"].first_pe))
    steps = stats["filter"].per_loop[j][0]
    noc = {t: stats[t].per_loop[j][1] / steps for t in INPUTS}
    parent = {t: stats[t].per_loop[j][1 if unicast[t] else 2] / steps for t in INPUTS}
    return StepTraffic(steps, noc, parent, stats["ofmap"].per_loop[j][1] / steps)


def build_schedule(nest: LoopNest, arch: Architecture, m: Mapping) -> Schedule:
    """Tile/pass schedule of ``m`` on ``arch`` with per-step-type traffic (see module doc)."""
    strides = loop_strides(m)
    dram_loops = outer_loops(m, ("dram",), strides)
    glb_loops = outer_loops(m, ("glb",), strides)
    loops = dram_loops + glb_loops
    ext = level_extents(m)
    spatial = {d: tuple((m.factors[a][d], strides[a][d]) for a in ("rows", "cols") if m.factors[a][d] > 1)
               for d in DIMS}
    stats_rf = {t: analyse(nest, t, loops, ext["rf"], spatial) for t in TENSORS}
    stats_glb = {t: analyse(nest, t, dram_loops, ext["glb"], {}) for t in TENSORS}
    unicast = {t: arch.noc[t].type == "unicast" for t in TENSORS}
    rho = 1
    for a in ("rows", "cols"):
        for d in DIMS:
            if d not in RELEVANT["ofmap"]:
                rho *= m.factors[a][d]
    return Schedule(
        loops=[(d, f) for d, f, _ in loops],
        n_dram=len(dram_loops),
        pass_types=[_traffic(stats_rf, j, unicast) for j in range(len(loops))],
        first_pass=_traffic(stats_rf, None, unicast),
        tile_types=[_traffic(stats_glb, k, {t: False for t in TENSORS}) for k in range(len(dram_loops))],
        first_tile=_traffic(stats_glb, None, {t: False for t in TENSORS}),
        rho=rho,
        final_psum=tile_words(nest, "ofmap", ext["rf"]) * m.active_pes,
        final_glb_psum=tile_words(nest, "ofmap", ext["glb"]),
        pass_compute=_prod(m.factors["rf"].values()),
        unicast=unicast,
        stats_rf=stats_rf,
        stats_glb=stats_glb,
    )


def _prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


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
