"""ONNX models -> accelsim workload data (the dict a workload YAML file holds).

Shapes come from ONNX shape inference (``onnx.shape_inference.infer_shapes``, strict).  Nodes are read
in graph order (topological by the ONNX spec):

* ``Conv`` -> ``conv2d``: ``group``, ``dilations``, ``strides``; ONNX's ``pads`` are
  [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right] and become accelsim's
  [top, bottom, left, right]; ``auto_pad`` SAME_UPPER / SAME_LOWER / VALID are resolved to pads
  (SAME_UPPER puts the odd pad at the end, as the ONNX operator spec says); a bias input sets ``bias``.
* ``Gemm`` with a constant B -> ``fc`` (``transB`` read); ``MatMul`` with a constant 2-D B -> ``matmul``
  (rows = the product of A's leading dims); ``MatMul`` / ``Gemm`` of two activations -> a batched
  ``matmul`` of both activations (groups = the product of the batch dims: attention's Q.K^T).
* ``MaxPool`` / ``AveragePool`` -> ``pool``; ``GlobalAveragePool`` / ``GlobalMaxPool`` -> global pool.
* ``Add`` / ``Sum`` of activations of one shape -> ``add``; ``Mul`` / ``Sub`` / ``Div`` of two activations
  -> ``elementwise``; ``Concat`` on channels -> ``concat``.  With a constant operand they are folded
  (a bias or a scale): pass-through.
* ``LSTM`` / ``GRU`` -> ``lstm`` / ``gru`` unrolled over the sequence (:mod:`accelsim.workload.recurrent`),
  one per direction.
* Pass-through (no MACs, no layer): :data:`PASS_THROUGH` (activations, ``BatchNormalization``, which
  inference folds into the conv before it, the shape ops, and the shape arithmetic and gathers that
  PyTorch's exporter emits around reshapes, attention heads and recurrent states).

A layer reads its producer by name when the producer's output shape is the one it expects; otherwise
(after a Reshape or Transpose that changes the layout) it gets its own ``input`` shape, or none for a
matmul, so every shape in the file is checked by the workload compiler either way.
"""

from __future__ import annotations

import math
import re
import warnings

from ..errors import InputError, InputWarning, short
from .onnx_inputs import dims_of, fix_inputs

PASS_THROUGH = frozenset({
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Softmax", "LogSoftmax", "BatchNormalization", "Dropout", "Identity", "Flatten", "Reshape", "Transpose",
    "Squeeze", "Unsqueeze", "Cast", "Pad", "Erf", "Sqrt", "Pow", "ReduceMean", "LRN",
    "InstanceNormalization", "LayerNormalization", "Gelu", "Neg", "Exp", "Log", "Abs", "Floor", "Ceil", "Round",
    # shape arithmetic and data movement that exporters (torch.onnx, tf2onnx) emit around reshapes,
    # attention heads and recurrent states: no MACs
    "Shape", "Gather", "Slice", "Split", "Expand", "ConstantOfShape", "Range", "Equal", "Where", "Tile", "Not",
    "Less", "Greater", "And", "Or", "Min", "Max", "Size", "Mod", "Sign", "ReduceSum", "ReduceMax", "Identity",
})
SUPPORTED = frozenset({"Conv", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                       "Add", "Sum", "Mul", "Sub", "Div", "Concat", "LSTM", "GRU", "Constant"}) | PASS_THROUGH


def _need_onnx():
    try:
        import onnx
    except ImportError:
        raise InputError("reading ONNX models needs the onnx package: pip install 'accelsim[onnx]'") from None
    return onnx


