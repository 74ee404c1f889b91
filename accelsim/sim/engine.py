"""Event simulator (simpy) of one mapped layer at tile and pass granularity.

Processes and resources:

* **DRAM channel** (one simpy Resource): a *loader* brings each GLB tile's
  new words in (filters, ifmaps, psums fetched back) and a *writer* drains
  the ofmap words that leave; both share the channel.  A transfer takes
  ``latency + ceil(bytes / bandwidth)`` cycles.
* **GLB banks**: with ``glb.banks`` >= 3 each tensor owns whole banks in
  proportion to its GLB tile and reads only its own share of the read
  bandwidth, so demand out of proportion to the allocation stalls on bank
  conflicts (charged to ``glb``); with fewer banks the port is one pool.
* **GLB tile slots** (a simpy Container of 1, or 2 when the GLB is
  double-buffered): the loader needs a free slot; a slot frees once its tile
  is computed and drained.  A single-buffered GLB therefore serialises load,
  compute and drain; a double-buffered one hides the next load under compute.
* **PE array** per tile, pass by pass: a *feeder* delivers each pass's new
  operands over the NoC (per-tensor links, ``ceil(words / bw)``) limited by
  the GLB read port; the array computes the pass (product of the RF factors,
  one MAC per PE per cycle); a *collector* returns the psums that leave,
  after spatial reduction, over the psum link, limited by the GLB write port.
  With double-buffered RFs or operand FIFOs the feeder runs one pass ahead
  and the collector one pass behind; otherwise the three take turns.  A tile boundary drains
  this pipeline (fill and drain per tile).
* **Systolic arrays** (ifmap NoC of type ``systolic``): consecutive passes
  that keep the dataflow's stationary tensor form a fold, timed as
  SCALE-Sim does (:mod:`accelsim.sim.systolic`): ``2*rows + cols + T - 2``
  cycles for T streamed steps (``rows + cols + T - 2`` output stationary),
  or longer if the links cannot keep up.

Stalls are charged from the PE array's point of view, by cause: ``fill``
(waiting for the first tile), ``dram`` (waiting for a later tile),
``noc`` / ``glb`` (waiting for operands or for psum collection, whichever
link or port limited that transfer), ``pipeline`` (systolic skew), and
``drain`` (after the last MAC, until the last psum reaches DRAM).
compute + all stalls = total cycles.

Steady-state shortcut, on two levels:

* tiles of the same kind (same entering step type, same psum refetch
  pattern, same following step) have identical pass timelines, because a
  tile starts with an empty pass pipeline and the array side shares no
  resource with the DRAM side; each kind's timeline is worked out once and
  reused for every tile of that kind (the tiles themselves stay events);
* within a tile, the pass pipeline is evaluated by its exact max-plus
  recurrence, and a run of identical passes is extrapolated once the
  pipeline advances by the same amount in every stage (periodic steady
  state).

``exact=True`` switches both off: every tile runs its passes as simpy
events (feeder, array, collector processes with buffer tokens).  Both give
the same cycles, stalls and busy times (tests check it on every dataflow and
on random mappings).
"""

from __future__ import annotations

import time
from collections import Counter
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


def _ceil(x: float) -> int:
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

    def add(self, other: "Acc", times: int = 1, offset: int | None = None, keep_spans: bool = False,
            events: bool = True) -> None:
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
        if keep_spans and offset is not None and len(self.spans) < MAX_SPANS:
            self.spans.extend((tr, nm, s + offset, d) for tr, nm, s, d in other.spans[: MAX_SPANS - len(self.spans)])


