"""Real ONNX graphs built with onnx.helper for the import tests (weights are zeros: only shapes matter)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Graph:
    """A small builder: conv / bn / relu / pool / gemm nodes appended in order."""

    def __init__(self):
        self.nodes, self.inits = [], []

    def const(self, name, shape):
        self.inits.append(numpy_helper.from_array(np.zeros(shape, np.float32), name))
        return name

    def conv(self, x, out, cin, cout, k, stride=1, pads=None, group=1, bn=True, relu=True, bias=False):
        kh, kw = (k, k) if isinstance(k, int) else k
        pads = pads if pads is not None else [kh // 2, kw // 2, kh // 2, kw // 2]
        ins = [x, self.const(out + "_w", (cout, cin // group, kh, kw))]
        if bias:
            ins.append(self.const(out + "_b", (cout,)))
        y = out + "_conv" if bn or relu else out
        self.nodes.append(helper.make_node("Conv", ins, [y], name=out, strides=[stride, stride], pads=pads,
                                           group=group, kernel_shape=[kh, kw]))
        if bn:
            z = out + "_bn" if relu else out
            self.nodes.append(helper.make_node("BatchNormalization", [y] + [self.const(out + s, (cout,)) for s in
                                                                           ("_g", "_beta", "_mean", "_var")], [z]))
            y = z
        if relu:
            self.nodes.append(helper.make_node("Relu", [y], [out]))
        return out

    def const_i64(self, name, values):
        self.inits.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def node(self, op, ins, outs, **attrs):
        self.nodes.append(helper.make_node(op, ins, outs, name=outs[0], **attrs))
        return outs[0]

    def model(self, name, inputs, outputs, opset=13):
        g = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def tensor(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def mobilenet_body(g: Graph) -> str:
    """MobileNet-v1's convs (Howard et al. 2017, Table 1) from graph input ``x``; returns the last output."""
    x = g.conv("x", "conv1", 3, 32, 3, 2)
    cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] \
        + [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    for i, (ci, co, s) in enumerate(cfg, start=2):
        x = g.conv(x, f"conv{i}_dw", ci, ci, 3, s, group=ci)
        x = g.conv(x, f"conv{i}_pw", ci, co, 1)
    return x


def mobilenet_v1() -> onnx.ModelProto:
    """MobileNet-v1 (Howard et al. 2017, Table 1) as PyTorch exports it: conv + BN + ReLU, GAP, Gemm."""
    g = Graph()
    x = mobilenet_body(g)
    g.node("GlobalAveragePool", [x], ["pool"])
    g.node("Flatten", ["pool"], ["flat"], axis=1)
    g.node("Gemm", ["flat", g.const("fc_w", (1000, 1024)), g.const("fc_b", (1000,))], ["fc"], transB=1)
    g.node("Softmax", ["fc"], ["prob"], axis=1)
    return g.model("mobilenet_v1", [tensor("x", [1, 3, 224, 224])], [tensor("prob", [1, 1000])])


def bottleneck(g, x, name, cin, mid, cout, stride):
    """A ResNet-v1.5 bottleneck with a projection shortcut (the stride on the 3x3)."""
    a = g.conv(x, f"{name}a", cin, mid, 1)
    b = g.conv(a, f"{name}b", mid, mid, 3, stride)
    c = g.conv(b, f"{name}c", mid, cout, 1, relu=False)
    p = g.conv(x, f"{name}_proj", cin, cout, 1, stride, relu=False)
    s = g.node("Add", [c, p], [f"add{name}"])
    return g.node("Relu", [s], [f"{name}_out"])


def resnet_prefix() -> onnx.ModelProto:
    """ResNet-50's stem and the first bottleneck of stages 2 and 3 (projection shortcuts)."""
    g = Graph()
    x = g.conv("x", "conv1", 3, 64, 7, 2, pads=[3, 3, 3, 3])
    x = g.node("MaxPool", [x], ["pool1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    x = bottleneck(g, x, "conv2_1", 64, 64, 256, 1)
    x = bottleneck(g, x, "conv3_1", 256, 128, 512, 2)
    return g.model("resnet_prefix", [tensor("x", [1, 3, 224, 224])], [tensor(x, [1, 512, 28, 28])])


def mobilenet_ssd300() -> onnx.ModelProto:
    """SSD300 on MobileNet-v1 (workloads/mobilenet_ssd.yaml's sources) as the TF Object Detection API
    exports it: backbone, extra layers, 1x1 class and box predictors, each flattened and concatenated."""
    g = Graph()
    x = mobilenet_body(g)
    maps, cin = [("conv12_pw", 512, 3), ("conv14_pw", 1024, 6)], 1024
    for k, (half, depth) in enumerate([(256, 512), (128, 256), (128, 256), (64, 128)], start=1):
        y = g.conv(x, f"extra{k}_1x1", cin, half, 1)
        x = g.conv(y, f"extra{k}_3x3", half, depth, 3, 2)
        maps.append((x, depth, 6))
        cin = depth
    cls, box = [], []
    for j, (m, c, b) in enumerate(maps):
        for kind, n, out in (("cls", 91, cls), ("box", 4, box)):
            p = g.conv(m, f"{kind}{j}", c, b * n, 1, bn=False, relu=False, bias=True)
            t = g.node("Transpose", [p], [f"{kind}{j}_t"], perm=[0, 2, 3, 1])
            out.append(g.node("Reshape", [t, g.const_i64(f"{kind}{j}_s", [1, -1, n])], [f"{kind}{j}_r"]))
    g.node("Concat", cls, ["scores"], axis=1)
    g.node("Concat", box, ["boxes"], axis=1)
    return g.model("mobilenet_ssd300", [tensor("x", [1, 3, 300, 300])],
                   [tensor("scores", [1, 1917, 91]), tensor("boxes", [1, 1917, 4])])
