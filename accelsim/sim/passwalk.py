"""Pass level, default mode: one tile's passes walked over the GLB loop hierarchy, never listed.

Model (times in cycles, integers).  The GLB loops of a tile (factors ``f_0 .. f_{m-1}``,
outermost first) run the passes in odometer order.  A pass is described by its *record*
``(type, seen, deliver, deliver cause, compute, drain, drain cause, busy)`` (see
:meth:`accelsim.sim.passes.LayerPasses.record`): its type is the loop that incremented into it
(the tile's entering type for pass 0), ``seen`` whether its entering psums are fetched back,
and its drain is set by the *next* pass's type (the psums that leave when it starts).  The
three timings of :mod:`accelsim.sim.passes` are recurrences over the records:

* **sequential**: deliver, compute, drain, pass after pass; a pass adds ``deliver + compute +
  drain``; its state relative to the current time is empty;
* **pipelined** (double-buffered RFs or operand FIFOs): with ``fe``, ``ce``, ``de`` the ends
  of a pass's delivery, compute and drain, ``fe[p] = max(fe[p-1], ce[p-2]) + deliver[p]``,
  ``cs[p] = max(ce[p-1], fe[p], de[p-2])`` (compute start), ``ce[p] = cs[p] + compute[p]``,
  ``de[p] = max(de[p-1], ce[p]) + drain[p]``; stalls: ``fe[p] - ce[p-1]`` (if > 0) to pass p's
  deliver cause, ``cs[p] - max(ce[p-1], fe[p])`` to the drain cause of pass p - 2 (of pass p
  while p < 2), and after the last pass ``de - ce`` to its drain cause.  The state relative
  to ``ce[p-1]`` is ``(fe[p-1], ce[p-2], de[p-1], de[p-2])`` minus ``ce[p-1]`` and the drain
  causes of the last two passes;
* **systolic**: a *fold* starts at a tile's first pass and at every pass entered by a loop
  outside the innermost loop indexing the stationary tensor (every pass when there is none),
  so a fold is exactly one block of the loops inside that loop.  A fold streaming ``T =
  sum of compute`` steps lasts ``dur = max(fold_cycles(T), sum of deliver, sum of drain)``;
  stalls: ``fold_cycles(T) - T`` to ``pipeline``, the excess over ``fold_cycles(T)`` to the
  first pass's deliver cause if deliveries are the larger sum, else to its drain cause.

Every recurrence is shift-invariant (adding a constant to every time gives the same
decisions), so the walk keeps an absolute reference time plus a relative state, and, as
the tile level does (:mod:`accelsim.sim.tiles`), follows the loop hierarchy:

* a *block* (the passes of loops j.. for fixed outer values) is identified by ``(j, entering
  type, seen, ofmap-irrelevant outer loop > 0, next type)``; iterations 1 .. f_j - 2 of loop j
  are identical blocks ``(j + 1, j, s, s, j)``;
* a block run from a relative state is memoised (time advance, stalls, final relative state,
  shared by all the tile kinds of a layer); a memo hit costs one step;
* in a run of identical iterations, once the relative state at an iteration's start repeats,
  the iterations in between form a period and the rest is extrapolated in O(1).

So the walk's cost is set by the number of distinct (block, relative state) pairs, not by the
number of passes.  What does not depend on timing (compute, busy per resource, pass-type and
psum-refetch counts) comes from the record counts of the hierarchy (:meth:`PassTree.counts`).

Trace: while the span list is below its cap nothing is memoised-from or extrapolated, so
every pass (or fold) gets its spans, relative to the tile start; then the walk goes fast.
"""

from __future__ import annotations

from typing import NamedTuple

from .systolic import fold_cycles


class PassRecord(NamedTuple):
    """What one pass costs (cycles are integers); hashable, so equal passes share memo entries.

    Attributes:
        type: the loop index that incremented into the pass (None: the tile's first pass).
        seen: whether the psums entering it are fetched back (revisited).
        deliver, deliver_cause: cycles to deliver its operands, and what limited them (``noc``/``glb``).
        compute: cycles of its RF loops (one MAC per PE per cycle).
        drain, drain_cause: cycles to collect the psums that leave after it, and what limited them.
        busy: ``((resource, cycles), ...)`` per NoC link and GLB port (fractional; summed, then rounded up).
    """

    type: int | None
    seen: bool
    deliver: int
    deliver_cause: str
    compute: int
    drain: int
    drain_cause: str
    busy: tuple


