"""Exact reuse analysis of a mapped loop nest (the counting core of the cost model).

For one storage level (RF or GLB) and one tensor it counts, over the whole
run, exactly what a buffer holding one tile per instance would move:

* per-instance *fills*: words entering an instance's tile when the outer
  loops step to the next tile (only the new words: a sliding window's
  overlap stays), summed over all instances;
* *multicast reads* at the parent: per step, the distinct words that any
  instance newly needs (one parent read serves every instance that needs the
  same word in the same step);
* the first tile, and the distinct words an instance ever holds.

The counting is a closed-form sum, not a walk.  A tile is a Cartesian
product over the tensor's coordinates (filter: g, m, c, r, s; ifmap: n, g, c,
h, w; ofmap: n, g, m, p, q), each fed by its own problem dims (h by P and R,
w by Q and S, every other coordinate by one dim).  Since consecutive tiles
are product sets, |A \\ B| = prod |A_i| - prod |A_i & B_i|, and the union
over instances of (A \\ B) has size prod U_i - prod V_i, where U_i counts
coordinate values some instance holds and V_i those every holding instance
already had.  Summing over the outer loop values factorises per coordinate
because the loop values of different problem dims are independent.  This is
the delta analysis of Timeloop (Parashar et al., ISPASS 2019, section V-A),
made exact for clipped (padded) and strided windows.  The brute-force walk
in ``tests/oracle.py`` checks every count.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np

from ..workload.loopnest import LoopNest

#: (loop dim, factor, stride in iterations of that dim), outermost first.
Loop = tuple[str, int, int]


@dataclass(frozen=True)
class TileStats:
    """Counts for one tensor at one level, summed over the whole layer.

    Attributes:
        pe_fills: words entering instance tiles, summed over instances and steps
            (including the first tile).
        union_fills: per step, distinct words entering any instance, summed
            over steps (parent reads under multicast).
        distinct: words each instance ever holds, summed over instances.
        max_tile: largest tile of one instance, in words (unclipped by padding).
        first_pe, first_union: the first tile's share of pe_fills and union_fills.
        per_loop: per outer loop j (same order as ``outer``), the totals over
            all steps where loop j is the one that increments:
            ``(steps, pe_fills, union_fills)``; steps = prod(f_l, l < j) * (f_j - 1).
    """

    pe_fills: int
    union_fills: int
    distinct: int
    max_tile: int
    first_pe: int = 0
    first_union: int = 0
    per_loop: tuple = ()


def coordinates(nest: LoopNest, tensor: str) -> list[tuple]:
    """Coordinates of a tensor as ``(dims, kind_params)``; kind_params None = identity."""
    if tensor == "filter":
        return [(("G",), None), (("M",), None), (("C",), None), (("R",), None), (("S",), None)]
    if tensor == "ofmap":
        return [(("N",), None), (("G",), None), (("M",), None), (("P",), None), (("Q",), None)]
    sh, sw = nest.stride
    dh, dw = nest.dilation
    return [
        (("N",), None),
        (("G",), None),
        (("C",), None),
        (("P", "R"), (sh, dh, nest.padding[0], nest.H)),
        (("Q", "S"), (sw, dw, nest.padding[2], nest.W)),
    ]


def analyse(
    nest: LoopNest,
    tensor: str,
    outer: list[Loop],
    inner: dict[str, int],
    spatial: dict[str, tuple[tuple[int, int], ...]],
) -> TileStats:
    """Exact fill counts of one tensor at one level.

    Args:
        nest: the layer.
        tensor: ``filter``, ``ifmap`` or ``ofmap``.
        outer: temporal loops above the level, outermost first, factor > 1 only.
        inner: per dim, the tile extent one instance holds (product of the
            factors below the level).
        spatial: per dim, the spatial digits ``(factor, stride)`` that tell
            instances apart (empty for a single instance).
    Returns:
        TileStats (all counts in words).
    """
    coords = coordinates(nest, tensor)
    key = (
        tuple(outer),
        tuple((dims, kp, tuple(inner[d] for d in dims), tuple(tuple(spatial.get(d, ())) for d in dims))
              for dims, kp in coords),
        tuple(f for d, digits in sorted(spatial.items()) if all(d not in c[0] for c in coords) for f, _ in digits),
    )
    return _analyse(*key)


@lru_cache(maxsize=200_000)
def _analyse(outer: tuple, coords: tuple, irr_factors: tuple) -> TileStats:
    relevant = {d for c in coords for d in c[0]}
    nsp_irr = _prod(irr_factors)
    per_coord = []
    for dims, kp, key_inner, key_sp in coords:
        rel_loops = tuple(l for l in outer if l[0] in dims)
        per_coord.append((dims, kp, rel_loops, key_inner, key_sp))

    firsts = [_coord_sums(c[0], c[1], c[2], c[3], c[4], ("first", 0)) for c in per_coord]
    pe = _prod(x[0] for x in firsts) * nsp_irr
    un = _prod(x[2] for x in firsts)

    first_pe, first_un = pe, un
    per_loop = []
    steps_before = 1
    irr_mult = 1
    seen = [0] * len(per_coord)  # relevant loops of each coordinate already passed
    for j, (d, f, _) in enumerate(outer):
        xa = xab = u = v = 1
        for ci, (dims, kp, rel_loops, key_inner, key_sp) in enumerate(per_coord):
            if d in dims:
                sit = ("loop", seen[ci])
            else:
                sit = ("skip", seen[ci])
            sa, sab, su, sv = _coord_sums(dims, kp, rel_loops, key_inner, key_sp, sit)
            xa *= sa
            xab *= sab
            u *= su
            v *= sv
        if d in relevant:
            mult = irr_mult
        else:
            mult = irr_mult * (f - 1)
            irr_mult *= f
        for ci, c in enumerate(per_coord):
            if d in c[0]:
                seen[ci] += 1
        pe += mult * nsp_irr * (xa - xab)
        un += mult * (u - v)
        per_loop.append((steps_before * (f - 1), mult * nsp_irr * (xa - xab), mult * (u - v)))
        steps_before *= f

    distinct = nsp_irr
    for dims, kp, rel_loops, key_inner, key_sp in per_coord:
        distinct *= _coord_distinct(dims, kp, rel_loops, key_inner, key_sp)
    max_tile = 1
    for dims, kp, _, key_inner, _ in per_coord:
        max_tile *= _pattern_size(kp, key_inner)
    return TileStats(int(pe), int(un), int(distinct), int(max_tile), int(first_pe), int(first_un),
                     tuple((int(a), int(b), int(c)) for a, b, c in per_loop))


def _prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


@lru_cache(maxsize=None)
def _pattern_size(kp, inner: tuple[int, ...]) -> int:
    if kp is None:
        return inner[0]
    s, d = kp[0], kp[1]
    return len({p * s + r * d for p in range(inner[0]) for r in range(inner[1])})


def _offsets(digits: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Offsets (in iterations) of the instances along one dim from its spatial digits."""
    offs = np.zeros(1, dtype=np.int64)
    for f, st in digits:
        offs = (offs[:, None] + np.arange(f, dtype=np.int64)[None, :] * st).ravel()
    return offs


