"""Terminal table (rich) of a report: one row per layer, network totals last."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..errors import printable


def _si(x: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"


def _kind(l: dict) -> str:
    g, c = l["shape"]["G"], l["shape"]["C"]
    if l["type"] != "conv2d" or g == 1:
        return l["type"]
    return "dwconv" if c == 1 else "gconv"


def render_table(report: dict, console: Console) -> None:
    """Print the per-layer table and totals of ``report`` to ``console``."""
    inp = report["inputs"]
    entries = list(report["totals"]["energy_by_level_pj"])
    t = Table(
        title=Text(printable(f"{inp['workload']['name']} on {inp['arch']['name']} "
              f"({inp['arch']['pe_array']['rows']}x{inp['arch']['pe_array']['cols']} PEs, "
              f"{inp['arch'].get('precision_text', '')}, dataflow {inp['dataflow']['name']}, objective {inp['objective']})")),
        title_justify="left",
    )
    for col, just in (("layer", "left"), ("type", "left"), ("MACs", "right"), ("cycles", "right"),
                      ("stall %", "right"), ("bound by", "left"), ("util", "right"), ("energy µJ", "right"),
                      ("pJ/MAC", "right")):
        t.add_column(col, justify=just, no_wrap=True)
    for lv in entries:
        t.add_column(Text(printable(f"{lv} %")), justify="right")
    for l in report["layers"]:
        e = l["energy_pj"]
        t.add_row(
            Text(printable(l["name"])), _kind(l), _si(l["macs"]), _si(l["cycles"]),
            f"{100 * l['stall_cycles'] / l['cycles']:.0f}", l["bound_by"],
            f"{100 * l['utilization']:.1f}%", f"{e / 1e6:.2f}", f"{l['pj_per_mac']:.2f}",
            *[f"{100 * l['energy_by_level_pj'][lv] / e:.0f}" for lv in entries],
        )
    tot = report["totals"]
    e = tot["energy_pj"]
    t.add_section()
    t.add_row(
        "total", f"{tot['layers']}", _si(tot["macs"]), _si(tot["cycles"]),
        f"{100 * (1 - tot['compute_cycles'] / tot['cycles']):.0f}" if tot["cycles"] else "", "",
        f"{100 * tot['utilization']:.1f}%", f"{e / 1e6:.2f}", f"{tot['pj_per_mac']:.2f}",
        *[f"{100 * tot['energy_by_level_pj'][lv] / e:.0f}" if e else "0" for lv in entries],
        style="bold",
    )
    console.print(t)
    console.print(
        f"latency {tot['latency_s'] * 1e3:.3f} ms at {inp['arch']['clock_mhz']:g} MHz; "
        f"energy {e / 1e6:.2f} µJ; EDP {tot['edp_pj_cycles']:.3e} pJ·cycles; "
        f"DRAM {tot['dram_bytes'] / 1e6:.2f} MB; {tot['mappings_evaluated']} mappings evaluated "
        f"in {tot['wall_s']:.2f} s",
        markup=False,
    )
    st = tot["stall_cycles_by_cause"]
    if tot["cycles"]:
        console.print("stalls: " + ", ".join(f"{c} {100 * v / tot['cycles']:.1f}%" for c, v in st.items())
                      + f" of {tot['cycles']} cycles; {tot['sim_events']} events simulated", markup=False)
    if tot.get("sparse") and _sparse_news(report):
        _render_sparse(report, console)
    elif tot.get("sparse"):
        meta = sum(sum(l["sparse"]["metadata_bytes"].values()) for l in report["layers"] if l["sparse"])
        console.print(f"dense operands on an arch with sparse features: metadata {meta / 1e3:.1f} kB "
                      "(per layer in report.json)", markup=False)
    if report["unmapped_layers"]:
        un = report["unmapped_layers"]
        names = ", ".join(u["name"] for u in un[:12])
        if len(un) > 12:  # an unrolled recurrent net has one cell update per step
            kinds: dict = {}
            for u in un:
                kinds[u["type"]] = kinds.get(u["type"], 0) + 1
            names = (f"{len(un)} layers ({', '.join(f'{n} {k}' for k, n in kinds.items())}): {names}, ... "
                     "(all in report.json)")
        console.print(f"not mapped (no MACs): {printable(names)}", markup=False)
    fusion = report.get("fusion")
    if fusion is not None:
        edges = ", ".join(f"{e['producer']} -> {e['consumer']}" for e in fusion["edges"]) or "none fits"
        console.print(printable(f"fused ({len(fusion['edges'])}): {edges}; DRAM "
                                f"{fusion['dram_bytes_saved'] / 1e6:.2f} MB and "
                                f"{fusion['energy_saved_pj'] / 1e6:.2f} µJ saved"), markup=False)
    if inp["arch"]["defaults_used"]:
        console.print(f"defaults used (see accelsim/arch/energy_table.py): {', '.join(inp['arch']['defaults_used'])}",
                      markup=False)


def _sparse_news(report: dict) -> bool:
    """Whether the sparse table says more than "every operand dense": a density below 1, the actual
    mode, or a dense comparison."""
    tot = report["totals"]["sparse"]
    if "dense" in tot:
        return True
    for l in report["layers"]:
        sp = l["sparse"]
        if not sp:
            continue
        if sp["mode"] != "statistical" or any(v["density"] < 1.0 for v in (sp["densities"] or {}).values()):
            return True
    return False


def _render_sparse(report: dict, console: Console) -> None:
    """Per layer: densities, effective MACs, metadata bytes, imbalance, and against the dense run (if any)
    its cycles and energy, the speedup and the energy saving."""
    tot = report["totals"]["sparse"]
    cmp_ = "dense" in tot
    modes = {l["sparse"]["mode"] for l in report["layers"] if l["sparse"]}
    t = Table(title=f"sparse operands ({', '.join(sorted(modes))})", title_justify="left")
    cols = ["layer", "filter d", "ifmap d", "ofmap d", "effective MACs", "metadata kB", "imbalance"]
    if cmp_:
        cols += ["dense cycles", "speedup", "dense µJ", "energy saving"]
    for c in cols:
        t.add_column(c, justify="left" if c == "layer" else "right", no_wrap=True)
    for l in report["layers"]:
        sp = l["sparse"]
        if sp is None:
            continue
        d = sp["densities"] or {}
        row = [Text(printable(l["name"]))] + [f"{d[x]['density']:.3f}" if x in d else "" for x in
                                              ("filter", "ifmap", "ofmap")]
        row += [_si(sp["effective_macs"]), f"{sum(sp['metadata_bytes'].values()) / 1e3:.1f}",
                f"{sp['imbalance_factor']:.2f}"]
        if cmp_ and "dense" in sp:
            row += [_si(sp["dense"]["cycles"]), f"{sp['speedup']:.2f}x", f"{sp['dense']['energy_pj'] / 1e6:.2f}",
                    f"{100 * sp['energy_saving']:.0f}%"]
        t.add_row(*row)
    console.print(t)
    if cmp_:
        how = ("the same mappings run dense (--compare-dense searches the dense run's own)"
               if tot["dense"].get("baseline") == "same mapping" else "the dense run with its own mappings")
        console.print(f"against {how}: speedup {tot['speedup']:.2f}x, energy saving "
                      f"{100 * tot['energy_saving']:.0f}%, DRAM {tot['dense']['dram_bytes'] / 1e6:.2f} MB dense",
                      markup=False)
