"""Analytical cost model: exact access counts and a first latency model for one mapping.

Counting conventions (the project's design notes, "Counting accesses", which follow Timeloop):

* Read-only tensors (filter, ifmap) at a level: ``fills`` = new words
  brought from the parent (sliding-window overlap kept), ``reads`` = words
  handed to children (at the RF: operand reads by the MAC, padding zeros
  excluded; at the GLB: reads after multicast).
* Ofmap: ``updates`` = partial sums arriving from children (after spatial
  reduction); ``fills`` = partial sums fetched back from the parent when a
  tile is revisited; ``drains`` = words sent up when a tile leaves (a drain
  is an update at the parent); ``reads`` = partial sums handed back to
  children that revisit a tile (= the children's fills; at a level with one
  child this is updates - distinct elements, Timeloop's convention).  A
  revisited psum goes back to one PE of a spatial-reduction group; the others
  start at zero.  Since the child gets the old value back and returns the
  new sum, an update at the GLB is a plain write.  Only the RF accumulates in
  place: its ``rmw_reads`` are the MAC's psum reads, = MACs - psums that
  start fresh (the first update of an element is a plain write).
* NoC, per tensor: ``words`` delivered to or collected from PEs (one per PE
  endpoint), ``transfers`` on the GLB side of the network (multicast = one),
  ``reduction_adds`` for psums combined between PEs (spatial reduction).

All counts are totals over every instance of a level (x active instances).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ..arch.spec import Architecture
from ..mapping.mapping import LEVELS, Mapping
from ..workload.loopnest import DIMS, RELEVANT, TENSORS, LoopNest
from .nest_analysis import _pattern_size, analyse, coordinates, window_pairs

ACTIONS = ("reads", "fills", "updates", "rmw_reads", "drains")
STORAGE = ("rf", "glb", "dram")


@dataclass
class LevelCounts:
    """Word accesses of one tensor at one storage level (totals over instances)."""

    reads: int = 0
    fills: int = 0
    updates: int = 0
    rmw_reads: int = 0
    drains: int = 0

    @property
    def read_words(self) -> int:
        """Words read out of the level (reads + read-modify-write reads + drains)."""
        return self.reads + self.rmw_reads + self.drains

    @property
    def write_words(self) -> int:
        """Words written into the level (fills + updates)."""
        return self.fills + self.updates

    def as_dict(self) -> dict[str, int]:
        return {a: getattr(self, a) for a in ACTIONS}


@dataclass
class NocCounts:
    """NoC traffic of one tensor: PE-endpoint words, GLB-side transfers, reduction adds."""

    words: int = 0
    transfers: int = 0
    reduction_adds: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"words": self.words, "transfers": self.transfers, "reduction_adds": self.reduction_adds}


@dataclass
class AccessCounts:
    """Every access one mapped layer makes.

    Attributes:
        macs: multiply-accumulates (including those on padding zeros).
        levels: ``{storage level: {tensor: LevelCounts}}`` for rf, glb, dram.
        noc: ``{tensor: NocCounts}``.
        first_tile_words: words of each tensor DRAM must deliver before the
            first pass can start (the first GLB tile).
        last_drain_words: ofmap words written to DRAM after the last pass.
    """

    macs: int
    levels: dict[str, dict[str, LevelCounts]] = field(default_factory=dict)
    noc: dict[str, NocCounts] = field(default_factory=dict)
    first_tile_words: dict[str, int] = field(default_factory=dict)
    last_drain_words: int = 0

    def as_dict(self) -> dict:
        return {
            "macs": self.macs,
            **{l: {t: c.as_dict() for t, c in self.levels[l].items()} for l in STORAGE},
            "noc": {t: c.as_dict() for t, c in self.noc.items()},
        }


@dataclass
class Latency:
    """Analytical latency, used by the mapper to rank candidates (the event simulator times the chosen one).

    array = max(compute, GLB read, GLB write, NoC per tensor), each a
    whole-layer bound: compute = temporal steps (one MAC per PE per cycle),
    the others = words moved / bandwidth, rounded up.  DRAM = bytes / bandwidth.
    A double-buffered GLB overlaps DRAM with the array except for the first
    tile's load and the last tile's drain: cycles = max(array, DRAM) + fill +
    drain.  A single-buffered GLB serialises them: cycles = array + DRAM.
    ``bound_by`` names the largest bound.
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


def loop_strides(m: Mapping) -> dict[str, dict[str, int]]:
    """``{level: {dim: stride}}``: how many iterations of the dim one step of that level's loop advances.

    Inner levels are the less significant digits (see mapping.py), so the
    RF's stride is 1 and each outer level's is the product of the factors below.
    """
    out: dict[str, dict[str, int]] = {l: {} for l in LEVELS}
    for d in DIMS:
        st = 1
        for l in reversed(LEVELS):
            out[l][d] = st
            st *= m.factors[l][d]
    return out


