"""The bundled network workloads reproduce their published MAC and parameter totals.

Each network is loaded by its bare bundled name, as a user would.  Tolerances:
where a source publishes an exact count it is asserted exactly; where it publishes a
rounded figure, the file must round to it (|ours - published| <= half a unit in the
last published digit).  MACs here are multiply-accumulates (= the papers'
"mult-adds"); parameters are filter weights plus biases.  Batch-norm parameters
are not modelled by the loader, so where a published count includes them the
test adds back 2 (gamma, beta) per channel of every BN layer.
"""

from __future__ import annotations

from collections import Counter

import pytest

from accelsim.workload import Shape, load_workload


def _counts(w) -> Counter:
    return Counter(layer.type for layer in w.layers)


def _conv_out_channels(w) -> int:
    """Sum of conv2d output channels: each conv is followed by one BN layer in these nets."""
    return sum(layer.out_shape.c for layer in w.layers if layer.type == "conv2d")


def _rounds_to(value: int, published: float, unit: float) -> bool:
    """True if ``value`` rounds to ``published`` given in multiples of ``unit``."""
    return abs(value - published) <= unit / 2


def test_mobilenet_v1():
    w = load_workload("mobilenet.yaml")
    c = _counts(w)
    assert c["conv2d"] == 27 and c["fc"] == 1  # 1 standard + 13 depthwise + 13 pointwise
    dw = [l for l in w.layers if l.name.endswith("_dw")]
    assert len(dw) == 13
    assert all(l.nest.dims["G"] == l.in_shape.c and l.nest.dims["C"] == 1 for l in dw)
    assert w.layers[-1].out_shape == Shape(1, 1000, 1, 1)
    # Howard et al. 2017, arXiv:1704.04861, Tables 4 and 8: 569 million mult-adds,
    # published to 3 significant digits -> within 0.5 M.  (Ours: 568,740,352.)
    assert _rounds_to(w.macs, 569e6, 1e6)
    # Same paper: 4.2 million parameters, 2 significant digits -> within 0.05 M.
    assert _rounds_to(w.params, 4.2e6, 0.1e6)
    # Exact: the TF-slim mobilenet_v1_1.0_224 checkpoint / Keras MobileNet report
    # 4,231,976 trainable parameters, which include a BN (gamma, beta) after every conv.
    assert w.params == 4_210_088
    assert w.params + 2 * _conv_out_channels(w) == 4_231_976


def test_alexnet_grouped_original():
    w = load_workload("alexnet.yaml")
    c = _counts(w)
    assert c["conv2d"] == 5 and c["fc"] == 3
    groups = {l.name: l.nest.dims["G"] for l in w.layers if l.type == "conv2d"}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    assert w.layers[-1].out_shape == Shape(1, 1000, 1, 1)
    # Sze, Chen, Yang & Emer, "Efficient Processing of Deep Neural Networks: A Tutorial
    # and Survey", Proc. IEEE 105(12), 2017, summary table of popular DNNs: AlexNet
    # 724M MACs (666M CONV + 58.6M FC), 61M weights.  724M is given to the unit of 1 M
    # -> within 0.5 M.  (Ours: 724,406,816.)
    assert _rounds_to(w.macs, 724e6, 1e6)
    conv_macs = sum(l.macs for l in w.layers if l.type == "conv2d")
    fc_macs = sum(l.macs for l in w.layers if l.type == "fc")
    assert _rounds_to(conv_macs, 666e6, 1e6)
    assert _rounds_to(fc_macs, 58.6e6, 0.1e6)
    assert _rounds_to(w.params, 61e6, 1e6)
    # Exact: Caffe's bvlc_alexnet (the same two-tower, grouped layout) has
    # 60,965,224 weights + biases.
    assert w.params == 60_965_224


def test_vgg16():
    w = load_workload("vgg16.yaml")
    c = _counts(w)
    assert c["conv2d"] == 13 and c["fc"] == 3 and c["pool"] == 5
    assert w.layers[-1].out_shape == Shape(1, 1000, 1, 1)
    # torchvision VGG16_Weights.IMAGENET1K_V1 model card: "GFLOPS 15.47" (counted as
    # multiply-accumulates), 2 decimals -> within 0.005 G.  (Ours: 15,470,264,320.)
    assert _rounds_to(w.macs, 15.47e9, 0.01e9)
    # Exact: same model card, num_params 138,357,544 (convs and FCs all have biases;
    # VGG-16 has no batch norm).  Simonyan & Zisserman 2015, Table 2: 138 M.
    assert w.params == 138_357_544


def test_resnet50_v1_5():
    w = load_workload("resnet50.yaml")
    c = _counts(w)
    assert c["conv2d"] == 53 and c["add"] == 16 and c["fc"] == 1
    proj = [l for l in w.layers if l.name.endswith("_proj")]
    assert len(proj) == 4
    # every add sums two equal-shaped tensors; projection shortcuts read the block input,
    # not the main path
    for l in w.layers:
        if l.type == "add":
            assert len(l.inputs) == 2
    for p in proj:
        assert not p.inputs[0].startswith(p.name.removesuffix("_proj"))
    assert w.layers[-1].out_shape == Shape(1, 1000, 1, 1)
    # torchvision ResNet50_Weights.IMAGENET1K_V1 model card (v1.5 layout, stride on the
    # 3x3): "_ops": 4.089 G (MACs), 3 decimals -> within 0.0005 G.  (Ours: 4,089,184,256.)
    assert _rounds_to(w.macs, 4.089e9, 0.001e9)
    # Exact: same model card, num_params 25,557,032, which includes a BN (gamma, beta) after
    # each of the 53 convs (26,560 channels -> 53,120 parameters).  Without BN: 25,503,912
    # (convs without bias + fc 2048x1000 with its 1000 biases).
    assert w.params == 25_503_912
    assert w.params + 2 * _conv_out_channels(w) == 25_557_032


def test_steering_mlp():
    w = load_workload("steering.yaml")
    assert _counts(w) == Counter(fc=3)
    assert w.layers[-1].out_shape == Shape(1, 1, 1, 1)
    # Exact, from the 13-128-128-1 topology: 13*128 + 128*128 + 128*1 MACs,
    # the same number of weights plus 128 + 128 + 1 biases.
    assert w.macs == 13 * 128 + 128 * 128 + 128 * 1 == 18_176
    assert w.params == 18_176 + 257 == 18_433


@pytest.mark.parametrize("name", ["mobilenet", "alexnet", "vgg16", "resnet50", "steering"])
def test_bundled_files_name_and_cite_a_source(name):
    w = load_workload(name + ".yaml")
    assert w.name and w.source and len(w.source) > 40
