"""The mapping space of one layer: spatial unrollings, RF and GLB tilings, loop orders.

The space (see mapping.py for imperfect factors):

1. spatial unrolling: factors of the dataflow's row dims (product <= rows)
   and column dims (product <= cols) across the array level's fan-out (the
   PE array), perfect or imperfect (:func:`factor_options`: a dim of D
   split by f runs ceil(D/f) partial-at-the-end tiles, as Timeloop's and
   ZigZag's imperfect factorisation), ranked by the PEs they keep busy on
   average; any other fan-out takes the same dims greedily;
2. "RF" tiling: for each level inside the PE array (below the array level),
   innermost first, factors of the dataflow's ``rf_dims`` whose tiles fit
   the partitions holding the tensors it keeps (bypassed tensors take no room);
3. "GLB" tiling: a factor per dim for each array-side level (the array level
   and those above it), the rest at DRAM, with the kept tensors' tiles fitting;
4. loop orders: array-side orders keep the dataflow's stationary tensor in
   the PE (or any of the three stationarity orders if it names none); the
   DRAM order is each of the three stationarity orders.

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
from ..workload.loopnest import DIMS, RELEVANT, TENSORS, LoopNest
from ..mapping.dataflow import Dataflow, stationary_order
from ..mapping.mapping import Mapping, slots_of
from ..cost.latency import is_systolic
from ..cost.fits import fit_checker, write_buffer_fits
from .tilings import (OutOfWork, Work, array_levels, divisors, glb_candidates, pe_levels, rf_candidates,
                      spatial_below)

#: Unrollings generated at most, and kept at most, per layer (bounds time and memory on huge arrays).
SPATIAL_SCAN_MAX = 200_000
SPATIAL_KEEP_MAX = 20_000


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def factor_options(n: int, limit: int) -> tuple[int, ...]:
    """Spatial factors worth trying for a dim of ``n`` iterations on at most ``limit`` instances, ascending.

    The divisors of n (perfect) and, for every tile count k, the smallest
    factor that needs only k tiles, ceil(n / k) (imperfect: the least idle
    instances in the last tile).  About 2 sqrt(n) values.
    """
    return _factor_options(n, min(n, limit))


@lru_cache(maxsize=4096)
def _factor_options(n: int, limit: int) -> tuple[int, ...]:
    out = {f for f in divisors(n) if f <= limit}
    k = 1
    while k <= n:
        f = ceil_div(n, k)
        if f <= limit:
            out.add(f)
        k = ceil_div(n, f - 1) if f > 1 else n + 1  # the next tile count that changes the factor
    return tuple(sorted(out))


def effective(n: int, f: int) -> float:
    """Instances a factor f keeps busy on average over ceil(n/f) tiles of a dim of n: n / ceil(n / f)."""
    return n / ceil_div(n, f)


@lru_cache(maxsize=4096)
def axis_assignments(dims: tuple[str, ...], rem: tuple[int, ...], limit: int, imperfect: tuple[bool, ...]):
    """Every assignment of factors to ``dims`` (one PE-array axis) with product <= ``limit``, as factor
    tuples in ``dims`` order.  ``rem``: each dim's iterations left; ``imperfect``: whether the dim may
    take imperfect factors (:func:`factor_options`, else divisors only; :meth:`Mapping.imperfect_allowed`).
    Cached: an axis is assigned again for every assignment of the other axis."""
    out = []

    def rec(i, cur, prod):
        if i == len(dims):
            out.append(tuple(cur))
            return
        if imperfect[i]:
            opts = factor_options(rem[i], limit // prod)
        else:
            opts = [f for f in divisors(rem[i]) if f <= limit // prod]
        for f in opts:
            cur.append(f)
            rec(i + 1, cur, prod * f)
            cur.pop()

    rec(0, [], 1)
    return tuple(out)


def spatial_rem(nest, rows, cols, extra) -> dict[str, int]:
    """Per dim, the tiles left for the temporal loops after an unrolling: ceil(D / spatial factors)."""
    return {d: ceil_div(nest.dims[d], rows.get(d, 1) * cols.get(d, 1) * _extra(extra, d)) for d in DIMS}


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

    axis_dims = tuple(dict.fromkeys(df.rows + df.cols))
    bound = nest.dims
    rdims, cdims = tuple(df.rows), tuple(df.cols)
    r_imp = tuple(Mapping.imperfect_allowed(nest, d) for d in rdims)
    c_imp = tuple(Mapping.imperfect_allowed(nest, d) for d in cdims)
    # per axis dim: its position in a rows (cols) factor tuple, or None, and its bound
    where = [(rdims.index(d) if d in rdims else None, cdims.index(d) if d in cdims else None, bound[d])
             for d in axis_dims]

    def scan():
        """``(key, scan index, rows tuple, cols tuple)`` of each pair in scan order; the key is
        (-average busy PEs, the dataflow's dim preference: larger factors first)."""
        i = 0
        for r in axis_assignments(rdims, tuple(bound[d] for d in rdims), arch.rows, r_imp):
            rneg = tuple(-f for f in r)
            rem = tuple(ceil_div(bound[d], r[rdims.index(d)]) if d in rdims else bound[d] for d in cdims)
            for c in axis_assignments(cdims, rem, arch.cols, c_imp):
                used = 1.0
                for ri, ci, n in where:
                    f = (r[ri] if ri is not None else 1) * (c[ci] if ci is not None else 1)
                    if f > 1:
                        used *= n / -(-n // f)  # effective(n, f), inlined: this runs for every scanned pair
                yield ((-used, rneg + tuple(-f for f in c)), i, r, c)
                i += 1

    scanned = list(islice(scan(), SPATIAL_SCAN_MAX + 1))
    capped = len(scanned) > SPATIAL_SCAN_MAX or len(scanned) > SPATIAL_KEEP_MAX
    others = any(lv.fanout > 1 and lv.index != arch.array_level for lv in arch.onchip)
    pairs = []
    for _, _, r, c in heapq.nsmallest(SPATIAL_KEEP_MAX, scanned[:SPATIAL_SCAN_MAX]):  # ties: scan order
        rows, cols = dict(zip(rdims, r)), dict(zip(cdims, c))
        extra = other_fanouts(arch, df, spatial_rem(nest, rows, cols, {})) if others else {}
        pairs.append((rows, cols, extra) if extra else (rows, cols))
    if capped:  # the unrolling onto one PE always stays: it needs the least buffer space
        one = ({d: 1 for d in df.rows}, {d: 1 for d in df.cols})
        if one not in pairs:
            pairs.append(one)
    return SpatialCandidates(pairs, capped)


def other_fanouts(arch, df, rem: dict[str, int]) -> dict[str, dict[str, int]]:
    """Unrollings of the fan-outs other than the array level's: ``{slot name: {dim: factor}}``.

    Each such fan-out (outermost first) takes, greedily, the largest factor
    of each of the dataflow's row (cols) dims that still fits its rows (cols).
    """
    out = {}
    rem = dict(rem)
    for lv in reversed(arch.onchip):
        if lv.fanout <= 1 or lv.index == arch.array_level:
            continue
        for kind, dims, cap in (("rows", df.rows, lv.rows), ("cols", df.cols, lv.cols)):
            if cap <= 1:
                continue
            f, used = {}, 1
            for d in dims:
                best = max((x for x in divisors(rem[d]) if used * x <= cap), default=1)
                if best > 1:
                    f[d] = best
                    used *= best
                    rem[d] //= best
            out[f"{lv.name}.{kind}"] = f
    return out


def prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


def loop_orders(df: Dataflow) -> list[dict[str, tuple[str, ...]]]:
    """Order policies: ``rf`` (levels inside the array), ``glb`` (array-side levels), ``dram``."""
    fams = [stationary_order(t) for t in TENSORS]
    glb = [stationary_order(df.stationary)] if df.stationary else fams
    rf = stationary_order(df.stationary)
    return [{"dram": d, "glb": g, "rf": rf} for g in glb for d in fams]


def enumerate_space(nest, arch, df, spatial, maximal_only, cap, work: Work, whole=()):
    """Yield mapping builders (call one to get its Mapping) in a fixed order; at most ``cap``.
    ``whole``: dims the array level takes whole (:func:`~.tilings.glb_candidates`).

    The walk ends early, with ``work.exhausted`` set, when ``work`` runs out;
    the same ``Work`` limit always gives the same sequence.
    """
    orders = loop_orders(df)
    slots = slots_of(arch)
    keep = RELEVANT[df.stationary] if df.stationary and is_systolic(arch) else None
    n = 0
    try:
        for sp in spatial:
            rows, cols = sp[0], sp[1]
            extra = sp[2] if len(sp) > 2 else {}
            rem = spatial_rem(nest, rows, cols, extra)
            perfect = all(rem[d] * rows.get(d, 1) * cols.get(d, 1) * _extra(extra, d) == nest.dims[d] for d in DIMS)
            for rf in rf_candidates(nest, arch, df, rem, work, extra):
                rem2, inner = split_rest(nest, rows, cols, extra, rf, rem)
                if not perfect and not builder(arch, rows, cols, rf, {}, rem2, orders[0], extra, slots)().valid(nest):
                    continue
                for glb in glb_candidates(nest, arch, inner, rem2, maximal_only, work, keep, whole):
                    for od in orders:
                        n += 1
                        if n > cap:
                            return
                        yield builder(arch, rows, cols, rf, glb, rem2, od, extra, slots)
    except OutOfWork:
        return


def split_rest(nest, rows, cols, extra, rf, rem):
    """``(rem2, inner)``: per dim, the tiles left above the PE (``rem`` over the RF factors) and the
    extent of the PE array's tile (spatial factors x RF factors)."""
    rem2 = dict(rem)
    inner = {d: rows.get(d, 1) * cols.get(d, 1) * _extra(extra, d) for d in DIMS}
    for f in rf.values():
        for d, x in f.items():
            rem2[d] //= x
            inner[d] *= x
    return rem2, inner


def _extra(extra, d) -> int:
    n = 1
    for f in extra.values():
        n *= f.get(d, 1)
    return n


def builder(arch, rows, cols, rf, glb, rem2, od, extra=None, slots=None):
    """A function that builds the Mapping of one point of the space (slots named after ``arch``'s levels).

    ``slots``: ``slots_of(arch)``, computed once by the caller for speed.
    """
    def build() -> Mapping:
        sl = slots or slots_of(arch)
        a = arch.levels[arch.array_level]
        given = {a.name + ".rows": rows, a.name + ".cols": cols, **(extra or {})}
        for i, f in rf.items():
            given[arch.levels[i].name] = f
        rest = dict(rem2)
        for i, f in glb.items():
            given[arch.levels[i].name] = f
            rest = {d: rest[d] // f.get(d, 1) for d in DIMS}
        given[arch.dram.name] = rest
        factors, orders = {}, {}
        top, dram = arch.array_level, arch.dram.index
        for s in sl:
            f = given.get(s.name, {})
            factors[s.name] = {d: f.get(d, 1) for d in DIMS}
            if not s.spatial:
                orders[s.name] = od["dram"] if s.level == dram else od["glb"] if s.level >= top else od["rf"]
        return Mapping(sl, factors, orders)
    return build


def used_pes(spatial, nest) -> float:
    """PEs an unrolling keeps busy on average (partial last tiles count in proportion, :func:`effective`)."""
    n = 1.0
    for d in DIMS:
        f = spatial[0].get(d, 1) * spatial[1].get(d, 1) * _extra(spatial[2] if len(spatial) > 2 else {}, d)
        if f > 1:
            n *= effective(nest.dims[d], f)
    return n


def feasibility(nest, arch):
    """``spatial -> bool``: whether some tiling fits under an unrolling (1-iteration tiles are the
    smallest), with each level's fit check built once for the layer."""
    pe = pe_levels(arch)
    fit = {i: fit_checker(nest, arch, i) for i in pe + array_levels(arch)}
    glb = array_levels(arch)

    def ok(spatial) -> bool:
        rows, cols = spatial[0], spatial[1]
        extra = spatial[2] if len(spatial) > 2 else {}
        for i in pe:
            below = spatial_below(arch, extra, i)
            if not fit[i](below) or write_buffer_fits(nest, arch, i, below) is not None:
                return False
        below = spatial_below(arch, extra)
        inner = {d: rows.get(d, 1) * cols.get(d, 1) * below[d] for d in DIMS}
        return all(fit[i](inner) for i in glb) and write_buffer_fits(nest, arch, arch.array_level, inner) is None

    return ok
