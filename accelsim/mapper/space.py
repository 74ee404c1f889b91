"""The mapping space of one layer: spatial unrollings, RF and GLB tilings, loop orders.

The space (all factorisations are perfect, see mapping.py):

1. spatial unrolling: factors of the dataflow's row dims (product <= rows)
   and column dims (product <= cols) across the array level's fan-out (the
   PE array); any other fan-out takes the same dims greedily;
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
from ..cost.latency import top_double_buffered
from ..cost.model import fit_checker, level_fits_ok
from ..workload.loopnest import DIMS, TENSORS, LoopNest
from ..mapping.dataflow import Dataflow, stationary_order
from ..mapping.mapping import Mapping, make_mapping, slots_of

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
        rows, cols = rc[0], rc[1]
        used = prod(rows.values()) * prod(cols.values())
        pref = tuple(-rows.get(d, 1) for d in df.rows) + tuple(-cols.get(d, 1) for d in df.cols)
        return (-used, pref)

    def gen():
        for rows in axis_assignments(df.rows, nest.dims, arch.rows):
            rem = {d: nest.dims[d] // rows.get(d, 1) for d in DIMS}
            for cols in axis_assignments(df.cols, rem, arch.cols):
                extra = other_fanouts(arch, df, {d: rem[d] // cols.get(d, 1) for d in DIMS})
                yield (rows, cols, extra) if extra else (rows, cols)

    scanned = list(islice(gen(), SPATIAL_SCAN_MAX + 1))
    capped = len(scanned) > SPATIAL_SCAN_MAX or len(scanned) > SPATIAL_KEEP_MAX
    pairs = heapq.nsmallest(SPATIAL_KEEP_MAX, scanned[:SPATIAL_SCAN_MAX], key=key)
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


def _ext_fits(nest, arch, levels, ext) -> bool:
    """Whether tiles spanning ``ext`` fit each of ``levels`` (indices)."""
    return all(level_fits_ok(nest, arch, i, ext) for i in levels)


def pe_levels(arch) -> list[int]:
    """On-chip levels inside the PE array (below the array level), innermost first."""
    return [lv.index for lv in arch.onchip if lv.index < arch.array_level]


def array_levels(arch) -> list[int]:
    """On-chip levels at or above the array level, innermost first."""
    return [lv.index for lv in arch.onchip if lv.index >= arch.array_level]


def rf_fits(nest, arch, ext) -> bool:
    """Whether tiles spanning ``ext`` fit every level inside the PE array."""
    return _ext_fits(nest, arch, pe_levels(arch), ext)


def rf_candidates(nest, arch, df, rem: dict[str, int], work: Work, extra: dict | None = None):
    """Yield tilings of the levels inside the PE array: ``{level index: {dim: factor}}``.

    Each level, innermost first, takes factors of the dataflow's ``rf_dims``
    such that its tiles (its factors and everything below it, including the
    fan-outs ``extra`` of levels at or below it) fit it.
    Tiles grow monotonically with each factor, so a dim's walk stops at its
    first factor that does not fit.  Raises OutOfWork when ``work`` runs out.
    """
    levels = pe_levels(arch)
    sp = {i: spatial_below(arch, extra or {}, i) for i in levels}
    fit = {i: fit_checker(nest, arch, i) for i in levels}

    def level_rec(li, ext, rem_, chosen):
        if li == len(levels):
            yield {k: dict(v) for k, v in chosen.items()}
            return
        idx = levels[li]
        dims = [d for d in df.rf_dims if rem_[d] > 1]
        base = {d: ext[d] * sp[idx][d] for d in DIMS}

        def rec(i, cur):
            if i == len(dims):
                chosen[idx] = {d: f for d, f in cur.items() if f > 1}
                rem2 = {d: rem_[d] // cur.get(d, 1) for d in DIMS}
                yield from level_rec(li + 1, {d: ext[d] * cur.get(d, 1) for d in DIMS}, rem2, chosen)
                return
            d = dims[i]
            for f in divisors(rem_[d]):
                cur[d] = f
                work.tick()
                e = {x: base[x] * cur.get(x, 1) for x in DIMS}
                if not fit[idx](e):
                    break
                yield from rec(i + 1, cur)
            cur.pop(d, None)

        if fit[idx](base):
            yield from rec(0, {})

    yield from level_rec(0, {d: 1 for d in DIMS}, dict(rem), {})


def glb_fits(nest, arch, ext, level: int | None = None) -> bool:
    """Whether tiles spanning ``ext`` fit the array-side level ``level`` (default: every array-side level)."""
    return _ext_fits(nest, arch, array_levels(arch) if level is None else [level], ext)


def glb_splits(nest, arch, inner: dict[str, int], rem: dict[str, int], maximal_only: bool, work: Work,
               level: int | None = None):
    """Yield factor choices ``{dim: factor}`` for one array-side level (the rest goes further out) that fit it.

    ``inner``: per dim, iterations already below the level.  With
    ``maximal_only``, keep only splits where no dim's factor can take its next
    divisor and still fit (Pareto-maximal tiles).  Raises OutOfWork when
    ``work`` runs out.
    """
    lvl = arch.array_level if level is None else level
    dims = [d for d in DIMS if rem[d] > 1]
    ext = dict(inner)

    ok = fit_checker(nest, arch, lvl)

    def rec(i, cur):
        if i == len(dims):
            if maximal_only:
                for d in dims:
                    divs = divisors(rem[d])
                    k = divs.index(cur[d])
                    if k + 1 < len(divs):
                        work.tick()
                        ext[d] = inner[d] * divs[k + 1]
                        fit = ok(ext)
                        ext[d] = inner[d] * cur[d]
                        if fit:
                            return
            yield dict(cur)
            return
        d = dims[i]
        fitting = []
        for f in divisors(rem[d]):
            ext[d] = inner[d] * f
            work.tick()
            if not ok(ext):
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

    if ok(ext):
        yield from rec(0, {})


def greedy_maximal(nest, arch, inner: dict[str, int], rem: dict[str, int], level: int | None = None):
    """One Pareto-maximal split of an array-side level found greedily: each dim in turn takes its
    largest factor that fits.  ``None`` if nothing fits."""
    lvl = arch.array_level if level is None else level
    ext = dict(inner)
    if not level_fits_ok(nest, arch, lvl, ext):
        return None
    cur = {}
    for d in DIMS:
        if rem[d] <= 1:
            continue
        best = 1
        for f in divisors(rem[d]):
            ext[d] = inner[d] * f
            if not level_fits_ok(nest, arch, lvl, ext):
                break
            best = f
        ext[d] = inner[d] * best
        cur[d] = best
    return cur


def glb_candidates(nest, arch, inner, rem, maximal_only, work: Work):
    """Tilings of the array-side levels, ``{level index: {dim: factor}}`` (the rest goes to DRAM).

    The array level takes every split, or the Pareto-maximal ones (each
    followed by its one-step shrinks when the outermost on-chip level is
    double-buffered: a layer that fits whole can still be split into tiles
    whose DRAM transfers overlap compute, at the price of some refetches).
    Each level further out takes its Pareto-maximal splits given those inside it.
    """
    levels = array_levels(arch)
    shrink = maximal_only and top_double_buffered(arch)

    def first_level():
        if not shrink:
            yield from glb_splits(nest, arch, inner, rem, maximal_only, work, levels[0])
            return
        seen = set()
        for glb in glb_splits(nest, arch, inner, rem, True, work, levels[0]):
            for cand in [glb] + [{**glb, d: divisors(rem[d])[divisors(rem[d]).index(f) - 1]}
                                 for d, f in sorted(glb.items()) if f > 1]:
                key = tuple(sorted(cand.items()))
                if key not in seen:
                    seen.add(key)
                    yield cand

    def rec(li, ext, rem_, chosen):
        if li == len(levels):
            yield dict(chosen)
            return
        for split in (first_level() if li == 0 else
                      glb_splits(nest, arch, ext, rem_, True, work, levels[li])):
            chosen[levels[li]] = split
            yield from rec(li + 1, {d: ext[d] * split.get(d, 1) for d in DIMS},
                           {d: rem_[d] // split.get(d, 1) for d in DIMS}, chosen)
        chosen.pop(levels[li], None)

    yield from rec(0, dict(inner), dict(rem), {})


def loop_orders(df: Dataflow) -> list[dict[str, tuple[str, ...]]]:
    """Order policies: ``rf`` (levels inside the array), ``glb`` (array-side levels), ``dram``."""
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
        for sp in spatial:
            rows, cols = sp[0], sp[1]
            extra = sp[2] if len(sp) > 2 else {}
            rem = {d: nest.dims[d] // (rows.get(d, 1) * cols.get(d, 1) * _extra(extra, d)) for d in DIMS}
            for rf in rf_candidates(nest, arch, df, rem, work, extra):
                rem2 = dict(rem)
                for f in rf.values():
                    rem2 = {d: rem2[d] // f.get(d, 1) for d in DIMS}
                inner = {d: nest.dims[d] // rem2[d] for d in DIMS}
                for glb in glb_candidates(nest, arch, inner, rem2, maximal_only, work):
                    for od in orders:
                        n += 1
                        if n > cap:
                            return
                        yield builder(arch, rows, cols, rf, glb, rem2, od, extra)
    except OutOfWork:
        return


def _extra(extra, d) -> int:
    n = 1
    for f in extra.values():
        n *= f.get(d, 1)
    return n


def spatial_below(arch, extra, upto: int | None = None) -> dict[str, int]:
    """Per dim, the spatial factors of the fan-outs other than the array level's (``extra``: slot -> factors),
    only those of levels at or below ``upto`` when given."""
    out = {d: 1 for d in DIMS}
    for name, f in extra.items():
        if upto is not None and arch.level_index(name.rsplit(".", 1)[0]) > upto:
            continue
        for d, v in f.items():
            out[d] *= v
    return out


def builder(arch, rows, cols, rf, glb, rem2, od, extra=None):
    """A function that builds the Mapping of one point of the space (slots named after ``arch``'s levels)."""
    def build() -> Mapping:
        slots = slots_of(arch)
        a = arch.levels[arch.array_level]
        factors = {a.name + ".rows": rows, a.name + ".cols": cols}
        for name, f in (extra or {}).items():
            factors[name] = f
        for i, f in rf.items():
            factors[arch.levels[i].name] = f
        rest = dict(rem2)
        for i, f in glb.items():
            factors[arch.levels[i].name] = f
            rest = {d: rest[d] // f.get(d, 1) for d in DIMS}
        factors[arch.dram.name] = rest
        orders = {}
        for s in slots:
            if s.spatial:
                continue
            if s.level == arch.dram.index:
                orders[s.name] = od["dram"]
            elif s.level >= arch.array_level:
                orders[s.name] = od["glb"]
            else:
                orders[s.name] = od["rf"]
        return make_mapping(slots, {k: v for k, v in factors.items() if k in {s.name for s in slots}}, orders)
    return build


def used_pes(spatial) -> int:
    n = prod(spatial[0].values()) * prod(spatial[1].values())
    for f in (spatial[2].values() if len(spatial) > 2 else ()):
        n *= prod(f.values())
    return n


def feasible(nest, arch, spatial) -> bool:
    """Whether some tiling fits under this unrolling (1-iteration tiles are the smallest)."""
    rows, cols = spatial[0], spatial[1]
    extra = spatial[2] if len(spatial) > 2 else {}
    below = spatial_below(arch, extra)
    inner = {d: rows.get(d, 1) * cols.get(d, 1) * below[d] for d in DIMS}
    return all(level_fits_ok(nest, arch, i, spatial_below(arch, extra, i)) for i in pe_levels(arch)) \
        and glb_fits(nest, arch, inner)


