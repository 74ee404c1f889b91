"""Pass level of the simulator: one GLB tile's passes on the PE array.

A *pass* is one iteration of the GLB loops within a tile (see :mod:`accelsim.sim.schedule`);
every active PE runs the RF loops, one MAC per cycle.  Per pass, a *feeder* delivers the new
operands over the NoC (per-tensor links, ``ceil(words / bw)`` cycles) limited by the GLB read
port (or, with ``glb.banks`` >= 3, by the share of the read bandwidth the tensor's own banks
give); the array computes the pass; a *collector* returns the psums that leave, after spatial
reduction, over the psum link, limited by the GLB write port.  With double-buffered RFs or
operand FIFOs the feeder runs one pass ahead and the collector one pass behind
(:meth:`LayerPasses._pipeline_recurrence`, or simpy processes in exact mode); otherwise the
three take turns.  Systolic arrays time folds as SCALE-Sim does (:mod:`accelsim.sim.systolic`).
A tile starts with an empty pass pipeline and ends with it drained, so a tile's timeline
depends only on its kind (see :mod:`accelsim.sim.tiles`).  Times are cycles (integers);
words may be fractional means (see the schedule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from ..arch.spec import Architecture
from ..cost.model import level_extents, tile_words
from ..mapping.mapping import Mapping
from ..workload.loopnest import RELEVANT, TENSORS, LoopNest
from .schedule import INPUTS, Schedule, build_schedule, odometer
from .systolic import fold_cycles
from .trace import MAX_SPANS

CAUSES = ("fill", "dram", "glb", "noc", "pipeline", "drain")
RESOURCES = ("dram", "glb_read", "glb_write", "noc_filter", "noc_ifmap", "noc_psum_in", "noc_psum_out", "pe_array")


def ceil_int(x: float) -> int:
    """Ceiling of a cycle count computed in floats (tolerant to rounding just above an integer)."""
    i = int(x)
    return i if i >= x - 1e-9 else i + 1


@dataclass
class Acc:
    """What a stretch of simulation produced (cycles are integers, words may be fractional means)."""

    compute: int = 0
    stalls: dict = field(default_factory=lambda: {c: 0 for c in CAUSES})
    busy: dict = field(default_factory=lambda: {r: 0 for r in RESOURCES})
    type_counts: dict = field(default_factory=dict)  # pass type -> count
    seen_counts: dict = field(default_factory=dict)  # pass type -> count of steps whose psums come back
    events: int = 0
    spans: list = field(default_factory=list)

    def add(self, other: "Acc", times: int = 1, events: bool = True) -> None:
        """Add ``times`` copies of ``other`` (spans are not copied: the tile level places them)."""
        self.compute += other.compute * times
        for c in CAUSES:
            self.stalls[c] += other.stalls[c] * times
        for r in RESOURCES:
            self.busy[r] += other.busy[r] * times
        for k, v in other.type_counts.items():
            self.type_counts[k] = self.type_counts.get(k, 0) + v * times
        for k, v in other.seen_counts.items():
            self.seen_counts[k] = self.seen_counts.get(k, 0) + v * times
        if events:
            self.events += other.events * times


class LayerPasses:
    """Per-layer constants of the simulation, and the pass-level run of one tile."""

    def __init__(self, nest: LoopNest, arch: Architecture, m: Mapping, stationary: str | None, exact: bool):
        self.arch = arch
        self.exact = exact
        self.s: Schedule = build_schedule(nest, arch, m)
        ref = arch.word_bits["ifmap"]
        self.w = {t: arch.word_bits[t] / ref for t in TENSORS}
        self.bytes = {t: arch.word_bits[t] / 8 for t in TENSORS}
        self.systolic = arch.noc["ifmap"][0] == "systolic"
        self.stationary = stationary
        self.glb_loops = self.s.loops[self.s.n_dram:]
        self.glb_factors = [f for _, f in self.glb_loops]
        self.irr = [d not in RELEVANT["ofmap"] for d, _ in self.s.loops]
        self._records: dict = {}
        self.bank_share = bank_shares(nest, arch, m)
        # a step of loop j resets the loops inside it: it moves the stationary tile if any of them indexes it
        rel = RELEVANT[stationary] if stationary else None
        loops = self.s.loops
        self.fold_start = [rel is None or any(loops[l][0] in rel for l in range(j, len(loops)))
                           for j in range(len(loops))]

    # ---- pass list of one tile kind, run-length encoded
    def passes(self, kind):
        """Runs ``(record, n)`` of a tile kind's passes, in order.

        A record is (type, seen, deliver cycles, deliver cause, compute cycles,
        drain cycles, drain cause, busy); consecutive steps of the innermost
        GLB loop are identical but for the last one's drain, so a tile of G
        passes takes about 3 * G / f_innermost runs.
        """
        first_type, first_seen, next_type, dram_irr = kind
        nd, f, irr = self.s.n_dram, self.glb_factors, self.irr
        m = len(f)
        steps = []  # (type, seen, n)
        for i, vals in odometer(f[:-1] if m else []):
            if i is None:
                steps.append((first_type, first_seen, 1))
            else:
                j = nd + i
                steps.append((j, irr[j] or dram_irr or any(irr[nd + l] and vals[l] > 0 for l in range(i)), 1))
            if m and f[-1] > 1:
                j = nd + m - 1
                seen = irr[j] or dram_irr or any(irr[nd + l] and vals[l] > 0 for l in range(m - 1))
                steps.append((j, seen, f[-1] - 1))
        runs = []
        for r, (j, seen, n) in enumerate(steps):
            if r + 1 < len(steps):
                nxt = self._traffic(steps[r + 1][0]).psum_in
            elif next_type is None:
                nxt = self.s.final_psum
            else:
                nxt = self.s.pass_types[next_type].psum_in
            if n > 1:
                runs.append((self._record(j, seen, self._traffic(j).psum_in), n - 1))
            runs.append((self._record(j, seen, nxt), 1))
        return runs

    def _traffic(self, j):
        return self.s.first_pass if j is None else self.s.pass_types[j]

    def _record(self, j, seen, leave):
        key = (j, seen, leave)
        rec = self._records.get(key)
        if rec is None:
            rec = self._records[key] = self._pass_record(j, seen, self._traffic(j), leave)
        return rec

    def _pass_record(self, j, seen, tr, leave):
        a, s = self.arch, self.s
        refetch = tr.psum_in / s.rho if seen else 0.0
        d_noc = {t: tr.parent[t] / a.noc[t][1] for t in INPUTS}
        d_noc["ofmap"] = refetch / a.noc["ofmap"][1]
        reads = {t: tr.parent[t] * self.w[t] for t in INPUTS}
        reads["ofmap"] = refetch * self.w["ofmap"]
        if self.bank_share:  # each tensor reads only its own banks: unbalanced demand is a bank conflict
            d_glb = max(v / (a.glb_read_bw * self.bank_share[t]) for t, v in reads.items())
        else:
            d_glb = sum(reads.values()) / a.glb_read_bw
        collected = leave / s.rho
        c_noc = collected / a.noc["ofmap"][1]
        c_glb = collected * self.w["ofmap"] / a.glb_write_bw
        deliver = ceil_int(max(max(d_noc.values()), d_glb))
        drain = ceil_int(max(c_noc, c_glb))
        d_cause = "glb" if d_glb >= max(d_noc.values()) else "noc"
        c_cause = "glb" if c_glb >= c_noc else "noc"
        busy = (("glb_read", ceil_int(d_glb)), ("glb_write", ceil_int(c_glb)), ("noc_filter", ceil_int(d_noc["filter"])),
                ("noc_ifmap", ceil_int(d_noc["ifmap"])), ("noc_psum_in", ceil_int(d_noc["ofmap"])),
                ("noc_psum_out", ceil_int(c_noc)))
        return (j, seen, deliver, d_cause, s.pass_compute, drain, c_cause, busy)

    # ---- one tile's pass pipeline
    def run_tile(self, env, runs, acc: Acc, trace: bool, absolute: bool = False):
        """Run one tile's passes.  Spans are relative to the tile start unless ``absolute``."""
        t0 = 0 if absolute else env.now
        for rec, n in runs:
            j, seen = rec[0], rec[1]
            acc.type_counts[j] = acc.type_counts.get(j, 0) + n
            if seen:
                acc.seen_counts[j] = acc.seen_counts.get(j, 0) + n
            for r, v in rec[7]:
                acc.busy[r] += v * n
        if self.systolic:
            yield from self._run_systolic(env, runs, acc, trace, t0)
        elif self.arch.rf_double_buffered or self.arch.rf_fifo:
            if self.exact:
                yield from self._run_pipelined(env, [rec for rec, n in runs for _ in range(n)], acc, trace, t0)
            else:
                dur = self._pipeline_recurrence(runs, acc, trace, env.now - t0)
                if dur:
                    yield env.timeout(dur)
        else:
            yield from self._run_sequential(env, runs, acc, trace, t0)

    def _span(self, acc, trace, track, name, start, dur, t0):
        if trace and dur > 0 and len(acc.spans) < MAX_SPANS:
            acc.spans.append((track, name, start - t0, dur))

    def _run_sequential(self, env, runs, acc, trace, t0):
        """Deliver, compute, collect, pass after pass: a run of n equal passes is one n-fold step."""
        p = 0
        for (j, seen, dv, dc, cp, dr, cc, _), n in runs:
            if trace:
                for k in range(n):
                    base = env.now + k * (dv + cp + dr)
                    self._span(acc, trace, "NoC in", f"pass {p + k} operands", base, dv, t0)
                    self._span(acc, trace, "PE array", f"pass {p + k}", base + dv, cp, t0)
                    self._span(acc, trace, "NoC psum out", f"pass {p + k} psums", base + dv + cp, dr, t0)
            yield env.timeout(n * (dv + cp + dr))
            acc.stalls[dc] += n * dv
            acc.stalls[cc] += n * dr
            acc.compute += n * cp
            acc.busy["pe_array"] += n * cp
            acc.events += 1
            p += n

    def _run_pipelined(self, env, recs, acc, trace, t0):
        """Every pass as simpy events: feeder, array and collector with two operand and two psum buffers."""
        in_free = simpy.Container(env, capacity=2, init=2)  # operand buffers (ping-pong)
        out_free = simpy.Container(env, capacity=2, init=2)  # psum buffers (ping-pong)
        inbox = simpy.Store(env)
        outbox = simpy.Store(env)
        done = env.event()

        def feeder():
            for p, rec in enumerate(recs):
                yield in_free.get(1)
                if rec[2]:
                    self._span(acc, trace, "NoC in", f"pass {p} operands", env.now, rec[2], t0)
                    yield env.timeout(rec[2])
                yield inbox.put(p)

        def collector():
            for p, rec in enumerate(recs):
                yield outbox.get()
                if rec[5]:
                    self._span(acc, trace, "NoC psum out", f"pass {p} psums", env.now, rec[5], t0)
                    yield env.timeout(rec[5])
                yield out_free.put(1)
            done.succeed()

        env.process(feeder())
        env.process(collector())
        for p, (j, seen, dv, dc, cp, dr, cc, _) in enumerate(recs):
            w0 = env.now
            yield inbox.get()
            t_in = env.now
            yield out_free.get(1)
            acc.stalls[dc] += t_in - w0
            acc.stalls[recs[p - 2][6] if p >= 2 else cc] += env.now - t_in
            self._span(acc, trace, "PE array", f"pass {p}", env.now, cp, t0)
            yield env.timeout(cp)
            acc.compute += cp
            acc.busy["pe_array"] += cp
            yield in_free.put(1)
            yield outbox.put(p)
            acc.events += 7
        w0 = env.now
        yield done
        acc.stalls[recs[-1][6]] += env.now - w0

    def _pipeline_recurrence(self, runs, acc, trace, t0_abs):
        """The same pipeline as :meth:`_run_pipelined`, as its exact max-plus recurrence.

        fe[p] = max(fe[p-1], ce[p-2]) + deliver[p]      (feeder; operand buffer of pass p-2 freed)
        cs[p] = max(ce[p-1], fe[p], de[p-2])            (operands in, array free, a psum buffer free)
        ce[p] = cs[p] + compute[p]
        de[p] = max(de[p-1], ce[p]) + drain[p]          (collector)
        Within a run of identical passes, once the state (fe, ce, de of the last
        two passes) advances by the same amount d for every component, every
        later pass advances by d too (the recurrence is max-plus linear), so the
        rest of the run is extrapolated.  Returns the tile's duration.
        """
        fe1 = ce1 = ce2 = de1 = de2 = 0
        p = 0
        prev_cc = None
        prev2_cc = None
        for rec, n in runs:
            _, _, dv, dc, cp, dr, cc, _ = rec
            k = 0
            last = None
            while k < n:
                fe = max(fe1, ce2) + dv
                cs = max(ce1, fe, de2)
                ce = cs + cp
                de = max(de1, ce) + dr
                wait_in = max(0, fe - ce1)
                wait_out = max(0, cs - max(ce1, fe))
                acc.stalls[dc] += wait_in
                acc.stalls[(prev2_cc if p >= 2 else cc)] += wait_out
                acc.compute += cp
                acc.busy["pe_array"] += cp
                if trace:
                    self._span(acc, trace, "NoC in", f"pass {p} operands", t0_abs + fe - dv, dv, 0)
                    self._span(acc, trace, "PE array", f"pass {p}", t0_abs + cs, cp, 0)
                    self._span(acc, trace, "NoC psum out", f"pass {p} psums", t0_abs + de - dr, dr, 0)
                state = (fe - fe1, ce - ce1, ce1 - ce2, de - de1, de1 - de2)
                fe1, ce2, ce1, de2, de1 = fe, ce1, ce, de1, de
                prev2_cc, prev_cc = prev_cc, cc
                p += 1
                k += 1
                acc.events += 1
                if not self.exact and last == state and len(set(state)) == 1 and k < n:
                    d, rest = state[0], n - k
                    if trace:
                        for i in range(1, rest + 1):
                            if len(acc.spans) >= MAX_SPANS:
                                break
                            self._span(acc, trace, "NoC in", f"pass {p + i - 1} operands", t0_abs + fe - dv + d * i, dv, 0)
                            self._span(acc, trace, "PE array", f"pass {p + i - 1}", t0_abs + cs + d * i, cp, 0)
                            self._span(acc, trace, "NoC psum out", f"pass {p + i - 1} psums", t0_abs + de - dr + d * i,
                                       dr, 0)
                    fe1, ce1, ce2, de1, de2 = fe1 + d * rest, ce1 + d * rest, ce2 + d * rest, de1 + d * rest, \
                        de2 + d * rest
                    acc.stalls[dc] += wait_in * rest
                    acc.stalls[cc] += wait_out * rest  # steady state: the wait is for this run's own psums
                    acc.compute += cp * rest
                    acc.busy["pe_array"] += cp * rest
                    p += rest
                    k = n
                last = state
        acc.stalls[prev_cc] += de1 - ce1
        return de1

    def _folds(self, runs):
        """Group passes into systolic folds: a pass that moves the stationary tensor's tile starts one.

        Returns ``[(T, deliver, drain, deliver cause, drain cause, how many such folds)]``.
        """
        out, cur = [], None
        for rec, n in runs:
            j, _, dv, dc, cp, dr, cc, _ = rec
            starts = cur is None or j is None or self.fold_start[j]
            if starts:
                if cur:
                    out.append(tuple(cur) + (1,))
                if n > 1:
                    out.append((cp, dv, dr, dc, cc, n - 1))
                cur = [cp, dv, dr, dc, cc]
            else:
                cur[0] += n * cp
                cur[1] += n * dv
                cur[2] += n * dr
        if cur:
            out.append(tuple(cur) + (1,))
        return out

    def _run_systolic(self, env, runs, acc, trace, t0):
        a = self.arch
        f = 0
        for t, deliver, drain, dc, cc, n in self._folds(runs):
            base = fold_cycles(a.rows, a.cols, t, self.stationary)
            dur = max(base, deliver, drain)
            if trace:
                for k in range(n):
                    self._span(acc, trace, "PE array", f"fold {f + k} (T={t})", env.now + k * dur, dur, t0)
            yield env.timeout(n * dur)
            acc.compute += n * t
            acc.busy["pe_array"] += n * t
            acc.stalls["pipeline"] += n * (base - t)
            if dur > base:
                acc.stalls[dc if deliver >= drain else cc] += n * (dur - base)
            acc.events += 1
            f += n


def bank_shares(nest: LoopNest, arch: Architecture, m: Mapping) -> dict | None:
    """Fraction of the GLB banks each tensor owns, or None for one shared pool.

    With ``glb.banks`` >= 3 every tensor gets whole banks in proportion to its
    GLB tile (at least one each; largest remainders first, ties in tensor
    order), and reads of a tensor use only its banks' share of the read
    bandwidth.  Demand out of proportion to the allocation then stalls on
    its banks: the bank-conflict part of the ``glb`` stall cause.
    """
    b = arch.glb_banks
    if b < len(TENSORS):
        return None
    ext = level_extents(m)["glb"]
    size = {t: tile_words(nest, t, ext) * arch.word_bits[t] for t in TENSORS}
    total = sum(size.values())
    raw = {t: (b - len(TENSORS)) * size[t] / total for t in TENSORS}
    banks = {t: 1 + int(raw[t]) for t in TENSORS}
    for t in sorted(TENSORS, key=lambda t: -(raw[t] - int(raw[t])))[: b - sum(banks.values())]:
        banks[t] += 1
    return {t: banks[t] / b for t in TENSORS}
