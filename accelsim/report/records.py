"""Typed report records: what one run reports, read by attribute; ``to_dict()`` gives the JSON form.

Units are in the field names (``cycles``, ``energy_pj``, ``dram_bytes``, ``pj_per_mac``).  The JSON
schema is :data:`accelsim.report.build.SCHEMA`; every key of the JSON form is a field here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


class _Record:
    def to_dict(self) -> dict:
        """The JSON-able form: one key per field, nested records converted."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, _Record):
                v = v.to_dict()
            elif isinstance(v, list):
                v = [x.to_dict() if isinstance(x, _Record) else x for x in v]
            out[f.name] = v
        return out


@dataclass
class LayerReport(_Record):
    """One mapped layer.

    Attributes:
        cycles, compute_cycles, stall_cycles (cycles, from the event simulator); stall_cycles_by_cause;
        bound_by: the largest of compute and the stall causes; busy_cycles_by_resource.
        model_cycles, model_bound_by, model_bound_cycles: the mapper's analytical latency.
        active_pes: PEs of the array level's fan-out used; active_macs: MAC units used;
        spatial_utilization = active_macs / MAC units; utilization = MACs / (peak MACs per cycle x
        cycles), with sparse operands the effective MACs (non-zero pairs) instead of the MACs, and a
        Cartesian-product unit counting its multipliers in the peak.
        accesses_words: per level and tensor (words); dram_bytes; energy_pj, energy_by_level_pj
        (MAC, each level by name, NoC), energy_by_level_tensor_pj, pj_per_mac.
        sparse: with sparse operands or sparse features (None otherwise): ``mode`` (statistical),
        ``densities`` per tensor with their source, ``effective_macs`` (non-zero pairs),
        ``mac_energy_share``, ``compute_share``, ``metadata_bytes`` per level, ``formats`` and
        ``fit_policy``, ``imbalance_factor`` (max / mean PE work; 1.0: the statistical mode spreads work
        evenly), and against a dense baseline ``dense`` (its cycles, energy and DRAM bytes, and
        ``baseline``: ``same mapping``, the run's own mappings with dense operands and no sparse
        features, the default when some density is below 1 or the mode is actual; ``searched``, the
        dense run's own search, with ``--compare-dense``), ``speedup`` and ``energy_saving``
        (1 - energy / dense energy).
    """

    name: str
    type: str
    shape: dict
    shape_text: str
    in_shape: str | None
    out_shape: str
    macs: int
    params: int
    mapping: dict
    search: dict
    cycles: int
    compute_cycles: int
    stall_cycles: int
    stall_cycles_by_cause: dict
    bound_by: str
    busy_cycles_by_resource: dict
    simulation: dict
    model_cycles: int
    model_bound_by: str
    model_bound_cycles: dict
    active_pes: int
    active_macs: int
    spatial_utilization: float
    utilization: float
    accesses_words: dict
    dram_bytes: int
    energy_pj: float
    energy_by_level_pj: dict
    energy_by_level_tensor_pj: dict
    pj_per_mac: float
    sparse: dict | None = None


@dataclass
class Totals(_Record):
    """Network totals: sums over the mapped layers (cycles, pJ, bytes); latency_s at the arch's clock;
    ``sparse``: effective MACs, and with ``--compare-dense`` the dense run's totals, speedup and saving."""

    layers: int
    macs: int
    cycles: int
    compute_cycles: int
    stall_cycles_by_cause: dict
    latency_s: float
    utilization: float
    energy_pj: float
    energy_by_level_pj: dict
    pj_per_mac: float
    edp_pj_cycles: float
    dram_bytes: int
    mappings_evaluated: int
    sim_events: int
    wall_s: float
    sparse: dict | None = None


@dataclass
class UnmappedLayer(_Record):
    """A layer without MACs (pool, add): listed, not mapped."""

    name: str
    type: str
    out_shape: str
    reason: str


@dataclass
class Report(_Record):
    """A whole run: the resolved inputs, one :class:`LayerReport` per mapped layer, the totals."""

    schema: str
    accelsim_version: str
    python: str
    inputs: dict
    layers: list
    unmapped_layers: list
    totals: Totals
    fusion: dict | None = None  # with --fuse: the fused edges and what they saved (accelsim.fusion)

    def to_dict(self) -> dict:
        out = super().to_dict()
        if out["fusion"] is None:  # a run without --fuse reports as before
            del out["fusion"]
        return out
