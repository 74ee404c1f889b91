"""The bundled detection and trajectory networks against totals computed here from the papers' layer
tables (independently of the YAML files), and the workload parameters."""

from __future__ import annotations

import pytest

from accelsim.errors import InputError
from accelsim.workload import load_workload
from accelsim.workload.network import build_workload


def _conv(cin, cout, k, out, groups=1, bias=False):
    """(MACs, params) of a conv with a square ``out`` x ``out`` map."""
    kh, kw = (k, k) if isinstance(k, int) else k
    oh, ow = (out, out) if isinstance(out, int) else out
    macs = oh * ow * cout * (cin // groups) * kh * kw
    return macs, cout * (cin // groups) * kh * kw + (cout if bias else 0)


def test_mobilenet_ssd300_totals():
    """MobileNet-v1 on 300 x 300 (Howard et al. 2017, Table 1), SSD's extra layers and 1x1 predictors
    (3 boxes on the 19 x 19 map, 6 elsewhere, 91 COCO classes); Table 13: 1.2 B mult-adds, 6.8 M params."""
    rows = [_conv(3, 32, 3, 150)]
    body = [(32, 64, 150), (64, 128, 75), (128, 128, 75), (128, 256, 38), (256, 256, 38), (256, 512, 19)] \
        + [(512, 512, 19)] * 5 + [(512, 1024, 10), (1024, 1024, 10)]
    for ci, co, o in body:
        rows += [_conv(ci, ci, 3, o, groups=ci), _conv(ci, co, 1, o)]
    cin = 1024
    for half, depth, o in [(256, 512, 5), (128, 256, 3), (128, 256, 2), (64, 128, 1)]:
        rows += [_conv(cin, half, 1, {5: 10, 3: 5, 2: 3, 1: 2}[o]), _conv(half, depth, 3, o)]
        cin = depth
    for c, boxes, o in [(512, 3, 19), (1024, 6, 10), (512, 6, 5), (256, 6, 3), (256, 6, 2), (128, 6, 1)]:
        rows += [_conv(c, boxes * 91, 1, o, bias=True), _conv(c, boxes * 4, 1, o, bias=True)]
    macs, params = sum(r[0] for r in rows), sum(r[1] for r in rows)
    w = load_workload("mobilenet_ssd.yaml")
    assert (w.macs, w.params) == (macs, params)
    assert w.macs == pytest.approx(1.2e9, rel=0.05) and w.params == pytest.approx(6.8e6, rel=0.01)
    assert [l.out_shape.h for l in w.layers if l.name.startswith("extra") and l.name.endswith("3x3")] == [5, 3, 2, 1]


@pytest.mark.parametrize("neighbours", [6, 16, 38])
def test_cs_lstm_totals(neighbours):
    """Deo & Trivedi 2018 with the authors' sizes: embedding 2->32, encoder LSTM 32->64 over 16 steps on
    ego + neighbours, dynamics 64->32, social convs 3x3 64 and 3x1 16 on the 13 x 3 grid, classifiers
    112->3 and 112->2, decoder LSTM 117->128 over 25 steps and output 128->5 for each of 6 manoeuvres."""
    v = 1 + neighbours
    lstm_macs = lambda steps, rows, i, h: steps * 4 * rows * (i + h) * h  # noqa: E731
    lstm_params = lambda i, h: 4 * h * (i + h) + 2 * 4 * h  # noqa: E731
    macs = (16 * v * 2 * 32 + lstm_macs(16, v, 32, 64) + 64 * 32 + _conv(64, 64, 3, (11, 1))[0]
            + _conv(64, 16, (3, 1), (9, 1))[0] + 112 * 3 + 112 * 2
            + 6 * (lstm_macs(25, 1, 117, 128) + 25 * 128 * 5))
    params = (2 * 32 + 32 + lstm_params(32, 64) + 64 * 32 + 32 + _conv(64, 64, 3, 1, bias=True)[1]
              + _conv(64, 16, (3, 1), 1, bias=True)[1] + 112 * 3 + 3 + 112 * 2 + 2 + lstm_params(117, 128)
              + 128 * 5 + 5)
    w = load_workload("cs_lstm.yaml", params={"neighbours": neighbours})
    assert (w.macs, w.params) == (macs, params)
    assert params == 194_954
    gates = [l for l in w.layers if l.name.startswith("dec_lat2_lon1.t7.")]
    assert [l.name[-1] for l in gates] == ["i", "f", "g", "o"] and all(l.macs == 245 * 128 for l in gates)


def test_steering_totals():
    w = load_workload("steering.yaml")
    assert (w.macs, w.params) == (13 * 128 + 128 * 128 + 128, 13 * 128 + 128 * 128 + 128 + 257)


def _wl(layers, **extra):
    return {"name": "t", "parameters": {"n": 3}, "layers": layers, **extra}


def test_parameters_substitute_and_refuse():
    w = build_workload(_wl([{"type": "matmul", "rows": "${2 * (n + 1)}", "inner": 8, "cols": "${n}", "inputs": []}]))
    assert (w.layers[0].nest.dims["N"], w.layers[0].nest.dims["M"]) == (8, 3)
    w = build_workload(_wl([{"type": "matmul", "rows": "${n}", "inner": 8, "cols": 4, "inputs": []}]), params={"n": 5})
    assert w.layers[0].nest.dims["N"] == 5
    for bad, words in [("${m + 1}", "unknown parameter 'm'"), ("${n ** 2}", "only parameters"),
                       ("${__import__('os')}", "only parameters"), ("${n // 0}", "division by zero")]:
        with pytest.raises(InputError, match="layers.0.rows") as e:
            build_workload(_wl([{"type": "matmul", "rows": bad, "inner": 8, "cols": 4, "inputs": []}]), "f.yaml")
        assert words in e.value.message
    with pytest.raises(InputError, match="declares no parameter"):
        build_workload(_wl([{"type": "matmul", "rows": 2, "inner": 8, "cols": 4, "inputs": []}]), params={"k": 1})


def test_recurrent_layer_errors_name_the_field():
    with pytest.raises(InputError, match=r"layers.0.hidden"):
        build_workload({"layers": [{"type": "lstm", "input_size": 4, "hidden": 0, "steps": 2}]}, "f.yaml")
    with pytest.raises(InputError, match="weights_of"):
        build_workload({"layers": [{"type": "lstm", "input_size": 4, "hidden": 8, "steps": 2, "weights_of": "x"}]},
                       "f.yaml")
