"""Operand densities of a layer: the fraction of non-zero words of its filter, ifmap and ofmap.

A workload gives densities per layer (``density:`` in a layer) or once for
the network (``density:`` at the top level, for every MAC layer that states
none); dense (1.0) is the default.  Each tensor's density is one of::

    density:
      filter: 0.35                                  # a number in [0, 1]
      ifmap: {npy: conv2_ifmap.npy}                 # an actual tensor: its share of non-zeros
      ofmap: {draw: per_channel, density: 0.4, seed: 7, spread: 0.5}   # a seeded draw

A draw is ``uniform`` (every word non-zero with probability ``density``),
``per_channel`` or ``per_row`` (each slice of the first two axes, an ifmap's
channel of one image or one kernel of the filter, or each row of it, takes its own density, uniform in ``density x (1 +- spread)`` clipped to
[0, 1], so load imbalance appears when the tensor is distributed to PEs).  The
statistical evaluation uses a draw's ``density``, its expectation; the drawn
tensor itself (:func:`draw_tensor`) is what an actual evaluation distributes.
An ``.npy`` tensor must have the tensor's shape: filter [G*M, C, R, S] (an FC
layer's may be [M, C]), ifmap [N, G*C, H, W], ofmap [N, G*M, P, Q]; a path is
relative to the workload file.  The ofmap's density is what the layer writes
out (after its ReLU), i.e. the next layer's ifmap density; it is dense unless
given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Union

import numpy as np
from typing import Annotated

from pydantic import Field

from .layers import Strict
from .loopnest import TENSORS, LoopNest

Fraction = float


class NpyDensitySpec(Strict):
    """An actual tensor in a ``.npy`` file."""

    npy: str = Field(min_length=1)


class DrawDensitySpec(Strict):
    """A seeded random tensor of a given expected density."""

    draw: Literal["uniform", "per_channel", "per_row"]
    density: float = Field(ge=0.0, le=1.0)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    spread: float = Field(default=0.5, ge=0.0, le=1.0)


OneDensity = Union[Annotated[float, Field(ge=0.0, le=1.0)], NpyDensitySpec, DrawDensitySpec]


class DensitySpec(Strict):
    """Densities of a layer's tensors (any may be left out)."""

    filter: OneDensity | None = None
    ifmap: OneDensity | None = None
    ofmap: OneDensity | None = None


@dataclass(frozen=True)
class TensorDensity:
    """The density of one tensor of one layer.

    Attributes:
        density: fraction of non-zero words, in [0, 1] (a draw's expectation; an npy tensor's measured share).
        source: how it was given: ``dense`` (the default), ``given``, ``network`` (the workload's
            default), ``npy <path>`` or ``draw <kind> seed <n>``.
        draw: the draw's spec when drawn (to draw the actual tensor again), else None.
        path: the npy file's resolved path when given as a tensor, else None.
    """

    density: float
    source: str = "dense"
    draw: DrawDensitySpec | None = None
    path: str | None = None


@dataclass(frozen=True)
class LayerDensity:
    """Per tensor (``filter``, ``ifmap``, ``ofmap``), its :class:`TensorDensity`."""

    filter: TensorDensity
    ifmap: TensorDensity
    ofmap: TensorDensity

    def of(self, tensor: str) -> TensorDensity:
        return getattr(self, tensor)

    @property
    def values(self) -> tuple[float, float, float]:
        """(filter, ifmap, ofmap) densities, the order of :data:`~accelsim.workload.loopnest.TENSORS`."""
        return (self.filter.density, self.ifmap.density, self.ofmap.density)

    @property
    def dense(self) -> bool:
        return self.values == (1.0, 1.0, 1.0)

    def to_dict(self) -> dict:
        return {t: {"density": self.of(t).density, "source": self.of(t).source} for t in TENSORS}


DENSE = LayerDensity(TensorDensity(1.0), TensorDensity(1.0), TensorDensity(1.0))


def tensor_shapes(nest: LoopNest) -> dict[str, tuple[int, ...]]:
    """The array shape of each tensor of a layer: filter [G*M, C, R, S], ifmap [N, G*C, H, W],
    ofmap [N, G*M, P, Q] (words)."""
    d = nest.dims
    return {"filter": (d["G"] * d["M"], d["C"], d["R"], d["S"]),
            "ifmap": (d["N"], d["G"] * d["C"], nest.H, nest.W),
            "ofmap": (d["N"], d["G"] * d["M"], d["P"], d["Q"])}


