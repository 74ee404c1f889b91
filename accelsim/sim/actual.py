"""Actual sparse evaluation: the real non-zeros of a layer's operands, distributed to the MAC units as the
mapping does, and the time a skipping array takes for them.

Each iteration point (n, g, m, c, p, q, r, s) of the loop nest is one MAC; it is *effective* when its
operands in the arch's ``condition_on`` are non-zero (both: the intersection of the filter and the
ifmap windows; padding is zero).  The mapping's factors split every dim's index into digits (mixed
radix, outermost slot first); the spatial digits name a MAC unit, the temporal digits of the levels
above the pass boundary (the sim's :class:`~accelsim.sim.schedule.Schedule`) name a pass, and the rest
run inside the pass.  So the work of every MAC unit in every pass is one contraction of the two
non-zero masks over the inner digits (``numpy.einsum`` on the masks reshaped into digit axes; the
ifmap as its windows [N, G, C, P, Q, R, S]), exact for any mapping, imperfect factors included
(indices past a dim's bound are zero padding).

A skipping unit takes one cycle per effective MAC of its pass.  Passes synchronise through the
operand queues of the array (``queue_depth`` of the array level, 0 by default): unit u may start
pass j once it finished pass j-1 and the pass was issued; pass j is issued one cycle after pass j-1
and once every unit has room in its queue, i.e. has started pass j - depth (EIE's activation queue,
Han et al., ISCA 2016, Sec. IV, and its load-efficiency study against the queue depth).  Depth 0 is
a barrier per pass (SCNN's synchronisation per output-channel group, Parashar et al., ISCA 2017).  Reported: per-unit busy cycles, the imbalance factor
(sum over passes of the slowest unit's work / sum of the mean unit's work) and the load-balance
efficiency (mean busy cycles / cycles, i.e. 1 - bubbles / cycles).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import DIMS, LoopNest

#: Above this many (pass, unit) cells the per-pass queue walk is skipped: the barrier bound is used.
MAX_CELLS = 1 << 26


@dataclass(frozen=True)
class ActualWork:
    """What the real non-zeros cost one mapped layer on a skipping array (module doc).

    Attributes:
        effective_macs: MACs whose filter and ifmap words are both non-zero (the non-zero pairs).
        performed_macs: MACs the units perform: those whose ``condition_on`` operands are non-zero.
        passes, units: the pass count and MAC units of the mapping.
        compute_cycles: cycles of the skipping units through the queue model.
        busy_cycles: per MAC unit, cycles of effective work (length ``units``).
        imbalance_factor: sum over passes of the max unit work / sum of the mean unit work (>= 1).
        load_efficiency: mean busy cycles / compute cycles (1 - bubble cycles / cycles).
        queue_depth: the operand queue depth the model used.
    """

    effective_macs: int
    performed_macs: int
    passes: int
    units: int
    compute_cycles: int
    busy_cycles: np.ndarray
    imbalance_factor: float
    load_efficiency: float
    queue_depth: int

    def summary(self, keep: int = 1024) -> dict:
        """JSON-able figures; the per-unit busy cycles in full when at most ``keep`` units."""
        b = self.busy_cycles
        out = {"effective_macs": self.effective_macs, "performed_macs": self.performed_macs,
               "passes": self.passes, "units": self.units,
               "compute_cycles": self.compute_cycles, "imbalance_factor": self.imbalance_factor,
               "load_balance_efficiency": self.load_efficiency, "queue_depth": self.queue_depth,
               "busy_cycles_min": int(b.min()), "busy_cycles_mean": float(b.mean()),
               "busy_cycles_max": int(b.max())}
        if b.size <= keep:
            out["busy_cycles_per_unit"] = [int(x) for x in b]
        return out


def _windows(nest: LoopNest, x: np.ndarray) -> np.ndarray:
    """The ifmap mask as its windows [N, G, C, P, Q, R, S]: padding (and past the edge) reads zeros."""
    d = nest.dims
    pt, pb, pl, pr = nest.padding
    hs, ws = nest.stride
    hd, wd = nest.dilation
    pi = (np.arange(d["P"]) * hs)[:, None] + (np.arange(d["R"]) * hd)[None, :]   # [P, R], padded coordinates
    qi = (np.arange(d["Q"]) * ws)[:, None] + (np.arange(d["S"]) * wd)[None, :]   # [Q, S]
    xp = np.pad(x.reshape(d["N"], d["G"], d["C"], nest.H, nest.W),
                ((0, 0), (0, 0), (0, 0), (pt, max(0, int(pi.max()) + 1 - pt - nest.H)),
                 (pl, max(0, int(qi.max()) + 1 - pl - nest.W))))
    return xp[:, :, :, pi[:, None, :, None], qi[None, :, None, :]]


def _digits(m: Mapping, dim: str) -> list[tuple[str, int]]:
    """``[(slot name, factor)]`` of ``dim``, outermost slot first, factors > 1 only."""
    return [(s.name, m.factors[s.name][dim]) for s in m.slots if m.factors[s.name][dim] > 1]


def work_matrix(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int,
                condition_on: tuple[str, ...]) -> np.ndarray:
    """Effective MACs per (pass, MAC unit): an int64 array [passes, units], passes in loop order
    (outermost slot's digit slowest) and units in slot order."""
    d = nest.dims
    w = masks["filter"] if "filter" in condition_on else np.ones_like(masks["filter"])
    x = masks["ifmap"] if "ifmap" in condition_on else np.ones_like(masks["ifmap"])
    G, M, C = d["G"], d["M"], d["C"]
    w = w.reshape(G, M, C, d["R"], d["S"])
    xw = _windows(nest, x)
    letters = iter(string.ascii_letters)
    axes = {}
    pad_to = {}
    for dim in DIMS:
        digs = _digits(m, dim)
        axes[dim] = [(name, f, next(letters)) for name, f in digs] or [(None, 1, next(letters))]
        n = 1
        for _, f, _ in axes[dim]:
            n *= f
        pad_to[dim] = n

    slot = {s.name: s for s in m.slots}
    outer = 1  # (pass, unit) cells: each sums MACs / cells terms, exact in float32 below 2**24
    for dim in DIMS:
        for name, f, _ in axes[dim]:
            if name is not None and (slot[name].spatial or slot[name].level > pass_inner):
                outer *= f
    dtype = np.float32 if nest.macs // max(1, outer) < (1 << 24) else np.float64

    def shaped(arr, dims):
        pads = [(0, pad_to[k] - arr.shape[i]) for i, k in enumerate(dims)]
        arr = np.pad(arr, pads)
        shape = [f for k in dims for _, f, _ in axes[k]]
        sub = "".join(c for k in dims for _, _, c in axes[k])
        return arr.reshape(shape).astype(dtype), sub

    wa, wsub = shaped(w, ("G", "M", "C", "R", "S"))
    xa, xsub = shaped(xw, ("N", "G", "C", "P", "Q", "R", "S"))
    pass_axes, unit_axes = [], []
    for s in m.slots:  # outermost first: the order of the pass counter and of the unit index
        for dim in DIMS:
            for name, f, c in axes[dim]:
                if name != s.name:
                    continue
                if s.spatial:
                    unit_axes.append((c, f))
                elif slot[name].level > pass_inner:
                    pass_axes.append((c, f))
    out = "".join(c for c, _ in pass_axes + unit_axes)
    work = np.einsum(f"{wsub},{xsub}->{out}", wa, xa, optimize=True)
    passes = int(np.prod([f for _, f in pass_axes], dtype=np.int64))
    units = int(np.prod([f for _, f in unit_axes], dtype=np.int64))
    return np.rint(work).astype(np.int64).reshape(passes, units)


def nonzero_pairs(nest: LoopNest, masks: dict) -> int:
    """MACs whose filter and ifmap words are both non-zero (padding is zero), counted directly."""
    d = nest.dims
    w = masks["filter"].reshape(d["G"], d["M"], d["C"], d["R"], d["S"]).astype(np.float64)
    xw = _windows(nest, masks["ifmap"]).astype(np.float64)  # float64: sums exact to 2**53
    return int(round(float(np.einsum("gmcrs,ngcpqrs->", w, xw, optimize=True))))


def queue_cycles(work: np.ndarray, depth: int) -> int:
    """Cycles for units fed pass by pass through operand queues of ``depth`` entries (module doc).

    ``work``: [passes, units] cycles.  A unit's queue holds passes issued but not started; pass j is
    issued a cycle after pass j-1 once every unit has started pass j - depth.  Depth 0 is a barrier:
    each pass takes its slowest unit's work (at least a cycle).
    """
    passes, units = work.shape
    if depth <= 0 or passes * units > MAX_CELLS:
        return int(np.maximum(work.max(axis=1), 1).sum())
    finish = np.zeros(units, dtype=np.int64)
    started = np.zeros(passes, dtype=np.int64)  # per pass, when its last unit started it
    issue = -1
    for j in range(passes):
        issue = issue + 1 if j < depth else max(issue + 1, int(started[j - depth]))
        start = np.maximum(finish, issue)
        started[j] = start.max()
        finish = start + work[j]
    return int(max(finish.max(), issue + 1))


def actual_work(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int) -> ActualWork:
    """The actual evaluation of ``m`` with the operands' non-zero ``masks`` (module doc).

    Raises:
        ValueError: a mask does not have its tensor's shape.
    """
    ms = arch.mac_sparse
    cond = ms.condition_on if ms is not None else ("filter", "ifmap")
    work = work_matrix(nest, arch, m, masks, pass_inner, cond)
    pairs = int(work.sum()) if set(cond) == {"filter", "ifmap"} else nonzero_pairs(nest, masks)
    depth = arch.levels[arch.array_level].queue_depth
    busy = work.sum(axis=0)
    mean = work.mean(axis=1).sum()
    cycles = queue_cycles(work, depth)
    return ActualWork(
        effective_macs=pairs, performed_macs=int(work.sum()), passes=work.shape[0], units=work.shape[1], compute_cycles=cycles,
        busy_cycles=busy, imbalance_factor=float(work.max(axis=1).sum() / mean) if mean else 1.0,
        load_efficiency=float(busy.mean() / cycles) if cycles else 1.0, queue_depth=depth)