def outer_loops(m: Mapping, levels: tuple[str, ...], strides) -> list[tuple[str, int, int]]:
    """The temporal loops of ``levels`` (outermost first, factor > 1 only) as ``(dim, factor, stride)``.

    ``strides`` comes from :func:`loop_strides`; this is the ``outer`` argument
    of :func:`accelsim.cost.nest_analysis.analyse` for the level below.
    """
    loops = []
    for l in levels:
        for d in m.nonunit_order(l):
            loops.append((d, m.factors[l][d], strides[l][d]))
    return loops


def tile_words(nest: LoopNest, tensor: str, inner: dict[str, int]) -> int:
    """Words of one tile of ``tensor`` spanning ``inner`` iterations per dim (padding not clipped)."""
    if tensor == "filter":
        return inner["G"] * inner["M"] * inner["C"] * inner["R"] * inner["S"]
    if tensor == "ofmap":
        return inner["N"] * inner["G"] * inner["M"] * inner["P"] * inner["Q"]
    return (inner["N"] * inner["G"] * inner["C"]
            * _pattern_size((nest.stride[0], nest.dilation[0], 0, 0), (inner["P"], inner["R"]))
            * _pattern_size((nest.stride[1], nest.dilation[1], 0, 0), (inner["Q"], inner["S"])))


def level_extents(m: Mapping) -> dict[str, dict[str, int]]:
    """Per storage level, the iterations per dim one instance's tile spans."""
    return {
        "rf": {d: m.factors["rf"][d] for d in DIMS},
        "glb": {d: m.extent(d, ("glb", "rows", "cols", "rf")) for d in DIMS},
    }


def fits(nest: LoopNest, arch: Architecture, m: Mapping) -> str | None:
    """Check array size and buffer capacities; ``None`` if the mapping fits, else why not."""
    if m.spatial("rows") > arch.rows or m.spatial("cols") > arch.cols:
        return f"uses {m.spatial('rows')}x{m.spatial('cols')} PEs of a {arch.rows}x{arch.cols} array"
    ext = level_extents(m)
    rf_copies = 2 if arch.rf_double_buffered else 1
    glb_copies = 2 if arch.glb_double_buffered else 1
    rf = {t: tile_words(nest, t, ext["rf"]) * rf_copies for t in TENSORS}
    if arch.rf_words is not None:
        for t in TENSORS:
            if rf[t] > arch.rf_words[t]:
                return f"RF {t} tile of {rf[t]} words (x{rf_copies} buffers) exceeds {arch.rf_words[t]}"
    ref = arch.word_bits["ifmap"]
    if arch.rf_words is None:
        used = sum(rf[t] * arch.word_bits[t] for t in TENSORS) / ref
        if used > arch.rf_shared_words:
            return f"RF tiles of {used:g} words exceed the shared {arch.rf_shared_words}"
    glb_bits = glb_copies * sum(tile_words(nest, t, ext["glb"]) * arch.word_bits[t] for t in TENSORS)
    if glb_bits > arch.glb_words * ref:
        return f"GLB tiles of {glb_bits // ref} words exceed {arch.glb_words}"
    return None


@lru_cache(maxsize=4096)
def valid_macs(nest: LoopNest) -> int:
    """MACs whose ifmap operand is a real word (not a padding zero); closed form, O(padding) time."""
    d = nest.dims
    pr = window_pairs(nest.stride[0], nest.dilation[0], nest.padding[0], nest.H, d["P"], d["R"])
    qs = window_pairs(nest.stride[1], nest.dilation[1], nest.padding[2], nest.W, d["Q"], d["S"])
    return d["N"] * d["G"] * d["M"] * d["C"] * pr * qs


