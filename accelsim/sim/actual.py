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

import itertools
import string
from dataclasses import dataclass

import numpy as np

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import DIMS, LoopNest

#: Mask words converted for one einsum at a time (the masks are split along an output axis beyond it).
CHUNK_WORDS = 1 << 24


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


def operand_mask(nest: LoopNest, masks: dict, tensor: str, condition_on) -> np.ndarray:
    """The filter as [G, M, C, R, S] or the ifmap as [N, G, C, H, W]: its non-zero mask when the MACs
    condition on it, else all True."""
    d = nest.dims
    x = masks[tensor] if tensor in condition_on else np.broadcast_to(True, masks[tensor].shape)
    if tensor == "filter":
        return x.reshape(d["G"], d["M"], d["C"], d["R"], d["S"])
    return x.reshape(d["N"], d["G"], d["C"], nest.H, nest.W)


class DigitLayout:
    """A mapping's dims split into digit axes (module doc), each named by an einsum letter.

    Attributes:
        axes: per dim, ``[(slot name or None, factor, letter)]``, outermost slot first.
        pad_to: per dim, the product of its factors (a bound padded up for imperfect factors).
        pass_axes, unit_axes: ``[(letter, factor)]`` of the digits naming a pass (temporal slots of the
            levels above ``pass_inner``) and a MAC unit (spatial slots), in slot order (outermost first).
        units: MAC units (product of the unit digits).
    """

    def __init__(self, m: Mapping, pass_inner: int):
        letters = iter(string.ascii_letters)
        self.axes, self.pad_to = {}, {}
        for dim in DIMS:
            self.axes[dim] = [(name, f, next(letters)) for name, f in _digits(m, dim)] or [(None, 1, next(letters))]
            self.pad_to[dim] = int(np.prod([f for _, f, _ in self.axes[dim]]))
        self.pass_axes, self.unit_axes = [], []
        for s in m.slots:  # outermost first: the order of the pass counter and of the unit index
            for dim in DIMS:
                for name, f, c in self.axes[dim]:
                    if name == s.name and s.spatial:
                        self.unit_axes.append((c, f))
                    elif name == s.name and s.level > pass_inner:
                        self.pass_axes.append((c, f))
        self.units = int(np.prod([f for _, f in self.unit_axes], dtype=np.int64))
        self.outer = {c for c, _ in self.pass_axes + self.unit_axes}

    def letters(self, dims) -> str:
        return "".join(c for k in dims for _, _, c in self.axes[k])

    def shaped(self, arr: np.ndarray, dims) -> tuple[np.ndarray, str]:
        """``arr`` (axes = ``dims``, each at most its bound) zero-padded to ``pad_to`` and split into digit
        axes, with its einsum subscripts."""
        pads = [(0, self.pad_to[k] - arr.shape[i]) for i, k in enumerate(dims)]
        if any(p for _, p in pads):
            arr = np.pad(arr, pads)
        return arr.reshape([f for k in dims for _, f, _ in self.axes[k]]), self.letters(dims)


