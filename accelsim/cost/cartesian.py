"""Cartesian-product MAC arrays (SCNN): the cycles and products of one pass at one MAC unit.

SCNN's PE (Parashar et al., "SCNN: An Accelerator for Compressed-sparse Convolutional Neural
Networks", ISCA 2017, Sec. III-IV, the PT-IS-CP-sparse dataflow) holds a planar tile of the ifmap and
receives the filter words of an output-channel group; an F x I multiplier array multiplies every one
of F filter words by every one of I ifmap words each cycle (their Cartesian product), and scatters
the products through a crossbar to accumulator banks.  In accelsim that PE is one MAC unit with
``mac.cartesian`` (:class:`~accelsim.arch.levels.CartesianArray`); its *pass* is the loops of the
levels at or inside the pass level (:func:`pass_level`: the innermost level below the array that
receives a tensor across it, as the simulator's schedule), and within a pass:

* **Groups.** Filter word (g, m, c, r, s) and ifmap word (n, g, c, h, w) meet only when they share the
  contracted coordinates (g, c), so the products are formed per (g, c) group of the pass tile.
* **Stride phases.** They meet in an output only when h + pad_top - r * dilation is a multiple of the
  stride (per axis), so a group is split into phase classes, (r * dilation) mod stride for the filter
  and (h + pad_top) mod stride for the ifmap, and only words of one class are multiplied together.
  SCNN does not state its rule for strides above 1; this is DNNsim's SCNN model (isakedo/DNNsim),
  taken as an assumption.
* **Ownership.** The ifmap plane is split among the units by their output tiles: row h belongs to the
  unit holding the output row whose window is centred on it,
  own(h) = clip(floor((h + pad_top - ((R - 1) * dilation) // 2) / stride), 0, P - 1) (columns alike;
  own(h) = h for a stride-1 'same' convolution, SCNN's equal Wt x Ht input tiles), so every ifmap word
  is multiplied at exactly one unit (products falling in a neighbour's output tile are its halo,
  exchanged at the end of the output-channel group).
* **Cycles.** A class with f filter words and a ifmap words takes ceil(f / F) * ceil(a / I) cycles;
  with the MAC skipping (``mac.sparse``), f and a count the non-zero words of its ``condition_on``
  operands (SCNN's intra-PE fragmentation is the rounding up).  A pass is the sum over its classes
  and groups.
* **Bank conflicts.** Each product goes to one of B accumulator banks (a uniform hash of its output
  address, an assumption); a bank accepts one product per cycle, behind queues that hold the pass's
  backlog, so a pass takes max(multiplier cycles, products at the busiest bank), the latter
  E[max of B Poisson(products / B)] (Poissonisation of the balls-into-bins maximum).

The statistical mode (:func:`cartesian_pass`) takes expectations under independent non-zeros
(E[ceil(Binomial(n, d) / k)], :func:`~accelsim.cost.runs.expected_ceil_words`), the busiest output
tile of the pass (units wait for each other at every pass), and the mean products per (pass, unit).
The actual mode (:mod:`accelsim.sim.cartesian`) counts the real non-zeros per class.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import LoopNest
from .runs import expected_ceil_words


@dataclass(frozen=True)
class CartesianPass:
    """Expected figures of one pass at one MAC unit of a Cartesian-product array (module doc).

    Attributes:
        cycles: the pass's cycles at its busiest unit (multiplier array and accumulator banks).
        products: mean products (multiplications) per pass and unit.
        pass_steps: the mapping's MAC steps of one pass (what a one-MAC unit would take).
    """

    cycles: float
    products: float
    pass_steps: int


def pass_level(arch: Architecture) -> int:
    """The innermost level below the array level that receives a tensor from at or above it (the pass
    boundary of :func:`accelsim.sim.schedule.build_schedule`); the level below the array if none."""
    array = arch.array_level
    crossing = []
    for t in ("filter", "ifmap", "ofmap"):
        below = [k for k in arch.keepers(t) if k < array]
        if below:
            crossing.append(below[-1])
    return min(crossing) if crossing else array - 1


def pass_extent(m: Mapping, inner: int) -> dict[str, int]:
    """Iterations per dim of one pass at one MAC unit: the temporal factors of the levels at or inside
    ``inner``."""
    ext = {}
    for s in m.slots:
        if not s.spatial and s.level <= inner:
            for d, f in m.factors[s.name].items():
                ext[d] = ext.get(d, 1) * f
    return ext


def owner(n: int, pad: int, stride: int, bound: int, half: int = 0) -> np.ndarray:
    """own(h) for the ``n`` ifmap rows (or columns): the output row whose unit multiplies them (module
    doc); ``half`` = ((R - 1) * dilation) // 2, the window's centre offset."""
    return np.clip((np.arange(n) + pad - half) // stride, 0, bound - 1)


def phase_counts(n: int, step: int, stride: int, offset: int = 0) -> np.ndarray:
    """How many of the positions offset + i * step, i < n, fall in each phase class mod ``stride``."""
    return np.bincount((offset + np.arange(n) * step) % stride, minlength=stride)


@lru_cache(maxsize=4096)
def _tile_classes(size: int, pad: int, stride: int, out: int, tile: int, half: int) -> tuple:
    """``((per-class owned positions, tiles with them), ...)`` along one axis for output tiles of ``tile``
    positions (the empty tiles past the edge included)."""
    own = owner(size, pad, stride, out, half)
    phase = (np.arange(size) + pad) % stride
    n_tiles = -(-out // tile)
    counts = np.zeros((n_tiles, stride), dtype=np.int64)
    np.add.at(counts, (own // tile, phase), 1)
    return tuple(Counter(tuple(int(x) for x in row) for row in counts).items())


@lru_cache(maxsize=1 << 16)
def _ceil_mean(n: int, d: float, k: int) -> float:
    return expected_ceil_words(n, d, n * d, k)


@lru_cache(maxsize=1 << 14)
def busiest_bank(products: float, banks: int) -> float:
    """E[max of ``banks`` Poisson(products / banks) loads]: the products the busiest bank takes."""
    lam = products / banks
    if lam <= 0.0:
        return 0.0
    top = int(lam + 12.0 * math.sqrt(lam) + 20)
    k = np.arange(top + 1)
    logp = -lam + k * math.log(lam) - np.array([math.lgamma(x + 1) for x in k])
    cdf = np.minimum(np.cumsum(np.exp(logp)), 1.0)
    return float((1.0 - cdf ** banks).sum())


def cartesian_pass(nest: LoopNest, arch: Architecture, m: Mapping) -> CartesianPass:
    """The expected cycles and products of one pass at one unit of ``arch``'s Cartesian array (module doc)."""
    cp = arch.mac_cartesian
    ext = pass_extent(m, pass_level(arch))
    steps = math.prod(ext.values())
    ms = arch.mac_sparse
    skip = ms is not None and ms.action == "skip"
    dw = nest.density_of("filter") if skip and "filter" in ms.condition_on else 1.0
    da = nest.density_of("ifmap") if skip and "ifmap" in ms.condition_on else 1.0
    (uh, uw), (dh, dwl) = nest.stride, nest.dilation
    pt, _, pl, _ = nest.padding
    fr = phase_counts(ext["R"], dh, uh)
    fs = phase_counts(ext["S"], dwl, uw)
    rows = _tile_classes(nest.H, pt, uh, nest.dims["P"], ext["P"], (nest.dims["R"] - 1) * dh // 2)
    cols = _tile_classes(nest.W, pl, uw, nest.dims["Q"], ext["Q"], (nest.dims["S"] - 1) * dwl // 2)
    groups = ext["G"] * ext["C"]
    worst, prod_sum, tiles = 0.0, 0.0, 0
    for rh, nh in rows:
        for cw, nw in cols:
            cyc = prod = 0.0
            for a in range(uh):
                for b in range(uw):
                    nf = ext["M"] * int(fr[a]) * int(fs[b])
                    na = ext["N"] * rh[a] * cw[b]
                    if nf and na:
                        cyc += _ceil_mean(nf, dw, cp.filter_lanes) * _ceil_mean(na, da, cp.ifmap_lanes)
                        prod += nf * dw * na * da
            cyc, prod = cyc * groups, prod * groups
            if cp.accumulator_banks is not None:
                cyc = max(cyc, busiest_bank(prod, cp.accumulator_banks))
            worst = max(worst, cyc)
            prod_sum += prod * nh * nw
            tiles += nh * nw
    return CartesianPass(cycles=max(worst, 1.0), products=prod_sum / tiles, pass_steps=steps)
