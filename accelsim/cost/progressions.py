"""Exact counting over sums of arithmetic progressions (helper of :mod:`.nest_analysis`).

An ifmap window coordinate is x = p*stride + r*dilation - pad, so every set
the nest analysis needs along it is a sum of *progressions*: a progression
``(c, n)`` is {0, c, 2c, ..., (n-1)c} (c >= 1, n >= 1), from one loop (c =
the loop's stride in iterations times the stride or dilation, n = its
factor), one spatial digit, or the tile's own p or r extent.  A list of
progressions stands for the set (or, where said, the multiset) of the sums
that take one value from each.  Values and counts are in words (one word per
ifmap coordinate value); every function is exact.

The costs depend on the progressions' small parts only, never on a loop
factor or on the ifmap extent H or W:

* :func:`sumset_size` counts the distinct sums.  Progressions that chain
  into one are merged (nested loop levels of one dim do); the one with the
  longest span (c, n) is then peeled: with E the span of the rest and
  M = E // c, copy j*c of the rest meets copy 0 only for j <= M, so the set
  grows by the same number of words for every copy past the (M+1)-th:
  |S_n| = |S_{M+1}| + (n-M-1) (|S_{M+1}| - |S_M|).  What is left is
  materialised: a boolean array over a span of about twice the rest's
  (the tile pattern plus the spatial spread, not the outer loops).
* :func:`distribution` and :func:`indicator` give the multiset counts and
  the set membership of the sums on a prefix [0, limit) only; the clipping
  at the edges of [0, H) needs no more than the padding's width of it.
* :func:`tail` counts the pairs of a sum from each of two multisets that
  fall below a bound (one edge of the clipped range).

These serve the delta analysis of Timeloop (Parashar et al., ISPASS 2019,
section V-A) as :mod:`.nest_analysis` makes it exact for clipped windows;
``tests/test_nest_scaling.py`` checks them against enumeration.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: (step c >= 1, count n >= 1): the progression {0, c, ..., (n-1)c}.
Prog = tuple[int, int]

#: Above this magnitude an int64 product might overflow; tails switch to Python ints.
_INT64_SAFE = 1 << 62


def span(progs) -> int:
    """Largest sum (the smallest is 0), in words."""
    return sum((n - 1) * c for c, n in progs)


def count(progs) -> int:
    """Number of sums counted with multiplicity (the product of the counts)."""
    k = 1
    for _, n in progs:
        k *= n
    return k


def dilate(a: np.ndarray, c: int, n: int, limit: int | None = None) -> np.ndarray:
    """Counts per value of {x + j*c : x from ``a``, j < n}, ``a`` given as counts per value.

    Strided running sums: O(length), whatever ``n``.  With ``limit`` only the
    values below it are computed (the shifts are non-negative, so a prefix
    depends on the prefix of ``a`` alone).
    """
    length = len(a) + (n - 1) * c
    if limit is not None:
        length = min(length, limit)
    if n == 1 or length <= 0:
        return a[:length].copy()
    rows = -(-length // c)
    g = np.zeros(rows * c, dtype=a.dtype)
    k = min(len(a), length)
    g[:k] = a[:k]
    cs = np.cumsum(g.reshape(rows, c), axis=0)
    out = cs.copy()
    if n < rows:
        out[n:] -= cs[:-n]
    return out.ravel()[:length]


def distribution(progs, limit: int) -> np.ndarray:
    """Multiset counts of the sums for the values in [0, limit) (int64, length <= limit)."""
    a = np.ones(1, dtype=np.int64)
    for c, n in progs:
        a = dilate(a, c, n, limit)
    return a[:limit]


def indicator(progs, limit: int | None = None, base: np.ndarray | None = None) -> np.ndarray:
    """Set membership (0/1, int64) of the sums, over [0, span] or the prefix [0, limit).

    ``base`` (0/1 per value) replaces the set {0} the sums start from.
    """
    a = np.ones(1, dtype=np.int64) if base is None else base.astype(np.int64)
    for c, n in progs:
        a = (dilate(a, c, n, limit) > 0).astype(np.int64)
    return a if limit is None else a[:limit]


def merge(progs) -> tuple[Prog, ...]:
    """Equivalent progressions for the *set* of sums: drop n = 1, join chains.

    (c, n1) + (k*c, n2) with k <= n1 is the single progression
    (c, n1 + k*(n2-1)): the copies of the first, k*c apart, touch or overlap
    (nested loop levels of one dim, k = n1, always do).  Sorted (a cache key).
    """
    ps = sorted((c, n) for c, n in progs if n > 1)
    i = 0
    while i < len(ps):
        for j in range(i + 1, len(ps)):
            (c1, n1), (c2, n2) = ps[i], ps[j]  # c1 <= c2 (sorted)
            if c2 % c1 == 0 and c2 // c1 <= n1:
                ps = sorted(ps[:i] + ps[i + 1:j] + ps[j + 1:] + [(c1, n1 + (c2 // c1) * (n2 - 1))])
                i = -1  # start again: the merged progression may join others
                break
        i += 1
    return tuple(ps)


def sumset_size(progs) -> int:
    """Number of distinct sums (exact; see the module doc for the method)."""
    return _sumset_size(merge(progs))


@lru_cache(maxsize=1 << 15)
def _sumset_size(progs: tuple[Prog, ...]) -> int:
    if not progs:
        return 1
    if len(progs) == 1:
        return progs[0][1]
    i = max(range(len(progs)), key=lambda k: ((progs[k][1] - 1) * progs[k][0], k))
    c, n = progs[i]
    rest = progs[:i] + progs[i + 1:]
    m = span(rest) // c
    if n >= m + 3:
        u1 = sumset_size(rest + ((c, m + 1),))
        u0 = sumset_size(rest + ((c, m),)) if m >= 1 else 0
        return u1 + (n - m - 1) * (u1 - u0)
    return int(indicator(progs).sum())


def tail(q: np.ndarray, dist: np.ndarray, limit: int) -> int:
    """Pairs (z, x), counted with multiplicity q[z] * dist[x], with z + x < ``limit``.

    Only the prefixes [0, limit) of ``q`` and ``dist`` matter (both are counts
    per value from 0).  O(limit).
    """
    if limit <= 0:
        return 0
    qq = np.zeros(limit, dtype=np.int64)
    qq[:min(limit, len(q))] = q[:limit]
    dd = np.zeros(limit, dtype=np.int64)
    dd[:min(limit, len(dist))] = dist[:limit]
    cd = np.cumsum(dd)
    if int(qq.sum()) * int(cd[-1]) >= _INT64_SAFE:
        return sum(int(a) * int(b) for a, b in zip(qq.tolist(), cd[::-1].tolist()))
    return int(np.dot(qq, cd[::-1]))


def clipped_sums(qs, free, a0: int, size: int) -> tuple[int, ...]:
    """Per array q of ``qs``: the sum over combos and z of q[z] * [0 <= a0 + S + z < size].

    S is a combo's sum of the ``free`` progressions.  Every pair (the
    interior count) minus the pairs below 0 and those at or above ``size``;
    the upper ones are counted from the top (S's distribution is symmetric,
    q is reversed), so each tail needs only a prefix as long as the window's
    overhang past that edge (at most the padding for a legal layer).  The
    arrays of ``qs`` have one length (one span).
    """
    zmax, smax = len(qs[0]) - 1, span(free)
    totals = [int(q.sum()) * count(free) for q in qs]
    for flip, lim in ((False, -a0), (True, smax + zmax - size + a0 + 1)):
        lim = min(lim, smax + zmax + 1)
        if lim > 0:
            dist = distribution(free, lim)
            for i, q in enumerate(qs):
                totals[i] -= tail(q[::-1] if flip else q, dist, lim)
    return tuple(totals)


def spread(a: np.ndarray, offsets) -> np.ndarray:
    """Counts per z of o + x, x from ``a`` (0/1 over the pattern's span), o from the offsets (words)."""
    for c, n in offsets:
        a = dilate(a, c, n)
    return a
