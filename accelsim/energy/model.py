"""Energy = sum over levels and tensors of access count x energy per action (pJ).

Per the project's design notes: every access costs its level's energy for
that tensor and action (:class:`~accelsim.arch.levels.ActionEnergy`, per word of
that tensor, vector entries already divided by their ``block``): reads,
read-modify-write reads and drains cost ``read_pj``; fills ``fill_pj``;
updates ``update_pj``.  MACs cost ``mac_pj`` each.  NoC: every word delivered
to or collected from a child costs the carrying link's ``energy_pj``; every
psum combined across children (spatial reduction) one ``reduce_add_pj`` --
never free.  The breakdown is keyed by the arch file's level names, with
``MAC`` and ``NoC`` as their own entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.spec import Architecture
from ..cost.model import AccessCounts

MAC = "MAC"
NOC = "NoC"


@dataclass
class Energy:
    """Energy breakdown in pJ.

    Attributes:
        by_level_tensor: ``{entry: {tensor: pJ}}``, entries ``MAC`` (single key
            ``mac``), each storage level by name (innermost first), and ``NoC``.
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
            "by_level_pj": {l: self.level_pj(l) for l in self.by_level_tensor},
            "by_level_tensor_pj": self.by_level_tensor,
        }


def energy(arch: Architecture, counts: AccessCounts) -> Energy:
    """Energy of one mapped layer from its access counts (pJ); with sparse operands or features, from
    their statistical scaling (``counts.sparsity``, :mod:`accelsim.cost.sparse`): compressed words and
    metadata, gated reads, and MACs that gate or skip (plus their checks)."""
    sp = counts.sparsity
    mac = counts.macs * arch.mac_pj if sp is None else counts.macs * sp.mac_energy_share * arch.mac_pj + sp.check_pj
    out: dict[str, dict[str, float]] = {MAC: {"mac": mac}}
    for lv in arch.levels:
        out[lv.name] = {}
        if sp is None:
            for t, c in counts.levels[lv.name].items():
                e = lv.energy[t]
                out[lv.name][t] = (c.reads + c.rmw_reads + c.drains) * e.read_pj + c.fills * e.fill_pj \
                    + c.updates * e.update_pj
            continue
        for t, c in counts.scaled[lv.name].items():  # dense-word equivalents of the bits moved
            e = lv.energy[t]
            out[lv.name][t] = (c["reads"] + c["rmw_reads"] + c["drains"]) * e.read_pj + c["fills"] * e.fill_pj \
                + c["updates"] * e.update_pj
    noc: dict[str, float] = {}
    for lname, per in counts.noc.items():
        links = arch.levels[arch.level_index(lname)].noc
        for t, c in per.items():
            link = links[t]
            noc[t] = noc.get(t, 0.0) + c.words * link.energy_pj + c.reduction_adds * link.reduce_add_pj
    out[NOC] = noc
    return Energy(out)
