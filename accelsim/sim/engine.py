"""Event simulator of one mapped layer at tile and pass granularity (cycles are integers).

Two levels, each in its own module:

* **Tile level** (:mod:`accelsim.sim.tiles`): a *loader* brings each tile of the outermost
  on-chip level ("GLB" below) in from DRAM (its new words: the tensors it keeps, and psums
  fetched back), the *PE array* runs the tile, a *writer* drains the ofmap words that leave.
  Loader and writer share one DRAM channel; a transfer takes ``latency + ceil(bytes /
  bandwidth)`` cycles, or longer if the GLB's write port (loads) or read port (drains) needs more
  for its words; a zero-byte one none (it still takes its turn).  Arbitration: the
  waiting transfer requested earliest goes first; a load and a drain requested in the same
  cycle: the load first.  GLB tile slots: 1, or 2 when every partition of the GLB is
  double-buffered; a load needs a free slot, a slot frees once its tile is computed and
  drained.  A single-buffered GLB therefore serialises load, compute and drain; a
  double-buffered one hides the next load under compute; a partly double-buffered one
  prefetches the next tile's inputs held in its double-buffered partitions.
* **Pass level** (:mod:`accelsim.sim.passes`): within a tile, a *feeder* delivers each pass's
  operands (every hop of :mod:`accelsim.cost.traffic` that happens at the pass, from its
  parent level: a port, limited by bank conflicts (:mod:`accelsim.sim.ports`), or the DRAM
  channel for a tensor that bypasses the GLB) over the NoC links, the array computes the pass
  (the temporal loops inside the PE, one MAC per MAC unit per cycle), a *collector* returns
  the psums that leave over the psum link, limited by the parent's write port; with
  double-buffered partitions or operand FIFOs inside the PE they overlap by one pass.  A tile
  boundary drains this pipeline.  Systolic arrays (ifmap NoC of type ``systolic``) time
  folds as SCALE-Sim does (:mod:`accelsim.sim.systolic`).

Stalls are charged from the PE array's point of view, by cause: ``fill``
(waiting for the first tile), ``dram`` (waiting for a later tile),
``noc`` / ``glb`` (waiting for operands or for psum collection, whichever
link or port limited that transfer), ``pipeline`` (systolic skew), and
``drain`` (after the last MAC, until the last psum reaches DRAM).
compute + all stalls = total cycles.

Default mode, on three levels of reuse:

* tiles of the same kind (same entering step type, same psum refetch pattern, same
  following step) have identical pass timelines, because a tile starts with an empty pass
  pipeline and the array side shares no resource with the DRAM side; each kind's timeline
  is simulated once;
* the tile level is the explicit recurrence of :mod:`accelsim.sim.tiles`, walked over the
  DRAM loop hierarchy with memoised blocks and extrapolated runs of identical iterations, so
  its cost does not grow with the number of alike tiles;
* within a tile, the pass level (sequential, pipelined or systolic folds) is its exact
  shift-invariant recurrence, walked over the GLB loop hierarchy the same way
  (:mod:`accelsim.sim.passwalk`), so its cost does not grow with the number of alike passes
  either; compute, busy times and pass counts come from the hierarchy's record counts.

``exact=True`` switches all three off: every tile is a simpy event (loader, array, writer
processes, the channel granted by the same arbitration rule, explicitly) and runs its passes
as simpy events (feeder, array, collector processes with buffer tokens).  Both modes give the
same cycles, stalls, busy times and moved words (tests check it on every dataflow, on random
mappings and on many-tile layers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..cost.latency import prefetched_inputs, top_double_buffered
from ..workload.loopnest import LoopNest
from .actual import actual_work
from .cartesian import cartesian_work
from .passes import CAUSES, RESOURCES, Acc, LayerPasses, ceil_int
from .schedule import INPUTS
from .tiles import TileCost, walk_tiles
from .tiles_exact import run_exact
from .trace import MAX_SPANS

__all__ = ["CAUSES", "RESOURCES", "SimResult", "simulate"]


@dataclass
class SimResult:
    """Outcome of simulating one layer.

    Attributes:
        cycles: total cycles, from the first DRAM transfer to the last psum in DRAM.
        compute_cycles: cycles the PE array spends on MACs.
        stall_cycles: per cause (see module doc); compute + stalls = cycles.
        busy_cycles: per resource, cycles it was transferring or computing.
        moved: words the simulation moved, in the cost model's terms (for the
            one-truth check): ``{level name: {tensor: {action: words}}}`` for
            the fills, reads and updates the tile and pass levels time.
        events: simulation steps processed: each tile kind's pass walk once plus the tile
            walk's steps (default mode; steps, memo hits and extrapolations, not growing with
            the number of alike tiles or passes), or every simpy event (exact mode); tiles,
            passes: how many of each the layer has.
        exact: whether every pass was simulated.
        wall_s: simulation wall time.
        trace: spans ``(track, name, start, duration)`` if a trace was asked for.
        actual: with the operands' non-zero masks, the actual evaluation's figures
            (:meth:`accelsim.sim.actual.ActualWork.summary`), else None.
    """

    cycles: int
    compute_cycles: int
    stall_cycles: dict
    busy_cycles: dict
    moved: dict
    events: int
    tiles: int
    passes: int
    exact: bool
    wall_s: float
    trace: list | None = None
    actual: dict | None = None

    def as_dict(self) -> dict:
        return {
            "cycles": self.cycles,
            "compute_cycles": self.compute_cycles,
            "stall_cycles_by_cause": dict(self.stall_cycles),
            "busy_cycles_by_resource": dict(self.busy_cycles),
            "events": self.events,
            "tiles": self.tiles,
            "passes": self.passes,
            "exact": self.exact,
            "wall_s": self.wall_s,
        }


def simulate(nest: LoopNest, arch: Architecture, m: Mapping, stationary: str | None = None,
             exact: bool = False, trace: bool = False, masks: dict | None = None) -> SimResult:
    """Simulate one mapped layer; see the module doc.

    Args:
        stationary: the dataflow's stationary tensor (defines systolic folds).
        exact: simulate every tile and every pass as simpy events instead of
            reusing each tile kind's timeline and walking the tile recurrence.
        trace: keep spans for a trace file.
        masks: the filter's and ifmap's non-zero masks (bool arrays) for the actual sparse
            evaluation (:mod:`accelsim.sim.actual`, or :mod:`accelsim.sim.cartesian` on a
            Cartesian-product array): on an arch whose MACs skip, the passes take the queue model's
            compute time for the real non-zeros (each its mean, the first the remainder).
    Returns:
        :class:`SimResult`; cycles are integers.
    """
    w0 = time.perf_counter()
    L = LayerPasses(nest, arch, m, stationary, exact)
    s = L.s
    aw = None
    if masks is not None:
        if arch.mac_cartesian is not None:
            aw = cartesian_work(nest, arch, m, masks, s.pass_inner)
        else:
            aw = actual_work(nest, arch, m, masks, s.pass_inner)
        if arch.mac_cartesian is not None or arch.mac_sparse is not None and arch.mac_sparse.action == "skip":
            # every pass takes the mean; the remainder goes to the first, so the passes sum to the model's
            L.compute = max(1, aw.compute_cycles // aw.passes)
            L.first_extra = max(0, aw.compute_cycles - L.compute * aw.passes)
    nd = s.n_dram
    factors = [f for _, f in s.loops[:nd]]
    acc = Acc()
    bw = arch.dram_bw_bytes_per_cycle
    lat = arch.dram_latency_cycles
    words: dict = {}  # kind -> (load words per tensor, drain words)

    def kind_words(kind):
        if kind not in words:
            k, seen, nxt, _ = kind
            tr = s.first_tile if k is None else s.tile_types[k]
            load = {t: tr.words(t) for t in INPUTS}
            load["ofmap"] = tr.psum_in if seen else 0.0
            words[kind] = (load, s.final_glb_psum if nxt is None else s.tile_types[nxt].psum_out)
        return words[kind]

    pre = prefetched_inputs(arch)

    top = arch.onchip[-1].index

    def port_cycles(words: dict, side: str) -> int:
        """Cycles the outermost on-chip level's ``side`` port needs for a tile transfer's words."""
        demand: dict = {}
        for t, w in words.items():
            L.ports.charge(demand, top, t, side, w)
        return ceil_int(max(demand.values(), default=0.0))

    def transfer_cycles(kind):
        """DRAM channel cycles of the kind's load, of its drain and of the prefetch it overlaps (the next
        tile's inputs in double-buffered partitions, when the rest is single-buffered): latency + the
        larger of ceil(bytes / bw) and the outermost level's port time for the words (its write port for
        loads, its read port for drains), each 0 if no bytes.  With a prefetch, a tile after the first
        loads only the other tensors."""
        load, drain = kind_words(kind)
        k, _, nxt, _ = kind
        own = {t: v for t, v in load.items() if k is None or t not in pre}
        ahead = {}
        if pre and nxt is not None:
            ahead = {t: s.tile_types[nxt].words(t) for t in pre}
        parts = ((own, "write"), ({"ofmap": drain}, "read"), (ahead, "write"))
        out = []
        for words, side in parts:
            b = sum(v * L.bytes[t] for t, v in words.items())
            out.append(lat + max(ceil_int(b / bw), port_cycles(words, side)) if b > 0 else 0)
        return tuple(out)

    spans = acc.spans if trace else None
    double = top_double_buffered(arch)
    if exact:
        pass_lists: dict = {}
        streams: dict = {}

        def stream(kind):
            """The DRAM stream cycles of a tile kind's passes (the pass walk's busy time; exact mode times the
            passes themselves, but needs the figure before the tile runs)."""
            if kind not in streams:
                streams[kind] = ceil_int(L.tile_walk(kind)[1].busy.get("dram_stream", 0))
            return streams[kind]

        def run_array(env, kind):
            if kind not in pass_lists:
                pass_lists[kind] = L.passes(kind)
            yield from L.run_tile(env, pass_lists[kind], acc, trace, absolute=True,
                                  continues=L.continues_fold(kind[0]))

        tt = run_exact(factors, L.irr[:nd], double, lambda k: transfer_cycles(k) + (stream(k),), run_array, spans)
        acc.busy["dram"] += tt.dram_busy - sum(n * stream(k) for k, n in tt.counts.items())
    else:
        subs: dict = {}

        def cost(kind):
            """Simulate one tile of this kind once (its pass pipeline); later tiles of the kind reuse it."""
            sub_spans = [] if trace and len(acc.spans) < MAX_SPANS else None  # no room left: no spans
            dur, subs[kind] = L.tile_walk(kind, sub_spans)
            ld, dd, ahead = transfer_cycles(kind)
            return TileCost(ld, dur, dd, tuple(sub_spans or ()), ahead,
                            ceil_int(subs[kind].busy.get("dram_stream", 0)))

        tt = walk_tiles(factors, L.irr[:nd], double, cost, spans)
        for kind, n in tt.counts.items():
            acc.add(subs[kind], n, events=False)
            acc.events += subs[kind].events  # simulated once; reused tiles add no events
            acc.busy["dram"] += n * sum(transfer_cycles(kind))
    acc.events += tt.events
    for c, v in tt.stalls.items():
        acc.stalls[c] += v
    moved = _moved(L, acc, tt.counts, kind_words)
    return SimResult(
        cycles=tt.end, compute_cycles=acc.compute, stall_cycles=acc.stalls,
        busy_cycles={r: ceil_int(v) for r, v in acc.busy.items()}, moved=moved,
        actual=aw.summary() if aw is not None else None,
        events=acc.events, tiles=s.tiles, passes=s.tiles * s.passes_per_tile, exact=exact,
        wall_s=time.perf_counter() - w0, trace=acc.spans if trace else None,
    )


def _moved(L: LayerPasses, acc: Acc, tile_counts: dict, kind_words) -> dict:
    """Words moved, from the step counts the simulation saw: ``{level: {tensor: {action: words}}}``
    in the cost model's terms (exact integers when the counts are right)."""
    s, a = L.s, L.arch
    out: dict = {}

    def add(level: int, t: str, action: str, v: float) -> None:
        d = out.setdefault(a.levels[level].name, {}).setdefault(t, {})
        d[action] = d.get(action, 0.0) + v

    top, dram = a.onchip[-1].index, a.dram.index
    for kind, n in tile_counts.items():
        load, drain = kind_words(kind)
        for t, v in load.items():
            if t in a.levels[top].keeps:
                add(dram, t, "reads", v * n)
                add(top, t, "fills", v * n)
        if "ofmap" in a.levels[top].keeps:
            add(dram, "ofmap", "updates", drain * n)
    h = s.psum_hop
    up = 0.0  # psums and outputs sent up the psum hop (through any write buffers on it)
    for j, n in acc.type_counts.items():
        tr = s.first_pass if j is None else s.pass_types[j]
        for mv in tr.moves:
            add(mv.child, mv.tensor, "fills", mv.words * n)
            add(mv.parent, mv.tensor, "reads", mv.parent_reads * n)
        if h is not None and j is not None:  # psums that leave at this step's start
            up += tr.psum_out * n
    if h is not None:
        for j, n in acc.seen_counts.items():
            tr = s.first_pass if j is None else s.pass_types[j]
            add(h.parent, "ofmap", "reads", tr.psum_in * n)
            add(h.child, "ofmap", "fills", tr.psum_in * n)
        up += s.final_psum
        add(h.parent, "ofmap", "updates", up)
        for b in a.write_buffers(h.child, h.parent):
            add(b, "ofmap", "updates", up)
            add(b, "ofmap", "drains", up)
    return {l: {t: {k: int(round(v)) for k, v in acts.items()} for t, acts in ts.items()} for l, ts in out.items()}
