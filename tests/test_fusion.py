"""Layer fusion (--fuse): never more DRAM traffic; the intermediate never reaches DRAM, and the fused
layers' simulation no longer times its transfers."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import accelsim
from accelsim.cli import app

CHAIN = {"name": "chain", "input": {"channels": 16, "height": 14, "width": 14}, "layers": [
    {"name": "a", "type": "conv2d", "out_channels": 32, "kernel": 3, "padding": 1},
    {"name": "b", "type": "conv2d", "out_channels": 32, "kernel": 1},
    {"name": "c", "type": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1},
    {"name": "p", "type": "pool", "mode": "max", "kernel": 2},
    {"name": "d", "type": "fc", "out_features": 10}]}


def _strip(rep):
    rep = dict(rep)
    rep["totals"] = {k: v for k, v in rep["totals"].items() if k != "wall_s"}
    rep["layers"] = [{k: v for k, v in l.items() if k not in ("simulation",)} for l in rep["layers"]]
    return rep


@pytest.mark.parametrize("arch", ["tpu.yaml", "eyeriss_like.yaml"])
def test_fusion_never_increases_dram_traffic(arch):
    off = accelsim.run(arch, "mobilenet.yaml", budget=120)
    on = accelsim.run(arch, "mobilenet.yaml", budget=120, fuse=True)
    assert "fusion" not in off.report and "fusion" in on.report
    assert on.totals["dram_bytes"] <= off.totals["dram_bytes"]
    by_off = {l["name"]: l for l in off.report["layers"]}
    by_on = {l["name"]: l for l in on.report["layers"]}
    for e in on.report["fusion"]["edges"]:
        pair = (e["producer"], e["consumer"])
        assert sum(by_on[n]["dram_bytes"] for n in pair) < sum(by_off[n]["dram_bytes"] for n in pair) + 1e-9
    saved = on.report["fusion"]["dram_bytes_saved"]
    assert saved == pytest.approx(off.totals["dram_bytes"] - on.totals["dram_bytes"], rel=1e-9, abs=1)


def test_fused_chain_loses_exactly_the_intermediate_transfers():
    on = accelsim.run("tpu.yaml", CHAIN, budget=120, fuse=True)
    edges = {(e["producer"], e["consumer"]): e for e in on.report["fusion"]["edges"]}
    assert ("a", "b") in edges and edges[("a", "b")]["words"] == 32 * 14 * 14
    assert ("c", "d") not in edges  # a pool lies between them
    lay = {l["name"]: l for l in on.report["layers"]}
    dram = on.report["inputs"]["arch"]["levels"][-1]["name"]
    assert "ofmap" not in lay["a"]["accesses_words"]["levels"][dram]  # the intermediate never reaches DRAM
    assert "ifmap" not in lay["b"]["accesses_words"]["levels"][dram]
    assert lay["a"]["accesses_words"]["levels"][dram]["ifmap"]["reads"] > 0  # the network input still comes from DRAM


def test_fusion_off_is_todays_run(tmp_path):
    a = accelsim.run("tpu.yaml", CHAIN, budget=120)
    b = accelsim.run("tpu.yaml", CHAIN, budget=120, fuse=False)
    assert _strip(a.report) == _strip(b.report) and "fusion" not in a.report
    # where nothing fits, --fuse considers every edge, fuses none and changes nothing
    c = accelsim.run("eyeriss.yaml", "mobilenet.yaml", budget=60)
    d = accelsim.run("eyeriss.yaml", "mobilenet.yaml", budget=60, fuse=True)
    assert d.report["fusion"]["edges"] == []
    del d.report["fusion"]
    assert _strip(c.report) == _strip(d.report)
    res = CliRunner().invoke(app, ["run", "tpu.yaml", "mobilenet.yaml", "--fuse", "--budget", "60", "-o",
                                   str(tmp_path)])
    assert res.exit_code == 0 and "fused (" in res.output


def test_fused_cycles_drop_the_intermediate_transfers():
    """On the fused arch the simulator has no load of the resident ifmap to time: a layer whose mapping
    is kept but whose ifmap becomes resident takes fewer cycles (fill stalls gone)."""
    from accelsim.arch import load_arch
    from accelsim.fusion import resident_arch
    from accelsim.mapper.search import search
    from accelsim.mapping import load_dataflow
    from accelsim.sim.engine import simulate
    from accelsim.workload import load_workload

    arch = load_arch("tpu.yaml")
    df = load_dataflow(arch.default_dataflow, base=arch.folder)
    nest = load_workload("mobilenet.yaml").mac_layers[3].nest
    m = search(nest, arch, df, budget=60, resident=("ifmap",)).best.mapping
    plain, fused = simulate(nest, arch, m, df.stationary), simulate(nest, resident_arch(arch, ("ifmap",)), m,
                                                                    df.stationary)
    assert fused.cycles < plain.cycles and fused.compute_cycles == plain.compute_cycles


def test_fusion_with_compressed_dram_tensors():
    """Eyeriss's RLC-coded fmaps in DRAM (statistical sparse accounting) with a GLB large enough to fuse:
    fewer DRAM bytes, and the fused layers' DRAM keeps no intermediate."""
    import copy

    from accelsim.files import load_yaml

    _, d = load_yaml("eyeriss.yaml", "arch")
    d = copy.deepcopy(d)
    glb = next(lv for lv in d["levels"] if lv["name"] == "GLB")
    glb["capacity_words"] = {"ifmap+ofmap": 1 << 20}
    off = accelsim.run(d, "mobilenet.yaml", budget=60)
    on = accelsim.run(d, "mobilenet.yaml", budget=60, fuse=True)
    assert len(on.report["fusion"]["edges"]) >= 10
    assert on.totals["dram_bytes"] < off.totals["dram_bytes"]
    e = on.report["fusion"]["edges"][0]
    lay = {l["name"]: l for l in on.report["layers"]}
    assert "ifmap" not in lay[e["consumer"]]["accesses_words"]["levels"]["DRAM"]


def test_actual_mode_simulates_fused_layers_on_their_arch():
    """At density 1 the actual mode's simulation equals the statistical one, fused layers included
    (they run on the arch without the resident tensor's DRAM transfers in both)."""
    stat = accelsim.run("tpu.yaml", CHAIN, budget=120, fuse=True)
    act = accelsim.run("tpu.yaml", CHAIN, budget=120, fuse=True, sparse_mode="actual")
    assert stat.report["fusion"]["edges"] and act.report["fusion"]["edges"] == stat.report["fusion"]["edges"]
    assert [l["cycles"] for l in act.report["layers"]] == [l["cycles"] for l in stat.report["layers"]]
