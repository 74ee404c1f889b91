"""Closed-form counts along one tensor coordinate (the per-coordinate core of :mod:`.nest_analysis`).

A coordinate is one axis of a tensor's tile: a plain one fed by one problem
dim (g, m, c, n, p, q of the filter and ofmap, n, g, c of the ifmap) or an
ifmap window fed by two (h by P and R, w by Q and S, through stride,
dilation and padding).  For one transition situation of the outer loops
(which loop steps, where the inner ones reset) the functions here give the
sums over every combination of the other loops' values, in words, without
enumerating them: each is the count for an unclipped tile times the number
of combinations, minus what falls outside [0, size) near either edge
(:func:`~.progressions.clipped_sums`).  See :mod:`.nest_analysis` for the
method and its source (Timeloop's delta analysis, Parashar et al., ISPASS
2019, section V-A, made exact for clipped windows).  Partial tiles of
imperfect factors go to :mod:`.clipped` instead, unless the closed form can
clip them (a plain coordinate, as a window clipped to [0, D)).
"""

from __future__ import annotations

from functools import lru_cache
from math import prod

import numpy as np

from .progressions import clipped_sums, count, distribution, indicator, span, spread, sumset_size, tail



@lru_cache(maxsize=1 << 16)
def pattern_size(kp, inner: tuple[int, ...]) -> int:
    """Words of one tile along a coordinate: |{p*s + r*dil : p < inner[0], r < inner[1]}| for a window."""
    if kp is None:
        return inner[0]
    return sumset_size(((kp[0], inner[0]), (kp[1], inner[1])))


def window_progs(kp, dims, inner, spatial):
    """The tile pattern and the instances' spatial offsets along a window coordinate, as progressions.

    Returns ``(scale, pattern, offsets)``: ``scale`` maps the two dims to the
    stride and the dilation; ``pattern`` = {p*s + r*dil} relative to the
    tile's origin; ``offsets`` = the instances' origins relative to instance 0
    (a multiset, one sum per instance), all in words.
    """
    s, dil = kp[0], kp[1]
    scale = {dims[0]: s, dims[1]: dil}
    pattern = ((s, inner[0]), (dil, inner[1]))
    offsets = tuple((st * sc, f) for digits, sc in zip(spatial, (s, dil)) for f, st in digits)
    return scale, pattern, offsets


def situation_combos(rel_loops, situation, scale):
    """The combos of one transition situation for one window coordinate.

    Returns ``(free, c_step, delta)``.  Loops outside the stepping one take
    all their values, the stepping one 0..f-2 before the step (+1 after), and
    the inner relevant loops sit at their last value before the step and at
    0 after it.  So the tile's origin after the step is c_step - pad + S,
    S a sum of ``free`` (one progression per free loop; c_step is the
    stepping loop's stride, 0 if none), and ``delta`` = after - before is the
    same for every combo (words).
    """
    kind, k = situation
    free, fixed_before, c_step = [], 0, 0
    for i, (d, f, st) in enumerate(rel_loops):
        c = st * scale[d]
        if kind == "first":
            continue
        if i < k:
            free.append((c, f))
        elif kind == "loop" and i == k:
            free.append((c, f - 1))
            c_step = c
        else:
            fixed_before += (f - 1) * c
    return tuple(free), c_step, c_step - fixed_before


def window_pairs(stride: int, dilation: int, pad: int, size: int, n_out: int, n_kernel: int) -> int:
    """Pairs (p, r), p < n_out, r < n_kernel, whose ifmap index p*stride + r*dilation - pad is in [0, size).

    The MACs on real (not padding) words along one axis, in O(padding) time
    (``accelsim.cost.model.valid_macs`` enumerates the pairs).
    """
    return clipped_sums((np.ones(1, dtype=np.int64),), ((stride, n_out), (dilation, n_kernel)), -pad, size)[0]


