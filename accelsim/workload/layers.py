"""Layer types of a workload file: each validates its own fields and lowers itself to a loop nest.

A layer type is a pydantic model (``type`` is the discriminator) with a
``lower()`` that, given its producers' activation shapes, checks the shapes
along its input edges and returns a :class:`Layer`: the output shape, the
canonical loop nest (``None`` for layers without MACs) and the parameter
count.  Sizes are in elements; see :mod:`accelsim.workload.network` for the
file schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Callable, Literal, NoReturn, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ..errors import short
from ..limits import MAX_DIM
from .loopnest import LoopNest, out_size

if TYPE_CHECKING:
    from .density import LayerDensity

#: A size: >= 1 and at most MAX_DIM (see accelsim.limits).
Size = Annotated[int, Field(ge=1, le=MAX_DIM)]
Pair = Union[int, list[int]]
#: ``bad(message, field=None)`` raises the InputError of one layer.
Bad = Callable[..., NoReturn]

LAYER_TYPES = ("conv2d", "fc", "matmul", "pool", "add", "concat", "elementwise")
MAC_TYPES = ("conv2d", "fc", "matmul")


class Strict(BaseModel):
    """Strict pydantic model: unknown fields, coerced types and non-finite floats are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


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
        inputs: names of producer layers (``"input"`` for the network input); empty for a layer that
            gives its own ``input`` shape (an independent layer).
        in_shape, out_shape: activation shapes (N, C, H, W).
        nest: the loop nest for MAC layers, ``None`` for pool/add.
        params: parameter count (filter words, plus biases if ``bias``).
        spec: the validated spec as given (for the report).
        density: its operands' densities (:class:`~accelsim.workload.density.LayerDensity`); None
            for a layer without MACs.
    """

    name: str
    type: str
    inputs: tuple[str, ...]
    in_shape: Shape | None
    out_shape: Shape
    nest: LoopNest | None
    params: int
    spec: dict
    density: LayerDensity | None = None

    @property
    def macs(self) -> int:
        return self.nest.macs if self.nest else 0


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


def _one_input(kind: str, in_shapes: list[Shape], bad: Bad) -> Shape:
    if len(in_shapes) != 1:
        bad(f"a {kind} layer reads exactly one input, got {len(in_shapes)}", "inputs")
    return in_shapes[0]


class LayerInput(Strict):
    """An activation shape given in the file (elements): the network's ``input``, or a layer's own ``input``."""

    channels: Size
    height: Size = 1
    width: Size = 1


class _LayerBase(Strict):
    """Fields every layer has; each layer type adds its own and its ``lower()``.

    ``inputs`` names the producers; ``input`` instead gives the layer its own input shape, so it reads
    no other layer (an independent layer, as in SCALE-Sim's topologies and Timeloop's problems).
    """

    name: str | None = None
    inputs: list[str] | None = None
    input: LayerInput | None = None
    density: dict | None = None  # validated by accelsim.workload.density.DensitySpec

    def record(self) -> dict:
        """The validated spec as given (for the report)."""
        return self.model_dump(by_alias=True, exclude_none=True)


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


#: Zero padding: an int, [h, w] or [top, bottom, left, right], each >= 0.
Padding = Annotated[Pair, AfterValidator(lambda v: _pair_ok(v, (1, 2, 4), minimum=0))]


class Conv2dSpec(_LayerBase):
    """2-D convolution (grouped and depthwise with ``groups``); kernel, stride, dilation as int or [h, w],
    padding as int, [h, w] or [top, bottom, left, right]; output size by the floor rule."""

    type: Literal["conv2d"]
    out_channels: Size
    kernel: Pair
    stride: Pair = 1
    padding: Padding = 0
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

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        x = _one_input(self.type, in_shapes, bad)
        R, S = _two(self.kernel)
        sh, sw = _two(self.stride)
        dh, dw = _two(self.dilation)
        pt, pb, pl, pr = _pad4(self.padding)
        G = self.groups
        if self.in_channels is not None and self.in_channels != x.c:
            bad(f"in_channels is {self.in_channels} but its input {short(inputs[0])} has {x.c} channels",
                "in_channels")
        if x.c % G:
            bad(f"input channels {x.c} do not divide by groups {G}", "groups")
        if self.out_channels % G:
            bad(f"out_channels {self.out_channels} do not divide by groups {G}", "out_channels")
        P = out_size(x.h, R, sh, pt, pb, dh)
        Q = out_size(x.w, S, sw, pl, pr, dw)
        if P <= 0 or Q <= 0:
            bad(
                f"output would be empty ({P}x{Q}): input {x.h}x{x.w}, kernel {R}x{S}, "
                f"stride {sh}x{sw}, padding {self.padding}, dilation {dh}x{dw}",
                "kernel",
            )
        if self.out_height is not None and self.out_height != P:
            bad(f"out_height {self.out_height} disagrees with the floor rule, which gives {P}", "out_height")
        if self.out_width is not None and self.out_width != Q:
            bad(f"out_width {self.out_width} disagrees with the floor rule, which gives {Q}", "out_width")
        C, M = x.c // G, self.out_channels // G
        nest = LoopNest(
            dims=dict(N=x.n, G=G, M=M, C=C, P=P, Q=Q, R=R, S=S),
            H=x.h, W=x.w, stride=(sh, sw), dilation=(dh, dw), padding=(pt, pb, pl, pr),
        )
        params = G * M * C * R * S + (self.out_channels if self.bias else 0)
        return Layer(name, "conv2d", inputs, x, Shape(x.n, self.out_channels, P, Q), nest, params, self.record())


class FCSpec(_LayerBase):
    """Fully connected: a conv with P = Q = R = S = 1 over the flattened input (C = channels x H x W)."""

    type: Literal["fc"]
    out_features: Size
    in_features: int | None = None
    bias: bool = True

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        x = _one_input(self.type, in_shapes, bad)
        if self.in_features is not None and self.in_features != x.features:
            bad(f"in_features is {self.in_features} but its input {short(inputs[0])} gives {x.features} ({x})",
                "in_features")
        nest = LoopNest(dims=dict(N=x.n, G=1, M=self.out_features, C=x.features, P=1, Q=1, R=1, S=1), H=1, W=1)
        params = self.out_features * x.features + (self.out_features if self.bias else 0)
        return Layer(name, "fc", inputs, x, Shape(x.n, self.out_features, 1, 1), nest, params, self.record())


class MatmulSpec(_LayerBase):
    """``groups`` independent products [rows x inner] . [inner x cols] (a batched matmul: attention's heads).

    With at most one activation input the [inner x cols] operand is the parameters (an FC with N =
    rows).  With two, ``inputs: [a, b]`` (or ``activations: true``), both operands are activations
    (attention's Q.K^T and scores.V): no parameters, and the loop nest's filter tensor is ``b``.  ``weights_of`` names an
    earlier layer whose weights this one reuses (a recurrent cell's later time steps), so its
    parameters count once.  ``bias``: bias vectors of ``cols`` words (true = 1; an LSTM gate has 2,
    b_ih and b_hh).  Loop nest: N = rows, G = groups, M = cols, C = inner.
    """

    type: Literal["matmul"]
    rows: Size
    inner: Size
    cols: Size
    groups: Size = 1
    bias: Union[bool, Annotated[int, Field(ge=0, le=8)]] = False
    weights_of: str | None = None
    activations: bool = False  # both operands are activations even when it reads fewer than two layers

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        if len(in_shapes) > 2:
            bad(f"a matmul layer reads at most two activation inputs, got {len(in_shapes)}", "inputs")
        g, x = self.groups, in_shapes[0] if in_shapes else None
        if x is not None and (x.n != self.rows or x.features != g * self.inner):
            want = f"{g} x " if g > 1 else ""
            bad(f"[rows x inner] = {want}[{self.rows} x {self.inner}] does not match its input "
                f"{short(inputs[0])} ({x})")
        if len(in_shapes) == 2 and in_shapes[1].n * in_shapes[1].features != g * self.inner * self.cols:
            y = in_shapes[1]
            bad(f"its second operand {short(inputs[1])} ({y}) has {y.n * y.features} elements, but "
                f"{g} x [{self.inner} x {self.cols}] needs {g * self.inner * self.cols}", "inputs")
        nest = LoopNest(dims=dict(N=self.rows, G=g, M=self.cols, C=self.inner, P=1, Q=1, R=1, S=1), H=1, W=1)
        x = x or Shape(self.rows, g * self.inner, 1, 1)
        shared = len(in_shapes) == 2 or self.activations or self.weights_of is not None
        params = 0 if shared else g * self.cols * (self.inner + int(self.bias))
        return Layer(name, "matmul", inputs, x, Shape(self.rows, g * self.cols, 1, 1), nest, params, self.record())


class PoolSpec(_LayerBase):
    """Max or average pooling (no MACs, not mapped); ``global: true`` pools the whole map."""

    type: Literal["pool"]
    mode: Literal["max", "avg"] = "max"
    kernel: Pair | None = None
    stride: Pair | None = None
    padding: Padding = 0
    global_: bool = Field(default=False, alias="global")

    @field_validator("kernel", "stride")
    @classmethod
    def _pairs(cls, v):
        return v if v is None else _pair_ok(v)

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        x = _one_input(self.type, in_shapes, bad)
        if self.global_:
            if self.kernel is not None or self.stride is not None:
                bad("a global pool takes no kernel or stride", "kernel")
            return Layer(name, "pool", inputs, x, Shape(x.n, x.c, 1, 1), None, 0, self.record())
        if self.kernel is None:
            bad("required field is missing (or set global: true)", "kernel")
        R, S = _two(self.kernel)
        sh, sw = _two(self.stride if self.stride is not None else self.kernel)
        pt, pb, pl, pr = _pad4(self.padding)
        P, Q = out_size(x.h, R, sh, pt, pb, 1), out_size(x.w, S, sw, pl, pr, 1)
        if P <= 0 or Q <= 0:
            bad(f"output would be empty ({P}x{Q})", "kernel")
        return Layer(name, "pool", inputs, x, Shape(x.n, x.c, P, Q), None, 0, self.record())


class AddSpec(_LayerBase):
    """Element-wise sum of two or more inputs of one shape (residual shortcut; no MACs, not mapped)."""

    type: Literal["add"]

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        if len(in_shapes) < 2:
            bad("an add layer sums two or more inputs; list them in 'inputs'", "inputs")
        for other, oname in zip(in_shapes[1:], inputs[1:]):
            if other != in_shapes[0]:
                bad(f"input {short(oname)} has shape {other}, but {short(inputs[0])} has {in_shapes[0]}", "inputs")
        return Layer(name, "add", inputs, in_shapes[0], in_shapes[0], None, 0, self.record())


class ConcatSpec(_LayerBase):
    """Channel concatenation of one or more inputs of equal batch, height and width (no MACs, not mapped)."""

    type: Literal["concat"]

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        if not in_shapes:
            bad("a concat layer joins one or more inputs; list them in 'inputs'", "inputs")
        a = in_shapes[0]
        for other, oname in zip(in_shapes[1:], inputs[1:]):
            if (other.n, other.h, other.w) != (a.n, a.h, a.w):
                bad(f"input {short(oname)} has shape {other}, but {short(inputs[0])} has {a}: channels join "
                    "only maps of one batch, height and width", "inputs")
        out = Shape(a.n, sum(x.c for x in in_shapes), a.h, a.w)
        return Layer(name, "concat", inputs, a, out, None, 0, self.record())


class ElementwiseSpec(_LayerBase):
    """An element-wise op over one or more inputs of one shape (``op``: mul, an LSTM or GRU cell's state
    update, an activation...; no MACs, not mapped)."""

    type: Literal["elementwise"]
    op: str = Field(default="mul", min_length=1, max_length=64)

    def lower(self, name: str, inputs: tuple[str, ...], in_shapes: list[Shape], bad: Bad) -> Layer:
        """This layer's shapes, loop nest and parameters; ``bad(message, field)`` raises an InputError."""
        if not in_shapes:
            bad("an elementwise layer reads one or more inputs; list them in 'inputs'", "inputs")
        for other, oname in zip(in_shapes[1:], inputs[1:]):
            if other != in_shapes[0]:
                bad(f"input {short(oname)} has shape {other}, but {short(inputs[0])} has {in_shapes[0]}", "inputs")
        return Layer(name, "elementwise", inputs, in_shapes[0], in_shapes[0], None, 0, self.record())


SPECS = {"conv2d": Conv2dSpec, "fc": FCSpec, "matmul": MatmulSpec, "pool": PoolSpec, "add": AddSpec,
         "concat": ConcatSpec, "elementwise": ElementwiseSpec}