@dataclass
class SimResult:
    """Outcome of simulating one layer.

    Attributes:
        cycles: total cycles, from the first DRAM transfer to the last psum in DRAM.
        compute_cycles: cycles the PE array spends on MACs.
        stall_cycles: per cause (see module doc); compute + stalls = cycles.
        busy_cycles: per resource, cycles it was transferring or computing.
        moved: words the simulation moved, in the cost model's terms (for the
            one-truth check): ``{"rf_fills": {tensor: words}, "glb_reads":
            {tensor: words}, "glb_updates": ofmap words, "dram_reads": {tensor:
            words}, "dram_updates": ofmap words}``.
        events: simulation events processed (a reused tile kind counts once);
            tiles, passes: how many of each the layer has.
        exact: whether every pass was simulated.
        wall_s: simulation wall time.
        trace: spans ``(track, name, start, duration)`` if a trace was asked for.
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


class _Layer:
    """Per-layer constants of the simulation."""

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
        self.bank_share = _bank_shares(nest, arch, m)
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
        deliver = _ceil(max(max(d_noc.values()), d_glb))
        drain = _ceil(max(c_noc, c_glb))
        d_cause = "glb" if d_glb >= max(d_noc.values()) else "noc"
        c_cause = "glb" if c_glb >= c_noc else "noc"
        busy = (("glb_read", _ceil(d_glb)), ("glb_write", _ceil(c_glb)), ("noc_filter", _ceil(d_noc["filter"])),
                ("noc_ifmap", _ceil(d_noc["ifmap"])), ("noc_psum_in", _ceil(d_noc["ofmap"])),
                ("noc_psum_out", _ceil(c_noc)))
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


def _bank_shares(nest: LoopNest, arch: Architecture, m: Mapping) -> dict | None:
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


def simulate(nest: LoopNest, arch: Architecture, m: Mapping, stationary: str | None = None,
             exact: bool = False, trace: bool = False) -> SimResult:
    """Simulate one mapped layer; see the module doc.

    Args:
        stationary: the dataflow's stationary tensor (defines systolic folds).
        exact: simulate every pass of every tile instead of reusing the
            timeline of each tile kind.
        trace: keep spans for a trace file.
    Returns:
        :class:`SimResult`; cycles are integers.
    """
    w0 = time.perf_counter()
    L = _Layer(nest, arch, m, stationary, exact)
    s = L.s
    nd = s.n_dram
    dram_factors = [f for _, f in s.loops[:nd]]
    # tiles in order: (type, refetch?, any ofmap-irrelevant DRAM loop > 0)
    tiles = []
    for k, vals in odometer(dram_factors):
        if k is None:
            tiles.append((None, False, False))
        else:
            seen = L.irr[k] or any(L.irr[l] and vals[l] > 0 for l in range(k))
            tiles.append((k, seen, any(L.irr[l] and vals[l] > 0 for l in range(nd))))
    env = simpy.Environment()
    chan = simpy.Resource(env, capacity=1)
    slots = simpy.Container(env, capacity=2 if arch.glb_double_buffered else 1,
                            init=2 if arch.glb_double_buffered else 1)
    ready = [env.event() for _ in tiles]
    to_write = simpy.Store(env)
    acc = Acc()
    kinds: dict = {}
    pass_lists: dict = {}
    bw = arch.dram_bw_bytes_per_cycle
    lat = arch.dram_latency_cycles
    moved_dram = {"filter": 0.0, "ifmap": 0.0, "ofmap": 0.0, "updates": 0.0}
    finished = {}

    def load_bytes(ti):
        k, seen, _ = tiles[ti]
        tr = s.first_tile if k is None else s.tile_types[k]
        words = {t: tr.noc[t] for t in INPUTS}
        words["ofmap"] = tr.psum_in if seen else 0.0
        return words

    def drain_words(ti):
        return s.final_glb_psum if ti + 1 == len(tiles) else s.tile_types[tiles[ti + 1][0]].psum_in

    def transfer(nbytes, label):
        """Hold the DRAM channel for latency + ceil(bytes / bandwidth) cycles (nothing if no bytes)."""
        with chan.request() as req:
            yield req
            dur = lat + _ceil(nbytes / bw) if nbytes > 0 else 0
            if dur:
                if trace:
                    acc.spans.append(("DRAM", label, env.now, dur))
                yield env.timeout(dur)
                acc.busy["dram"] += dur
        acc.events += 3

    def loader():
        for ti in range(len(tiles)):
            yield slots.get(1)
            words = load_bytes(ti)
            for t, v in words.items():
                moved_dram[t] += v
            yield from transfer(sum(v * L.bytes[t] for t, v in words.items()), f"load tile {ti}")
            ready[ti].succeed()

    def writer():
        for ti in range(len(tiles)):
            yield to_write.get()
            words = drain_words(ti)
            moved_dram["updates"] += words
            yield from transfer(words * L.bytes["ofmap"], f"drain tile {ti}")
            yield slots.put(1)
        finished["end"] = env.now

    def array():
        for ti, (k, seen, dram_irr) in enumerate(tiles):
            w = env.now
            yield ready[ti]
            acc.stalls["fill" if ti == 0 else "dram"] += env.now - w
            nxt = tiles[ti + 1][0] if ti + 1 < len(tiles) else None
            kind = (k, seen, nxt, dram_irr)
            if exact:
                if kind not in pass_lists:
                    pass_lists[kind] = L.passes(kind)
                yield from L.run_tile(env, pass_lists[kind], acc, trace, absolute=True)
            else:
                if kind not in kinds:
                    sub_env = simpy.Environment()
                    sub = Acc()
                    sub_env.process(L.run_tile(sub_env, L.passes(kind), sub, trace))
                    sub_env.run()
                    kinds[kind] = (int(sub_env.now), sub)
                    acc.events += sub.events  # simulated once; reused tiles add no events
                dur, sub = kinds[kind]
                acc.add(sub, 1, offset=int(env.now), keep_spans=trace, events=False)
                if dur:
                    yield env.timeout(dur)
                acc.events += 1
            if trace:
                acc.spans.append(("GLB tiles", f"tile {ti}", int(w), int(env.now - w)))
            yield to_write.put(ti)
        finished["array"] = env.now

    env.process(loader())
    env.process(writer())
    env.process(array())
    env.run()
    end = int(finished["end"])
    acc.stalls["drain"] += end - int(finished["array"])
    moved = _moved(L, acc, moved_dram)
    return SimResult(
        cycles=end, compute_cycles=acc.compute, stall_cycles=acc.stalls, busy_cycles=acc.busy, moved=moved,
        events=acc.events, tiles=len(tiles), passes=len(tiles) * s.passes_per_tile, exact=exact,
        wall_s=time.perf_counter() - w0, trace=acc.spans if trace else None,
    )


def _moved(L: _Layer, acc: Acc, moved_dram: dict) -> dict:
    """Words moved, from the step counts the simulation saw (exact integers when the counts are right)."""
    s = L.s
    rf_fills = {t: 0.0 for t in TENSORS}
    glb_reads = {t: 0.0 for t in TENSORS}
    glb_updates = 0.0
    for j, n in acc.type_counts.items():
        tr = s.first_pass if j is None else s.pass_types[j]
        for t in INPUTS:
            rf_fills[t] += tr.noc[t] * n
            glb_reads[t] += tr.parent[t] * n
        # psums that leave at this step's start = those entering (tiles never clip)
        if j is not None:
            glb_updates += tr.psum_in * n / s.rho
    for j, n in acc.seen_counts.items():
        tr = s.first_pass if j is None else s.pass_types[j]
        glb_reads["ofmap"] += tr.psum_in * n / s.rho
    rf_fills["ofmap"] = glb_reads["ofmap"]
    glb_updates += s.final_psum / s.rho
    r = lambda x: int(round(x))
    return {
        "rf_fills": {t: r(v) for t, v in rf_fills.items()},
        "glb_reads": {t: r(v) for t, v in glb_reads.items()},
        "glb_updates": r(glb_updates),
        "dram_reads": {t: r(moved_dram[t]) for t in TENSORS},
        "dram_updates": r(moved_dram["updates"]),
    }
