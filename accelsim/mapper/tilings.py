"""Tilings of the storage levels for one unrolling: the levels inside the PE array and the array-side levels.

Part of the mapping space (:mod:`accelsim.mapper.space`): every walk takes a
:class:`Work` allowance of fit checks, and tiles grow monotonically with each
factor, so each dim's walk stops at its first factor that does not fit.
Fits are checked per partition of the levels that keep each tensor
(bypassed tensors take no room), by :func:`accelsim.cost.fits.fit_checker`.
"""

from __future__ import annotations

from functools import lru_cache

from ..cost.latency import top_double_buffered
from ..cost.fits import fit_checker, level_fits_ok, write_buffer_fits
from ..workload.loopnest import DIMS
from .splitgrid import grid_splits

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

        if fit[idx](base) and write_buffer_fits(nest, arch, idx, base) is None:
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
    if dims:  # the same splits and checks, vectorised (splitgrid's module doc)
        grid = grid_splits(nest, arch, lvl, inner, dims, [divisors(rem[d]) for d in dims], maximal_only)
        if grid is not None and grid[1] <= work.left:
            work.left -= grid[1]
            yield from grid[0]
            return
    yield from walk_splits(nest, arch, lvl, inner, rem, dims, maximal_only, work)


def walk_splits(nest, arch, lvl, inner, rem, dims, maximal_only, work):
    """:func:`glb_splits` by the recursive walk, one fit check per :class:`Work` tick."""
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


def glb_candidates(nest, arch, inner, rem, maximal_only, work: Work, keep_outside=None, whole=()):
    """Tilings of the array-side levels, ``{level index: {dim: factor}}`` (the rest goes to DRAM).

    The array level takes every split, or the Pareto-maximal ones (each
    followed by its one-step shrinks when the outermost on-chip level is
    double-buffered: a layer that fits whole can still be split into tiles
    whose DRAM transfers overlap compute, at the price of some refetches).
    ``keep_outside`` (dims): each maximal split is also offered with those
    dims' factors moved out to DRAM, so a systolic array's stationary tile
    stays while the streamed tensors move through DRAM tiles (its folds do
    not restart at each tile, :mod:`accelsim.sim.passes`).
    Each level further out takes its Pareto-maximal splits given those inside it.
    ``whole`` (dims): the array level takes all of each one's iterations, so the tensors that depend
    only on such dims stay whole on chip (a fused layer's resident ifmap or ofmap, :mod:`accelsim.fusion`).
    """
    levels = array_levels(arch)
    if whole:
        fixed = {d: rem[d] for d in whole if rem[d] > 1}
        inner = {d: inner[d] * fixed.get(d, 1) for d in DIMS}
        rem = {d: 1 if d in fixed else rem[d] for d in DIMS}
        for split in glb_candidates(nest, arch, inner, rem, maximal_only, work, keep_outside):
            first = {**split.get(levels[0], {}), **fixed}
            yield {**split, levels[0]: first}
        return
    shrink = maximal_only and top_double_buffered(arch)

    def variants(glb):
        out = [glb]
        if shrink:
            out += [{**glb, d: divisors(rem[d])[divisors(rem[d]).index(f) - 1]} for d, f in sorted(glb.items()) if f > 1]
        if keep_outside and any(glb.get(d, 1) > 1 for d in keep_outside):
            out.append({d: f for d, f in glb.items() if d not in keep_outside})
        return out

    def first_level():
        if not shrink and not keep_outside:
            yield from glb_splits(nest, arch, inner, rem, maximal_only, work, levels[0])
            return
        seen = set()
        for glb in glb_splits(nest, arch, inner, rem, maximal_only, work, levels[0]):
            for cand in variants(glb):
                key = tuple(sorted(cand.items()))
                if key not in seen:
                    seen.add(key)
                    yield cand

    def rec(li, ext, rem_, chosen):
        if li == len(levels):
            yield dict(chosen)
            return
        if write_buffer_fits(nest, arch, levels[li], ext) is not None:
            return  # one step of this level emits more outputs than its write buffer holds
        for split in (first_level() if li == 0 else
                      glb_splits(nest, arch, ext, rem_, True, work, levels[li])):
            chosen[levels[li]] = split
            yield from rec(li + 1, {d: ext[d] * split.get(d, 1) for d in DIMS},
                           {d: rem_[d] // split.get(d, 1) for d in DIMS}, chosen)
        chosen.pop(levels[li], None)

    yield from rec(0, dict(inner), dict(rem), {})


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