def onnx_workload(display: str, data: bytes, input_shape: list[int] | None = None,
                  skip_unsupported: bool = False) -> dict:
    """The workload data (:mod:`accelsim.workload.network` schema) of the ONNX model in ``data``.

    ``input_shape``: the graph input's sizes when they are dynamic (``--input-shape``).
    ``skip_unsupported``: an op outside :data:`SUPPORTED` is skipped with a warning (its outputs read as
    its first input) instead of refused.

    Raises:
        InputError: not an ONNX model, a model the checker or shape inference rejects, dynamic input
            sizes without ``input_shape``, an unsupported op (naming the op, the node and the file), or
            an op attribute outside what accelsim models.
    """
    onnx = _need_onnx()
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise InputError(f"is not an ONNX model: protobuf cannot parse it ({e})", source=display) from None
    g = model.graph
    if not g.node:
        raise InputError("is not an ONNX model: its graph has no nodes", source=display)
    inits = {t.name: list(t.dims) for t in g.initializer}
    external = [t for t in g.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    for t in external:  # weights kept in a file beside the model (torch.onnx's dynamo exporter): only
        g.initializer.remove(t)  # their shapes matter, so they become typed graph inputs
        g.input.append(onnx.helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    inputs = [i for i in g.input if i.name not in inits]
    if not inputs:
        raise InputError("the graph has no input that is not an initializer", source=display)
    if not skip_unsupported:  # named before shape inference, which may fail on the op itself
        for i, node in enumerate(g.node):
            if node.op_type not in SUPPORTED:
                _unsupported(display, i, node)
    fix_inputs(display, inputs, input_shape)
    try:
        onnx.checker.check_model(model)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as e:  # noqa: BLE001 - onnx raises several types; all mean the model is malformed
        raise InputError(f"ONNX rejects the model: {str(e).splitlines()[0][:300]}", source=display) from None
    shapes = {v.name: dims_of(v) for v in list(model.graph.value_info) + list(model.graph.input)
              + list(model.graph.output)}
    return _Builder(display, model.graph, inits, shapes, skip_unsupported).build()


def _where(i, node) -> str:
    return f"node {short(node.name or f'#{i}')} ({node.op_type})"


def _unsupported(display, i, node):
    raise InputError(f"unsupported ONNX op {node.op_type} at {_where(i, node)}; pass --skip-unsupported to skip it "
                     "with a warning (its outputs are read as its first input)", source=display, field=_where(i, node))


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class _Builder:
    """Walks the graph once, emitting layers (module doc)."""

    def __init__(self, display, graph, inits, shapes, skip):
        self.display, self.graph, self.inits, self.shapes, self.skip = display, graph, inits, shapes, skip
        self.layers: list[dict] = []
        self.names: set[str] = {"input"}
        self.src: dict[str, tuple[str, tuple] | None] = {}  # tensor -> (producer layer, its accelsim shape)
        self.skipped: list[str] = []
        self.data: dict = {}

    def build(self) -> dict:
        first = next(i for i in self.graph.input if i.name not in self.inits)
        dims = self.shapes[first.name]
        batch = dims[0] if dims else 1
        if dims and len(dims) in (2, 4):
            c, h, w = (dims[1], 1, 1) if len(dims) == 2 else dims[1:]
            self.data["input"] = {"channels": c, "height": h, "width": w}
            self.src[first.name] = ("input", (batch, c, h, w))
        for i, node in enumerate(self.graph.node):
            self.node(i, node)
        macs = [l for l in self.layers if l["type"] in ("conv2d", "fc", "matmul", "lstm", "gru")]
        if not macs:
            raise InputError("the model has no layer with MACs (Conv, Gemm, MatMul, LSTM, GRU)", source=self.display)
        note = f"; skipped: {', '.join(self.skipped)}" if self.skipped else ""
        return {"name": self.graph.name or self.display, "source": f"imported from the ONNX model {self.display}"
                + note, "batch": batch, **self.data, "layers": self.layers}

    # -- helpers
    def where(self, i, node) -> str:
        return _where(i, node)

    def shape(self, t) -> list[int] | None:
        if t in self.inits:
            return self.inits[t]
        return self.shapes.get(t)

    def name(self, i, node) -> str:
        base = re.sub(r"[^A-Za-z0-9_.\-/]", "_", node.name or f"{node.op_type.lower()}{i}")
        n, k = base, 2
        while n in self.names:
            n, k = f"{base}_{k}", k + 1
        self.names.add(n)
        return n

    def emit(self, layer: dict, out: str, acc: tuple) -> None:
        self.layers.append(layer)
        self.src[out] = (layer["name"], acc)

    def wire(self, t: str, want: tuple) -> str | None:
        """The producer of tensor ``t`` if its accelsim output shape is ``want`` (n, c, h, w)."""
        s = self.src.get(t)
        return s[0] if s is not None and s[1] == tuple(want) else None

    def const(self, t: str) -> bool:
        return t in self.inits

    # -- ops
    def node(self, i, node) -> None:
        op, ins, outs = node.op_type, list(node.input), list(node.output)
        if op not in SUPPORTED:
            if not self.skip:
                _unsupported(self.display, i, node)
            warnings.warn(InputWarning(f"{self.display}: skipped unsupported op {op} at {self.where(i, node)}"))
            self.skipped.append(f"{op} {node.name or i}")
            for o in outs:
                self.src[o] = self.src.get(ins[0]) if ins else None
            return
        if op == "Constant":
            for o in outs:
                self.inits[o] = self.shapes.get(o) or []
            return
        if op in PASS_THROUGH:
            for o in outs:
                self.src[o] = self.src.get(ins[0]) if ins else None
            return
        try:
            getattr(self, "op_" + op.lower())(i, node, ins, outs, _attrs(node))
        except (TypeError, KeyError, IndexError, ValueError) as e:  # a shape or attribute missing or malformed
            raise InputError(f"cannot read this {op}: {type(e).__name__} {short(str(e))} (shapes: "
                             f"{', '.join(str(self.shape(t)) for t in ins if t)})", source=self.display,
                             field=self.where(i, node)) from None

    def op_conv(self, i, node, ins, outs, a):
        x, w = self.shape(ins[0]), self.shape(ins[1])
        if x is None or len(x) != 4 or w is None or len(w) != 4:
            raise InputError("only 2-D convolutions (NCHW input, 4-D weights) are modelled", source=self.display,
                             field=self.where(i, node))
        n, c, h, wd = x
        m, _, kh, kw = w
        st = list(a.get("strides", [1, 1]))
        dl = list(a.get("dilations", [1, 1]))
        pads = self._pads(a, (h, wd), (kh, kw), st, dl)
        y = self.shape(outs[0])
        layer = {"name": self.name(i, node), "type": "conv2d", "out_channels": m, "kernel": [kh, kw],
                 "stride": st, "padding": [pads[0], pads[2], pads[1], pads[3]], "dilation": dl,
                 "groups": int(a.get("group", 1)), "bias": len(ins) > 2 and bool(ins[2])}
        self._input(layer, ins[0], (n, c, h, wd))
        self.emit(layer, outs[0], (n, m, y[2], y[3]) if y else (n, m, 0, 0))

    def _pads(self, a, hw, k, st, dl) -> list[int]:
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            out = []
            for x, kk, s, d in zip(hw, k, st, dl):
                total = max(0, (math.ceil(x / s) - 1) * s + (kk - 1) * d + 1 - x)
                small, big = total // 2, total - total // 2
                out.append((small, big) if auto == "SAME_UPPER" else (big, small))
            return [out[0][0], out[1][0], out[0][1], out[1][1]]
        if auto == "VALID":
            return [0, 0, 0, 0]
        return list(a.get("pads", [0, 0, 0, 0]))

    def _input(self, layer, t, want):
        p = self.wire(t, want)
        if p is not None:
            layer["inputs"] = [p]
        else:
            layer["input"] = {"channels": want[1], "height": want[2], "width": want[3]}

    def op_gemm(self, i, node, ins, outs, a):
        A, B = self.shape(ins[0]), self.shape(ins[1])
        ta, tb = int(a.get("transA", 0)), int(a.get("transB", 0))
        rows, k = (A[1], A[0]) if ta else (A[0], A[1])
        cols = B[0] if tb else B[1]
        if self.const(ins[1]) and not ta:
            layer = {"name": self.name(i, node), "type": "fc", "out_features": cols, "in_features": k,
                     "bias": len(ins) > 2 and bool(ins[2])}
            s = self.src.get(ins[0])
            if s is not None and s[1][0] == rows and math.prod(s[1][1:]) == k:
                layer["inputs"] = [s[0]]
            else:
                layer["input"] = {"channels": k}
            self.emit(layer, outs[0], (rows, cols, 1, 1))
            return
        self._matmul(i, node, ins, outs, 1, rows, k, cols, both=not self.const(ins[1]), bias=len(ins) > 2)

    def op_matmul(self, i, node, ins, outs, a):
        A, B = self.shape(ins[0]), self.shape(ins[1])
        if A is None or B is None or len(A) < 2:
            raise InputError("MatMul needs known operand shapes of rank >= 2", source=self.display,
                             field=self.where(i, node))
        k, cols = A[-1], B[-1]
        if self.const(ins[1]) and len(B) == 2:
            self._matmul(i, node, ins, outs, 1, math.prod(A[:-1]), k, cols, both=False)
        else:
            self._matmul(i, node, ins, outs, math.prod(A[:-2]), A[-2], k, cols, both=not self.const(ins[1]))

    def _matmul(self, i, node, ins, outs, groups, rows, k, cols, both, bias=False):
        layer = {"name": self.name(i, node), "type": "matmul", "rows": rows, "inner": k, "cols": cols}
        if groups > 1:
            layer["groups"] = groups
        if bias and not both:
            layer["bias"] = True
        a = self.src.get(ins[0])
        ok_a = a is not None and a[1][0] == rows and math.prod(a[1][1:]) == groups * k
        b = self.src.get(ins[1]) if both else None
        ok_b = b is not None and math.prod(b[1]) == groups * k * cols
        if both:
            layer["activations"] = True
        if ok_a and (not both or ok_b):
            layer["inputs"] = [a[0], b[0]] if both else [a[0]]
        else:
            layer["inputs"] = []
        self.emit(layer, outs[0], (rows, groups * cols, 1, 1))

    def _pool(self, i, node, ins, outs, a, mode):
        x = self.shape(ins[0])
        y = self.shape(outs[0])
        layer = {"name": self.name(i, node), "type": "pool", "mode": mode}
        if a is None:
            layer["global"] = True
        else:
            k = list(a["kernel_shape"])
            st = list(a.get("strides", [1, 1]))
            if int(a.get("ceil_mode", 0)):
                raise InputError("ceil_mode pooling is not modelled (accelsim pools by the floor rule)",
                                 source=self.display, field=self.where(i, node))
            pads = self._pads(a, x[2:], k, st, [1, 1])
            layer.update(kernel=k, stride=st, padding=[pads[0], pads[2], pads[1], pads[3]])
        self._input(layer, ins[0], tuple(x))
        self.emit(layer, outs[0], tuple(y) if y else (x[0], x[1], 1, 1))

    def op_maxpool(self, i, node, ins, outs, a):
        self._pool(i, node, ins, outs[:1], a, "max")

    def op_averagepool(self, i, node, ins, outs, a):
        self._pool(i, node, ins, outs, a, "avg")

    def op_globalaveragepool(self, i, node, ins, outs, a):
        self._pool(i, node, ins, outs, None, "avg")

    def op_globalmaxpool(self, i, node, ins, outs, a):
        self._pool(i, node, ins, outs, None, "max")

    def _join(self, i, node, ins, outs, kind, **extra):
        acts = [t for t in ins if t and not self.const(t)]
        srcs = [self.src.get(t) for t in acts]
        if len(acts) < (2 if kind != "concat" else 1) or any(s is None for s in srcs):
            self.src[outs[0]] = srcs[0] if srcs and srcs[0] is not None and len(acts) == 1 else None
            return
        y = self.shape(outs[0])
        if kind == "concat":
            acc = (srcs[0][1][0], sum(s[1][1] for s in srcs), *srcs[0][1][2:])
            if any(s[1][0] != acc[0] or s[1][2:] != acc[2:] for s in srcs):
                self.src[outs[0]] = None
                return
        else:
            if any(s[1] != srcs[0][1] for s in srcs):
                self.src[outs[0]] = None
                return
            acc = srcs[0][1]
        layer = {"name": self.name(i, node), "type": kind, "inputs": [s[0] for s in srcs], **extra}
        self.emit(layer, outs[0], acc if y is None or len(y) != 4 or kind != "concat" else tuple(y))

    def op_add(self, i, node, ins, outs, a):
        self._join(i, node, ins, outs, "add")

    op_sum = op_add

    def op_mul(self, i, node, ins, outs, a):
        self._join(i, node, ins, outs, "elementwise", op=node.op_type.lower())

    op_sub = op_div = op_mul

    def op_concat(self, i, node, ins, outs, a):
        y = self.shape(outs[0])
        if y is not None and len(y) == 4 and int(a.get("axis", 1)) in (1, -3):
            self._join(i, node, ins, outs, "concat")
        else:  # a concat of flattened predictions (SSD's heads): no MACs, a new tensor
            self.src[outs[0]] = None

    def _recurrent(self, i, node, ins, outs, a, kind, gates):
        x, w = self.shape(ins[0]), self.shape(ins[1])
        if int(a.get("layout", 0)):
            raise InputError("only layout 0 ([seq, batch, input]) is modelled", source=self.display,
                             field=self.where(i, node))
        steps, rows, isz = x
        hidden = int(a["hidden_size"])
        if w[1] != gates * hidden:
            raise InputError(f"W has {w[1]} rows, expected {gates} x hidden_size {hidden}", source=self.display,
                             field=self.where(i, node))
        dirs = w[0]
        base = self.name(i, node)
        for d in range(dirs):
            nm = base if dirs == 1 else f"{base}.{'fwd' if d == 0 else 'bwd'}"
            self.names.add(nm)
            self.layers.append({"name": nm, "type": kind, "input_size": isz, "hidden": hidden, "steps": steps,
                                "rows": rows, "bias": len(ins) > 3 and bool(ins[3])})
        for o in outs:
            self.src[o] = None

    def op_lstm(self, i, node, ins, outs, a):
        self._recurrent(i, node, ins, outs, a, "lstm", 4)

    def op_gru(self, i, node, ins, outs, a):
        self._recurrent(i, node, ins, outs, a, "gru", 3)
