"""The mapping space of one layer: spatial unrollings, RF and GLB tilings, loop orders.

The space (all factorisations are perfect, see mapping.py):

1. spatial unrolling: factors of the dataflow's row dims (product <= rows)
   and column dims (product <= cols);
2. RF tiling: factors of the dataflow's ``rf_dims`` whose tiles fit each RF;
3. GLB tiling: a factor per dim for the GLB level, the rest at DRAM, with
   all three tensors' GLB tiles fitting the GLB;
4. loop orders: the GLB order keeps the dataflow's stationary tensor in the
   RF (or any of the three stationarity orders if it names none); the DRAM
   order is each of the three stationarity orders.

Everything is generated lazily in a fixed order.  Time is bounded on any
shape: at most ``SPATIAL_SCAN_MAX`` unrollings are scanned, and every walk of
the tilings takes a :class:`Work` allowance of fit checks; when it runs out
the walk stops (and the search says its space was capped).  A layer whose
dims all have many divisors on a huge GLB would otherwise have ~10**9
tilings to walk.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from ..arch.spec import Architecture
from ..cost.model import tile_words
from ..workload.loopnest import DIMS, TENSORS, LoopNest
from ..mapping.dataflow import Dataflow, stationary_order
from ..mapping.mapping import Mapping

#: Unrollings generated at most, and kept at most, per layer (bounds time and memory on huge arrays).
SPATIAL_SCAN_MAX = 200_000
SPATIAL_KEEP_MAX = 20_000
#: Fit checks one walk of the tilings may make (~1-3 s); the bundled layers need at most ~230,000.
WORK_MAX = 300_000


class OutOfWork(Exception):
    """A :class:`Work` allowance ran out."""


class Work:
    """An allowance of fit checks for one walk of the space (see module doc).

    Attributes:
        left: checks left.
        exhausted: True once a walk stopped because the allowance ran out.
    """

    def __init__(self, limit: int = WORK_MAX):
        self.left = limit
        self.exhausted = False

    def tick(self) -> None:
        """Spend one check.  Raises OutOfWork (and sets ``exhausted``) when none is left."""
        if self.left <= 0:
            self.exhausted = True
            raise OutOfWork
        self.left -= 1


@lru_cache(maxsize=4096)
def divisors(n: int) -> tuple[int, ...]:
    """Divisors of n >= 1, ascending, by trial division up to sqrt(n) (46,341 steps for n = 2**31)."""
    small, large = [], []
    d = 1
    while d * d <= n:
        if n % d == 0:
            small.append(d)
            if d * d != n:
                large.append(n // d)
        d += 1
    return tuple(small + large[::-1])


def axis_assignments(dims: tuple[str, ...], rem: dict[str, int], limit: int):
    """Yield every {dim: factor} over ``dims`` with factors dividing ``rem`` and product <= limit."""

    def rec(i, cur, prod):
        if i == len(dims):
            yield dict(cur)
            return
        d = dims[i]
        for f in divisors(rem[d]):
            if prod * f > limit:
                break
            cur[d] = f
            yield from rec(i + 1, cur, prod * f)
        cur.pop(d, None)

    yield from rec(0, {}, 1)


@dataclass(frozen=True)
class SpatialCandidates:
    """Legal (rows, cols) unrollings, best PE utilisation first.

    Attributes:
        pairs: ``[(rows {dim: factor}, cols {dim: factor})]``, at most ``SPATIAL_KEEP_MAX``.
        capped: True when more unrollings existed than were scanned or kept
            (only on very large arrays with highly composite layer dims).
    """

    pairs: list
    capped: bool


def spatial_candidates(nest: LoopNest, arch: Architecture, df: Dataflow) -> SpatialCandidates:
    """Legal (rows, cols) unrollings, best PE utilisation first, ties by the dataflow's dim preference.

    At most ``SPATIAL_SCAN_MAX`` pairs are generated (in a fixed order) and
    the best ``SPATIAL_KEEP_MAX`` kept, so time and memory stay bounded on any
    array (the bundled 256 x 256 array has at most ~3,000 on VGG-16).
    """

    def key(rc):
        rows, cols = rc
        used = prod(rows.values()) * prod(cols.values())
        pref = tuple(-rows.get(d, 1) for d in df.rows) + tuple(-cols.get(d, 1) for d in df.cols)
        return (-used, pref)

    def gen():
        for rows in axis_assignments(df.rows, nest.dims, arch.rows):
            rem = {d: nest.dims[d] // rows.get(d, 1) for d in DIMS}
            for cols in axis_assignments(df.cols, rem, arch.cols):
                yield (rows, cols)

    scanned = list(islice(gen(), SPATIAL_SCAN_MAX + 1))
    capped = len(scanned) > SPATIAL_SCAN_MAX or len(scanned) > SPATIAL_KEEP_MAX
    pairs = heapq.nsmallest(SPATIAL_KEEP_MAX, scanned[:SPATIAL_SCAN_MAX], key=key)
    if capped:  # the unrolling onto one PE always stays: it needs the least buffer space
        one = ({d: 1 for d in df.rows}, {d: 1 for d in df.cols})
        if one not in pairs:
            pairs.append(one)
    return SpatialCandidates(pairs, capped)


def prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


def rf_fits(nest, arch, ext) -> bool:
    k = 2 if arch.rf_double_buffered else 1
    words = {t: k * tile_words(nest, t, ext) for t in TENSORS}
    if arch.rf_words is not None:
        return all(words[t] <= arch.rf_words[t] for t in TENSORS)
    b = arch.word_bits
    return sum(words[t] * b[t] for t in TENSORS) <= arch.rf_shared_words * b["ifmap"]


def rf_candidates(nest, arch, df, rem: dict[str, int], work: Work):
    """Yield RF factor choices ``{dim: factor}`` over the dataflow's rf_dims that fit the RF.

    Tiles grow monotonically with each factor, so a dim's walk stops at its
    first factor that does not fit.  Raises OutOfWork when ``work`` runs out.
    """
    dims = [d for d in df.rf_dims if rem[d] > 1]

    def rec(i, ext):
        if i == len(dims):
            yield {d: ext[d] for d in dims}
            return
        d = dims[i]
        for f in divisors(rem[d]):
            ext[d] = f
            work.tick()
            if not rf_fits(nest, arch, ext):
                break
            yield from rec(i + 1, ext)
        ext[d] = 1

    yield from rec(0, {d: 1 for d in DIMS})


def glb_fits(nest, arch, ext) -> bool:
    b = arch.word_bits
    bits = (tile_words(nest, "filter", ext) * b["filter"] + tile_words(nest, "ifmap", ext) * b["ifmap"]
            + tile_words(nest, "ofmap", ext) * b["ofmap"])
    return bits * (2 if arch.glb_double_buffered else 1) <= arch.glb_words * b["ifmap"]


def glb_splits(nest, arch, inner: dict[str, int], rem: dict[str, int], maximal_only: bool, work: Work):
    """Yield GLB factor choices ``{dim: factor}`` (the rest goes to DRAM) whose tiles fit the GLB.

    ``inner``: per dim, iterations already below the GLB level (spatial x RF).
    With ``maximal_only``, keep only splits where no dim's factor can take
    its next divisor and still fit (Pareto-maximal tiles).  Raises OutOfWork
    when ``work`` runs out.
    """
    dims = [d for d in DIMS if rem[d] > 1]
    ext = dict(inner)

    def rec(i, cur):
        if i == len(dims):
            if maximal_only:
                for d in dims:
                    divs = divisors(rem[d])
                    k = divs.index(cur[d])
                    if k + 1 < len(divs):
                        work.tick()
                        ext[d] = inner[d] * divs[k + 1]
                        ok = glb_fits(nest, arch, ext)
                        ext[d] = inner[d] * cur[d]
                        if ok:
                            return
            yield dict(cur)
            return
        d = dims[i]
        fitting = []
        for f in divisors(rem[d]):
            ext[d] = inner[d] * f
            work.tick()
            if not glb_fits(nest, arch, ext):
                break
            fitting.append(f)
        if maximal_only and i == len(dims) - 1:
            fitting = fitting[-1:]  # only the largest fitting factor of the last dim can be maximal
        for f in fitting:
            ext[d] = inner[d] * f
            cur[d] = f
            yield from rec(i + 1, cur)
        ext[d] = inner[d]
        cur.pop(d, None)

    if glb_fits(nest, arch, ext):
        yield from rec(0, {})


def greedy_maximal(nest, arch, inner: dict[str, int], rem: dict[str, int]) -> dict[str, int] | None:
    """One Pareto-maximal GLB split found greedily: each dim in turn takes its largest factor that fits.

    Every dim then stays maximal (tiles grow with every factor), so this is a
    cheap stand-in when the full walk ran out of work.  ``None`` if nothing fits.
    """
    ext = dict(inner)
    if not glb_fits(nest, arch, ext):
        return None
    cur = {}
    for d in DIMS:
        if rem[d] <= 1:
            continue
        best = 1
        for f in divisors(rem[d]):
            ext[d] = inner[d] * f
            if not glb_fits(nest, arch, ext):
                break
            best = f
        ext[d] = inner[d] * best
        cur[d] = best
    return cur


def glb_candidates(nest, arch, inner, rem, maximal_only, work: Work):
    """GLB splits to enumerate: all of them, or the Pareto-maximal ones (each followed by its
    one-step shrinks when the GLB is double-buffered).

    A shrink lowers one dim's GLB factor to its next smaller divisor, so a
    layer that fits the GLB whole can still be split into a few tiles whose
    DRAM transfers overlap compute (a double-buffered GLB) at the price of
    some refetches.
    """
    if not maximal_only or not arch.glb_double_buffered:
        yield from glb_splits(nest, arch, inner, rem, maximal_only, work)
        return
    seen = set()
    for glb in glb_splits(nest, arch, inner, rem, True, work):
        for cand in [glb] + [{**glb, d: divisors(rem[d])[divisors(rem[d]).index(f) - 1]}
                             for d, f in sorted(glb.items()) if f > 1]:
            key = tuple(sorted(cand.items()))
            if key not in seen:
                seen.add(key)
                yield cand


def loop_orders(df: Dataflow) -> list[dict[str, tuple[str, ...]]]:
    fams = [stationary_order(t) for t in TENSORS]
    glb = [stationary_order(df.stationary)] if df.stationary else fams
    rf = stationary_order(df.stationary)
    return [{"dram": d, "glb": g, "rf": rf} for g in glb for d in fams]


def enumerate_space(nest, arch, df, spatial, maximal_only, cap, work: Work):
    """Yield mapping builders (call one to get its Mapping) in a fixed order; at most ``cap``.

    The walk ends early, with ``work.exhausted`` set, when ``work`` runs out;
    the same ``Work`` limit always gives the same sequence.
    """
    orders = loop_orders(df)
    n = 0
    try:
        for rows, cols in spatial:
            rem = {d: nest.dims[d] // (rows.get(d, 1) * cols.get(d, 1)) for d in DIMS}
            for rf in rf_candidates(nest, arch, df, rem, work):
                rem2 = {d: rem[d] // rf.get(d, 1) for d in DIMS}
                inner = {d: rows.get(d, 1) * cols.get(d, 1) * rf.get(d, 1) for d in DIMS}
                for glb in glb_candidates(nest, arch, inner, rem2, maximal_only, work):
                    for od in orders:
                        n += 1
                        if n > cap:
                            return
                        yield builder(rows, cols, rf, glb, rem2, od)
    except OutOfWork:
        return


def builder(rows, cols, rf, glb, rem2, od):
    def build() -> Mapping:
        factors = {
            "rows": {d: rows.get(d, 1) for d in DIMS},
            "cols": {d: cols.get(d, 1) for d in DIMS},
            "rf": {d: rf.get(d, 1) for d in DIMS},
            "glb": {d: glb.get(d, 1) for d in DIMS},
            "dram": {d: rem2[d] // glb.get(d, 1) for d in DIMS},
        }
        return Mapping(factors, od)
    return build


def used_pes(spatial) -> int:
    return prod(spatial[0].values()) * prod(spatial[1].values())


def feasible(nest, arch, spatial) -> bool:
    """Whether some RF and GLB tiling fits under this unrolling (1-iteration tiles are the smallest)."""
    rows, cols = spatial
    inner = {d: rows.get(d, 1) * cols.get(d, 1) for d in DIMS}
    return rf_fits(nest, arch, {d: 1 for d in DIMS}) and glb_fits(nest, arch, inner)


