"""One array-side level's splits by a vectorised fit test over the whole factor grid (numpy).

:func:`accelsim.mapper.tilings.glb_splits` walks a level's factor choices recursively, one fit check
(one :class:`~accelsim.mapper.tilings.Work` tick) at a time.  This module computes the same splits, in
the same order, and the exact number of fit checks that walk makes, from one boolean array: the fit of
every cell of the grid of each dim's divisors.  The walk's interleaving of checks and yields
only matters when its allowance runs out, and then the caller walks recursively instead, so the
mapping space and its bounds are unchanged.

Why it is exact (tiles grow monotonically with every factor, so fits are downward closed):

* The walk visits dim ``i`` (in ``dims`` order) under every fitting prefix of dims ``0..i-1``, with the
  later dims at factor 1; it checks that dim's divisors ascending and stops at the first that does
  not fit: ``min(n_i, c + 1)`` checks when ``c`` of its ``n_i`` divisors fit.  The fit of a prefix is
  the grid's cell with the later dims at their first divisor.
* Every split: the fitting cells in C order (dims outermost first, divisors ascending).
* Pareto-maximal splits: under each fitting prefix of the first ``k - 1`` dims the largest fitting
  divisor of the last dim, then one check per dim (in order, those with a next divisor) until one
  could grow; the cell is kept when none could.
"""

from __future__ import annotations

import numpy as np

from ..cost.coordinate import pattern_size
from ..cost.fits import fit_parts
from ..workload.loopnest import DIMS

#: Grid cells computed at most; a larger grid is walked recursively.
MAX_CELLS = 1 << 16
#: Smaller grids are walked recursively: below ~64 cells numpy's fixed cost (~100 us) exceeds the walk's.
MIN_CELLS = 64
#: Largest integer product kept in int64 (larger: walked recursively, in Python's integers).
_INT_MAX = 1 << 62


def grid_splits(nest, arch, level: int, inner: dict[str, int], dims: list[str], divs: list[tuple[int, ...]],
                maximal_only: bool):
    """``(splits, checks)``: the splits :func:`~accelsim.mapper.tilings.glb_splits` yields for level
    ``level`` (each ``{dim: factor}`` over ``dims``), in its order, and the fit checks its walk makes; or
    None when the grid has at most :data:`MIN_CELLS` or more than :data:`MAX_CELLS` cells, or a tile's
    bits could overflow int64 (the caller then walks recursively).

    ``inner``: per dim, iterations below the level; ``dims``: the dims left to split, in ``DIMS`` order
    (at least one); ``divs``: each one's divisors of its iterations left, ascending.
    """
    n = [len(x) for x in divs]
    k = len(dims)
    cells = 1
    for x in n:
        cells *= x
    if not MIN_CELLS < cells <= MAX_CELLS:
        return None
    parts = fit_parts(nest, arch, level)
    fits = _fit_grid(nest, parts, inner, dims, divs, n)
    if fits is None:
        return None
    if not fits.flat[0]:
        return [], 0
    checks = 0
    for i in range(k):
        fit_i = fits[(slice(None),) * (i + 1) + (0,) * (k - 1 - i)]
        visited = fit_i[..., 0]  # the prefixes walked at depth i (the root when i = 0)
        c = fit_i.sum(axis=-1)
        checks += int(np.minimum(c + 1, n[i])[visited].sum())
    if not maximal_only:
        cells_idx = np.argwhere(fits)
        return [_split(dims, divs, x) for x in cells_idx.tolist()], checks
    last = fits.sum(axis=-1)  # per prefix of the first k-1 dims: fitting divisors of the last
    prefixes = np.argwhere(last > 0)
    leaves = np.concatenate([prefixes, np.asarray(last[tuple(prefixes.T)]).reshape(-1, 1) - 1], axis=1)
    nn = np.array(n)
    has_next = leaves + 1 < nn
    grow = np.zeros_like(has_next)
    for d in range(k):
        up = leaves.copy()
        up[:, d] = np.minimum(up[:, d] + 1, n[d] - 1)
        grow[:, d] = has_next[:, d] & fits[tuple(up.T)]
    any_grow = grow.any(axis=1)
    first = np.argmax(grow, axis=1)
    upto = np.cumsum(has_next, axis=1)
    checks += int(np.where(any_grow, upto[np.arange(len(leaves)), first], upto[:, -1]).sum())
    return [_split(dims, divs, x) for x in leaves[~any_grow].tolist()], checks


def _split(dims, divs, idx) -> dict[str, int]:
    return {d: divs[i][j] for i, (d, j) in enumerate(zip(dims, idx))}


def _fit_grid(nest, parts, inner, dims, divs, n):
    """Boolean array of shape ``n``: whether the tiles of each cell fit every partition (the same
    arithmetic, in the same order, as :func:`~accelsim.cost.fits.fit_checker`), or None on overflow."""
    k = len(dims)
    ext, top = {}, {}
    for d in DIMS:
        if d in dims:
            i = dims.index(d)
            shape = [1] * k
            shape[i] = n[i]
            ext[d] = (inner[d] * np.array(divs[i], dtype=np.int64)).reshape(shape)
            top[d] = inner[d] * divs[i][-1]
        else:
            ext[d] = top[d] = inner[d]
    win = []
    for a, b, s, dl in (("P", "R", nest.stride[0], nest.dilation[0]), ("Q", "S", nest.stride[1], nest.dilation[1])):
        pa, pb = np.broadcast_arrays(ext[a], ext[b])
        table = np.array([pattern_size((s, dl, 0, 0), (int(x), int(y))) for x, y in zip(pa.ravel(), pb.ravel())],
                         dtype=np.int64).reshape(pa.shape)
        win.append(table)
    e = ext
    n_, g, m, c = e["N"], e["G"], e["M"], e["C"]
    bound = max(top["G"] * top["M"] * top["C"] * top["R"] * top["S"],
                top["N"] * top["G"] * top["C"] * int(win[0].max()) * int(win[1].max()),
                top["N"] * top["G"] * top["M"] * top["P"] * top["Q"])
    widest = max((max(b) for b in parts), default=1)
    if bound * max(1, int(np.ceil(widest))) >= _INT_MAX:
        return None
    ok = np.ones(n, dtype=bool)
    for fb, ib, ob, cap in parts:
        used = 0
        if fb:
            used = used + g * m * c * e["R"] * e["S"] * fb
        if ib:
            used = used + n_ * g * c * win[0] * win[1] * ib
        if ob:
            used = used + n_ * g * m * e["P"] * e["Q"] * ob
        ok &= np.broadcast_to(np.asarray(used <= cap), n)
    return ok
