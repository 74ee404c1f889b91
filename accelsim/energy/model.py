"""Energy = sum over levels and tensors of access count x energy per action.

Per the project's design notes: levels MAC, RF, NoC, GLB, DRAM; energy in pJ.  Energy per word
in the arch file is for a word of the ifmap's width; a tensor with wider
words (e.g. 32-bit psums next to 8-bit operands) costs proportionally more
per word.  Reads, read-modify-write reads and drains cost the level's read
energy; fills and updates its write energy.  NoC: every word delivered to or
collected from a PE costs ``noc_word_pj``; every psum combined across PEs
(spatial reduction) costs one add of ``reduce_add_pj`` -- never free.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.spec import Architecture
from ..cost.model import AccessCounts
from ..workload.loopnest import TENSORS

LEVEL_NAMES = ("mac", "rf", "noc", "glb", "dram")



@dataclass
class Energy:
    """Energy breakdown in pJ.

    Attributes:
        by_level_tensor: ``{level: {tensor: pJ}}``; level ``mac`` has the single key ``"mac"``.
    """

    by_level_tensor: dict[str, dict[str, float]]

    @property
    def total_pj(self) -> float:
        return sum(sum(v.values()) for v in self.by_level_tensor.values())

    def level_pj(self, level: str) -> float:
        return sum(self.by_level_tensor[level].values())

    def as_dict(self) -> dict:
        return {
            "total_pj": self.total_pj,
            "by_level_pj": {l: self.level_pj(l) for l in LEVEL_NAMES},
            "by_level_tensor_pj": self.by_level_tensor,
        }


def energy(arch: Architecture, counts: AccessCounts) -> Energy:
    """Energy of one mapped layer from its access counts (pJ)."""
    ref = arch.word_bits["ifmap"]
    out: dict[str, dict[str, float]] = {"mac": {"mac": counts.macs * arch.mac_pj}}
    for lvl, e in (("rf", arch.rf), ("glb", arch.glb), ("dram", arch.dram)):
        out[lvl] = {}
        for t in TENSORS:
            c = counts.levels[lvl][t]
            w = arch.word_bits[t] / ref
            out[lvl][t] = w * (c.read_words * e.read_pj + c.write_words * e.write_pj)
    out["noc"] = {}
    add_pj = arch.reduce_add_pj
    for t in TENSORS:
        c = counts.noc[t]
        out["noc"][t] = arch.word_bits[t] / ref * c.words * arch.noc_word_pj + c.reduction_adds * add_pj
    return Energy({l: out[l] for l in LEVEL_NAMES})
