"""Sparse operands, statistical mode: densities, formats per level, gating and skipping.

Oracles: the dense run itself (density 1 with every sparse feature present must change nothing),
direct counts on drawn tensors (non-zero (filter, ifmap) pairs by a numpy convolution of the
non-zero indicators; the Eyeriss run-length code of the actual DRAM ifmap), and the trends the
papers state (gating keeps cycles flat, skipping scales them with density).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from accelsim.arch import build_arch, load_arch
from accelsim.cli import app
from accelsim.cost import access_counts, dram_bytes
from accelsim.cost.formats import EyerissRLC
from accelsim.errors import InputError
from accelsim.files import resolve
from accelsim.mapping import load_dataflow, make_mapping, slots_of
from accelsim.mapper.search import evaluate, search
from accelsim.sim import simulate
from accelsim.workload import LoopNest, build_workload, load_workload
from accelsim.workload.density import DrawDensitySpec, draw_tensor, tensor_shapes

ARCHS = ["eyeriss", "tpu", "shidiannao", "eyeriss_like", "simple_weight_stationary", "simple_output_stationary",
         "simba_like"]
DATA = Path(__file__).parent / "data" / "sparse"


def _arch_dict(name):
    return yaml.safe_load(resolve(f"{name}.yaml", "arch").text)


def _with_features(d, action="gate", formats=None):
    """Every sparse feature an arch can state: MAC gating/skipping on both operands, MAC-facing read
    gating at the innermost level, and the given formats at DRAM."""
    d = copy.deepcopy(d)
    d.setdefault("mac", {})["sparse"] = {"action": action, "condition_on": ["filter", "ifmap"]}
    lv0 = d["levels"][0]
    keeps = lv0.get("keeps", ["filter", "ifmap", "ofmap"])
    reads = {t: {"action": action, "condition_on": ["ifmap"]} for t in ("filter", "ifmap") if t in keeps}
    if reads:
        lv0["sparse_reads"] = reads
    if formats:
        d.setdefault("dram", {})["formats"] = formats
    return d


def _strip(d):
    """The arch without its own sparse features (eyeriss.yaml's RLC and gating): its dense twin."""
    d = copy.deepcopy(d)
    d.get("mac", {}).pop("sparse", None)
    for lv in d["levels"] + [d.get("dram", {})]:
        lv.pop("sparse_reads", None)
        lv.pop("formats", None)
    return d


@pytest.mark.parametrize("name", ARCHS)
def test_density_one_with_gating_and_dense_formats_equals_the_dense_run(name):
    dense = build_arch(_strip(_arch_dict(name)), f"{name}.yaml")
    d = _with_features(_strip(_arch_dict(name)), formats={"filter": {"type": "dense"}, "ifmap": {"type": "dense"}})
    feat = build_arch(d, f"{name}_sparse.yaml")
    assert feat.sparse and not dense.sparse
    df = load_dataflow(dense.default_dataflow)
    layer = [l for l in load_workload("mobilenet").layers if l.nest is not None][2]
    m = search(layer.nest, dense, df, budget=40).best.mapping
    a, b = evaluate(layer.nest, dense, m, stationary=df.stationary), evaluate(layer.nest, feat, m,
                                                                             stationary=df.stationary)
    assert b.counts.sparsity is not None
    assert a.counts.as_dict() == b.counts.as_dict()
    assert b.energy.total_pj == pytest.approx(a.energy.total_pj, rel=1e-12)
    assert a.latency.cycles == b.latency.cycles
    assert dram_bytes(dense, a.counts) == dram_bytes(feat, b.counts)
    sa, sb = simulate(layer.nest, dense, m, df.stationary), simulate(layer.nest, feat, m, df.stationary)
    assert (sa.cycles, sa.stall_cycles, sa.moved) == (sb.cycles, sb.stall_cycles, sb.moved)


def _tiny(action, formats=None):
    d = {"name": "tiny", "clock_mhz": 100, "default_dataflow": "os", "word_bits": 16,
         "levels": [{"name": "RF", "capacity_words": {"filter": 64, "ifmap": 64, "ofmap": 16}},
                    {"name": "GLB", "capacity_words": 60000, "read_bw_words": 8, "write_bw_words": 8,
                     "fanout": {"rows": 4, "cols": 4}}],
         "dram": {"bw_bytes_per_cycle": 4}}
    return build_arch(_with_features(d, action, formats) if action else d, "tiny.yaml")


NEST = LoopNest(dims=dict(N=1, G=1, M=16, C=16, P=8, Q=8, R=3, S=3), H=10, W=10)


def _run(arch, density):
    nest = replace(NEST, density=density)
    m = search(NEST, _tiny(None), load_dataflow("os"), budget=60).best.mapping  # one mapping for every density
    ev = evaluate(nest, arch, m)
    return ev.energy.total_pj, simulate(nest, arch, m).cycles, ev


def test_skipping_scales_cycles_and_energy_down_with_density_and_gating_keeps_cycles_flat():
    skip, gate = _tiny("skip"), _tiny("gate")
    dens = [1.0, 0.8, 0.6, 0.4, 0.2, 0.05]
    s = [_run(skip, (d, d, 1.0)) for d in dens]
    g = [_run(gate, (d, d, 1.0)) for d in dens]
    for (e0, c0, _), (e1, c1, _) in zip(s, s[1:]):
        assert e1 < e0 and c1 < c0
    for (e0, c0, _), (e1, c1, _) in zip(g, g[1:]):
        assert e1 < e0 and c1 == c0
    # skipping both operands: compute shrinks with the pairs left (d^2)
    assert s[-1][2].counts.sparsity.compute_share == pytest.approx(0.05 ** 2)
    assert g[0][1] == s[0][1]


def test_effective_macs_match_the_nonzero_pairs_of_drawn_tensors():
    """The expectation MACs x d_f x d_i against the direct count of non-zero (weight, activation) pairs
    of seeded draws, over 30 draws: within 1 % (the standard error here is ~0.3 %)."""
    nest = replace(NEST, density=(0.4, 0.6, 1.0))
    sp = access_counts(nest, _tiny(None), make_mapping(slots_of(_tiny(None)), {"DRAM": dict(NEST.dims)})).sparsity
    shapes = tensor_shapes(nest)
    counts = []
    for seed in range(30):
        w = draw_tensor(DrawDensitySpec(draw="uniform", density=0.4, seed=seed), shapes["filter"]).astype(float)
        x = draw_tensor(DrawDensitySpec(draw="uniform", density=0.6, seed=1000 + seed), shapes["ifmap"]).astype(float)
        # pairs per output (m, p, q): sum over c, r, s of w[m,c,r,s] * x[c, p+r, q+s] (stride 1, no padding)
        win = np.lib.stride_tricks.sliding_window_view(x[0], (3, 3), axis=(1, 2))  # [C, P, Q, R, S]
        counts.append(np.einsum("mcrs,cpqrs->", w, win))
    assert sp.effective_macs == pytest.approx(NEST.macs * 0.4 * 0.6)
    assert np.mean(counts) == pytest.approx(sp.effective_macs, rel=0.01)


def test_dram_rlc_traffic_matches_encoding_the_actual_tensor():
    """One DRAM read of the whole ifmap, run-length coded: the statistical bytes against Eyeriss's code of
    drawn ifmaps (fibers along the width), mean of 20 draws within 2 %."""
    arch = _tiny(None, None)
    d = copy.deepcopy(_arch_dict("eyeriss"))
    d["dram"]["formats"] = {"ifmap": {"type": "eyeriss_rlc"}}
    rlc = build_arch(d, "rlc.yaml")
    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=32, P=56, Q=56, R=1, S=1), H=56, W=56, density=(1.0, 0.3, 1.0))
    m = search(nest, rlc, load_dataflow("rs"), budget=40).best.mapping
    c = access_counts(nest, rlc, m)
    reads = c.levels["DRAM"]["ifmap"].reads
    assert reads == nest.tensor_words("ifmap")  # read once: the traffic is one encoding of the tensor
    got = c.scaled["DRAM"]["ifmap"]["reads"] * 2  # bytes of 16-bit words
    fmt = EyerissRLC()
    enc = [fmt.encode(draw_tensor(DrawDensitySpec(draw="uniform", density=0.3, seed=s), (1, 32, 56, 56))
                      .reshape(-1, 56).astype(np.int16), 16).bits / 8 for s in range(20)]
    assert got == pytest.approx(np.mean(enc), rel=0.02)
    assert arch is not None


