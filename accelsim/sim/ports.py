"""Port and link limits the pass level charges: each level's read and write ports, banks, NoC links, DRAM.

A level's port is shared by its partitions (``read_bw_words`` given once),
each partition's share being its banks over the level's banks, or one port
per partition (given per partition key).  Within a partition of several
tensors with at least as many banks as tensors, every tensor owns whole
banks in proportion to its tile (at least one each; largest remainders
first, ties in tensor order) and reads only those: demand out of proportion
to the allocation stalls on its banks (the bank-conflict part of the ``glb``
stall cause).  Writes (fills, psum collection) use the whole write port.  With fewer banks the partition's tensors pool them.  Port
bandwidth is per instance; a transfer's words spread evenly over the active
instances of the level.  Words of wider tensors take proportionally more of
a port (in words of the partition's width).  An ofmap write buffer has its
own read and write ports; each word passing through uses both.
"""

from __future__ import annotations

from ..arch.spec import Architecture
from ..cost.fits import bank_shares, partition_ref_bits
from ..mapping.mapping import Mapping
from ..workload.loopnest import LoopNest


class Ports:
    """Per (level, tensor, side): the port group and its bandwidth (words of the partition's width per cycle)."""

    def __init__(self, nest: LoopNest, arch: Architecture, m: Mapping):
        self.arch = arch
        self.groups: dict = {}
        self.active = {lv.index: max(1, m.used(m.spatial_between(lv.index, None))) for lv in arch.onchip}
        for lv in arch.onchip:
            ext = m.tile_extent(lv.index)
            total_banks = sum(p.banks for p in lv.partitions)
            for side in ("read", "write"):
                shared = lv.read_bw if side == "read" else lv.write_bw
                for p in lv.partitions:
                    own = p.read_bw if side == "read" else p.write_bw
                    bw = own if own is not None else (shared * p.banks / total_banks if shared is not None else None)
                    if bw is None:
                        continue
                    ref = partition_ref_bits(lv.word_bits, p.tensors)
                    shares = bank_shares(nest, ext, p) if (
                        side == "read" and len(p.tensors) > 1 and p.banks >= len(p.tensors)) else None
                    for t in p.tensors:
                        if shares:
                            self.groups[(lv.index, t, side)] = ((lv.index, t, side), bw * shares[t], ref)
                        else:
                            self.groups[(lv.index, t, side)] = ((lv.index, "+".join(p.tensors), side), bw, ref)
            wb = lv.write_buffer
            if wb is not None:  # its own ports: written from the array side, read out towards the parent
                for side, bw in (("read", wb.read_bw), ("write", wb.write_bw)):
                    if bw is not None:
                        self.groups[(lv.index, "ofmap", side)] = ((lv.index, "write_buffer", side), bw, wb.bits)
        self.scale: dict = {}  # (level, tensor) -> bits carried per dense word (sparse operands)
        self.n_groups: dict = {}
        for (level, _, side), g in self.groups.items():
            self.n_groups.setdefault((level, side), set()).add(g[0])

    def charge(self, demand: dict, level: int, tensor: str, side: str, words: float) -> None:
        """Add the cycles ``words`` of ``tensor`` take on ``level``'s ``side`` port to ``demand`` (by group)."""
        g = self.groups.get((level, tensor, side))
        if g is None or not words:
            return
        key, bw, ref = g
        bits = self.arch.levels[level].word_bits[tensor]
        if self.scale:
            words *= self.scale.get((level, tensor), 1.0)
        demand[key] = demand.get(key, 0.0) + words * bits / ref / self.active[level] / bw

    def name(self, key) -> str:
        """Resource name of a port group: ``<level>_<side>`` (one group) or ``<level>_<tensors>_<side>``."""
        level, what, side = key
        name = self.arch.levels[level].name
        return f"{name}_{side}" if len(self.n_groups[(level, side)]) == 1 else f"{name}_{what}_{side}"