def _situation_offsets(rel_loops, situation):
    """Enumerate the combos of one transition situation for one coordinate.

    Returns ``(free, fixed_before, fixed_after, step)``: ``free`` lists the
    loops whose values are summed over, as ``(dim, values, stride, is_step)``
    (the stepping loop takes values 0..f-2 before and +1 after); the fixed
    offsets per dim come from the inner relevant loops, which sit at their
    last value before the step and at 0 after it.
    """
    kind, k = situation
    free: list[tuple] = []
    fixed_before: dict[str, int] = {}
    fixed_after: dict[str, int] = {}
    step = rel_loops[k] if kind == "loop" else None
    for i, (d, f, st) in enumerate(rel_loops):
        fixed_before.setdefault(d, 0)
        fixed_after.setdefault(d, 0)
        if kind == "first":
            continue
        if i < k:
            free.append((d, np.arange(f, dtype=np.int64), st, False))
        elif step is not None and i == k:
            free.append((d, np.arange(f - 1, dtype=np.int64), st, True))
        else:
            fixed_before[d] += (f - 1) * st
    return free, fixed_before, fixed_after, step


@lru_cache(maxsize=None)
def _coord_sums(dims, kp, rel_loops, inner, spatial, situation):
    """(Xa, Xab, U, V) of one coordinate for one transition situation; see module doc."""
    free, fb, fa, step = _situation_offsets(rel_loops, situation)
    first = situation[0] == "first"
    if kp is None:
        d = dims[0]
        e = inner[0]
        nsig = 1
        for f, _ in spatial[0]:
            nsig *= f
        ncomb = 1
        for _, vals, _, _ in free:
            ncomb *= len(vals)
        if first:
            return (nsig * e, 0, nsig * e, 0)
        delta = fa.get(d, 0) - fb.get(d, 0) + (step[2] if step is not None else 0)
        ov = max(0, e - abs(delta))
        return (ncomb * nsig * e, ncomb * nsig * ov, ncomb * nsig * e, ncomb * nsig * ov)

    # window coordinate x = p*s + r*dil - pad, clipped to [0, size)
    s, dil, pad, size = kp
    scale = {dims[0]: s, dims[1]: dil}
    # shift of every combo, before and after (vectorised over combos)
    shift_b = np.zeros(1, dtype=np.int64)
    shift_a = np.zeros(1, dtype=np.int64)
    for d, vals, st, is_step in free:
        add = vals * st * scale[d]
        shift_b = (shift_b[:, None] + add[None, :]).ravel()
        shift_a = (shift_a[:, None] + (add + (st * scale[d] if is_step else 0))[None, :]).ravel()
    base_b = sum(fb.get(d, 0) * scale[d] for d in dims)
    base_a = sum(fa.get(d, 0) * scale[d] for d in dims)
    shift_b = shift_b + base_b - pad
    shift_a = shift_a + base_a - pad
    pattern = np.array(
        sorted({p * s + r * dil for p in range(inner[0]) for r in range(inner[1])}), dtype=np.int64
    )
    sig = (_offsets(spatial[0])[:, None] * s + _offsets(spatial[1])[None, :] * dil).ravel()
    pairs = np.stack([shift_a, shift_b], axis=1)
    uniq, counts = np.unique(pairs, axis=0, return_counts=True)
    xa = xab = u = v = 0
    block = max(1, 2_000_000 // max(1, len(sig) * size))  # bound the boolean cube's memory
    for lo in range(0, len(uniq), block):
        sa, sb, cnt = uniq[lo:lo + block, 0], uniq[lo:lo + block, 1], counts[lo:lo + block]
        in_a = _membership(pattern, sa[:, None] + sig[None, :], size)
        xa += int((in_a.sum(axis=(1, 2)) * cnt).sum())
        any_a = in_a.any(axis=1)
        u += int((any_a.sum(axis=1) * cnt).sum())
        if first:
            continue
        in_b = _membership(pattern, sb[:, None] + sig[None, :], size)
        xab += int(((in_a & in_b).sum(axis=(1, 2)) * cnt).sum())
        v += int(((any_a & ~(in_a & ~in_b).any(axis=1)).sum(axis=1) * cnt).sum())
    return (xa, xab, u, v)


def _membership(pattern: np.ndarray, shifts: np.ndarray, width: int) -> np.ndarray:
    """Boolean [..., width]: which coordinate values the tile at each shift holds (clipped to [0, width))."""
    vals = shifts[..., None] + pattern
    m = np.zeros(shifts.shape + (width + 1,), dtype=bool)
    np.put_along_axis(m, np.where((vals >= 0) & (vals < width), vals, width), True, axis=-1)
    return m[..., :width]


@lru_cache(maxsize=None)
def _coord_distinct(dims, kp, rel_loops, inner, spatial) -> int:
    """Coordinate values one instance ever holds, summed over the instances along this coordinate."""
    outer_ext = {d: 1 for d in dims}
    for d, f, _ in rel_loops:
        outer_ext[d] *= f
    if kp is None:
        nsig = 1
        for f, _ in spatial[0]:
            nsig *= f
        return nsig * outer_ext[dims[0]] * inner[0]
    # window: each instance's union over time is a window with the outer loops' full range;
    # loops may be interleaved with spatial digits, so enumerate the offsets exactly.
    s, dil, pad, size = kp
    scale = {dims[0]: s, dims[1]: dil}
    total = 0
    time_offs = np.zeros(1, dtype=np.int64)
    for d, f, st in rel_loops:
        time_offs = (time_offs[:, None] + np.arange(f)[None, :] * st * scale[d]).ravel()
    pattern = np.array(sorted({p * s + r * dil for p in range(inner[0]) for r in range(inner[1])}), dtype=np.int64)
    full = np.unique((time_offs[:, None] + pattern[None, :]).ravel())
    sig = (_offsets(spatial[0])[:, None] * s + _offsets(spatial[1])[None, :] * dil).ravel()
    for off in sig.tolist():
        vals = full + off - pad
        total += int(((vals >= 0) & (vals < size)).sum())
    return total