BAD_ARCH = [
    ("rlc_32bit", lambda d: (d.update(word_bits={"filter": 16, "ifmap": 32, "ofmap": 16}),
                             d["dram"].update(formats={"ifmap": {"type": "eyeriss_rlc"}})),
     "dram.formats.ifmap.type", "16-bit levels"),
    ("rle_without_run_bits", lambda d: d["dram"].update(formats={"ifmap": {"type": "rle"}}),
     "dram.formats.ifmap", "needs run_bits"),
    ("csr_with_run_bits", lambda d: d["dram"].update(formats={"filter": {"type": "csr", "index_bits": 4,
                                                                         "pointer_bits": 8, "run_bits": 3}}),
     "dram.formats.filter", "has no run_bits"),
    ("yaml_on_key", lambda d: d["mac"].update(sparse={"action": "gate", True: ["ifmap"]}),
     "mac.sparse", ""),
    ("queue_off_the_array", lambda d: d["levels"][0].update(queue_depth=4), "levels.0.queue_depth",
     "PE array's level"),
    ("format_of_bypassed", lambda d: d["levels"][0].update(keeps=["filter", "ofmap"], capacity_words={
        "filter": 224, "ofmap": 24}, formats={"ifmap": {"type": "bitmask"}}),
     "levels.0.formats.ifmap", "not kept"),
]


