"""Workload YAML -> validated layer graph -> one :class:`LoopNest` per MAC layer.

Workload file schema (all sizes in elements)::

    name: mobilenet_v1
    source: "where the shapes come from"
    input: {channels: 3, height: 224, width: 224}   # network input, optional for matmul-only files
    batch: 1                                        # N, default 1
    independent: false    # true: a plain list of layers that do not feed one another, each with its own input
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
      - {type: conv2d, out_channels: 64, kernel: 3, input: {channels: 32, height: 56, width: 56}}
                               # its own input: reads no other layer (every layer does, with independent: true)
      - {type: fc, out_features: 1000, bias: true}
      - {type: matmul, rows: 64, inner: 128, cols: 256}   # [rows x inner] . [inner x cols]
      - {type: pool, mode: max, kernel: 3, stride: 2, padding: 1}    # or global: true
      - {type: add, inputs: [a, b]}                       # residual sum, shapes must match
    density: {filter: 0.4, ifmap: 0.6}   # optional, every MAC layer's default; a layer's own density: wins
                                         # (numbers, {npy: file}, or seeded draws: accelsim.workload.density)

``pool`` and ``add`` carry no MACs; they are part of the graph (shapes are
checked along every edge) but are not mapped.  With ``independent: true`` the
file is a list of layer shapes, as SCALE-Sim's topologies and Timeloop's
problems are: each MAC layer states its own ``input`` (a matmul needs none),
nothing is chained and no shape is checked between layers; ``inputs``, ``add``
and ``pool`` without an ``input`` have no meaning there and are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import networkx as nx
from pydantic import Field

from ..errors import InputError, short
from ..files import load_yaml, read_binary, resolve
from ..validation import validate
from ..limits import MAX_DIM, MAX_LAYERS, MAX_MACS, MAX_ONNX_BYTES
from .density import DensitySpec, resolve_density
from .layers import LAYER_TYPES, SPECS, Layer, LayerInput, Shape, Size, Strict
from .params import resolve_params, substitute
from .recurrent import GATES, RecurrentSpec, is_recurrent, unroll


class WorkloadSpec(Strict):
    name: str | None = None
    source: str | None = None
    description: str | None = None
    batch: Size = 1
    independent: bool = False
    input: LayerInput | None = None
    density: dict | None = None  # every MAC layer's default (accelsim.workload.density)
    parameters: dict | None = None  # named integers for ${...} fields (accelsim.workload.params)
    layers: list[dict] = Field(min_length=1, max_length=MAX_LAYERS)


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


def load_workload(name: str, batch: int | None = None, input_shape: list[int] | None = None,
                  skip_unsupported: bool = False, params: dict[str, int] | None = None) -> Workload:
    """Load, validate and compile a workload: a workload YAML file (bundled name or path), an ONNX model
    (``.onnx``), a SCALE-Sim topology CSV (``.csv``) or a Timeloop problem YAML (a top-level ``problem``);
    the last three are converted by :mod:`accelsim.importers`.  ``batch`` (``--batch``), when given,
    replaces the file's ``batch`` (N), as if the file said so.  ``input_shape`` and ``skip_unsupported``
    apply to ONNX models (``--input-shape``, ``--skip-unsupported``); ``params`` replaces declared
    parameters (``--param``, :mod:`accelsim.workload.params`).

    Raises:
        InputError: malformed YAML, CSV or ONNX, unknown/missing/mistyped fields, unknown
            layer type, inconsistent shapes along an edge, a stated size that
            disagrees with the derived one, empty outputs, channels that do
            not divide by groups, unknown or duplicate layer names; an unsupported ONNX op.
    """
    data, display, path = import_workload(name, input_shape, skip_unsupported)
    if batch is not None and isinstance(data, dict):
        data = {**data, "batch": batch}
    return build_workload(data, display, path, params)


def import_workload(name: str, input_shape: list[int] | None = None,
                    skip_unsupported: bool = False) -> tuple[dict, str, str]:
    """``(workload data, display name, absolute path)`` of a workload file of any format
    (:func:`load_workload`), before compilation: what ``accelsim import`` writes as YAML."""
    from .. import importers

    text = str(name).lower()
    if text.endswith(".onnx"):
        display, path, raw = read_binary(name, "ONNX model", MAX_ONNX_BYTES)
        return importers.onnx_workload(display, raw, input_shape, skip_unsupported), display, path
    if text.endswith(".csv"):
        f = resolve(name, "topology")
        return importers.scalesim_workload(f.display, f.text, Path(f.path).stem), f.display, f.path
    f, data = load_yaml(name, "workload")
    if importers.is_timeloop_problem(data):
        return importers.timeloop_workload(f.display, data, Path(f.path).stem), f.display, f.path
    return data, f.display, f.path


def build_workload(data, src: str = "<workload>", resolved_path: str | None = None,
                   params: dict[str, int] | None = None) -> Workload:
    """Compile already-parsed workload data; see :func:`load_workload`."""
    if isinstance(data, dict) and ("parameters" in data or params):
        values = resolve_params(data.get("parameters"), params, src)
        data = {k: v if k == "parameters" else substitute(v, values, src, k) for k, v in data.items()}
    spec: WorkloadSpec = validate(WorkloadSpec, data, src)
    net_density = validate(DensitySpec, spec.density, src, prefix="density") if spec.density is not None else None
    base = Path(resolved_path).parent if resolved_path else None
    graph = nx.DiGraph()
    shapes: dict[str, Shape] = {}
    if spec.input is not None:
        shapes["input"] = Shape(spec.batch, spec.input.channels, spec.input.height, spec.input.width)
        graph.add_node("input", type="input")
    layers: list[Layer] = []
    total_macs = 0
    prev = "input" if spec.input is not None else None
    items = []  # (index in the file, raw layer): recurrent layers unrolled (accelsim.workload.recurrent)
    for i, raw in enumerate(spec.layers):
        if is_recurrent(raw):
            rs = validate(RecurrentSpec, raw, src, prefix=f"layers.{i}")
            items += [(i, r) for r in unroll(rs, f"{rs.type}{i}")]
        else:
            items.append((i, raw))
    if len(items) > MAX_LAYERS:
        raise InputError(f"unrolls to {len(items):,} layers, over the limit of {MAX_LAYERS:,}", source=src,
                         field="layers")
    by_name: dict[str, Layer] = {}
    for i, raw in items:
        where = f"layers.{i}"
        if not isinstance(raw, dict):
            raise InputError("each layer must be a mapping of fields", source=src, field=where)
        t = raw.get("type")
        if t is None:
            raise InputError("required field is missing", source=src, field=f"{where}.type")
        if not isinstance(t, str) or t not in SPECS:
            raise InputError(f"unknown layer type {short(t)} (known: {', '.join(LAYER_TYPES + tuple(GATES))})",
                             source=src, field=f"{where}.type")
        ls = validate(SPECS[t], raw, src, prefix=where)
        lname = ls.name or f"{t}{i}"
        where = f"layer {short(lname)} ({where})"
        if lname in shapes or lname == "input":
            raise InputError("duplicate layer name", source=src, field=where)
        own = None
        if ls.input is not None:
            if ls.inputs is not None:
                raise InputError("give either 'input' (its own input shape) or 'inputs' (the layers it reads), "
                                 "not both", source=src, field=f"{where}.input")
            own = Shape(spec.batch, ls.input.channels, ls.input.height, ls.input.width)
            inputs = ()
        elif spec.independent:
            if ls.inputs is not None:
                raise InputError("layers of an independent workload read no other layer; give the layer its own "
                                 "'input' instead", source=src, field=f"{where}.inputs")
            if t not in ("matmul",):
                raise InputError("a layer of an independent workload needs its own 'input' "
                                 "({channels, height, width})", source=src, field=f"{where}.input")
            inputs = ()
        elif ls.inputs is not None:
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
        shared = getattr(ls, "weights_of", None)
        if shared is not None:
            w = by_name.get(shared)
            if w is None or w.type != "matmul":
                raise InputError(f"weights_of names {short(shared)}, which is not an earlier matmul layer",
                                 source=src, field=f"{where}.weights_of")
            if (w.nest.dims["C"], w.nest.dims["M"], w.nest.dims["G"]) != (ls.inner, ls.cols, ls.groups):
                raise InputError(f"weights_of {short(shared)}: its weights are {w.nest.dims['G']} x "
                                 f"[{w.nest.dims['C']} x {w.nest.dims['M']}], this layer's "
                                 f"{ls.groups} x [{ls.inner} x {ls.cols}]", source=src, field=f"{where}.weights_of")
        in_shapes = [own] if own is not None else [shapes[x] for x in inputs]
        layer = ls.lower(lname, inputs, in_shapes, _raiser(src, where))
        own_density = validate(DensitySpec, ls.density, src, prefix=f"{where}.density") \
            if ls.density is not None else None
        if layer.nest is not None:
            dens = resolve_density(own_density, net_density, layer.nest, base, _raiser(src, where))
            layer = replace(layer, density=dens, nest=replace(layer.nest, density=dens.values,
                                                              host_ifmap=inputs == ("input",)))
        elif own_density is not None:
            raise InputError(f"a {t} layer has no MACs, so no operand densities", source=src,
                             field=f"{where}.density")
        total_macs += layer.macs
        _check_bounds(layer, total_macs, src, where)
        shapes[lname] = layer.out_shape
        graph.add_node(lname, type=t)
        for inp in inputs:
            graph.add_edge(inp, lname)
        layers.append(layer)
        by_name[lname] = layer
        prev = lname
    return Workload(name=spec.name or src, source=spec.source, layers=layers, graph=graph, path=src,
                    resolved_path=resolved_path)


def _raiser(src: str, where: str):
    """``bad(message, field=None)`` for one layer: raises an InputError naming the file and the layer's field."""

    def bad(msg, f=None):
        raise InputError(msg, source=src, field=f"{where}.{f}" if f else where)

    return bad


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
