"""Actual sparse evaluation on a Cartesian-product array (SCNN): the real non-zeros of each pass at each
MAC unit, grouped as the unit multiplies them.

The timing rule is :mod:`accelsim.cost.cartesian`'s: a pass at a unit takes, summed over the (g, c)
groups and stride-phase classes of its tile, ceil(f / F) * ceil(a / I) cycles for f filter and a ifmap
words (the non-zero ones when the MACs skip), and at least the products of its busiest accumulator bank.
Here f and a are counted from the masks: the filter's words of the pass tile per (g, c, phase class), and
the ifmap words the unit owns (its output tile's input rows and columns, ``owner``) per (g, c, phase
class).  The mapping's digits (:class:`~accelsim.sim.actual.DigitLayout`) name the passes and the units;
the passes go through the array's queue model (depth 0: a barrier per pass, SCNN's synchronisation per
output-channel group when the pass is one).
"""

from __future__ import annotations

import string

import numpy as np

from ..arch.spec import Architecture
from ..cost.cartesian import busiest_bank, owner
from ..mapping.mapping import Mapping
from ..workload.loopnest import LoopNest
from .actual import ActualWork, DigitLayout, QueueModel, nonzero_pairs, operand_mask


def _split(lay: DigitLayout, arr: np.ndarray, dim_axis: int, dim: str) -> np.ndarray:
    """``arr`` with axis ``dim_axis`` (``dim``'s positions) zero-padded to its digit bound and split into digits."""
    pad = lay.pad_to[dim] - arr.shape[dim_axis]
    if pad:
        widths = [(0, 0)] * arr.ndim
        widths[dim_axis] = (0, pad)
        arr = np.pad(arr, widths)
    shape = arr.shape[:dim_axis] + tuple(f for _, f, _ in lay.axes[dim]) + arr.shape[dim_axis + 1:]
    return arr.reshape(shape)


def class_counts(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int):
    """Filter and ifmap word counts per pass/unit digit and (g, c, phase class):
    ``(nf, fsub, na, asub, lay)``, subscripts in :class:`DigitLayout` letters plus two free letters for
    the row and column phase classes."""
    ms = arch.mac_sparse
    cond = ms.condition_on if ms is not None and ms.action == "skip" else ()
    d = nest.dims
    (uh, uw), (dh, dw) = nest.stride, nest.dilation
    pt, _, pl, _ = nest.padding
    lay = DigitLayout(m, pass_inner)
    w = operand_mask(nest, masks, "filter", cond).astype(np.float64)   # [G, M, C, R, S]
    x = operand_mask(nest, masks, "ifmap", cond).astype(np.float64)    # [N, G, C, H, W]
    ph_r = np.eye(uh)[(np.arange(d["R"]) * dh) % uh]                    # [R, a]
    ph_s = np.eye(uw)[(np.arange(d["S"]) * dw) % uw]                    # [S, b]
    own_h = np.zeros((nest.H, d["P"], uh))                              # [H, P, a]
    own_h[np.arange(nest.H), owner(nest.H, pt, uh, d["P"], (d["R"] - 1) * dh // 2), (np.arange(nest.H) + pt) % uh] = 1
    own_w = np.zeros((nest.W, d["Q"], uw))
    own_w[np.arange(nest.W), owner(nest.W, pl, uw, d["Q"], (d["S"] - 1) * dw // 2), (np.arange(nest.W) + pl) % uw] = 1
    used = set(lay.letters(list(lay.axes)))
    pa, pb, hh, ww = [c for c in string.ascii_letters if c not in used][-4:]  # phases, ifmap rows and columns
    keep_f = set(lay.letters(["G", "C"])) | (lay.outer & set(lay.letters(["M", "R", "S"])))
    keep_a = set(lay.letters(["G", "C"])) | (lay.outer & set(lay.letters(["N", "P", "Q"])))
    wb, wsub = lay.shaped(w, ("G", "M", "C", "R", "S"))
    rsub, ssub = lay.letters(["R"]), lay.letters(["S"])
    fsub = "".join(c for c in wsub if c in keep_f) + pa + pb
    nf = np.einsum(f"{wsub},{rsub}{pa},{ssub}{pb}->{fsub}", wb, _split(lay, ph_r, 0, "R"),
                   _split(lay, ph_s, 0, "S"), optimize=True)
    xb = x
    for i, k in ((0, "N"), (1, "G"), (2, "C")):
        xb = _split(lay, xb, sum(len(lay.axes[j]) for j in ("N", "G", "C")[:i]), k)
    xsub = lay.letters(["N", "G", "C"]) + hh + ww
    psub, qsub = lay.letters(["P"]), lay.letters(["Q"])
    asub = "".join(c for c in lay.letters(["N", "G", "C", "P", "Q"]) if c in keep_a) + pa + pb
    na = np.einsum(f"{xsub},{hh}{psub}{pa},{ww}{qsub}{pb}->{asub}", xb, _split(lay, own_h, 1, "P"),
                   _split(lay, own_w, 1, "Q"), optimize=True)
    return np.rint(nf), fsub, np.rint(na), asub, lay


def cartesian_matrix(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int):
    """``(cycles, products)``, each an int64 array [passes, units] (passes and units in
    :class:`~accelsim.sim.actual.DigitLayout` order): the multiplier array's cycles (before the bank
    limit) and the products of every pass at every unit (module doc)."""
    cp = arch.mac_cartesian
    nf, fsub, na, asub, lay = class_counts(nest, arch, m, masks, pass_inner)
    out = "".join(c for c, _ in lay.pass_axes + lay.unit_axes)
    cf = np.ceil(nf / cp.filter_lanes)
    ca = np.ceil(na / cp.ifmap_lanes)
    cycles = np.rint(np.einsum(f"{fsub},{asub}->{out}", cf, ca, optimize=True)).reshape(-1, lay.units)
    products = np.rint(np.einsum(f"{fsub},{asub}->{out}", nf, na, optimize=True)).reshape(-1, lay.units)
    return cycles.astype(np.int64), products.astype(np.int64)


def cartesian_work(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int) -> ActualWork:
    """The actual evaluation of ``m`` on ``arch``'s Cartesian-product array (module doc).

    Returns:
        :class:`~accelsim.sim.actual.ActualWork`; ``performed_macs`` are the products (multiplications),
        ``busy_cycles`` per unit its multiplier-array and bank cycles.
    """
    cp = arch.mac_cartesian
    cycles, products = cartesian_matrix(nest, arch, m, masks, pass_inner)
    units = cycles.shape[1]
    if cp.accumulator_banks is not None:
        vals, inv = np.unique(products, return_inverse=True)
        bank = np.array([busiest_bank(float(v), cp.accumulator_banks) for v in vals])[inv.reshape(-1)]
        cycles = np.maximum(cycles, np.ceil(bank.reshape(cycles.shape) - 1e-9))
    work = cycles.astype(np.int64)
    depth = arch.levels[arch.array_level].queue_depth
    q = QueueModel(units, depth)
    q.feed(work)
    busy = work.sum(axis=0)
    mean = float(work.mean(axis=1).sum())
    return ActualWork(
        effective_macs=nonzero_pairs(nest, masks), performed_macs=int(products.sum()), passes=work.shape[0],
        units=units, compute_cycles=q.cycles, busy_cycles=busy,
        imbalance_factor=float(work.max(axis=1).sum()) / mean if mean else 1.0,
        load_efficiency=float(busy.mean() / q.cycles) if q.cycles else 1.0, queue_depth=depth)
