"""Tile level of the simulator: DRAM loader, PE array and DRAM writer around the GLB tile slots.

Model (all times in cycles, integers):

* The DRAM loops (outermost first, factors ``f_0 .. f_{n-1}``) run the GLB tiles in odometer
  order.  A tile's **kind** is ``(entering loop, psum refetch, next tile's entering loop,
  ofmap-irrelevant DRAM loop > 0)``; the entering loop is None for tile 0 and the next one None
  for the last tile.  The caller turns a kind into a :class:`TileCost`: the cycles of its
  **load** (new filter/ifmap words and psums fetched back) and of the **drain** that follows it
  (the ofmap words that leave), each ``latency + ceil(bytes / bandwidth)`` on the DRAM channel
  and 0 for a zero-byte transfer, and the cycles of its **array** run (the pass pipeline of the
  tile, fill to drain).
* **GLB tile slots**: B = 1, or 2 when the GLB is double-buffered.  The loader loads tiles in
  order; the load of tile i needs a free slot, i.e. the drain of tile i - B has ended.
* **PE array**: starts tile i once its load has ended and tile i - 1 is computed.
* **Writer**: drains tiles in order, each once the tile is computed and the previous drain has
  ended, then frees the tile's slot.
* **DRAM channel**: one transfer at a time; loads and drains share it.  A zero-byte transfer
  still takes its turn (it waits for the channel) but holds it for no time.  **Arbitration
  rule**: when the channel is free, the waiting transfer requested earliest goes first; a load
  and a drain requested at the same cycle: the load goes first.  (This is what the simpy
  version of earlier releases did; it is now stated and enforced, see :class:`Channel`.)

Channel order.  Under the rule the order of transfers is fixed:

* B = 1: ``L0 D0 L1 D1 ...`` (each transfer needs the one before it);
* B = 2: ``L0 L1 D0 L2 D1 L3 D2 ... L(n-1) D(n-2) D(n-1)``: when D(i-1) ends, the slot it frees
  lets the loader ask for L(i+1) at that very cycle, while the writer, busy with D(i-1) until
  then, can ask for D(i) no earlier; the rule gives the load the channel.

Recurrence.  With ``ae`` the end of the previous tile's array run, ``c`` the cycle the channel
is free for the next load and ``dd'`` the previous tile's drain, a tile ``(ld, a, dd)`` runs

* B = 2:  load ends ``eL = c + ld``; array and previous drain start ``s = max(ae, eL)``;
  ``ae <- s + a``, ``c <- s + dd'``;
* B = 1:  previous drain ``[ae, ae + dd')``, load ends ``eL = ae + dd' + ld``; ``s = eL``;
  ``ae <- s + a``, ``c <- eL``;
* B = 1 with a prefetch (some partitions double-buffered, see :class:`TileCost`): as B = 1, but
  the tile's load holds only the single-buffered tensors, and the next tile's prefetch is
  requested at ``s`` and granted at once (``c <- s + prefetch``), so the previous drain waits for
  it (requested earlier) while the array computes;
* in every mode, the DRAM traffic of the tile's own passes (tensors that bypass the GLB) holds the
  channel from ``s`` for its busy time (after any prefetch): ``c <- max(c, s) + prefetch + stream``;
* tile 0: ``s = eL = ld`` (the ``fill`` stall); the last drain starts at ``max(ae, c)``.

The array's stall before tile i > 0 (``dram``) is ``s - ae``; after the last tile, until the
last drain ends, ``drain``.

Fast walk (default mode).  The recurrence is shift-invariant: adding a constant to every time
gives the same decisions.  Its state relative to ``ae`` is ``(c - ae, dd')``.  The walk never
lists the tiles: it follows the DRAM loops hierarchically.  For a loop j, iterations
1 .. f_j - 2 (for fixed outer values) hold the same sequence of tile kinds, so

* a block (the tiles of loops j.. for given outer values) run from a given relative state is
  memoised: the same block from the same relative state advances every time by the same amount
  and ends in the same relative state;
* in a run of identical iterations, once the relative state at an iteration's start repeats,
  the iterations in between form a period, and the rest of the run is extrapolated in O(1):
  times += period's delta x number of periods.

The walk's cost is therefore set by the number of distinct (block, relative state) pairs, not
by the number of tiles.  The tile counts per kind come from the same hierarchy
(:func:`tile_counts`); the caller multiplies each kind's pass-level results by its count.

Trace: while spans are being recorded (below the cap ``MAX_SPANS``) nothing is memoised or
extrapolated, so every tile gets its spans; once the cap is reached the walk goes fast.

Exact mode (:func:`accelsim.sim.tiles_exact.run_exact`) runs loader, array and writer as simpy processes over the same
tiles (still lazily) with the arbitration rule enforced by its ``Channel``; the array runs the
caller's pass-level processes.  Both modes give the same cycles (tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

from .schedule import odometer
from .trace import MAX_SPANS


@dataclass(frozen=True)
class TileCost:
    """The cycles of one tile kind.

    Attributes:
        load: DRAM channel cycles of the tile's load (0 for a zero-byte load).
        array: PE array cycles of the tile, first operand delivery to last psum collected.
        drain: DRAM channel cycles of the drain that follows the tile (0 for zero bytes).
        spans: trace spans ``(track, name, start, duration)`` of the array run, starts
            relative to the tile's start (cycles).
        prefetch: DRAM channel cycles of the next tile's inputs held in double-buffered
            partitions of a GLB whose other partitions are single-buffered, issued when this
            tile starts (0 otherwise).
        stream: DRAM channel cycles the tile's passes take for tensors that bypass the GLB
            (``dram_stream``); the tile level counts them as held from the tile's start, after
            the prefetch, so loads and drains overlapping the array wait for them (at most the
            array time, so they never delay the next tile by themselves).
    """

    load: int
    array: int
    drain: int
    spans: tuple = ()
    prefetch: int = 0
    stream: int = 0


@dataclass
class TileTiming:
    """Tile-level outcome of a layer (cycles).

    Attributes:
        end: the last drain's end: the layer's cycles.
        array_end: the array's end of the last tile.
        stalls: the array's stalls at the tile level: ``fill`` (before tile 0), ``dram``
            (between tiles), ``drain`` (after the last tile).
        counts: tiles per kind.
        events: steps evaluated: tile steps, memo hits and extrapolations (fast walk), or
            simpy events of the tile processes (exact mode; the array's own events not included).
        dram_busy: cycles the DRAM channel was transferring (exact mode; 0 from the fast walk,
            where the caller sums the kinds' loads and drains).
    """

    end: int
    array_end: int
    stalls: dict
    counts: dict
    events: int
    dram_busy: int = 0


def tile_kinds(factors: list[int], irr: list[bool]):
    """Yield every tile's kind in order, lazily (one tile of lookahead).

    ``irr[j]``: whether DRAM loop j does not index the ofmap (its steps revisit psums).
    """
    nd = len(factors)
    prev = None
    for k, vals in odometer(factors):
        if k is None:
            cur = (None, False, False)
        else:
            seen = irr[k] or any(irr[l] and vals[l] > 0 for l in range(k))
            cur = (k, seen, any(irr[l] and vals[l] > 0 for l in range(nd)))
        if prev is not None:
            yield (prev[0], prev[1], cur[0], prev[2])
        prev = cur
    yield (prev[0], prev[1], None, prev[2])


def tile_counts(factors: list[int], irr: list[bool]) -> dict:
    """Tiles per kind, from the loop hierarchy (cost independent of the number of tiles)."""
    nd = len(factors)
    memo: dict = {}

    def block(j, k, seen, outer, nxt):
        if j == nd:
            return {(k, seen, nxt, outer): 1}
        key = (j, k, seen, outer, nxt)
        if key in memo:
            return memo[key]
        f = factors[j]
        out = dict(block(j + 1, k, seen, outer, j if f > 1 else nxt))
        if f > 1:
            s2 = irr[j] or outer
            parts = [(block(j + 1, j, s2, s2, j), f - 2), (block(j + 1, j, s2, s2, nxt), 1)]
            for part, times in parts:
                for kind, n in part.items():
                    if times:
                        out[kind] = out.get(kind, 0) + n * times
        memo[key] = out
        return out

    return block(0, None, False, False, None)


class _Walk:
    """The fast walk: the recurrence of the module doc over the loop hierarchy."""

    def __init__(self, factors, irr, double, cost, spans):
        self.f, self.irr, self.nd, self.double = factors, irr, len(factors), double
        self.cost, self.costs = cost, {}
        self.spans = spans
        self.size = [1] * (self.nd + 1)  # tiles in one block of loops j..
        for j in range(self.nd - 1, -1, -1):
            self.size[j] = self.size[j + 1] * factors[j]
        # state: ae (absolute), rel = c - ae, pend = previous tile's drain (None before tile 0)
        self.ae, self.rel, self.pend = 0, 0, None
        self.ti = 0
        self.fill = 0
        self.events = 0
        self.memo: dict = {}

    def _fast(self) -> bool:
        return self.spans is None or len(self.spans) >= MAX_SPANS

    def _span(self, track, name, start, dur):
        if len(self.spans) < MAX_SPANS:
            self.spans.append((track, name, start, dur))

    def tile_cost(self, kind) -> TileCost:
        tc = self.costs.get(kind)
        if tc is None:
            tc = self.costs[kind] = self.cost(kind)
        return tc

    def step(self, kind):
        tc = self.tile_cost(kind)
        ld, a = tc.load, tc.array
        ae, pend = self.ae, self.pend
        sd = None
        if pend is None:  # tile 0
            el = s = ld
            c = el
            self.fill = s
        elif self.double:
            el = ae + self.rel + ld
            s = sd = max(ae, el)
            c = s + pend
        else:
            sd = max(ae, ae + self.rel)
            el = s = sd + pend + ld
            c = el
        if tc.prefetch or tc.stream:  # granted the channel as this tile starts
            c = max(c, s) + tc.prefetch + tc.stream
        if not self._fast():
            if ld:
                self._span("DRAM", f"load tile {self.ti}", el - ld, ld)
            if sd is not None and pend:
                self._span("DRAM", f"drain tile {self.ti - 1}", sd, pend)
            self._span("GLB tiles", f"tile {self.ti}", ae, s + a - ae)
            if tc.prefetch:
                self._span("DRAM", f"prefetch for tile {self.ti + 1}", s, tc.prefetch)
            for tr, nm, t, d in tc.spans:
                self._span(tr, nm, t + s, d)
        self.ae = s + a
        self.rel = c - self.ae
        self.pend = tc.drain
        self.ti += 1
        self.events += 1

    def block(self, j, k, seen, outer, nxt):
        """The tiles of loops j.. for one iteration of the loops outside (see module doc)."""
        if j == self.nd:
            self.step((k, seen, nxt, outer))
            return
        key = (j, k, seen, outer, nxt, self.rel, self.pend)
        if self._fast():
            hit = self.memo.get(key)
            if hit is not None:
                dae, self.rel, self.pend = hit
                self.ae += dae
                self.ti += self.size[j]
                self.events += 1
                return
        ae0 = self.ae
        f = self.f[j]
        self.block(j + 1, k, seen, outer, j if f > 1 else nxt)
        if f > 1:
            s2 = self.irr[j] or outer
            self.repeat(j, s2, f - 2)
            self.block(j + 1, j, s2, s2, nxt)
        self.memo[key] = (self.ae - ae0, self.rel, self.pend)

    def repeat(self, j, s2, count):
        """``count`` identical iterations of loop j (each entered by loop j, followed by loop j)."""
        starts: dict = {}  # relative state at an iteration's start -> (iteration, ae)
        it = 0
        while it < count:
            if self._fast():
                st = (self.rel, self.pend)
                seen = starts.get(st)
                if seen is not None:
                    period = it - seen[0]
                    q = (count - it) // period
                    if q:
                        self.ae += (self.ae - seen[1]) * q
                        self.ti += self.size[j + 1] * period * q
                        it += period * q
                        self.events += 1
                    starts = {}
                    if it >= count:
                        break
                starts[st] = (it, self.ae)
            self.block(j + 1, j, s2, s2, j)
            it += 1

    def finish(self) -> tuple[int, int]:
        sd = max(self.ae, self.ae + self.rel)
        if self.pend and not self._fast():
            self._span("DRAM", f"drain tile {self.ti - 1}", sd, self.pend)
        return sd + self.pend, self.ae


def walk_tiles(factors: list[int], irr: list[bool], double: bool, cost, spans: list | None = None) -> TileTiming:
    """Run the tile level by the fast walk (module doc).

    Args:
        factors: DRAM loop factors, outermost first; ``irr``: per DRAM loop, whether it does
            not index the ofmap.
        double: two GLB tile slots instead of one.
        cost: ``kind -> TileCost``; called once per kind.
        spans: list to append trace spans to (capped at ``MAX_SPANS``), or None.
    """
    w = _Walk(factors, irr, double, cost, spans)
    w.block(0, None, False, False, None)
    end, array_end = w.finish()
    counts = tile_counts(factors, irr)
    computing = sum(w.tile_cost(k).array * n for k, n in counts.items())
    stalls = {"fill": w.fill, "dram": array_end - w.fill - computing, "drain": end - array_end}
    return TileTiming(end=end, array_end=array_end, stalls=stalls, counts=counts, events=w.events)
