"""Analytical latency of a mapped layer: the mapper's ranking figure (the event simulator times the chosen one).

array = max(compute, every on-chip port, every NoC link), each a whole-layer
bound: compute = temporal steps (one MAC per MAC unit per cycle), plus on a
systolic array each fold's load and skew (:func:`systolic_folds`); a port =
the words its level moves per active instance / its bandwidth (rounded up;
words of wider tensors count in proportion to the partition's word width),
and a tensor's reads through its own banks of a shared partition / its share;
a NoC link = parent-side transfers / its bandwidth, psums in each direction
separately (Eyeriss's GIN and GON).  DRAM = bytes / bandwidth.  When every
partition of the outermost on-chip level is double-buffered, DRAM overlaps
the array except for the first tile's load and the last tile's drain:
cycles = max(array, DRAM) + fill + drain; when only some are, the inputs
they hold overlap: cycles = max(array, their DRAM time) + the rest of DRAM;
otherwise they serialise: cycles = array + DRAM.  ``bound_by`` names the largest bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import RELEVANT, TENSORS, LoopNest
from .fits import bank_shares, partition_ref_bits
from .model import AccessCounts, dram_bytes


@dataclass
class Latency:
    """Analytical latency (module doc).  Cycles are integers.

    Attributes:
        cycles, compute_cycles: totals.
        bounds: ``{name: cycles}``: ``compute``, ``dram``, ``<level>_read``,
            ``<level>_write``, ``<level>_write_buffer_<side>``, ``noc_<level>_<tensor>``.
        bound_by: the largest bound.
    """

    cycles: int
    compute_cycles: int
    bounds: dict[str, int]
    bound_by: str

    @property
    def stall_cycles(self) -> int:
        return self.cycles - self.compute_cycles


def _ceil(a: float) -> int:
    i = int(a)
    return i if i >= a else i + 1


def top_double_buffered(arch: Architecture) -> bool:
    """Whether the outermost on-chip level has every partition double-buffered (tile loads overlap compute)."""
    return all(p.double_buffered for p in arch.onchip[-1].partitions)


def prefetched_inputs(arch: Architecture) -> tuple[str, ...]:
    """Input tensors whose next tile loads during the current one while the rest of the outermost on-chip
    level is single-buffered: those in its double-buffered partitions (e.g. Eyeriss's filter banks).
    Empty when every partition or none is double-buffered."""
    top = arch.onchip[-1]
    if top_double_buffered(arch):
        return ()
    return tuple(t for p in top.partitions if p.double_buffered for t in p.tensors if t != "ofmap")


def is_systolic(arch: Architecture) -> bool:
    """Whether the PE array is systolic (its ifmap network is neighbour to neighbour)."""
    a = arch.levels[arch.array_level]
    return bool(a.noc) and a.noc["ifmap"].type == "systolic"


def systolic_folds(arch: Architecture, m: Mapping, stationary: str | None) -> int:
    """Folds of a systolic array: placements of the stationary tile, i.e. the steps of the loops above the
    PE (DRAM first) down to the innermost one indexing the stationary tensor (every step when None)."""
    loops = []
    for s in m.slots:
        if not s.spatial and s.level >= arch.array_level:
            loops.extend((d, m.factors[s.name][d]) for d in m.nonunit_order(s.name))
    rel = RELEVANT[stationary] if stationary else None
    last = max((i for i, (d, _) in enumerate(loops) if rel is None or d in rel), default=-1)
    n = 1
    for _, f in loops[:last + 1]:
        n *= f
    return n


def pipelined(arch: Architecture) -> bool:
    """Whether a non-systolic array overlaps a pass's delivery, compute and collection: some level inside
    the PE has operand FIFOs or a double-buffered partition (else the three take turns)."""
    inside = [lv for lv in arch.onchip if lv.index < arch.array_level]
    return not is_systolic(arch) and any(lv.fifo or any(p.double_buffered for p in lv.partitions) for lv in inside)


def latency(nest: LoopNest, arch: Architecture, m: Mapping, counts: AccessCounts,
            stationary: str | None = None) -> Latency:
    """Analytical latency; see the module doc.  On an array whose passes take turns (no operand FIFO or
    double buffer inside the PE, not systolic) the array time is at least compute + the slowest
    delivery + the slowest collection (ports at or above the array level, the array's NoC links).  ``stationary``: the dataflow's stationary tensor (sets
    the folds of a systolic array, each of which loads and drains: SCALE-Sim's
    :func:`~accelsim.sim.systolic.fold_cycles` less its T streaming steps)."""
    compute = m.temporal_steps
    sp = counts.sparsity
    if sp is not None and sp.compute_share != 1.0:  # skipping, or a Cartesian-product array (cost.cartesian)
        compute = _ceil(compute * sp.compute_share)
    if is_systolic(arch):
        load = 0 if stationary == "ofmap" else arch.rows
        compute += systolic_folds(arch, m, stationary) * (load + arch.rows + arch.cols - 2)
    bits = arch.word_bits
    bounds = {"compute": compute, "dram": _ceil(dram_bytes(arch, counts) / arch.dram_bw_bytes_per_cycle)}
    deliver_keys, collect_keys = set(), set()  # bounds on the array side: what a pass waits for
    for lv in arch.onchip:
        lb = lv.word_bits
        wb = lv.write_buffer
        if wb is not None:  # each word passing through is written in and read out, on the buffer's own ports
            active = max(1, m.used(m.spatial_between(lv.index, None)))
            for side, bw in (("write", wb.write_bw), ("read", wb.read_bw)):
                if bw is not None:
                    key = f"{lv.name}_write_buffer_{side}"
                    bounds[key] = _ceil(counts.levels[lv.name]["ofmap"].updates / active / bw)
                    if lv.index >= arch.array_level:
                        collect_keys.add(key)
        if lv.read_bw is None and lv.write_bw is None and all(
                p.read_bw is None and p.write_bw is None for p in lv.partitions):
            continue  # no port limit at this level
        if sp is None:
            c = {t: (x.read_words, x.write_words, x.reads) for t, x in counts.levels[lv.name].items()}
        else:  # the bits compressed words carry, skipped reads left out
            c = {t: (x["reads"] + x["rmw_reads"] + x["drains"], x["fills"] + x["updates"], x["reads"])
                 for t, x in counts.scaled_time[lv.name].items()}
        active = max(1, m.used(m.spatial_between(lv.index, None)))
        for side, shared, per in (("read", lv.read_bw, "read_bw"), ("write", lv.write_bw, "write_bw")):
            def words(ts):
                return sum(c[t][0 if side == "read" else 1] * lb[t] for t in ts)
            keys = deliver_keys if side == "read" else collect_keys
            if shared is not None:
                ref = lb["ifmap"]
                bounds[f"{lv.name}_{side}"] = _ceil(words(lv.keeps) / ref / active / shared)
                if lv.index >= arch.array_level:
                    keys.add(f"{lv.name}_{side}")
            total_banks = sum(p.banks for p in lv.partitions)
            for p in lv.partitions:
                ref = partition_ref_bits(lb, p.tensors)
                bw = getattr(p, per)
                if bw is not None:
                    key = f"{lv.name}_{'+'.join(p.tensors)}_{side}"
                    bounds[key] = _ceil(words(p.tensors) / ref / active / bw)
                    if lv.index >= arch.array_level:
                        keys.add(key)
                elif shared is not None:
                    bw = shared * p.banks / total_banks
                if side == "read" and bw is not None and len(p.tensors) > 1 and p.banks >= len(p.tensors):
                    # each tensor reads through its own banks (the simulator's bank shares)
                    # (words handed to the children; drains to the parent go between tiles)
                    for t, share in bank_shares(nest, m.tile_extent(lv.index), p).items():
                        key = f"{lv.name}_{t}_read"
                        bounds[key] = _ceil(c[t][2] * lb[t] / ref / active / (bw * share))
                        if lv.index >= arch.array_level:
                            keys.add(key)
    psum = {}
    for t in TENSORS:
        for h in counts.hops.get(t, ()):
            if h.link is None:
                continue
            link = arch.levels[h.link].noc[t]
            if link.bw_words is None:
                continue
            key = f"noc_{arch.levels[h.link].name}_{t}"
            if h.link == arch.array_level:
                (collect_keys if t == "ofmap" else deliver_keys).add(key)
            if t != "ofmap":
                bounds[key] = bounds.get(key, 0) + _ceil(h.parent_reads / link.bw_words)
            else:
                up = h.stats.union_fills
                back = up - h.stats.union_distinct
                i, o = psum.get(key, (0, 0))
                psum[key] = (i + back, o + up)
                bounds[key] = _ceil(max(psum[key]) / link.bw_words)
    bound_by = max(bounds, key=lambda k: (bounds[k], k == "compute"))
    array = max(v for k, v in bounds.items() if k != "dram")
    if not is_systolic(arch) and not pipelined(arch):
        # passes take turns: deliver, compute, collect (the simulator's sequential pass level)
        deliver = max((bounds[k] for k in deliver_keys), default=0)
        collect = max((bounds[k] for k in collect_keys), default=0)
        array = max(array, compute + deliver + collect)
    bw = arch.dram_bw_bytes_per_cycle
    top = arch.onchip[-1]
    if top_double_buffered(arch):
        first = sum(h.stats.first_pe * bits[t] / 8 for t in TENSORS if t != "ofmap"
                    for h in counts.hops.get(t, ()) if h.child == top.index)
        fill = _ceil(first / bw)
        last = sum(h.stats.last_pe for h in counts.hops.get("ofmap", ()) if h.child == top.index)
        drain = _ceil(last * bits["ofmap"] / 8 / bw)
        cycles = max(array, bounds["dram"]) + fill + drain
    elif prefetched_inputs(arch):  # those inputs' DRAM time overlaps the array, the rest serialises
        pre = set(prefetched_inputs(arch))
        d = counts.levels[arch.dram.name]
        pre_bytes = sum((d[t].reads + d[t].rmw_reads + d[t].updates + d[t].fills) * bits[t] / 8 for t in pre)
        rest = _ceil(max(0.0, dram_bytes(arch, counts) - pre_bytes) / bw)
        cycles = max(array, _ceil(pre_bytes / bw)) + rest
    else:
        cycles = array + bounds["dram"]
    return Latency(cycles=cycles, compute_cycles=m.temporal_steps, bounds=bounds, bound_by=bound_by)
