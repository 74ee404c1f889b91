"""Report: one versioned JSON-able dict; CSV and the terminal table are views of it.

Every figure carries its unit in its name (``cycles``, ``energy_pj``,
``dram_bytes``).  Schema version: :data:`SCHEMA`.
"""

from __future__ import annotations

import csv
import io
import platform

from .. import __version__
from ..cost.model import dram_bytes
from ..energy.model import MAC, NOC
from ..pipeline import NetworkResult
from .records import LayerReport, Report, Totals, UnmappedLayer

SCHEMA = "accelsim.report/4"


def energy_entries(arch) -> list[str]:
    """Entries of the energy breakdown: ``MAC``, each storage level by its name (innermost first), ``NoC``."""
    return [MAC] + [lv.name for lv in arch.levels] + [NOC]


def layer_record(lr, arch) -> dict:
    """One layer's entry of the report as JSON-able data (:func:`layer_report`)."""
    return layer_report(lr, arch).to_dict()


def layer_report(lr, arch, dense: dict | None = None) -> LayerReport:
    """One layer's :class:`~accelsim.report.records.LayerReport` (see module doc for units); ``dense``:
    per layer name, the dense run's figures (``--compare-dense``)."""
    ev = lr.result.best
    layer, nest = lr.layer, lr.layer.nest
    lat = ev.latency
    sim = lr.sim
    stalls = dict(sim.stall_cycles)
    parts = {"compute": sim.compute_cycles, **stalls}
    bound_by = max(parts, key=lambda k: (parts[k], k == "compute"))
    macs = nest.macs
    units = arch.peak_macs_per_cycle
    e = ev.energy
    m = ev.mapping
    sparse = sparse_record(ev.counts, arch, layer, dense.get(layer.name) if dense else None, sim.actual)
    work = sparse["effective_macs"] if sparse is not None else macs  # MACs worth doing
    return LayerReport(**{
        "name": layer.name,
        "type": layer.type,
        "shape": {**nest.dims, "H": nest.H, "W": nest.W, "stride": list(nest.stride),
                  "dilation": list(nest.dilation), "padding": list(nest.padding)},
        "shape_text": nest.describe(),
        "in_shape": str(layer.in_shape) if layer.in_shape else None,
        "out_shape": str(layer.out_shape),
        "macs": macs,
        "params": layer.params,
        "mapping": {**m.to_dict(), "loop_nest": m.to_text(arch_keeps(arch), nest.dims),
                    "partial_tiles": {d: {"last_tile": r, "full_tile": f} for d, (r, f) in
                                      m.partial_tiles(nest.dims).items()},
                    "tensor_levels": arch.tensors_located()},
        "search": {**lr.result.summary(), "reused_from": lr.reused_from},
        "cycles": sim.cycles,
        "compute_cycles": sim.compute_cycles,
        "stall_cycles": sum(stalls.values()),
        "stall_cycles_by_cause": stalls,
        "bound_by": bound_by,
        "busy_cycles_by_resource": dict(sim.busy_cycles),
        "simulation": {"events": sim.events, "tiles": sim.tiles, "passes": sim.passes, "exact": sim.exact,
                       "wall_s": sim.wall_s, "moved_words": sim.moved},
        "model_cycles": lat.cycles,
        "model_bound_by": lat.bound_by,
        "model_bound_cycles": lat.bounds,
        "active_pes": m.used(m.spatial_between(arch.array_level - 1, arch.array_level)),
        "active_macs": m.active_macs,
        "spatial_utilization": m.active_macs / arch.mac_units,
        "utilization": work / (units * sim.cycles),
        "accesses_words": ev.counts.as_dict(),
        "dram_bytes": dram_bytes(arch, ev.counts),
        "energy_pj": e.total_pj,
        "energy_by_level_pj": {l: e.level_pj(l) for l in energy_entries(arch)},
        "energy_by_level_tensor_pj": e.by_level_tensor,
        "pj_per_mac": e.total_pj / macs,
        "sparse": sparse,
    })