@pytest.mark.parametrize("name,change,field,words", BAD_ARCH, ids=[b[0] for b in BAD_ARCH])
def test_bad_sparse_arch_is_named(name, change, field, words):
    d = _arch_dict("eyeriss")
    change(d)
    with pytest.raises(InputError) as e:
        build_arch(d, f"{name}.yaml")
    assert e.value.field.startswith(field), str(e.value)
    assert words in str(e.value)


def test_absolute_index_too_narrow_for_a_tile_names_the_field():
    d = _arch_dict("eyeriss")
    d["dram"]["formats"] = {"ifmap": {"type": "csr", "index_bits": 2, "pointer_bits": 16}}
    a = build_arch(d, "narrow.yaml")
    nest = LoopNest(dims=dict(N=1, G=1, M=4, C=4, P=16, Q=16, R=1, S=1), H=16, W=16, density=(1.0, 0.5, 1.0))
    with pytest.raises(InputError) as e:
        search(nest, a, load_dataflow("rs"), budget=10)
    assert e.value.field == "dram.formats.ifmap.index_bits", str(e.value)


def _net(density, tmp_path=None):
    return {"name": "n", "input": {"channels": 4, "height": 6, "width": 6},
            "layers": [{"name": "c", "type": "conv2d", "out_channels": 8, "kernel": 3, "density": density}]}


def test_workload_densities_from_numbers_npy_and_draws(tmp_path):
    w = np.zeros((8, 4, 3, 3))
    w.flat[::3] = 1.5
    np.save(tmp_path / "w.npy", w)
    data = _net({"filter": {"npy": "w.npy"}, "ifmap": {"draw": "per_channel", "density": 0.3, "seed": 2},
                 "ofmap": 0.25})
    (tmp_path / "n.yaml").write_text(yaml.safe_dump(data))
    lay = load_workload(str(tmp_path / "n.yaml")).mac_layers[0]
    assert lay.nest.density == (np.count_nonzero(w) / w.size, 0.3, 0.25)
    assert lay.density.filter.source == "npy w.npy" and lay.density.ifmap.source.startswith("draw per_channel")
    t = draw_tensor(lay.density.ifmap.draw, tensor_shapes(lay.nest)["ifmap"])
    assert t.shape == (1, 4, 6, 6)
    assert (t == draw_tensor(lay.density.ifmap.draw, (1, 4, 6, 6))).all()  # seeded: the same tensor again
    per = t.reshape(4, -1).mean(axis=1)
    assert per.std() > 0  # channels differ: load imbalance can appear


@pytest.mark.parametrize("density,field,words", [
    ({"filter": 1.2}, "density.filter", "<= 1"),
    ({"ifmap": {"npy": "missing.npy"}}, "density.ifmap.npy", "no such file"),
    ({"filter": {"npy": "bad.npy"}}, "density.filter.npy", "shape"),
    ({"weights": 0.5}, "density.weights", "unknown field"),
])
def test_bad_densities_are_named(tmp_path, density, field, words):
    np.save(tmp_path / "bad.npy", np.ones((2, 2)))
    (tmp_path / "n.yaml").write_text(yaml.safe_dump(_net(density)))
    with pytest.raises(InputError) as e:
        load_workload(str(tmp_path / "n.yaml"))
    assert e.value.field.endswith(field), str(e.value)
    assert words in str(e.value)


def test_pool_layer_with_density_is_refused():
    data = _net({"ifmap": 0.5})
    data["layers"].append({"name": "p", "type": "pool", "mode": "max", "kernel": 2, "density": {"ifmap": 0.5}})
    with pytest.raises(InputError) as e:
        build_workload(data, "n.yaml")
    assert "no MACs" in str(e.value)


