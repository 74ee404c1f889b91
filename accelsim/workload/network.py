"""Workload YAML -> validated layer graph -> one :class:`LoopNest` per MAC layer.

Workload file schema (all sizes in elements)::

    name: mobilenet_v1
    source: "where the shapes come from"
    input: {channels: 3, height: 224, width: 224}   # network input, optional for matmul-only files
    batch: 1                                        # N, default 1
    layers:
      - name: conv1            # unique; default <type><index>
        type: conv2d           # conv2d | fc | matmul | pool | add
        out_channels: 32
        kernel: 3              # int or [R, S]
        stride: 2              # int or [h, w]
        padding: 1             # int, [h, w] or [top, bottom, left, right]
        dilation: 1            # int or [h, w]
        groups: 1              # depthwise: groups == input channels
        inputs: [stem]         # layers read from; default the layer before (or the network input)
        in_channels: 3         # optional: must agree with the producer
        out_height: 112        # optional: must agree with the floor rule
      - {type: fc, out_features: 1000, bias: true}
      - {type: matmul, rows: 64, inner: 128, cols: 256}   # [rows x inner] . [inner x cols]
      - {type: pool, mode: max, kernel: 3, stride: 2, padding: 1}    # or global: true
      - {type: add, inputs: [a, b]}                       # residual sum, shapes must match

``pool`` and ``add`` carry no MACs; they are part of the graph (shapes are
checked along every edge) but are not mapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Union

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, short
from ..files import load_yaml, validate
from ..limits import MAX_DIM, MAX_LAYERS, MAX_MACS
from .loopnest import LoopNest, out_size

#: A size: >= 1 and at most MAX_DIM (see accelsim.limits).
Size = Annotated[int, Field(ge=1, le=MAX_DIM)]
Pair = Union[int, list[int]]

LAYER_TYPES = ("conv2d", "fc", "matmul", "pool", "add")
MAC_TYPES = ("conv2d", "fc", "matmul")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class InputSpec(_Strict):
    channels: Size
    height: Size = 1
    width: Size = 1


class _LayerBase(_Strict):
    name: str | None = None
    inputs: list[str] | None = None


def _pair_ok(v, n_allowed=(1, 2), minimum=1):
    vals = [v] if isinstance(v, int) else list(v)
    if len(vals) not in n_allowed:
        raise ValueError(f"expected an integer or a list of {' or '.join(map(str, n_allowed))} integers")
    for x in vals:
        if x < minimum:
            raise ValueError(f"must be >= {minimum}, got {x}")
        if x > MAX_DIM:
            raise ValueError(f"must be <= {MAX_DIM} (2**31, the limit on any size), got {x}")
    return v


class Conv2dSpec(_LayerBase):
    type: Literal["conv2d"]
    out_channels: Size
    kernel: Pair
    stride: Pair = 1
    padding: Pair = 0
    dilation: Pair = 1
    groups: Size = 1
    bias: bool = False
    in_channels: int | None = None
    out_height: int | None = None
    out_width: int | None = None

    @field_validator("kernel", "stride", "dilation")
    @classmethod
    def _pairs(cls, v):
        return _pair_ok(v)

    @field_validator("padding")
    @classmethod
    def _padding(cls, v):
        return _pair_ok(v, (1, 2, 4), minimum=0)


class FCSpec(_LayerBase):
    type: Literal["fc"]
    out_features: Size
    in_features: int | None = None
    bias: bool = True


class MatmulSpec(_LayerBase):
    type: Literal["matmul"]
    rows: Size
    inner: Size
    cols: Size


class PoolSpec(_LayerBase):
    type: Literal["pool"]
    mode: Literal["max", "avg"] = "max"
    kernel: Pair | None = None
    stride: Pair | None = None
    padding: Pair = 0
    global_: bool = Field(default=False, alias="global")

    @field_validator("kernel", "stride")
    @classmethod
    def _pairs(cls, v):
        return v if v is None else _pair_ok(v)

    @field_validator("padding")
    @classmethod
    def _padding(cls, v):
        return _pair_ok(v, (1, 2, 4), minimum=0)


class AddSpec(_LayerBase):
    type: Literal["add"]


SPECS = {"conv2d": Conv2dSpec, "fc": FCSpec, "matmul": MatmulSpec, "pool": PoolSpec, "add": AddSpec}


class WorkloadSpec(_Strict):
    name: str | None = None
    source: str | None = None
    description: str | None = None
    batch: Size = 1
    input: InputSpec | None = None
    layers: list[dict] = Field(min_length=1, max_length=MAX_LAYERS)


@dataclass(frozen=True)
class Shape:
    """Activation shape: batch, channels, height, width."""

    n: int
    c: int
    h: int
    w: int

    @property
    def features(self) -> int:
        return self.c * self.h * self.w

    def __str__(self) -> str:
        return f"{self.n}x{self.c}x{self.h}x{self.w}"


@dataclass(frozen=True)
class Layer:
    """One layer after validation.

    Attributes:
        name, type: as in the file (``type`` one of LAYER_TYPES).
        inputs: names of producer layers (``"input"`` for the network input).
        in_shape, out_shape: activation shapes (N, C, H, W).
        nest: the loop nest for MAC layers, ``None`` for pool/add.
        params: parameter count (filter words, plus biases if ``bias``).
        spec: the validated spec as given (for the report).
    """

    name: str
    type: str
    inputs: tuple[str, ...]
    in_shape: Shape | None
    out_shape: Shape
    nest: LoopNest | None
    params: int
    spec: dict

    @property
    def macs(self) -> int:
        return self.nest.macs if self.nest else 0


@dataclass
class Workload:
    """A network: layers in file order and the dataflow graph between them.

    Attributes:
        name, source: from the file.
        layers: all layers in file order.
        graph: networkx DiGraph, nodes are layer names plus ``"input"``.
        path: the file as resolved.
    """

    name: str
    source: str | None
    layers: list[Layer]
    graph: nx.DiGraph
    path: str
    resolved_path: str | None = None

    @property
    def mac_layers(self) -> list[Layer]:
        return [l for l in self.layers if l.nest is not None]

    @property
    def macs(self) -> int:
        return sum(l.macs for l in self.layers)

    @property
    def params(self) -> int:
        return sum(l.params for l in self.layers)


def _two(v) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    return (v[0], v[1]) if len(v) == 2 else (v[0], v[0])


def _pad4(v) -> tuple[int, int, int, int]:
    if isinstance(v, int):
        return (v, v, v, v)
    if len(v) == 1:
        return (v[0],) * 4
    if len(v) == 2:
        return (v[0], v[0], v[1], v[1])
    return tuple(v)  # top, bottom, left, right


def load_workload(name: str) -> Workload:
    """Load, validate and compile a workload file (bundled name or path).

    Raises:
        InputError: malformed YAML, unknown/missing/mistyped fields, unknown
            layer type, inconsistent shapes along an edge, a stated size that
            disagrees with the derived one, empty outputs, channels that do
            not divide by groups, unknown or duplicate layer names.
    """
    f, data = load_yaml(name, "workload")
    return build_workload(data, f.display, f.path)


def build_workload(data, src: str = "<workload>", resolved_path: str | None = None) -> Workload:
    """Compile already-parsed workload data; see :func:`load_workload`."""
    spec: WorkloadSpec = validate(WorkloadSpec, data, src)
    graph = nx.DiGraph()
    shapes: dict[str, Shape] = {}
    if spec.input is not None:
        shapes["input"] = Shape(spec.batch, spec.input.channels, spec.input.height, spec.input.width)
        graph.add_node("input", type="input")
    layers: list[Layer] = []
    total_macs = 0
    prev = "input" if spec.input is not None else None
    for i, raw in enumerate(spec.layers):
        where = f"layers.{i}"
        if not isinstance(raw, dict):
            raise InputError("each layer must be a mapping of fields", source=src, field=where)
        t = raw.get("type")
        if t is None:
            raise InputError("required field is missing", source=src, field=f"{where}.type")
        if not isinstance(t, str) or t not in SPECS:
            raise InputError(
                f"unknown layer type {short(t)} (known: {', '.join(LAYER_TYPES)})", source=src, field=f"{where}.type"
            )
        ls = validate(SPECS[t], raw, src, prefix=where)
        lname = ls.name or f"{t}{i}"
        where = f"layer {short(lname)} ({where})"
        if lname in shapes or lname == "input":
            raise InputError("duplicate layer name", source=src, field=where)
        if ls.inputs is not None:
            inputs = tuple(ls.inputs)
        elif prev is not None:
            inputs = (prev,)
        else:
            inputs = ()
        for inp in inputs:
            if inp not in shapes:
                raise InputError(
                    f"reads from {short(inp)}, which is not an earlier layer"
                    + ("" if spec.input is not None or inp != "input" else " (the file has no 'input' section)"),
                    source=src,
                    field=f"{where}.inputs",
                )
        in_shapes = [shapes[x] for x in inputs]
        layer = _compile_layer(ls, lname, inputs, in_shapes, spec.batch, src, where)
        total_macs += layer.macs
        _check_bounds(layer, total_macs, src, where)
        shapes[lname] = layer.out_shape
        graph.add_node(lname, type=t)
        for inp in inputs:
            graph.add_edge(inp, lname)
        layers.append(layer)
        prev = lname
    return Workload(name=spec.name or src, source=spec.source, layers=layers, graph=graph, path=src,
                    resolved_path=resolved_path)


def _check_bounds(layer: Layer, total_macs: int, src: str, where: str) -> None:
    """Derived sizes within accelsim.limits: every loop bound and output extent <= MAX_DIM, MACs <= MAX_MACS."""
    sizes = dict(layer.nest.dims) if layer.nest else {}
    sizes.update(out_channels=layer.out_shape.c, out_height=layer.out_shape.h, out_width=layer.out_shape.w)
    for name, v in sizes.items():
        if v > MAX_DIM:
            raise InputError(f"its {name} would be {v:,}, over the limit of {MAX_DIM:,} (2**31) on any size",
                             source=src, field=where)
    if layer.macs > MAX_MACS:
        raise InputError(f"has {layer.macs:.3g} MACs, over the limit of {MAX_MACS:.0e} per layer", source=src,
                         field=where)
    if total_macs > MAX_MACS:
        raise InputError(f"brings the network to {total_macs:.3g} MACs, over the limit of {MAX_MACS:.0e}",
                         source=src, field=where)


def _compile_layer(ls, name, inputs, in_shapes, batch, src, where) -> Layer:
    def bad(msg, f=None):
        raise InputError(msg, source=src, field=f"{where}.{f}" if f else where)

    if ls.type != "add" and ls.type != "matmul" and len(in_shapes) != 1:
        bad(f"a {ls.type} layer reads exactly one input, got {len(in_shapes)}", "inputs")
    spec = ls.model_dump(by_alias=True, exclude_none=True)

    if ls.type == "conv2d":
        x = in_shapes[0]
        R, S = _two(ls.kernel)
        sh, sw = _two(ls.stride)
        dh, dw = _two(ls.dilation)
        pt, pb, pl, pr = _pad4(ls.padding)
        G = ls.groups
        if ls.in_channels is not None and ls.in_channels != x.c:
            bad(f"in_channels is {ls.in_channels} but its input {short(inputs[0])} has {x.c} channels", "in_channels")
        if x.c % G:
            bad(f"input channels {x.c} do not divide by groups {G}", "groups")
        if ls.out_channels % G:
            bad(f"out_channels {ls.out_channels} do not divide by groups {G}", "out_channels")
        P = out_size(x.h, R, sh, pt, pb, dh)
        Q = out_size(x.w, S, sw, pl, pr, dw)
        if P <= 0 or Q <= 0:
            bad(
                f"output would be empty ({P}x{Q}): input {x.h}x{x.w}, kernel {R}x{S}, "
                f"stride {sh}x{sw}, padding {ls.padding}, dilation {dh}x{dw}",
                "kernel",
            )
        if ls.out_height is not None and ls.out_height != P:
            bad(f"out_height {ls.out_height} disagrees with the floor rule, which gives {P}", "out_height")
        if ls.out_width is not None and ls.out_width != Q:
            bad(f"out_width {ls.out_width} disagrees with the floor rule, which gives {Q}", "out_width")
        C, M = x.c // G, ls.out_channels // G
        nest = LoopNest(
            dims=dict(N=x.n, G=G, M=M, C=C, P=P, Q=Q, R=R, S=S),
            H=x.h, W=x.w, stride=(sh, sw), dilation=(dh, dw), padding=(pt, pb, pl, pr),
        )
        params = G * M * C * R * S + (ls.out_channels if ls.bias else 0)
        return Layer(name, "conv2d", inputs, x, Shape(x.n, ls.out_channels, P, Q), nest, params, spec)

    if ls.type == "fc":
        x = in_shapes[0]
        if ls.in_features is not None and ls.in_features != x.features:
            bad(f"in_features is {ls.in_features} but its input {short(inputs[0])} gives {x.features} ({x})", "in_features")
        nest = LoopNest(dims=dict(N=x.n, G=1, M=ls.out_features, C=x.features, P=1, Q=1, R=1, S=1), H=1, W=1)
        params = ls.out_features * x.features + (ls.out_features if ls.bias else 0)
        return Layer(name, "fc", inputs, x, Shape(x.n, ls.out_features, 1, 1), nest, params, spec)

    if ls.type == "matmul":
        if len(in_shapes) > 1:
            bad(f"a matmul layer reads at most one activation input, got {len(in_shapes)}", "inputs")
        x = in_shapes[0] if in_shapes else None
        if x is not None and (x.n != ls.rows or x.features != ls.inner):
            bad(f"[rows x inner] = [{ls.rows} x {ls.inner}] does not match its input {short(inputs[0])} ({x})")
        nest = LoopNest(dims=dict(N=ls.rows, G=1, M=ls.cols, C=ls.inner, P=1, Q=1, R=1, S=1), H=1, W=1)
        x = x or Shape(ls.rows, ls.inner, 1, 1)
        return Layer(name, "matmul", inputs, x, Shape(ls.rows, ls.cols, 1, 1), nest, ls.inner * ls.cols, spec)

    if ls.type == "pool":
        x = in_shapes[0]
        if ls.global_:
            if ls.kernel is not None or ls.stride is not None:
                bad("a global pool takes no kernel or stride", "kernel")
            return Layer(name, "pool", inputs, x, Shape(x.n, x.c, 1, 1), None, 0, spec)
        if ls.kernel is None:
            bad("required field is missing (or set global: true)", "kernel")
        R, S = _two(ls.kernel)
        sh, sw = _two(ls.stride if ls.stride is not None else ls.kernel)
        pt, pb, pl, pr = _pad4(ls.padding)
        P, Q = out_size(x.h, R, sh, pt, pb, 1), out_size(x.w, S, sw, pl, pr, 1)
        if P <= 0 or Q <= 0:
            bad(f"output would be empty ({P}x{Q})", "kernel")
        return Layer(name, "pool", inputs, x, Shape(x.n, x.c, P, Q), None, 0, spec)

    # add
    if len(in_shapes) < 2:
        bad("an add layer sums two or more inputs; list them in 'inputs'", "inputs")
    for other, oname in zip(in_shapes[1:], inputs[1:]):
        if other != in_shapes[0]:
            bad(f"input {short(oname)} has shape {other}, but {short(inputs[0])} has {in_shapes[0]}", "inputs")
    return Layer(name, "add", inputs, in_shapes[0], in_shapes[0], None, 0, spec)