class PassTree:
    """The passes of a layer's tiles as the hierarchy of GLB loops (counts and records, memoised).

    Args:
        factors: GLB loop factors, outermost first.
        nd: how many DRAM loops precede them (pass types are indices into all the loops).
        irr: per loop (all loops), whether it does not index the ofmap.
        record: ``(type, seen, next type) -> record`` (next type None: the layer's last pass).
    """

    def __init__(self, factors: list[int], nd: int, irr: list[bool], record):
        self.f, self.nd, self.irr, self.m = factors, nd, irr, len(factors)
        self.record = record
        self.size = [1] * (self.m + 1)  # passes in one block of loops j..
        for j in range(self.m - 1, -1, -1):
            self.size[j] = self.size[j + 1] * factors[j]
        self._counts: dict = {}
        self._folds: dict = {}

    def counts(self, j: int, k, seen: bool, outer: bool, nxt) -> dict:
        """Records of block ``(j, k, seen, outer, nxt)`` with their counts (see the module doc)."""
        if j == self.m:
            return {self.record(k, seen, nxt): 1}
        key = (j, k, seen, outer, nxt)
        out = self._counts.get(key)
        if out is not None:
            return out
        f, jj = self.f[j], self.nd + j
        out = dict(self.counts(j + 1, k, seen, outer, jj if f > 1 else nxt))
        if f > 1:
            s2 = self.irr[jj] or outer
            for part, times in ((self.counts(j + 1, jj, s2, s2, jj), f - 2), (self.counts(j + 1, jj, s2, s2, nxt), 1)):
                if times:
                    for rec, n in part.items():
                        out[rec] = out.get(rec, 0) + n * times
        self._counts[key] = out
        return out

    def first(self, j: int, k, seen: bool, nxt):
        """The record of block ``(j, k, seen, ., nxt)``'s first pass."""
        while j < self.m:
            if self.f[j] > 1:
                nxt = self.nd + j  # the innermost loop with a factor > 1 enters the second pass
            j += 1
        return self.record(k, seen, nxt)

    def fold(self, j: int, k, seen: bool, outer: bool, nxt) -> tuple:
        """A block as one systolic fold: ``(T, sum of deliver, sum of drain, deliver cause, drain cause)``."""
        key = (j, k, seen, outer, nxt)
        out = self._folds.get(key)
        if out is None:
            c = self.counts(j, k, seen, outer, nxt)
            first = self.first(j, k, seen, nxt)
            out = self._folds[key] = (sum(r.compute * n for r, n in c.items()), sum(r.deliver * n for r, n in c.items()),
                                      sum(r.drain * n for r, n in c.items()), first.deliver_cause, first.drain_cause)
        return out


class _Walk:
    """The hierarchical walk of one tile's passes from an empty pipeline (module doc).

    Subclasses give the recurrence: ``rel`` (hashable relative state), ``unit`` (the level
    whose blocks are stepped as one unit) and ``step``; ``finish`` returns the duration.
    """

    rel: tuple = ()

    def __init__(self, tree: PassTree, memo: dict, spans: list | None, cap: int):
        self.tree, self.memo, self.spans, self.cap = tree, memo, spans, cap
        self.ref = 0  # absolute time the relative state is measured from
        self.stalls: dict = {}
        self.p = 0  # passes walked so far
        self.u = 0  # units walked so far
        self.events = 0
        self.unit = tree.m

    def fast(self) -> bool:
        return self.spans is None or len(self.spans) >= self.cap

    def _span(self, track, name, start, dur):
        if dur > 0 and len(self.spans) < self.cap:
            self.spans.append((track, name, start, dur))

    def _stall(self, cause, v):
        if v:
            self.stalls[cause] = self.stalls.get(cause, 0) + v

    def run(self, k, seen: bool, outer: bool, nxt) -> int:
        """Walk the tile whose first pass is ``(k, seen)``, ``outer`` as the block key, ``nxt``
        the type of the pass after the tile.  Returns the tile's duration (cycles)."""
        self.block(0, k, seen, outer, nxt)
        return self.finish()

    def finish(self) -> int:
        return self.ref

    def _mark(self):
        return self.ref, dict(self.stalls), self.p, self.u

    def _advance(self, mark, times: int):
        """Add ``times`` copies of what happened since ``mark`` (the state is shift-invariant)."""
        ref0, st0, p0, u0 = mark
        self.ref += (self.ref - ref0) * times
        for c, v in self.stalls.items():
            self.stalls[c] = v + (v - st0.get(c, 0)) * times
        self.p += (self.p - p0) * times
        self.u += (self.u - u0) * times

    def block(self, j: int, k, seen: bool, outer: bool, nxt) -> None:
        t = self.tree
        if j == self.unit:
            self.step(j, k, seen, outer, nxt)
            self.u += 1
            self.p += t.size[j]
            self.events += 1
            return
        key = (j, k, seen, outer, nxt, self.rel)
        fast = self.fast()
        if fast:
            hit = self.memo.get(key)
            if hit is not None:
                dref, dstalls, self.rel, dp, du = hit
                self.ref += dref
                for c, v in dstalls:
                    self.stalls[c] = self.stalls.get(c, 0) + v
                self.p += dp
                self.u += du
                self.events += 1
                return
        ref0, st0, p0, u0 = self._mark()
        f, jj = t.f[j], t.nd + j
        self.block(j + 1, k, seen, outer, jj if f > 1 else nxt)
        if f > 1:
            s2 = t.irr[jj] or outer
            self.repeat(j, s2, f - 2)
            self.block(j + 1, jj, s2, s2, nxt)
        dstalls = tuple((c, v - st0.get(c, 0)) for c, v in self.stalls.items() if v != st0.get(c, 0))
        self.memo[key] = (self.ref - ref0, dstalls, self.rel, self.p - p0, self.u - u0)

    def repeat(self, j: int, s2: bool, count: int) -> None:
        """``count`` identical iterations of loop j (each entered by loop j, followed by loop j)."""
        jj = self.tree.nd + j
        starts: dict = {}  # relative state at an iteration's start -> (iteration, mark)
        it = 0
        while it < count:
            if self.fast():
                seen = starts.get(self.rel)
                if seen is not None:
                    period = it - seen[0]
                    q = (count - it) // period
                    if q:
                        self._advance(seen[1], q)
                        it += period * q
                        self.events += 1
                    starts = {}
                    if it >= count:
                        break
                starts[self.rel] = (it, self._mark())
            self.block(j + 1, jj, s2, s2, jj)
            it += 1


