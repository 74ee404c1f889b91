"""Importers: ONNX graphs built with onnx.helper, SCALE-Sim CSVs and Timeloop problems against the
hand-written workload YAML of the same networks; their error messages."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import yaml
from onnx import helper
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.errors import InputError
from accelsim.workload import load_workload
from accelsim.workload.network import build_workload

from onnx_graphs import Graph, mobilenet_v1, resnet_prefix, tensor
from scalesim_table import DATA, read_topology, to_workload


def _save(tmp_path, model, name="m.onnx"):
    p = tmp_path / name
    onnx.save(model, p)
    return p


def _same_layers(a, b):
    """Same MAC layers in order: loop nests (shapes, strides, padding) and MACs."""
    assert [(l.nest.dims, l.nest.stride, l.nest.padding, l.nest.dilation) for l in a] == \
           [(l.nest.dims, l.nest.stride, l.nest.padding, l.nest.dilation) for l in b]
    assert sum(l.macs for l in a) == sum(l.macs for l in b)


def test_onnx_mobilenet_equals_the_bundled_yaml(tmp_path):
    w = load_workload(str(_save(tmp_path, mobilenet_v1())))
    ref = load_workload("mobilenet.yaml")
    _same_layers(w.mac_layers, ref.mac_layers)
    assert (w.macs, w.params) == (ref.macs, ref.params) == (568_740_352, 4_210_088)
    assert [l.type for l in w.layers] == [l.type for l in ref.layers]


def test_onnx_resnet_bottlenecks_with_projection_equal_the_bundled_yaml(tmp_path):
    w = load_workload(str(_save(tmp_path, resnet_prefix())))
    ref = {l.name: l for l in load_workload("resnet50.yaml").layers}
    names = ["conv1", "conv2_1a", "conv2_1b", "conv2_1c", "conv2_1_proj", "conv3_1a", "conv3_1b", "conv3_1c",
             "conv3_1_proj"]
    _same_layers(w.mac_layers, [ref[n] for n in names])
    adds = [l for l in w.layers if l.type == "add"]
    assert [a.inputs for a in adds] == [("conv2_1c", "conv2_1_proj"), ("conv3_1c", "conv3_1_proj")]
    assert w.params == sum(ref[n].params for n in names)


def test_onnx_pad_order_and_auto_pad(tmp_path):
    """ONNX pads are [top, left, bottom, right]; accelsim's [top, bottom, left, right]; SAME_UPPER puts
    the odd pad at the end.  Output shapes agree with ONNX's own shape inference."""
    g = Graph()
    a = g.conv("x", "a", 8, 16, 3, 1, pads=[0, 1, 2, 3], bn=False, relu=False)
    g.nodes.append(helper.make_node("Conv", [a, g.const("b_w", (4, 16, 4, 4))], ["b"], name="b", strides=[2, 2],
                                    auto_pad="SAME_UPPER", kernel_shape=[4, 4]))
    m = g.model("pads", [tensor("x", [1, 8, 21, 31])], [tensor("b", [1, 4, 11, 17])])
    inferred = onnx.shape_inference.infer_shapes(m)
    dims = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in
            list(inferred.graph.value_info) + list(inferred.graph.output)}
    w = load_workload(str(_save(tmp_path, m)))
    la, lb = w.layers
    assert la.nest.padding == (0, 2, 1, 3)
    assert [1, la.out_shape.c, la.out_shape.h, la.out_shape.w] == dims["a"]
    assert lb.nest.padding == (1, 2, 1, 2)  # total 3 per axis at stride 2 on 21 x 33: 1 before, 2 after
    assert [1, lb.out_shape.c, lb.out_shape.h, lb.out_shape.w] == dims["b"]


