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
in ``tests/oracle.py`` checks every count.  All counts are in words.

Window coordinates (h = p*stride + r*dil - pad, clipped to [0, H); w
likewise) are counted without enumerating the outer loop values or the
ifmap: the tile's origin is a sum of arithmetic progressions (one per outer
loop, :mod:`.progressions`), and a tile that lies inside [0, H) holds the
same words relative to its origin wherever it is.  So each sum is the count
for the unclipped tile times the number of combos, minus the words that
fall outside [0, H) for the few combos within the padding of either edge
(counted from a prefix of the combos' distribution as long as the
overhang).  Time and memory depend on the tile's span (pattern plus
spatial offsets) and the padding, not on H, W or the loop factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import prod


from ..workload.loopnest import LoopNest
from . import clipped, coordinate


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
            ``(steps, pe_fills, union_fills, pe_leaves, union_leaves)``;
            steps = prod(f_l, l < j) * (f_j - 1); the leaves are the words
            leaving the tiles (= the fills unless a tile is partial).
        union_distinct: per parent instance, the distinct words any of its
            children ever holds, summed over parent instances (psums: the
            first arrival of each element at the parent).
        last_pe, last_union: words in the last step's tiles, summed over
            instances / per parent instance after the union over siblings
            (psums: the final drain).  For an ifmap window clipped by padding
            these are the first tile's figures (only psums use them).  Psums only
            (0 for other tensors): union_distinct and the leaves (= the fills otherwise).
    """

    pe_fills: int
    union_fills: int
    distinct: int
    max_tile: int
    first_pe: int = 0
    first_union: int = 0
    per_loop: tuple = ()
    union_distinct: int = 0
    last_pe: int = 0
    last_union: int = 0


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
    outer_spatial: dict[str, tuple[tuple[int, int], ...]] | None = None,
    partial: bool = True,
) -> TileStats:
    """Exact fill counts of one tensor at one level.

    Args:
        nest: the layer.
        tensor: ``filter``, ``ifmap`` or ``ofmap``.
        outer: temporal loops above the level, outermost first, factor > 1 only.
        inner: per dim, the tile extent one instance holds (product of the
            factors below the level).
        spatial: per dim, the spatial digits ``(factor, stride)`` that tell
            sibling instances apart: the children of one parent instance,
            among which the parent multicasts (empty for a single instance).
        outer_spatial: per dim, the spatial digits that tell the parent's own
            instances apart (each parent instance serves its children alone);
            ``union_fills`` is summed over them, ``pe_fills`` and ``distinct``
            count every instance either way.
        partial: False when the factors are known to be perfect (no partial
            tile to look for: a shortcut for the mapper's inner loop).
    Returns:
        TileStats (all counts in words).
    """
    osp = outer_spatial or {}
    quick = (nest, tensor, tuple(outer), tuple(inner.values()), tuple(spatial.items()), tuple(osp.items()))
    hit = _QUICK.get(quick)
    if hit is not None:
        return hit
    if len(_QUICK) >= _QUICK_MAX:
        _QUICK.clear()
    st = _QUICK[quick] = _analyse_keyed(nest, tensor, outer, inner, spatial, osp, partial)
    return st


#: Memo of :func:`analyse` on its arguments as given (the canonical key below merges more cases).
_QUICK: dict = {}
_QUICK_MAX = 200_000


def _analyse_keyed(nest, tensor, outer, inner, spatial, osp, partial=True) -> TileStats:
    """Build each coordinate's key (its loops, tile extent, digits and, for a partial tile, its bounds)
    and compute (:func:`_analyse`); the coordinates' sums are cached by key (:func:`_coord_id`)."""
    coords, relevant = _coords(nest, tensor)
    sg, og = spatial.get, osp.get
    bounds = ext = nest.dims
    if partial:
        ext = dict(inner)
        for d, f, _ in outer:
            ext[d] *= f
        for dd in (spatial, osp):
            for d, digits in dd.items():
                for f, _ in digits:
                    ext[d] *= f
    per_coord = []
    for dims, kp in coords:
        if len(dims) == 1:
            d = dims[0]
            per_coord.append((dims, kp, tuple([l for l in outer if l[0] == d]), (inner[d],), (tuple(sg(d, ())),),
                              (tuple(og(d, ())),), None if ext[d] == bounds[d] else (bounds[d],)))
        else:
            per_coord.append((dims, kp, tuple([l for l in outer if l[0] in dims]), tuple([inner[d] for d in dims]),
                              tuple([tuple(sg(d, ())) for d in dims]), tuple([tuple(og(d, ())) for d in dims]),
                              None if all(ext[d] == bounds[d] for d in dims) else tuple(bounds[d] for d in dims)))
    irr = tuple(f for d, digits in sorted(spatial.items()) if d not in relevant for f, _ in digits)
    irr_o = tuple(f for d, digits in sorted(osp.items()) if d not in relevant for f, _ in digits)
    return _analyse(outer, per_coord, irr, irr_o, tensor == "ofmap", relevant)


@lru_cache(maxsize=4096)
def _coords(nest: LoopNest, tensor: str):
    coords = tuple(coordinates(nest, tensor))
    return coords, frozenset(d for c in coords for d in c[0])


def _analyse(outer: tuple, per_coord: list, irr_factors: tuple, irr_outer: tuple, psum: bool,
             relevant) -> TileStats:
    """TileStats from the coordinates' keys; ``psum``: also the leaving words and ``union_distinct``
    (only psums use them; otherwise leaves = fills and union_distinct = 0)."""
    nsp_out = prod(irr_outer)
    nsp_irr = prod(irr_factors) * nsp_out

    ids = [_coord_id(c) for c in per_coord]  # hash each coordinate's key once, not once per loop step
    firsts = [_coord_sums_by_id(i, ("first", 0)) for i in ids]
    pe = prod(x[0] for x in firsts) * nsp_irr
    un = prod(x[2] for x in firsts) * nsp_out
    lasts = [_coord_sums_by_id(i, ("last", 0)) if psum and c[6] is not None else x
             for i, c, x in zip(ids, per_coord, firsts)]

    first_pe, first_un = pe, un
    per_loop = []
    steps_before = 1
    irr_mult = 1
    # per coordinate, the sums of every outer loop's step in one cached call (the situations follow
    # from which outer loops index the coordinate)
    loop_dims = [l[0] for l in outer]
    cols = [_coord_loops(i, tuple([d in c[0] for d in loop_dims]), psum) for i, c in zip(ids, per_coord)]
    for j, (d, f, _) in enumerate(outer):
        xa = xab = u = v = 1
        for col in cols:
            sums = col[j]
            xa *= sums[0]
            xab *= sums[1]
            u *= sums[2]
            v *= sums[3]
        if psum:
            xb = ub = vb = 1
            for col in cols:
                sums = col[j]
                xb *= sums[4]
                ub *= sums[5]
                vb *= sums[6]
        else:
            xb, ub, vb = xa, u, v
        if d in relevant:
            mult = irr_mult
        else:
            mult = irr_mult * (f - 1)
            irr_mult *= f
        pe += mult * nsp_irr * (xa - xab)
        un += mult * nsp_out * (u - v)
        per_loop.append((steps_before * (f - 1), mult * nsp_irr * (xa - xab), mult * nsp_out * (u - v),
                         mult * nsp_irr * (xb - xab), mult * nsp_out * (ub - vb)))
        steps_before *= f

    distinct, union_distinct, max_tile = nsp_irr, nsp_out if psum else 0, 1
    for i in ids:
        a, b, t = _coord_totals(i, psum)
        distinct *= a
        union_distinct *= b
        max_tile *= t
    return TileStats(pe, un, distinct, max_tile, first_pe, first_un, tuple(per_loop), union_distinct,
                     prod(x[0] for x in lasts) * nsp_irr, prod(x[2] for x in lasts) * nsp_out)


@lru_cache(maxsize=1 << 17)
def _coord_totals(cid: int, psum: bool) -> tuple[int, int, int]:
    """Of the coordinate key with id ``cid``: words every instance ever holds (summed over instances),
    the same per parent instance after the union over its children (psums only, else 1), and the
    unclipped tile's words."""
    dims, kp, rel_loops, key_inner, key_sp, key_osp, bounds = _COORD_KEYS[cid]
    both = tuple(a + b for a, b in zip(key_sp, key_osp))
    distinct = _distinct(dims, kp, rel_loops, key_inner, both, bounds)
    union = 1
    if psum:
        sib_loops = rel_loops + tuple((d, f, st) for d, digits in zip(dims, key_sp) for f, st in digits)
        union = _distinct(dims, kp, sib_loops, key_inner, key_osp, bounds)
    return int(distinct), int(union), int(coordinate.pattern_size(kp, key_inner))


#: Coordinate keys of :func:`_analyse` by a small id (cleared with the id-keyed cache when full).
_COORD_IDS: dict = {}
_COORD_KEYS: list = []
_COORD_IDS_MAX = 1 << 18


def _coord_id(key: tuple) -> int:
    i = _COORD_IDS.get(key)
    if i is None:
        if len(_COORD_KEYS) >= _COORD_IDS_MAX:
            _COORD_IDS.clear()
            _COORD_KEYS.clear()
            _coord_sums_by_id.cache_clear()
            _coord_fills_by_id.cache_clear()
            _coord_loops.cache_clear()
            _coord_totals.cache_clear()
        i = _COORD_IDS[key] = len(_COORD_KEYS)
        _COORD_KEYS.append(key)
    return i


@lru_cache(maxsize=1 << 17)
def _coord_sums_by_id(cid: int, situation: tuple):
    """(Xa, Xab, U, V, Xb, Ub, Vb) of the coordinate key with id ``cid`` (a cheap cache key).

    The closed form (:func:`.coordinate.coord_sums`) when every tile has the full shape,
    the enumeration of :mod:`.clipped` when a factor is imperfect.  In the
    closed form the leaving words equal the entering ones (Xb = Xa, ...):
    only ifmap windows clip there, and only psums use the leaves.
    """
    key = _COORD_KEYS[cid]
    if key[6] is None:
        xa, xab, u, v = coordinate.coord_sums(*key[:6], situation)
        return xa, xab, u, v, xa, u, v
    if key[1] is None and situation[0] != "last":
        k2 = _as_window(key)
        xa, xab, u, v = coordinate.coord_sums(*k2, situation)
        xb, _, ub, vb = coordinate.coord_sums(*k2, situation, True)
        return xa, xab, u, v, xb, ub, vb
    return clipped.coord_sums(*key, situation)


@lru_cache(maxsize=1 << 17)
def _coord_loops(cid: int, member: tuple, psum: bool) -> tuple:
    """Per outer loop j, the sums of coordinate ``cid`` at a step of loop j; ``member[j]``: whether loop
    j indexes the coordinate (the situation is ("loop", k) for the k-th such loop, else ("skip", k))."""
    out, k = [], 0
    get = _coord_sums_by_id if psum else _coord_fills_by_id
    for inside in member:
        out.append(get(cid, ("loop" if inside else "skip", k)))
        k += inside
    return tuple(out)


@lru_cache(maxsize=1 << 17)
def _coord_fills_by_id(cid: int, situation: tuple):
    """(Xa, Xab, U, V) of the coordinate key with id ``cid``: :func:`_coord_sums_by_id` without the leaves."""
    key = _COORD_KEYS[cid]
    if key[6] is None:
        return coordinate.coord_sums(*key[:6], situation)
    if key[1] is None:
        return coordinate.coord_sums(*_as_window(key), situation)
    return clipped.coord_sums(*key, situation)[:4]


def _as_window(key):
    """A plain coordinate with a bound D as a window coordinate clipped to [0, D): stride 1, no
    padding, and a second dim of extent 1, so the closed form's edge clipping counts its partial tiles."""
    (d,), _, rel_loops, inner, sp, osp, bounds = key
    return ((d, "_"), (1, 1, 0, bounds[0]), rel_loops, (inner[0], 1), (sp[0], ()), (osp[0], ()))


def _distinct(dims, kp, loops, inner, groups, bounds) -> int:
    """Words a group ever holds along a coordinate, summed over groups (``groups``: per dim, the digits
    that tell groups apart); closed form unless a window's tiles are partial."""
    if bounds is None:
        return coordinate.coord_distinct(dims, kp, loops, inner, groups)
    if kp is None:
        k2 = _as_window((dims, kp, loops, inner, groups, ((),), bounds))
        return coordinate.coord_distinct(k2[0], k2[1], loops, k2[3], k2[4])
    return clipped.coord_distinct(dims, kp, loops, inner, groups, bounds)