def resolve_density(spec: DensitySpec | None, default: DensitySpec | None, nest: LoopNest, base: Path | None,
                    bad) -> LayerDensity:
    """The densities of one layer: its own, else the network's default, else dense.

    ``base``: folder of the workload file (npy paths are relative to it); ``bad(message, field)`` raises
    the layer's InputError (an unreadable npy file, a wrong shape, a non-finite value).
    """
    shapes = tensor_shapes(nest)
    out = {}
    for t in TENSORS:
        own = getattr(spec, t) if spec is not None else None
        net = getattr(default, t) if default is not None else None
        given, how = (own, "given") if own is not None else (net, "network") if net is not None else (None, "dense")
        field = f"density.{t}"
        if given is None:
            out[t] = TensorDensity(1.0)
        elif isinstance(given, (int, float)):
            out[t] = TensorDensity(float(given), how)
        elif isinstance(given, DrawDensitySpec):
            out[t] = TensorDensity(given.density, f"draw {given.draw} seed {given.seed}", draw=given)
        else:
            path = Path(given.npy)
            if not path.is_absolute() and base is not None:
                path = base / path
            arr = _load_npy(path, given.npy, f"{field}.npy", bad)
            want = shapes[t]
            alt = (want[0], want[1]) if t == "filter" and want[2:] == (1, 1) else None
            if arr.shape != want and arr.shape != alt:
                bad(f"{given.npy} holds an array of shape {list(arr.shape)}; the {t} of this layer is "
                    f"{list(want)}", f"{field}.npy")
            if not np.all(np.isfinite(arr)):
                bad(f"{given.npy} holds NaN or infinite values", f"{field}.npy")
            out[t] = TensorDensity(float(np.count_nonzero(arr)) / arr.size, f"npy {given.npy}", path=str(path))
    return LayerDensity(**out)


def _load_npy(path: Path, shown: str, field: str, bad) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        bad(f"no such file: {shown}", field)
    except (OSError, ValueError) as e:
        bad(f"cannot read {shown} as a .npy array: {e}", field)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        bad(f"{shown} is not a numeric array", field)
    return arr


def draw_tensor(spec: DrawDensitySpec, shape: tuple[int, ...]) -> np.ndarray:
    """A seeded 0/1 tensor of ``shape`` (bool) whose words are non-zero as ``spec`` says.

    ``per_channel``: each slice of the first two axes (an ifmap's channel of one image, one kernel
    of the filter) takes density ``density * (1 + spread * u)``, u uniform in [-1, 1], clipped to
    [0, 1]; ``per_row``: likewise per slice of the first three axes (a row of it).  The same spec and shape give the same tensor.
    """
    rng = np.random.default_rng(spec.seed)
    d = spec.density
    if spec.draw == "uniform":
        p = np.float32(d)
    else:
        lead = shape[:2] if spec.draw == "per_channel" else shape[:3]
        per = np.clip(d * (1.0 + spec.spread * rng.uniform(-1.0, 1.0, size=lead)), 0.0, 1.0).astype(np.float32)
        p = np.broadcast_to(per.reshape(lead + (1,) * (len(shape) - len(lead))), shape)
    out = np.empty(shape, dtype=bool)
    flat, pf = out.reshape(-1), np.broadcast_to(p, shape).reshape(-1)
    step = 1 << 22  # draw in blocks: a few MB of random floats at a time, whatever the tensor's size
    for i in range(0, flat.size, step):
        flat[i:i + step] = rng.random(min(step, flat.size - i), dtype=np.float32) < pf[i:i + step]
    return out


def operand_masks(density: LayerDensity, nest: LoopNest) -> dict[str, np.ndarray]:
    """The non-zero masks (bool arrays of :func:`tensor_shapes`) of a layer's filter and ifmap, for an
    actual evaluation: an npy tensor as given (``!= 0``), a draw as drawn, a number as a uniform draw
    with seed 0 (stated in the report), dense as all non-zero."""
    shapes = tensor_shapes(nest)
    out = {}
    for t in ("filter", "ifmap"):
        td = density.of(t)
        if td.path is not None:
            out[t] = (np.load(td.path, allow_pickle=False) != 0).reshape(shapes[t])
        elif td.draw is not None:
            out[t] = draw_tensor(td.draw, shapes[t])
        elif td.density >= 1.0:
            out[t] = np.ones(shapes[t], dtype=bool)
        else:
            out[t] = draw_tensor(DrawDensitySpec(draw="uniform", density=td.density, seed=0), shapes[t])
    return out