def test_onnx_attention_matmuls_and_lstm(tmp_path):
    """Attention's Q.K^T of two activations is a batched matmul without parameters; an LSTM node unrolls
    to four gate matmuls per time step with its weights counted once."""
    g = Graph()
    q = g.node("MatMul", ["x", g.const("wq", (64, 64))], ["q"])
    k = g.node("MatMul", ["x", g.const("wk", (64, 64))], ["k"])
    qh = g.node("Reshape", [q, g.const_i64("s", [1, 10, 4, 16])], ["qh"])
    kh = g.node("Reshape", [k, "s"], ["kh"])
    qt = g.node("Transpose", [qh], ["qt"], perm=[0, 2, 1, 3])
    kt = g.node("Transpose", [kh], ["kt"], perm=[0, 2, 3, 1])
    g.node("MatMul", [qt, kt], ["scores"])
    g.nodes.append(helper.make_node("LSTM", ["y", g.const("W", (1, 128, 8)), g.const("R", (1, 128, 32)),
                                             g.const("B", (1, 256))], ["Y", "Yh"], name="enc", hidden_size=32))
    m = g.model("attn", [tensor("x", [1, 10, 64]), tensor("y", [5, 3, 8])], [tensor("scores", [1, 4, 10, 10])])
    w = load_workload(str(_save(tmp_path, m)))
    by = {l.name: l for l in w.layers}
    s = by["scores"]
    assert s.nest.dims["G"] == 4 and (s.nest.dims["N"], s.nest.dims["C"], s.nest.dims["M"]) == (10, 16, 10)
    assert s.params == 0 and by["q"].params == 64 * 64 and by["q"].nest.dims["N"] == 10
    gates = [l for l in w.layers if l.name.startswith("enc.t")]
    assert len([l for l in gates if l.type == "matmul"]) == 5 * 4
    assert sum(l.macs for l in gates) == 5 * 4 * 3 * (8 + 32) * 32
    assert sum(l.params for l in gates) == 4 * 32 * (8 + 32) + 2 * 4 * 32  # W, R and both biases, once
    assert by["enc"].type == "elementwise"


def test_accelsim_import_writes_an_equivalent_yaml(tmp_path):
    src = _save(tmp_path, resnet_prefix())
    out = tmp_path / "net.yaml"
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    a, b = load_workload(str(out)), load_workload(str(src))
    _same_layers(a.mac_layers, b.mac_layers)
    assert [(l.name, l.inputs) for l in a.layers] == [(l.name, l.inputs) for l in b.layers]


def _cli_error(args):
    res = CliRunner().invoke(app, args)
    try:
        err = res.stderr
    except (ValueError, AttributeError):
        err = ""
    text = res.output + err
    assert res.exit_code == 2, text
    assert "Traceback" not in text
    return text


def test_onnx_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage-not-protobuf" * 10)
    assert "not an ONNX model" in _cli_error(["run", "eyeriss.yaml", str(bad)])
    g = Graph()
    g.conv("x", "a", 3, 8, 3, bn=False, relu=False)
    g.node("DepthToSpace", ["a"], ["up"], blocksize=2)
    m = g.model("up", [tensor("x", [1, 3, 16, 16])], [tensor("up", [1, 2, 32, 32])])
    p = _save(tmp_path, m, "up.onnx")
    text = _cli_error(["run", "eyeriss.yaml", str(p)])
    assert "DepthToSpace" in text and "up.onnx" in text and "node 'up'" in text and "--skip-unsupported" in text
    res = CliRunner().invoke(app, ["import", str(p), "-o", str(tmp_path / "u.yaml"), "--skip-unsupported"])
    assert res.exit_code == 0 and "skipped unsupported op DepthToSpace" in res.output
    g = Graph()
    g.conv("x", "a", 3, 8, 3, bn=False, relu=False)
    dyn = g.model("dyn", [tensor("x", ["batch", 3, 16, 16])], [tensor("a", ["batch", 8, 16, 16])])
    p = _save(tmp_path, dyn, "dyn.onnx")
    text = _cli_error(["run", "eyeriss.yaml", str(p)])
    assert "dynamic sizes" in text and "--input-shape" in text
    w = load_workload(str(p), input_shape=[2, 3, 16, 16])
    assert w.layers[0].nest.dims["N"] == 2


@pytest.mark.parametrize("csv_name, n", [("alexnet.csv", 5), ("mobilenet.csv", 27), ("Resnet50.csv", 54)])
def test_scalesim_csv_round_trip(csv_name, n):
    """SCALE-Sim's shipped topologies give the layers of the reproduction test's own converter
    (tests/scalesim_table.py, written independently against SCALE-Sim's runs)."""
    path = DATA / "topologies" / csv_name
    w = load_workload(str(path))
    ref = build_workload(to_workload(read_topology(path), "ref"), "ref")
    _same_layers(w.mac_layers, ref.mac_layers)
    assert len(w.mac_layers) == len(read_topology(path)) == n