class SequentialWalk(_Walk):
    """Deliver, compute, drain, pass after pass (no overlap): the relative state is empty."""

    def step(self, j, k, seen, outer, nxt):
        _, _, dv, dc, cp, dr, cc, _ = self.tree.record(k, seen, nxt)
        if not self.fast():
            base, p = self.ref, self.p
            self._span("NoC in", f"pass {p} operands", base, dv)
            self._span("PE array", f"pass {p}", base + dv, cp)
            self._span("NoC psum out", f"pass {p} psums", base + dv + cp, dr)
        self._stall(dc, dv)
        self._stall(cc, dr)
        self.ref += dv + cp + dr


class PipelinedWalk(_Walk):
    """Feeder, array and collector one pass apart (module doc); ``ref`` is ``ce[p-1]``."""

    rel = (0, 0, 0, 0, None, None)  # fe1, ce2, de1, de2 (relative), drain causes of passes p-1, p-2

    def step(self, j, k, seen, outer, nxt):
        _, _, dv, dc, cp, dr, cc, _ = self.tree.record(k, seen, nxt)
        fe1, ce2, de1, de2, pcc, p2cc = self.rel
        fe = max(fe1, ce2) + dv
        cs = max(0, fe, de2)
        ce = cs + cp
        de = max(de1, ce) + dr
        self._stall(dc, max(0, fe))
        self._stall(cc if p2cc is None else p2cc, cs - max(0, fe))
        if not self.fast():
            r, p = self.ref, self.p
            self._span("NoC in", f"pass {p} operands", r + fe - dv, dv)
            self._span("PE array", f"pass {p}", r + cs, cp)
            self._span("NoC psum out", f"pass {p} psums", r + de - dr, dr)
        self.ref += ce
        self.rel = (fe - ce, -ce, de - ce, de1 - ce, cc, pcc)

    def finish(self) -> int:
        de1, pcc = self.rel[2], self.rel[4]
        self._stall(pcc, de1)
        return self.ref + de1


class SystolicWalk(_Walk):
    """Folds one after the other (SCALE-Sim's timing), a fold being a block of level ``unit``."""

    def __init__(self, tree, memo, spans, cap, unit: int, rows: int, cols: int, stationary,
                 continues: bool = False):
        super().__init__(tree, memo, spans, cap)
        self.unit, self.rows, self.cols, self.stationary = unit, rows, cols, stationary
        # the tile continues the previous tile's fold (its stationary tile stays): no load or skew again
        self.continues = continues

    def step(self, j, k, seen, outer, nxt):
        t, deliver, drain, dc, cc = self.tree.fold(j, k, seen, outer, nxt)
        base = t if self.continues else fold_cycles(self.rows, self.cols, t, self.stationary)
        dur = max(base, deliver, drain)
        if not self.fast():
            self._span("PE array", f"fold {self.u} (T={t})", self.ref, dur)
        self._stall("pipeline", base - t)
        if dur > base:
            self._stall(dc if deliver >= drain else cc, dur - base)
        self.ref += dur