def sparse_record(counts, arch, layer, dense_layer=None, actual=None) -> dict | None:
    """A layer's ``sparse`` entry (:class:`~accelsim.report.records.LayerReport`); None when dense."""
    sp = counts.sparsity
    if sp is None and actual is None:
        return None
    if sp is None:  # actual mode on dense operands and a dense arch: the real work only
        return {"mode": "actual", "densities": layer.density.to_dict() if layer.density else None,
                "effective_macs": actual["effective_macs"], "imbalance_factor": actual["imbalance_factor"],
                "actual": actual}
    meta = {}
    for lv in arch.levels:
        b = 0.0
        for t, c in counts.levels[lv.name].items():
            share = sp.of(lv.name, t).metadata_share
            if share:
                b += sum(c.as_dict().values()) * share * lv.word_bits[t] / 8
        meta[lv.name] = b
    out = {
        "mode": "statistical",
        "densities": layer.density.to_dict() if layer.density else None,
        "effective_macs": sp.effective_macs,
        "mac_energy_share": sp.mac_energy_share,
        "compute_share": sp.compute_share,
        "metadata_bytes": meta,
        "formats": {lv.name: dict(lv.formats) for lv in arch.levels if lv.formats},
        "fit_policy": sp.fit,
        "imbalance_factor": 1.0,
    }
    if actual is not None:
        out.update(mode="actual", effective_macs=actual["effective_macs"],
                   imbalance_factor=actual["imbalance_factor"], actual=actual)
    if dense_layer is not None:
        out["dense"] = dense_layer
        out["speedup"] = dense_layer["cycles"] / dense_layer["sparse_cycles"] if dense_layer["sparse_cycles"] else None
        out["energy_saving"] = 1 - dense_layer["sparse_energy_pj"] / dense_layer["energy_pj"] \
            if dense_layer["energy_pj"] else None
    return out


def build_report(res: NetworkResult, dense: NetworkResult | None = None) -> dict:
    """The full report of a run as JSON-able data (:func:`make_report`'s ``to_dict()``)."""
    return make_report(res, dense).to_dict()


def _dense_figures(res: NetworkResult, dense: NetworkResult) -> dict:
    """Per layer name, the dense run's cycles, energy and DRAM bytes beside the sparse run's."""
    mine = {lr.layer.name: lr for lr in res.layers}
    out = {}
    for lr in dense.layers:
        s = mine.get(lr.layer.name)
        if s is None:
            continue
        out[lr.layer.name] = {"cycles": lr.sim.cycles, "energy_pj": lr.result.best.energy.total_pj,
                              "dram_bytes": dram_bytes(dense.arch, lr.result.best.counts),
                              "sparse_cycles": s.sim.cycles, "sparse_energy_pj": s.result.best.energy.total_pj,
                              "baseline": dense.baseline or "searched"}
    return out


def make_report(res: NetworkResult, dense: NetworkResult | None = None) -> Report:
    """The full report of a run as typed records; ``dense``: the same run with dense operands and no
    sparse features (``--compare-dense``), set beside each layer and the totals."""
    arch = res.arch
    figs = _dense_figures(res, dense) if dense is not None else None
    layers = [layer_report(lr, arch, figs) for lr in res.layers]
    macs = sum(l.macs for l in layers)
    cycles = sum(l.cycles for l in layers)
    energy = sum(l.energy_pj for l in layers)
    by_level = {lv: sum(l.energy_by_level_pj[lv] for l in layers) for lv in energy_entries(arch)}
    causes = list(layers[0].stall_cycles_by_cause) if layers else []
    stalls = {c: sum(l.stall_cycles_by_cause[c] for l in layers) for c in causes}
    firsts = [l for l in layers if not l.search["reused_from"]]
    return Report(
        schema=SCHEMA,
        accelsim_version=__version__,
        python=platform.python_version(),
        inputs={
            "arch": arch.to_dict(),
            "workload": {"name": res.workload.name, "file": res.workload.path, "path": res.workload.resolved_path,
                         "source": res.workload.source,
                         "layers_in_file": len(res.workload.layers)},
            "dataflow": res.dataflow.to_dict(),
            "objective": res.objective,
            "search_budget": res.budget,
            "exact_simulation": res.exact,
            "mapping_file": ({"file": res.mapping_file.source, "path": res.mapping_file.path}
                             if res.mapping_file else None),
        },
        layers=layers,
        unmapped_layers=[UnmappedLayer(l.name, l.type, str(l.out_shape), "no MACs (not mapped)")
                         for l in res.unmapped],
        totals=Totals(
            layers=len(layers),
            macs=macs,
            cycles=cycles,
            compute_cycles=sum(l.compute_cycles for l in layers),
            stall_cycles_by_cause=stalls,
            latency_s=cycles / (arch.clock_mhz * 1e6),
            utilization=sum(l.sparse["effective_macs"] if l.sparse else l.macs for l in layers)
            / (arch.peak_macs_per_cycle * cycles) if cycles else 0.0,
            energy_pj=energy,
            energy_by_level_pj=by_level,
            pj_per_mac=energy / macs if macs else 0.0,
            edp_pj_cycles=energy * cycles,
            dram_bytes=sum(l.dram_bytes for l in layers),
            mappings_evaluated=sum(l.search["evaluated"] for l in firsts),
            sim_events=sum(l.simulation["events"] for l in firsts),
            wall_s=res.wall_seconds,
            sparse=_sparse_totals(layers, cycles, energy, figs),
        ),
        fusion=None if res.fused is None else {
            "edges": [e.as_dict() for e in res.fused],
            "dram_bytes_saved": sum(e.dram_bytes_saved for e in res.fused),
            "energy_saved_pj": sum(e.energy_saved_pj for e in res.fused),
            "note": "fused layers are mapped, costed and simulated again with the intermediate resident on "
                    "chip (DRAM does not keep it)",
        },
    )


