"""Exact coordinate counts for imperfect factors (partial tiles), by enumerating tile origins.

With imperfect factors (Timeloop's and ZigZag's imperfect factorisation) a
dimension of bound D is split by factors whose product exceeds D: the index
is still the mixed-radix number over the slots (:mod:`accelsim.mapping.mapping`),
and an iteration whose index reaches D does not exist.  Along one tensor
coordinate an instance's tile is then the box of its index ranges, each
clipped to [0, D) before projection::

    dim d:   [a_d + o_d, min(a_d + o_d + e_d, D_d))     a: the tile origin (outer loops),
                                                        o: the instance's spatial offset,
                                                        e: the tile extent
    word:    sum_d index_d * scale_d - pad, kept if in [0, size)

(one dim with scale 1, pad 0 and size D for a plain coordinate; p and r, or
q and s, with scales stride and dilation for an ifmap window).  The closed
form of :mod:`.nest_analysis` relies on every tile having one shape, which a
partial tile breaks, so here the counts are summed over the tile origins
explicitly: the origins of one transition situation are the sums of its
free loops (a multiset, counted with multiplicity), and for each origin the
tiles before and after the step are boolean masks over a small local window
(the tile, the instances' spread and the step's shift), vectorised over
origins and instances with numpy.  The cost grows with the number of tile
origins along the coordinate (at most the bound over the tile extent) and
the local window, never with the other coordinates.  The brute-force walk
in ``tests/oracle.py`` checks every count.  Counts are in words.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

from .progressions import distribution, span


def _values(progs) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sums of progressions ``(c, n)`` and their multiplicities."""
    if not progs:
        return np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.int64)
    dist = distribution(progs, span(progs) + 1)
    v = np.nonzero(dist)[0]
    return v.astype(np.int64), dist[v].astype(np.int64)


def _offsets(digits) -> np.ndarray:
    """Instance offsets (index units) of spatial digits ``(factor, stride)``: every mixed-radix sum."""
    vals = np.zeros(1, dtype=np.int64)
    for f, st in digits:
        vals = (vals[:, None] + st * np.arange(f, dtype=np.int64)[None, :]).ravel()
    return vals


class _Coord:
    """One coordinate's geometry: dims, scales, pad, size, bounds, tile extents and instance offsets."""

    def __init__(self, dims, kp, inner, spatial, bounds):
        self.dims = dims
        if kp is None:
            self.scale, self.pad, self.size = (1,), 0, bounds[0]
        else:
            self.scale, self.pad, self.size = (kp[0], kp[1]), kp[2], kp[3]
        self.bounds = bounds
        self.inner = inner
        # instance offsets per dim, then every instance as one offset per dim
        per_dim = [_offsets(spatial[i]) for i in range(len(dims))]
        grid = np.array(list(product(*[p.tolist() for p in per_dim])), dtype=np.int64).reshape(-1, len(dims))
        self.inst = grid  # (I, ndims)

    def masks(self, origins: np.ndarray, base: np.ndarray, length: tuple) -> np.ndarray:
        """Boolean word masks ``(combos, instances, local words)`` of the clipped tiles at ``origins``.

        ``origins``, ``base``: ``(combos, ndims)`` index origins and the local frame's origin per combo;
        ``length``: the local frame's extent per dim (indices).
        """
        nd = len(self.dims)
        n, ni = origins.shape[0], self.inst.shape[0]
        present = []
        for d in range(nd):
            lo = origins[:, d][:, None] + self.inst[:, d][None, :]  # (n, I)
            hi = np.minimum(lo + self.inner[d], self.bounds[d])
            idx = base[:, d][:, None, None] + np.arange(length[d], dtype=np.int64)[None, None, :]
            present.append((idx >= lo[:, :, None]) & (idx < hi[:, :, None]))  # (n, I, L_d)
        if nd == 1:
            return present[0]
        s0, s1 = self.scale
        lw = (length[0] - 1) * s0 + (length[1] - 1) * s1 + 1
        out = np.zeros((n, ni, lw), dtype=bool)
        for j in range(length[1]):
            pj = present[1][:, :, j][:, :, None]
            if not pj.any():
                continue
            seg = present[0] & pj
            out[:, :, j * s1: j * s1 + (length[0] - 1) * s0 + 1: s0] |= seg
        return out

    def word_valid(self, base: np.ndarray, lw: int) -> np.ndarray:
        """``(combos, local words)``: whether each local word of a frame is a real word (in [0, size))."""
        w0 = (base * np.array(self.scale, dtype=np.int64)[None, :]).sum(axis=1) - self.pad
        w = w0[:, None] + np.arange(lw, dtype=np.int64)[None, :]
        return (w >= 0) & (w < self.size)


def _situation(rel_loops, dims, situation):
    """Per dim: free progressions, the stepping loop's stride and the before-origin's fixed part (indices).

    As :func:`accelsim.cost.nest_analysis._situation`, in index units per dim:
    after = c_step + S, before = S + fixed_before, S a sum of the free progressions.
    """
    kind, k = situation
    free = {d: [] for d in dims}
    c_step = dict.fromkeys(dims, 0)
    fixed = dict.fromkeys(dims, 0)
    for i, (d, f, st) in enumerate(rel_loops):
        if kind == "first":
            continue
        if kind == "last":
            c_step[d] += (f - 1) * st
            continue
        if i < k:
            free[d].append((st, f))
        elif kind == "loop" and i == k:
            free[d].append((st, f - 1))
            c_step[d] = st
        else:
            fixed[d] += (f - 1) * st
    return free, c_step, fixed