def test_scalesim_conventions(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                 "c1, 10, 10, 3, 3, 4, 8, 2,\n"
                 "DPc2, 9, 9, 3, 3, 8, 1, 1,\n\n")
    c1, c2 = load_workload(str(p)).layers
    assert (c1.nest.dims["P"], c1.nest.padding) == (5, (0, 1, 0, 1))  # ceil((10 - 3 + 2) / 2) = 5
    assert c2.nest.dims["G"] == 8 and c2.nest.dims["C"] == 1 and c2.nest.dims["P"] == 7
    g = tmp_path / "g.csv"
    g.write_text("Layer, M, N, K,\nfc1, 64, 1000, 512,\n")
    (l,) = load_workload(str(g)).layers
    assert (l.nest.dims["N"], l.nest.dims["C"], l.nest.dims["M"]) == (64, 512, 1000)
    bad = tmp_path / "bad.csv"
    bad.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                   "c1, 10, 10, 3, 3,\n")
    text = _cli_error(["run", "eyeriss.yaml", str(bad)])
    assert "row 2" in text and "'Channels' is missing" in text


def test_timeloop_problem(tmp_path):
    """Timeloop's R, P run along the width and S, Q along the height (its cnn-layer projections)."""
    p = tmp_path / "conv.yaml"
    p.write_text(yaml.safe_dump({"problem": {"shape": {"name": "CNN-Layer"}, "instance": {
        "C": 16, "M": 32, "R": 3, "S": 5, "N": 2, "P": 7, "Q": 9, "Wstride": 2, "Hstride": 1}}}))
    (l,) = load_workload(str(p)).layers
    d = l.nest.dims
    assert (d["R"], d["S"], d["P"], d["Q"], d["N"], d["C"], d["M"]) == (5, 3, 9, 7, 2, 16, 32)
    assert l.nest.stride == (1, 2) and (l.in_shape.h, l.in_shape.w) == (9 - 1 + 5, (7 - 1) * 2 + 3)
    assert l.macs == 16 * 32 * 3 * 5 * 2 * 7 * 9
    p.write_text(yaml.safe_dump({"problem": {"instance": {"C": 0}}}))
    with pytest.raises(InputError, match="problem.instance.C"):
        load_workload(str(p))


def test_onnx_mobilenet_ssd_equals_the_bundled_yaml(tmp_path):
    """The detector's heads end in Transpose, Reshape and Concat of flattened predictions: no MACs."""
    from onnx_graphs import mobilenet_ssd300

    w = load_workload(str(_save(tmp_path, mobilenet_ssd300())))
    ref = load_workload("mobilenet_ssd.yaml")
    _same_layers(w.mac_layers, ref.mac_layers)
    assert (w.macs, w.params) == (ref.macs, ref.params)


def test_a_pytorch_export_imports():
    """A graph written by torch.onnx.export (tests/data/onnx/make_torch_export.py), with the exporter's
    shape arithmetic around attention heads and recurrent states; MACs counted by hand."""
    w = load_workload(str(Path(__file__).parent / "data" / "onnx" / "torch_export.onnx"))
    kinds = [l.type for l in w.layers if not l.name.startswith("/lstm/LSTM.t")]
    assert kinds.count("conv2d") == 6 and kinds.count("add") == 1 and kinds.count("fc") == 2
    convs = 16 * 16 * 32 * 3 * 9 + 16 * 16 * 32 * 9 + 16 * 16 * 64 * 32 + 8 * 8 * 64 * 9 + 8 * 8 * 128 * 64 \
        + 8 * 8 * 128 * 32
    attention = 10 * 32 * 96 + 4 * 10 * 10 * 8 + 4 * 10 * 8 * 10 + 10 * 32 * 32
    lstm = 5 * 4 * 2 * (8 + 16) * 16
    assert w.macs == convs + attention + lstm + 128 * 10
    qk = next(l for l in w.layers if l.name == "/att/MatMul_1")
    assert qk.params == 0 and qk.nest.dims["G"] == 4


def test_onnx_with_external_weights(tmp_path):
    """Weights saved beside the model (as torch.onnx's dynamo exporter does) are not needed: only their
    shapes are, so the model imports even when the weight file is gone."""
    p = tmp_path / "ext.onnx"
    onnx.save_model(resnet_prefix(), p, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="ext.onnx.data", size_threshold=0)
    ref = load_workload(str(_save(tmp_path, resnet_prefix(), "plain.onnx")))
    w = load_workload(str(p))
    _same_layers(w.mac_layers, ref.mac_layers)
    assert w.params == ref.params
    (tmp_path / "ext.onnx.data").unlink()
    assert load_workload(str(p)).macs == ref.macs