def test_compare_dense_reports_speedup_and_saving(tmp_path):
    res = CliRunner().invoke(app, ["run", "eyeriss.yaml", "alexnet_sparse.yaml", "--layers",
                                   "conv3,conv4", "--compare-dense", "--out", str(tmp_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "report.json").read_text())
    assert rep["schema"] == "accelsim.report/4"
    for l in rep["layers"]:
        sp = l["sparse"]
        assert sp["mode"] == "statistical" and sp["fit_policy"] == "expected"
        assert sp["densities"]["filter"]["source"] == "given"
        pairs = l["macs"] * sp["densities"]["filter"]["density"] * sp["densities"]["ifmap"]["density"]
        assert 0.8 * pairs < sp["effective_macs"] < pairs  # the MACs on padding are not pairs
        assert sp["dense"]["energy_pj"] > l["energy_pj"]  # gating and RLC save energy at these densities
        assert sp["speedup"] == pytest.approx(sp["dense"]["cycles"] / l["cycles"])
        assert sp["metadata_bytes"]["DRAM"] > 0
    tot = rep["totals"]["sparse"]
    assert 0 < tot["energy_saving"] < 1
    import csv
    rows = list(csv.DictReader((tmp_path / "layers.csv").open()))
    assert [r["layer"] for r in rows] == ["conv3", "conv4"]
    for r, l in zip(rows, rep["layers"]):
        assert r["sparse_mode"] == "statistical"
        assert float(r["speedup_vs_dense"]) == pytest.approx(l["sparse"]["speedup"], rel=1e-3)
        assert float(r["energy_saving_vs_dense"]) == pytest.approx(l["sparse"]["energy_saving"], abs=1e-4)
    assert rep["inputs"]["arch"]["levels"][-1]["formats"] == {"ifmap": {"type": "eyeriss_rlc"},
                                                             "ofmap": {"type": "eyeriss_rlc"}}


def _matmul_arch(fmt, action):
    d = {"name": "mm", "clock_mhz": 100, "default_dataflow": "os", "word_bits": 16,
         "mac": {"energy_pj": 1.0, "sparse": {"action": action, "condition_on": ["filter", "ifmap"]},
                 "check_pj": 0.05},
         "levels": [{"name": "RF", "capacity_words": {"filter": 256, "ifmap": 256, "ofmap": 64},
                     "formats": {"filter": fmt, "ifmap": fmt}, "energy": {"read_pj": 1.0, "fill_pj": 1.0,
                                                                          "update_pj": 1.0}},
                    {"name": "GLB", "capacity_words": 200000, "fanout": {"rows": 8, "cols": 8},
                     "formats": {"filter": fmt, "ifmap": fmt}, "energy": {"read_pj": 6.0, "fill_pj": 6.0,
                                                                          "update_pj": 6.0}}],
         "dram": {"bw_bytes_per_cycle": 1000, "formats": {"filter": fmt, "ifmap": fmt},
                  "energy": {"read_pj": 200.0, "fill_pj": 200.0, "update_pj": 200.0}}}
    return build_arch(d, "mm.yaml")


def test_bitmask_gating_is_flat_and_coordinate_list_skipping_scales_with_a_low_density_crossover():
    """A 128^3 sparse matrix product: bitmask + gating keeps its cycles across density, a coordinate list
    (14-bit coordinates) + skipping scales them with density; their energies cross at a low density
    (where the coordinates per non-zero outweigh a bit per word: near 1/14)."""
    bm, coo = _matmul_arch({"type": "bitmask"}, "gate"), _matmul_arch({"type": "coo", "coord_bits": 14}, "skip")
    nest0 = LoopNest(dims=dict(N=128, G=1, M=128, C=128, P=1, Q=1, R=1, S=1), H=1, W=1)
    m = search(nest0, _matmul_arch({"type": "dense"}, "gate"), load_dataflow("os"), budget=80).best.mapping
    rows = []
    for d in (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01):
        nest = replace(nest0, density=(d, d, 1.0))
        eb, ec = evaluate(nest, bm, m), evaluate(nest, coo, m)
        rows.append((d, eb.energy.total_pj, ec.energy.total_pj, simulate(nest, bm, m).compute_cycles,
                     simulate(nest, coo, m).compute_cycles))
    assert len({r[3] for r in rows}) == 1  # gating: flat
    cc = [r[4] for r in rows]
    assert all(a >= b for a, b in zip(cc, cc[1:]))  # skipping: falls with density...
    assert cc[0] > cc[1] > cc[2] > cc[3]  # ...strictly while a pass has work (a pass takes a cycle at least)
    cheaper = [r[0] for r in rows if r[2] < r[1]]  # densities where the coordinate list wins on energy
    assert cheaper and max(cheaper) <= 0.2 and min(r[0] for r in rows) in cheaper
    assert rows[0][1] < rows[0][2]  # dense: the bitmask is cheaper