def access_counts(nest: LoopNest, m: Mapping, noc_types: dict[str, str] | None = None) -> AccessCounts:
    """Exact access counts of a mapped layer, per storage level, tensor and action.

    ``noc_types`` gives each tensor's network (``multicast``, ``unicast`` or
    ``systolic``; default multicast).  A unicast network sends one GLB read
    per receiving PE; multicast and systolic (neighbour forwarding) networks
    read a word once per step for all the PEs that need it.

    Raises:
        ValueError: the mapping's factors do not multiply to the layer's bounds.
    """
    m.check(nest)
    strides = loop_strides(m)
    macs = nest.macs
    ext = level_extents(m)
    rf_outer = outer_loops(m, ("dram", "glb"), strides)
    glb_outer = outer_loops(m, ("dram",), strides)
    spatial = {d: tuple((m.factors[a][d], strides[a][d]) for a in ("rows", "cols") if m.factors[a][d] > 1)
               for d in DIMS}
    counts = AccessCounts(macs=macs, levels={l: {} for l in STORAGE})
    rho = 1
    for a in ("rows", "cols"):
        for d in DIMS:
            if d not in RELEVANT["ofmap"]:
                rho *= m.factors[a][d]

    for t in TENSORS:
        rf_st = analyse(nest, t, rf_outer, ext["rf"], spatial)
        glb_st = analyse(nest, t, glb_outer, ext["glb"], {})
        rf, glb, dram = LevelCounts(), LevelCounts(), LevelCounts()
        noc = NocCounts()
        if t != "ofmap":
            rf.reads = macs if t == "filter" else valid_macs(nest)
            rf.fills = rf_st.pe_fills
            unicast = (noc_types or {}).get(t) == "unicast"
            glb.reads = rf_st.pe_fills if unicast else rf_st.union_fills
            glb.fills = glb_st.pe_fills
            dram.reads = glb_st.pe_fills
            noc.words = rf_st.pe_fills
            noc.transfers = glb.reads
        else:
            e, dist = rf_st.pe_fills, rf_st.distinct
            refetch = (e - dist) // rho
            rf.updates = macs
            rf.fills = refetch
            rf.drains = e
            rf.rmw_reads = macs - (e - refetch)
            eg, dg = glb_st.pe_fills, glb_st.distinct
            glb.updates = e // rho
            glb.reads = refetch
            glb.fills = eg - dg
            glb.drains = eg
            dram.reads = eg - dg
            dram.updates = eg
            noc.words = e + refetch
            noc.transfers = e // rho + refetch
            noc.reduction_adds = e - e // rho
        counts.first_tile_words[t] = glb_st.first_pe if t != "ofmap" else 0
        if t == "ofmap":
            counts.last_drain_words = tile_words(nest, "ofmap", ext["glb"])
        counts.levels["rf"][t] = rf
        counts.levels["glb"][t] = glb
        counts.levels["dram"][t] = dram
        counts.noc[t] = noc
    return counts


def latency(nest: LoopNest, arch: Architecture, m: Mapping, counts: AccessCounts) -> Latency:
    """Analytical latency; see :class:`Latency`.  Cycles are integers.

    GLB bandwidth is in words of the ifmap's width (a 32-bit psum takes four
    8-bit port slots); each NoC link's bandwidth is in words of its own tensor,
    and the psum link carries its bandwidth in each direction (psums fetched
    back in, psums collected out), as Eyeriss's separate GIN and GON do.
    """
    compute = m.temporal_steps
    bits = arch.word_bits
    dram_bytes = sum(
        (counts.levels["dram"][t].reads + counts.levels["dram"][t].updates) * bits[t] / 8 for t in TENSORS
    )
    ref = bits["ifmap"]
    bounds = {
        "compute": compute,
        "dram": _ceil(dram_bytes / arch.dram_bw_bytes_per_cycle),
        "glb_read": _ceil(sum(counts.levels["glb"][t].read_words * bits[t] / ref for t in TENSORS)
                          / arch.glb_read_bw),
        "glb_write": _ceil(sum(counts.levels["glb"][t].write_words * bits[t] / ref for t in TENSORS)
                           / arch.glb_write_bw),
    }
    for t in ("filter", "ifmap"):
        bounds[f"noc_{t}"] = _ceil(counts.noc[t].transfers / arch.noc[t].bw_words)
    # psums travel in (fetched back) and out (collected) on separate directions (Eyeriss: GIN and GON)
    psum_in = counts.levels["rf"]["ofmap"].fills
    psum_out = counts.levels["glb"]["ofmap"].updates
    bounds["noc_ofmap"] = _ceil(max(psum_in, psum_out) / arch.noc["ofmap"].bw_words)
    bound_by = max(bounds, key=lambda k: (bounds[k], k == "compute"))
    array = max(v for k, v in bounds.items() if k != "dram")
    bw = arch.dram_bw_bytes_per_cycle
    if arch.glb_double_buffered:
        fill = _ceil(sum(counts.first_tile_words[t] * bits[t] / 8 for t in TENSORS) / bw)
        drain = _ceil(counts.last_drain_words * bits["ofmap"] / 8 / bw)
        cycles = max(array, bounds["dram"]) + fill + drain
    else:
        cycles = array + bounds["dram"]
    return Latency(cycles=cycles, compute_cycles=compute, bounds=bounds, bound_by=bound_by)


def dram_bytes(arch: Architecture, counts: AccessCounts) -> int:
    """Bytes moved to and from DRAM (reads + writes, all tensors)."""
    return int(sum((counts.levels["dram"][t].reads + counts.levels["dram"][t].updates) * arch.word_bits[t] / 8
                   for t in TENSORS))