def _sparse_totals(layers, cycles: int, energy: float, figs: dict | None) -> dict | None:
    sparse = [l for l in layers if l.sparse]
    if not sparse:
        return None
    out = {"effective_macs": sum(l.sparse["effective_macs"] for l in sparse) +
           sum(l.macs for l in layers if not l.sparse)}
    if figs:
        dc = sum(f["cycles"] for f in figs.values())
        de = sum(f["energy_pj"] for f in figs.values())
        out["dense"] = {"cycles": dc, "energy_pj": de, "dram_bytes": sum(f["dram_bytes"] for f in figs.values()),
                        "baseline": next(iter(figs.values()))["baseline"]}
        out["speedup"] = dc / cycles if cycles else None
        out["energy_saving"] = 1 - energy / de if de else None
    return out


STALL_CAUSES = ("fill", "dram", "glb", "noc", "pipeline", "drain")

def csv_fields(report: dict) -> list[str]:
    """Columns of ``layers.csv``: fixed figures, then one energy column per entry of the breakdown."""
    entries = list(report["totals"]["energy_by_level_pj"])
    sparse = SPARSE_COLUMNS if report["totals"].get("sparse") else []
    return (["layer", "type", "shape", "macs", "cycles", "compute_cycles", "stall_cycles"]
            + [f"stall_{c}_cycles" for c in STALL_CAUSES]
            + ["bound_by", "model_cycles", "active_pes", "utilization", "energy_pj", "pj_per_mac"]
            + [f"energy_{l}_pj" for l in entries]
            + ["dram_bytes", "mappings_evaluated", "search_exhaustive", "reused_from"] + sparse)


#: The sparse columns of ``layers.csv`` (only when the run has sparse operands or features).
SPARSE_COLUMNS = ["sparse_mode", "effective_macs", "metadata_bytes", "imbalance_factor", "speedup_vs_dense",
                  "energy_saving_vs_dense"]


def arch_keeps(arch) -> dict:
    """Per level name, the tensors it keeps (for the printed loop nest)."""
    return {lv.name: lv.keeps for lv in arch.levels}


def to_csv(report: dict) -> str:
    """``layers.csv``: one row per mapped layer (columns :func:`csv_fields`)."""
    buf = io.StringIO()
    fields = csv_fields(report)
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for l in report["layers"]:
        row = {
            "layer": l["name"], "type": l["type"], "shape": l["shape_text"], "macs": l["macs"],
            "cycles": l["cycles"], "compute_cycles": l["compute_cycles"], "stall_cycles": l["stall_cycles"],
            "bound_by": l["bound_by"], "model_cycles": l["model_cycles"], "active_pes": l["active_pes"], "utilization": f"{l['utilization']:.4f}",
            "energy_pj": f"{l['energy_pj']:.1f}", "pj_per_mac": f"{l['pj_per_mac']:.3f}",
            "dram_bytes": l["dram_bytes"], "mappings_evaluated": l["search"]["evaluated"],
            "search_exhaustive": l["search"]["exhaustive"], "reused_from": l["search"]["reused_from"] or "",
        }
        for c in STALL_CAUSES:
            row[f"stall_{c}_cycles"] = l["stall_cycles_by_cause"][c]
        for lv in report["totals"]["energy_by_level_pj"]:
            row[f"energy_{lv}_pj"] = f"{l['energy_by_level_pj'][lv]:.1f}"
        sp = l.get("sparse")
        if "sparse_mode" in fields and sp:
            row.update(sparse_mode=sp["mode"], effective_macs=f"{sp['effective_macs']:.0f}",
                       metadata_bytes=f"{sum(sp.get('metadata_bytes', {}).values()):.0f}",
                       imbalance_factor=f"{sp['imbalance_factor']:.4f}",
                       speedup_vs_dense=f"{sp['speedup']:.4f}" if sp.get("speedup") else "",
                       energy_saving_vs_dense=f"{sp['energy_saving']:.4f}" if sp.get("energy_saving") is not None
                       else "")
        w.writerow(row)
    return buf.getvalue()
