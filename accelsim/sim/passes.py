"""Pass level of the simulator: one tile's passes on the PE array.

A *pass* is one iteration of the pass loops within a tile (see :mod:`accelsim.sim.schedule`);
every active PE runs the loops inside it, one MAC per cycle per MAC unit.  Per pass, a
*feeder* delivers the new operands: each hop's words take ``words / bw`` cycles on every
resource they use (the parent's read port or partition, :mod:`accelsim.sim.ports`, with bank
conflicts; the DRAM channel for a tensor that comes from DRAM; the NoC link it crosses), and
the slowest resource sets the time (rounded up); the array computes the pass; a *collector*
returns the psums that leave, after spatial reduction, over the psum link, limited by the
parent's write port.  With double-buffered partitions or operand FIFOs inside the PE the
feeder runs one pass ahead and the collector one pass behind; otherwise the three take turns.
Systolic arrays time folds as SCALE-Sim does (:mod:`accelsim.sim.systolic`).  A tile starts
with an empty pass pipeline and ends with it drained, so a tile's timeline depends only on its
kind (see :mod:`accelsim.sim.tiles`).  Times are cycles (integers); words may be fractional
means (see the schedule).

Default mode: :meth:`LayerPasses.tile_walk` runs the recurrences of
:mod:`accelsim.sim.passwalk` over the GLB loop hierarchy (cost independent of the number of
alike passes).  Exact mode: :meth:`LayerPasses.passes` lists the passes (run-length encoded)
and :meth:`LayerPasses.run_tile` runs them as simpy processes, every pass of a pipelined
array an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from ..arch.spec import Architecture
from ..cost.latency import is_systolic, pipelined
from ..cost.model import access_counts
from ..mapping.mapping import Mapping
from ..workload.loopnest import RELEVANT, TENSORS, LoopNest
from .passwalk import PassRecord, PassTree, PipelinedWalk, SequentialWalk, SystolicWalk
from .ports import Ports
from .schedule import Schedule, build_schedule, odometer
from .systolic import fold_cycles
from .trace import MAX_SPANS


CAUSES = ("fill", "dram", "glb", "noc", "pipeline", "drain")
#: Resources every run reports; ports and links add ``<level>_read``, ``<level>_write``,
#: ``noc_<level>_<tensor>`` (psums: ``_in`` and ``_out``) and ``dram_stream`` (pass-level DRAM traffic).
RESOURCES = ("dram", "pe_array")


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
        for r, v in other.busy.items():
            self.busy[r] = self.busy.get(r, 0) + v * times
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
        self.exact = exact  # kept for callers; the mode is chosen by which method runs a tile
        self.s: Schedule = build_schedule(nest, arch, m)
        self.bytes = {t: arch.word_bits[t] / 8 for t in TENSORS}
        self.systolic = is_systolic(arch)
        self.stationary = stationary
        self.glb_loops = self.s.loops[self.s.n_dram:]
        self.glb_factors = [f for _, f in self.glb_loops]
        self.irr = [d not in RELEVANT["ofmap"] for d, _ in self.s.loops]
        self._records: dict = {}
        self.ports = Ports(nest, arch, m)
        self.compute = self.s.pass_compute  # cycles of one pass's RF loops
        self.first_extra = 0  # cycles the layer's first pass takes beyond ``compute`` (actual sparse work)
        self._sparse(nest, arch, m)
        # a step of loop j resets the loops inside it: it moves the stationary tile if any of them indexes it
        rel = RELEVANT[stationary] if stationary else None
        loops = self.s.loops
        self.fold_start = [rel is None or any(loops[l][0] in rel for l in range(j, len(loops)))
                           for j in range(len(loops))]
        self.pipelined = pipelined(arch)
        self.tree = PassTree(self.glb_factors, self.s.n_dram, self.irr, self.record)
        self._memo: dict = {}  # the pass walk's blocks, shared by the tile kinds

    def _sparse(self, nest, arch, m) -> None:
        """Statistical sparse operands (:mod:`accelsim.cost.sparse`): each level's transfers of a tensor
        take the bits they carry (compressed values and metadata, skipped reads left out): its port time
        and DRAM bytes scale by scaled / dense words of the cost model's counts; skipping MACs shortens
        every pass by the compute share.  Nothing changes for dense operands on a dense arch."""
        if nest.dense and not arch.sparse:
            return
        counts = access_counts(nest, arch, m)
        sp = counts.sparsity
        if sp is None:
            return
        for lv in arch.levels:
            for t, c in counts.levels[lv.name].items():
                dense = sum(c.as_dict().values())
                if not dense:
                    continue
                scale = sum(counts.scaled_time[lv.name][t].values()) / dense
                if lv.is_dram:
                    self.bytes[t] *= scale
                else:
                    self.ports.scale[(lv.index, t)] = scale
        self.compute = max(1, ceil_int(self.s.pass_compute * sp.compute_share))

    # ---- default mode: the hierarchical walk of :mod:`accelsim.sim.passwalk`
    def record(self, j, seen, nxt):
        """Record of a pass of type ``j`` (None: the layer's first) followed by a pass of type
        ``nxt`` (None: none, the final psums leave)."""
        return self._record(j, seen, self.s.final_psum if nxt is None else self.s.pass_types[nxt].psum_out)

    def tile_walk(self, kind, spans: list | None = None) -> tuple[int, Acc]:
        """One tile of ``kind`` from an empty pass pipeline: ``(duration in cycles, what it produced)``.

        Spans (relative to the tile start) go to ``spans`` while it is below ``MAX_SPANS``.
        """
        first_type, first_seen, next_type, dram_irr = kind
        tree, a = self.tree, self.arch
        if self.systolic:
            w = SystolicWalk(tree, self._memo, spans, MAX_SPANS, sum(self.fold_start[self.s.n_dram:]),
                             a.rows, a.cols, self.stationary, self.continues_fold(first_type))
        else:
            w = (PipelinedWalk if self.pipelined else SequentialWalk)(tree, self._memo, spans, MAX_SPANS)
        dur = w.run(first_type, first_seen, dram_irr, next_type)
        acc = Acc(events=w.events)
        for c, v in w.stalls.items():
            acc.stalls[c] += v
        for (j, seen, _, _, cp, _, _, busy), n in tree.counts(0, first_type, first_seen, dram_irr, next_type).items():
            acc.type_counts[j] = acc.type_counts.get(j, 0) + n
            if seen:
                acc.seen_counts[j] = acc.seen_counts.get(j, 0) + n
            for r, v in busy:
                acc.busy[r] = acc.busy.get(r, 0) + v * n
            acc.compute += cp * n
            acc.busy["pe_array"] += cp * n
        return dur, acc

    def continues_fold(self, first_type) -> bool:
        """Whether a tile entered by DRAM loop ``first_type`` continues the previous tile's systolic fold:
        neither that loop nor any inside it moves the stationary tile, so the array does not drain
        (SCALE-Sim streams such tiles through without a restart)."""
        return self.systolic and first_type is not None and not self.fold_start[first_type]

    # ---- exact mode: pass list of one tile kind, run-length encoded
    def passes(self, kind):
        """Runs ``(record, n)`` of a tile kind's passes, in order (exact mode; it grows with the passes).

        A record is a :class:`PassRecord`; consecutive steps of the innermost
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
                nxt = self._traffic(steps[r + 1][0]).psum_out
            elif next_type is None:
                nxt = self.s.final_psum
            else:
                nxt = self.s.pass_types[next_type].psum_out
            if n > 1:
                runs.append((self._record(j, seen, self._traffic(j).psum_out), n - 1))
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
        """Deliver and collect times of a pass (cycles): the slowest port, link or DRAM stream it uses."""
        a, s, P = self.arch, self.s, self.ports
        deliver: dict = {}
        collect: dict = {}
        busy: dict = {}

        def link_time(demand, level, t, words, tag=""):
            if level is None or not words:
                return
            bw = a.levels[level].noc[t].bw_words
            if bw is not None:
                k = ("noc", level, t + tag)
                demand[k] = demand.get(k, 0.0) + words / bw

        def source(demand, level, t, side, words):
            if level == a.dram.index:
                demand[("dram",)] = demand.get(("dram",), 0.0) + words * self.bytes[t] / a.dram_bw_bytes_per_cycle
            else:
                P.charge(demand, level, t, side, words)

        for mv in tr.moves:
            source(deliver, mv.parent, mv.tensor, "read", mv.parent_reads)
            link_time(deliver, mv.link, mv.tensor, mv.parent_reads, "_in" if mv.tensor == "ofmap" else "")
        h = s.psum_hop
        if h is not None:
            refetch = tr.psum_in if seen else 0.0
            source(deliver, h.parent, "ofmap", "read", refetch)
            link_time(deliver, h.link, "ofmap", refetch, "_in")
            collected = leave
            source(collect, h.parent, "ofmap", "write", collected)
            for b in a.write_buffers(h.child, h.parent):  # passing through: written in, read out
                P.charge(collect, b, "ofmap", "write", collected)
                P.charge(collect, b, "ofmap", "read", collected)
            link_time(collect, h.link, "ofmap", collected, "_out")
        for demand in (deliver, collect):
            for k, v in demand.items():
                name = self._resource(k)
                busy[name] = busy.get(name, 0) + v  # fractional: a stream of small transfers shares its channel
        dv = ceil_int(max(deliver.values(), default=0.0))
        dr = ceil_int(max(collect.values(), default=0.0))
        compute = self.compute + (self.first_extra if j is None else 0)
        return PassRecord(j, seen, dv, self._cause(deliver), compute, dr, self._cause(collect),
                          tuple(sorted(busy.items())))

    def _resource(self, key) -> str:
        if key[0] == "dram":
            return "dram_stream"
        if key[0] == "noc":
            return f"noc_{self.arch.levels[key[1]].name}_{key[2]}"
        return self.ports.name(key)

    @staticmethod
    def _cause(demand: dict) -> str:
        """Stall cause of a transfer: the kind of its slowest resource (``noc``, ``dram`` or a port: ``glb``)."""
        if not demand:
            return "noc"
        k = max(demand, key=lambda k: (demand[k], k[0] != "noc", str(k)))
        return {"noc": "noc", "dram": "dram"}.get(k[0], "glb")

    # ---- exact mode: one tile's pass pipeline as simpy processes
    def run_tile(self, env, runs, acc: Acc, trace: bool, absolute: bool = False, continues: bool = False):
        """Run one tile's passes (:meth:`passes`).  Spans are relative to the tile start unless ``absolute``;
        ``continues``: the tile continues the previous tile's systolic fold (:meth:`continues_fold`)."""
        t0 = 0 if absolute else env.now
        for rec, n in runs:
            j, seen = rec.type, rec.seen
            acc.type_counts[j] = acc.type_counts.get(j, 0) + n
            if seen:
                acc.seen_counts[j] = acc.seen_counts.get(j, 0) + n
            for r, v in rec.busy:
                acc.busy[r] = acc.busy.get(r, 0) + v * n
        if self.systolic:
            yield from self._run_systolic(env, runs, acc, trace, t0, continues)
        elif self.pipelined:
            yield from self._run_pipelined(env, [rec for rec, n in runs for _ in range(n)], acc, trace, t0)
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
                if rec.deliver:
                    self._span(acc, trace, "NoC in", f"pass {p} operands", env.now, rec.deliver, t0)
                    yield env.timeout(rec.deliver)
                yield inbox.put(p)

        def collector():
            for p, rec in enumerate(recs):
                yield outbox.get()
                if rec.drain:
                    self._span(acc, trace, "NoC psum out", f"pass {p} psums", env.now, rec.drain, t0)
                    yield env.timeout(rec.drain)
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
            acc.stalls[recs[p - 2].drain_cause if p >= 2 else cc] += env.now - t_in
            self._span(acc, trace, "PE array", f"pass {p}", env.now, cp, t0)
            yield env.timeout(cp)
            acc.compute += cp
            acc.busy["pe_array"] += cp
            yield in_free.put(1)
            yield outbox.put(p)
            acc.events += 7
        w0 = env.now
        yield done
        acc.stalls[recs[-1].drain_cause] += env.now - w0

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

    def _run_systolic(self, env, runs, acc, trace, t0, continues=False):
        a = self.arch
        f = 0
        for t, deliver, drain, dc, cc, n in self._folds(runs):
            base = t if continues else fold_cycles(a.rows, a.cols, t, self.stationary)
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