@lru_cache(maxsize=1 << 16)
def coord_sums(dims, kp, rel_loops, inner, spatial, outer_sp, situation, reverse=False):
    """(Xa, Xab, U, V) of one coordinate for one transition situation, in words; see the module doc.

    ``reverse``: the words that leave instead, (Xb, Xab, Ub, Vb): the same
    sums with before and after swapped (origin b = a - delta, shift -delta).

    For a window coordinate, instance o's tile after the step is
    T(a+o) = (a + o + pat) & [0, size), before it T(b+o), b = a - delta.  Then
    Xa sums |T(a+o)|, Xab |T(a+o) & T(b+o)|, U |union_o T(a+o)| and V the
    words of that union that every instance holding them already had.  Each
    word is a + z with z from a fixed multiset over the tile's span (the
    pattern plus the spatial offsets): Xa: z = o + q; Xab: q also in
    pat - delta; U: the distinct o + q; V: those z with z - o in pat =>
    z - o + delta in pat for every o.  So each count is sum_z q[z] times the
    combos whose a + z lies in [0, size): every combo (the interior) minus
    the few within the padding of an edge (:func:`~.progressions.clipped_sums`), whatever H, W
    and the loop factors.
    """
    first = situation[0] == "first"
    if kp is None:
        e = inner[0]
        nsig = prod(f for f, _ in spatial[0]) * prod(f for f, _ in outer_sp[0])
        if first:
            return (nsig * e, 0, nsig * e, 0)
        free, c_step, delta = situation_combos(rel_loops, situation, {dims[0]: 1})
        ov = max(0, e - abs(delta))
        ncomb = count(free)
        return (ncomb * nsig * e, ncomb * nsig * ov, ncomb * nsig * e, ncomb * nsig * ov)

    pad, size = kp[2], kp[3]
    scale, pattern, offsets = window_progs(kp, dims, inner, spatial)
    free, c_step, delta = situation_combos(rel_loops, situation, scale)
    # the parent's own instances: summed like loop values that never step (each serves its children alone)
    free = free + tuple((st * sc, f) for digits, sc in zip(outer_sp, (kp[0], kp[1])) for f, st in digits)
    pat = indicator(pattern)
    qa = spread(pat, offsets)
    qu = (qa > 0).astype(np.int64)
    if first:
        xa, u = clipped_sums((qa, qu), free, c_step - pad, size)
        return (xa, 0, u, 0)
    a0 = c_step - pad
    if reverse:
        a0, delta = a0 - delta, -delta
    had = np.zeros_like(pat)  # had[q] = 1 if q + delta is in the pattern (the word was in the old tile)
    lo, hi = max(0, -delta), min(len(pat), len(pat) - delta)
    if lo < hi:
        had[lo:hi] = pat[lo + delta:hi + delta]
    qab = spread(pat & had, offsets)
    qv = qu & (spread(pat & (1 - had), offsets) == 0)
    return clipped_sums((qa, qab, qu, qv), free, a0, size)


@lru_cache(maxsize=1 << 16)
def coord_distinct(dims, kp, rel_loops, inner, spatial) -> int:
    """Coordinate values one instance ever holds, summed over the instances along this coordinate (words).

    For a window coordinate, one instance's tiles over the whole run cover
    W = {t + q : t from the outer loops, q from the pattern} (a sum of
    progressions, :func:`~.progressions.sumset_size`), shifted by its spatial
    offset o and by -pad, then clipped to [0, size): every (o, w) pair minus
    those below 0 or at or above size, counted from each end (W and the
    offsets are symmetric) on a prefix as long as the overhang.
    """
    outer_ext = {d: 1 for d in dims}
    for d, f, _ in rel_loops:
        outer_ext[d] *= f
    if kp is None:
        nsig = prod(f for f, _ in spatial[0])
        return nsig * outer_ext[dims[0]] * inner[0]
    pad, size = kp[2], kp[3]
    scale, pattern, offsets = window_progs(kp, dims, inner, spatial)
    covered = tuple((st * scale[d], f) for d, f, st in rel_loops) + pattern
    total = count(offsets) * sumset_size(covered)
    top = span(covered) + span(offsets)
    for lim in (pad, top - size - pad + 1):
        lim = min(lim, top + 1)
        if lim > 0:
            total -= tail(indicator(covered, lim), distribution(offsets, lim), lim)
    return total