def work_blocks(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int,
                condition_on: tuple[str, ...]):
    """Effective MACs per (pass, MAC unit), as consecutive int64 blocks [passes in the block, units]:
    passes in loop order (outermost slot's digit slowest), units in slot order.  The blocks split the
    outermost pass digits so that each einsum converts at most about ``CHUNK_WORDS`` mask words and
    yields at most about ``CHUNK_WORDS`` cells (memory bounded whatever the layer)."""
    w = operand_mask(nest, masks, "filter", condition_on)
    xw = _windows(nest, operand_mask(nest, masks, "ifmap", condition_on))
    lay = DigitLayout(m, pass_inner)
    pass_axes, unit_axes = lay.pass_axes, lay.unit_axes
    cells = int(np.prod([f for _, f in pass_axes + unit_axes], dtype=np.int64))
    dtype = np.float32 if nest.macs // max(1, cells) < (1 << 24) else np.float64  # exact sums per cell
    wb, wsub = lay.shaped(w, ("G", "M", "C", "R", "S"))
    xb, xsub = lay.shaped(xw, ("N", "G", "C", "P", "Q", "R", "S"))
    units = lay.units
    # the outermost pass digits enumerated one by one: each value is a contiguous block of passes
    blocks = max(1, max(cells, wb.size + xb.size) // CHUNK_WORDS)
    lead, n = [], 1
    for c, f in pass_axes:
        if n >= blocks:
            break
        lead.append((c, f))
        n *= f
    rest = pass_axes[len(lead):]
    out = "".join(c for c, _ in rest + unit_axes)
    fixed_w = None if any(c in wsub for c, _ in lead) else wb.astype(dtype)
    fixed_x = None if any(c in xsub for c, _ in lead) else xb.astype(dtype)
    for values in itertools.product(*[range(f) for _, f in lead]):
        def part(arr, sub):
            idx = [slice(None)] * arr.ndim
            for (c, _), v in zip(lead, values):
                if c in sub:
                    idx[sub.index(c)] = slice(v, v + 1)
            return arr[tuple(idx)].astype(dtype)
        res = np.einsum(f"{wsub},{xsub}->{out}", fixed_w if fixed_w is not None else part(wb, wsub),
                        fixed_x if fixed_x is not None else part(xb, xsub), optimize=True)
        yield np.rint(res).astype(np.int64).reshape(-1, units)


def work_matrix(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int,
                condition_on: tuple[str, ...]) -> np.ndarray:
    """:func:`work_blocks` as one array [passes, units] (for small layers and tests)."""
    return np.concatenate(list(work_blocks(nest, arch, m, masks, pass_inner, condition_on)), axis=0)


def nonzero_pairs(nest: LoopNest, masks: dict) -> int:
    """MACs whose filter and ifmap words are both non-zero (padding is zero), counted directly."""
    d = nest.dims
    # for each (g, c, r, s): (non-zero weights over m) x (non-zero window words over n, p, q), in integers
    w = masks["filter"].reshape(d["G"], d["M"], d["C"], d["R"], d["S"]).sum(axis=1, dtype=np.int64)
    x = _windows(nest, masks["ifmap"]).sum(axis=(0, 3, 4), dtype=np.int64)  # [G, C, R, S]
    return int((w * x).sum())


class QueueModel:
    """The operand-queue timing of :func:`queue_cycles`, fed pass blocks in order (module doc)."""

    def __init__(self, units: int, depth: int):
        self.depth = depth
        self.finish = np.zeros(units, dtype=np.int64)
        self.started: list[int] = []  # per pass, when its last unit started it (the last ``depth`` kept)
        self.issue = -1
        self.barrier = 0
        self.j = 0

    def feed(self, work: np.ndarray) -> None:
        if self.depth <= 0:
            self.barrier += int(np.maximum(work.max(axis=1), 1).sum())
            return
        for row in work:
            self.issue += 1
            if self.j >= self.depth:
                self.issue = max(self.issue, self.started[-self.depth])
            start = np.maximum(self.finish, self.issue)
            self.started.append(int(start.max()))
            if len(self.started) > self.depth:
                self.started.pop(0)
            self.finish = start + row
            self.j += 1

    @property
    def cycles(self) -> int:
        if self.depth <= 0:
            return self.barrier
        return int(max(self.finish.max(initial=0), self.issue + 1))


def queue_cycles(work: np.ndarray, depth: int) -> int:
    """Cycles for units fed pass by pass through operand queues of ``depth`` entries (module doc).

    ``work``: [passes, units] cycles.  A unit's queue holds passes issued but not started; pass j is
    issued a cycle after pass j-1 once every unit has started pass j - depth.  Depth 0 is a barrier:
    each pass takes its slowest unit's work (at least a cycle).
    """
    q = QueueModel(work.shape[1], depth)
    q.feed(work)
    return q.cycles


def actual_work(nest: LoopNest, arch: Architecture, m: Mapping, masks: dict, pass_inner: int) -> ActualWork:
    """The actual evaluation of ``m`` with the operands' non-zero ``masks`` (module doc).

    Raises:
        ValueError: a mask does not have its tensor's shape.
    """
    ms = arch.mac_sparse
    cond = ms.condition_on if ms is not None else ("filter", "ifmap")
    depth = arch.levels[arch.array_level].queue_depth
    busy, q = None, None
    passes = performed = 0
    max_sum = mean_sum = 0.0
    for block in work_blocks(nest, arch, m, masks, pass_inner, cond):
        if busy is None:
            busy = np.zeros(block.shape[1], dtype=np.int64)
            q = QueueModel(block.shape[1], depth)
        busy += block.sum(axis=0)
        passes += block.shape[0]
        performed += int(block.sum())
        max_sum += float(block.max(axis=1).sum())
        mean_sum += float(block.mean(axis=1).sum())
        q.feed(block)
    pairs = performed if set(cond) == {"filter", "ifmap"} else nonzero_pairs(nest, masks)
    cycles = q.cycles
    return ActualWork(
        effective_macs=pairs, performed_macs=performed, passes=passes, units=busy.size, compute_cycles=cycles,
        busy_cycles=busy, imbalance_factor=max_sum / mean_sum if mean_sum else 1.0,
        load_efficiency=float(busy.mean() / cycles) if cycles else 1.0, queue_depth=depth)
