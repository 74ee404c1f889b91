"""Analytical cost model: exact access counts per storage level and tensor (buffer fits: :mod:`.fits`).

Counting conventions (the project's design notes, "Counting accesses", which
follow Timeloop), for each tensor along the chain of levels that keep it
(:mod:`.traffic`; a level that does not keep a tensor has no counts for it):

* Read-only tensors (filter, ifmap): ``fills`` = new words entering a
  level's tiles from its parent keeper (sliding-window overlap kept);
  ``reads`` = words handed to the child keeper (after multicast among sibling
  instances, unless the link is unicast), or at the innermost keeper the
  MAC's operand reads (padding zeros excluded for the ifmap; one read serves
  the MAC units of a fan-out below the level that share the operand).
* Ofmap: ``updates`` = psums arriving from the child keeper (after spatial
  reduction), or at the innermost keeper from the MACs; ``fills`` = psums
  fetched back from the parent when a tile is revisited (a revisited psum
  goes back to one instance of a spatial-reduction group; the others start
  at zero); ``drains`` = words sent up when a tile leaves (an update at the
  parent; charged as reads of the child); ``reads`` = psums handed back to a
  child that revisits a tile (= the child's fills).  Only the innermost
  keeper accumulates in place: its ``rmw_reads`` are the psum reads of
  read-modify-write, = updates - psums that start fresh (Timeloop's "reads =
  updates - first writes").
* A write buffer (a level that streams the ofmap up instead of keeping it):
  every word passing from the keeper below to the keeper above is an
  ``update`` of the buffer and a ``drain`` out of it.
* NoC, per carrying level and tensor: ``words`` delivered to or collected
  from children (one per child endpoint), ``transfers`` on the parent's side
  (multicast = one), ``reduction_adds`` for psums combined between children.

All counts are totals over every instance of a level (x active instances).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import DIMS, RELEVANT, TENSORS, LoopNest
from .coordinate import window_pairs
from .fits import tile_words
from .sparse import Sparsity, scaled_counts, sparsity
from .traffic import hops, loop_strides

ACTIONS = ("reads", "fills", "updates", "rmw_reads", "drains")


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
    """NoC traffic of one tensor on one level's network: child-endpoint words, parent-side transfers, adds."""

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
        levels: ``{level name: {tensor: LevelCounts}}``, innermost level first,
            only the tensors each level keeps.
        noc: ``{level name: {tensor: NocCounts}}`` for the levels whose network carries traffic.
        hops: per tensor, the :class:`~accelsim.cost.traffic.Hop` records the counts come from.
        sparsity: the statistical sparse accounting (:class:`~accelsim.cost.sparse.Sparsity`), None when
            the operands are dense and the arch has no sparse feature.
    """

    macs: int
    levels: dict[str, dict[str, LevelCounts]] = field(default_factory=dict)
    noc: dict[str, dict[str, NocCounts]] = field(default_factory=dict)
    hops: dict = field(default_factory=dict, repr=False)
    sparsity: Sparsity | None = None
    context: tuple = field(default=(), repr=False)  # (arch, nest) for :attr:`scaled`

    @cached_property
    def scaled(self) -> dict:
        """``{level: {tensor: {action: words}}}``: the counts in dense-word equivalents of the bits they
        carry (:func:`~accelsim.cost.sparse.scaled_counts`; the counts themselves when dense)."""
        if self.sparsity is None:
            return {l: {t: c.as_dict() for t, c in v.items()} for l, v in self.levels.items()}
        arch, nest = self.context
        return scaled_counts(arch, nest, self, self.sparsity)

    @cached_property
    def scaled_time(self) -> dict:
        """:attr:`scaled` as ports see it: gated reads still take their slot (only skipped ones do not)."""
        if self.sparsity is None or not any(ts.read_share < 1.0 and not ts.read_skip
                                            for per in self.sparsity.levels.values() for ts in per.values()):
            return self.scaled  # no gated read: ports see what energy sees
        arch, nest = self.context
        return scaled_counts(arch, nest, self, self.sparsity, timing=True)

    def as_dict(self) -> dict:
        return {
            "macs": self.macs,
            "levels": {l: {t: c.as_dict() for t, c in v.items()} for l, v in self.levels.items()},
            "noc": {l: {t: c.as_dict() for t, c in v.items()} for l, v in self.noc.items()},
        }


@lru_cache(maxsize=4096)
def valid_macs(nest: LoopNest) -> int:
    """MACs whose ifmap operand is a real word (not a padding zero); closed form, O(padding) time."""
    d = nest.dims
    pr = window_pairs(nest.stride[0], nest.dilation[0], nest.padding[0], nest.H, d["P"], d["R"])
    qs = window_pairs(nest.stride[1], nest.dilation[1], nest.padding[2], nest.W, d["Q"], d["S"])
    return d["N"] * d["G"] * d["M"] * d["C"] * pr * qs


def valid_digit_tuples(m: Mapping, dim: str, bound: int, skip: set, strides) -> int:
    """Value tuples of ``dim``'s loop digits outside the slots named in ``skip`` that leave at least one
    valid index (< ``bound``) for the skipped digits: their mixed-radix sum, skipped digits at 0, is
    below the bound.  With perfect factors, ``bound`` / (product of the skipped factors)."""
    kept, skipped = 1, 1
    for s in m.slots:
        if s.name in skip:
            skipped *= m.factors[s.name][dim]
        else:
            kept *= m.factors[s.name][dim]
    if kept * skipped == bound:
        return kept
    digits = sorted(((strides[s.name][dim], m.factors[s.name][dim]) for s in m.slots
                     if s.name not in skip and m.factors[s.name][dim] > 1), reverse=True)
    return _count_below(tuple(digits), bound)


def _count_below(digits, bound: int) -> int:
    """Tuples of mixed-radix ``digits`` ``(stride, factor)`` (largest stride first, each stride above
    the largest sum of the digits after it) whose sum is below ``bound``; O(len(digits))."""
    n = 0
    for i, (st, f) in enumerate(digits):
        rest = 1
        for _, g in digits[i + 1:]:
            rest *= g
        q = bound // st
        if q >= f:
            return n + f * rest
        n += q * rest
        bound -= q * st
    return n + (1 if bound > 0 else 0)


def mac_served(nest: LoopNest, m: Mapping, below, tensor: str, strides) -> int:
    """Words the innermost keeper of ``tensor`` exchanges with the MACs (operand reads, or psum updates).

    One access per valid MAC, shared by the MAC units of the fan-outs
    ``below`` the keeper that differ only in dims the tensor does not depend
    on (one read feeds them all, or a spatial reduction feeds one update).
    Per dim the tensor depends on, every valid index counts (the ifmap's
    padding zeros excluded, :func:`valid_macs`); per other dim, the digit
    tuples outside ``below`` that have a valid index
    (:func:`valid_digit_tuples`).  With perfect factors: MACs // (product of
    those shared factors).
    """
    d = nest.dims
    skip = {s.name for s in below}
    n = valid_macs(nest) if tensor == "ifmap" else nest.macs
    for dim in DIMS:
        if dim not in RELEVANT[tensor]:
            n = n // d[dim] * valid_digit_tuples(m, dim, d[dim], skip, strides)
    return n


def access_counts(nest: LoopNest, arch: Architecture, m: Mapping) -> AccessCounts:
    """Exact access counts of a mapped layer, per storage level, tensor and action (module doc).

    Raises:
        ValueError: the mapping's factors do not multiply to the layer's bounds.
    """
    m.check(nest)
    macs = nest.macs
    hs = hops(nest, arch, m)
    counts = AccessCounts(macs=macs, hops=hs, sparsity=sparsity(nest, arch, m), context=(arch, nest))
    for lv in arch.levels:
        counts.levels[lv.name] = {t: LevelCounts() for t in lv.keeps}
        if lv.write_buffer is not None:
            counts.levels[lv.name]["ofmap"] = LevelCounts()
    name = [lv.name for lv in arch.levels]

    def noc(level: int, t: str) -> NocCounts:
        return counts.noc.setdefault(name[level], {}).setdefault(t, NocCounts())

    strides = loop_strides(m)
    for t in TENSORS:
        chain = arch.keepers(t)
        lv = counts.levels
        inner = chain[0]
        below = m.spatial_between(-1, inner)  # fan-outs between the innermost keeper and the MACs
        served = mac_served(nest, m, below, t, strides)
        if t != "ofmap":
            lv[name[inner]][t].reads = served
            if below:
                n = noc(max(s.level for s in below), t)
                n.words += macs if t == "filter" else valid_macs(nest)
                n.transfers += served
            for h in hs[t]:
                lv[name[h.child]][t].fills = h.stats.pe_fills
                lv[name[h.parent]][t].reads += h.parent_reads
                if h.link is not None:
                    n = noc(h.link, t)
                    n.words += h.stats.pe_fills
                    n.transfers += h.parent_reads
            continue
        # ofmap: MAC results into the innermost keeper, then up the chain
        first = lv[name[inner]][t]
        first.updates = served
        if below:
            n = noc(max(s.level for s in below), t)
            n.words += macs
            n.transfers += served
            n.reduction_adds += macs - served
        for k, h in enumerate(hs[t]):
            e, up = h.stats.pe_fills, h.stats.union_fills  # psums into the children; after the union per group
            refetch = up - h.stats.union_distinct
            c, p = lv[name[h.child]][t], lv[name[h.parent]][t]
            c.fills = refetch
            c.drains = e
            if k == 0:
                c.rmw_reads = c.updates - (e - refetch)
            p.updates += up
            p.reads += refetch
            if h.link is not None:
                n = noc(h.link, t)
                n.words += e + refetch
                n.transfers += up + refetch
                n.reduction_adds += e - up
        if not hs[t]:  # the MACs accumulate straight into DRAM
            first.rmw_reads = first.updates - tile_words(nest, "ofmap", nest.dims)
        # words on their way up pass through the write buffers between two keepers
        for child, parent, words in [(-1, inner, served)] + [(h.child, h.parent, h.stats.union_fills)
                                                              for h in hs[t]]:
            for b in arch.write_buffers(child, parent):
                wb = lv[name[b]][t]
                wb.updates += words
                wb.drains += words
    return counts


def dram_bytes(arch: Architecture, counts: AccessCounts) -> int:
    """Bytes moved to and from DRAM (reads + writes, all tensors; compressed ones as encoded, metadata
    included, :mod:`.sparse`)."""
    if counts.sparsity is None:
        d = counts.levels[arch.dram.name]
        return int(sum((d[t].reads + d[t].rmw_reads + d[t].updates + d[t].fills) * arch.word_bits[t] / 8
                       for t in TENSORS if t in d))
    d = counts.scaled[arch.dram.name]
    return int(sum((d[t]["reads"] + d[t]["rmw_reads"] + d[t]["updates"] + d[t]["fills"]) * arch.word_bits[t] / 8
                   for t in TENSORS if t in d))