@lru_cache(maxsize=1 << 14)
def coord_sums(dims, kp, rel_loops, inner, spatial, outer_sp, bounds, situation):
    """Exact (Xa, Xab, U, V, Xb, Ub, Vb) of one coordinate in one transition situation, in words.

    Xa = sum over instances of |tile after|, Xab of |after & before|,
    U = |union of the after tiles|, V = words of U every instance holding
    them already had; Xb, Ub, Vb the same with before and after swapped (the
    words that leave).  Summed over the situation's origins with
    multiplicity; the parent's own instances (``outer_sp``) count as origins.
    Situations ``("first", 0)`` and ``("last", 0)``: the first and the last
    step's tiles alone (Xa, U; the rest 0).
    """
    co = _Coord(dims, kp, inner, spatial, bounds)
    free, c_step, fixed = _situation(rel_loops, dims, situation)
    first = situation[0] in ("first", "last")
    vals, weights = [], []
    for i, d in enumerate(dims):
        progs = list(free[d]) + [(st, f) for f, st in outer_sp[i]]
        v, w = _values(progs)
        vals.append(v)
        weights.append(w)
    # joint origins: the product over dims (their loops are independent)
    grids = np.meshgrid(*vals, indexing="ij")
    S = np.stack([g.ravel() for g in grids], axis=1)
    wg = np.meshgrid(*weights, indexing="ij")
    W = np.ones(S.shape[0], dtype=np.int64)
    for g in wg:
        W = W * g.ravel()
    step = np.array([c_step[d] for d in dims], dtype=np.int64)
    fix = np.array([fixed[d] for d in dims], dtype=np.int64)
    after = S + step[None, :]
    spread = [int(co.inst[:, i].max()) + inner[i] for i in range(len(dims))]
    if first:
        length = tuple(spread)
        A = co.masks(after, after, length)
        lw = A.shape[2]
        A &= co.word_valid(after, lw)[:, None, :]
        xa = A.sum(axis=(1, 2))
        u = A.any(axis=1).sum(axis=1)
        return (int(W @ xa), 0, int(W @ u), 0, 0, 0, 0)
    before = S + fix[None, :]
    base = np.minimum(after, before)
    length = tuple(spread[i] + abs(int(step[i] - fix[i])) for i in range(len(dims)))
    A = co.masks(after, base, length)
    B = co.masks(before, base, length)
    valid = co.word_valid(base, A.shape[2])[:, None, :]
    A &= valid
    B &= valid
    AB = A & B
    uA, uB = A.any(axis=1), B.any(axis=1)
    newA = (A & ~B).any(axis=1)
    newB = (B & ~A).any(axis=1)
    sums = (A.sum(axis=(1, 2)), AB.sum(axis=(1, 2)), uA.sum(axis=1), (uA & ~newA).sum(axis=1),
            B.sum(axis=(1, 2)), uB.sum(axis=1), (uB & ~newB).sum(axis=1))
    return tuple(int(W @ x) for x in sums)


def _covered(lo_vals: np.ndarray, extent: int, bound: int) -> np.ndarray:
    """Boolean over [0, bound): indices covered by the intervals [v, v + extent) for v in ``lo_vals``."""
    diff = np.zeros(bound + 1, dtype=np.int64)
    lo = np.clip(lo_vals, 0, bound)
    hi = np.clip(lo_vals + extent, 0, bound)
    np.add.at(diff, lo, 1)
    np.add.at(diff, hi, -1)
    return np.cumsum(diff[:-1]) > 0


def _words(co: _Coord, covered) -> int:
    """Real words (in [0, size)) of the product of per-dim covered index sets."""
    if len(covered) == 1:
        return int(covered[0][:co.size].sum())
    s0, s1 = co.scale
    p = np.nonzero(covered[0])[0]
    r = np.nonzero(covered[1])[0]
    if not len(p) or not len(r):
        return 0
    w = (p[:, None] * s0 + r[None, :] * s1).ravel() - co.pad
    w = w[(w >= 0) & (w < co.size)]
    return int(np.unique(w).size)


@lru_cache(maxsize=1 << 14)
def coord_distinct(dims, kp, rel_loops, inner, groups, bounds) -> int:
    """Words one group of instances ever holds along a coordinate, summed over groups (words).

    ``groups``: per dim, the spatial digits that tell groups apart (summed
    over); every loop of ``rel_loops`` and the rest of the tile is unioned.
    A union of boxes over independent per-dim origins is the product of the
    per-dim unions, so each group's words are the projection of that product.
    """
    co = _Coord(dims, kp, inner, tuple(() for _ in dims), bounds)
    per_dim_lo = []
    for i, d in enumerate(dims):
        progs = [(st, f) for dd, f, st in rel_loops if dd == d]
        v, _ = _values(progs)
        per_dim_lo.append(v)
    group_offsets = [_offsets(groups[i]) for i in range(len(dims))]
    total = 0
    for off in product(*[g.tolist() for g in group_offsets]):
        cov = [_covered(per_dim_lo[i] + off[i], inner[i], bounds[i]) for i in range(len(dims))]
        total += _words(co, cov)
    return total
