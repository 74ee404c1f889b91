"""Brute-force oracles: walk a mapped loop nest literally.

Independent of ``accelsim.cost``: tiles are Python sets built point by point,
buffers hold one tile per instance, and every step is visited in order.
Only for small layers.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from accelsim.mapping.mapping import Mapping
from accelsim.workload.loopnest import DIMS, RELEVANT, TENSORS, LoopNest


def _loops(m: Mapping, slots):
    """(slot name, dim, factor) of the given slots (names), outermost first, factor-1 loops dropped."""
    out = []
    for s in m.slots:
        if s.name not in slots:
            continue
        order = m.orders[s.name] if not s.spatial else DIMS
        for d in order:
            if m.factors[s.name][d] > 1:
                out.append((s.name, d, m.factors[s.name][d]))
    return out


def _index(m: Mapping, vals: dict) -> dict[str, int]:
    pt = {}
    for d in DIMS:
        x = 0
        for s in m.slots:
            x = x * m.factors[s.name][d] + vals.get((s.name, d), 0)
        pt[d] = x
    return pt


def _valid(nest: LoopNest, pt: dict, dims=DIMS) -> bool:
    """Whether an iteration point exists: every index in ``dims`` below its bound (imperfect factors)."""
    return all(pt[d] < nest.dims[d] for d in dims)


def _proj(nest: LoopNest, t: str, pt: dict):
    """Tensor coordinate of a point, None if a dim the tensor depends on is out of range (or a padding zero)."""
    return nest.project(t, pt) if _valid(nest, pt, RELEVANT[t]) else None


def _iter(loops):
    for combo in product(*[range(f) for _, _, f in loops]):
        yield {(l, d): v for (l, d, _), v in zip(loops, combo)}


def run_nest(nest: LoopNest, m: Mapping, w: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, int]:
    """Execute every MAC of the mapped nest in its order; return (ofmap, points visited twice)."""
    d = nest.dims
    out = np.zeros((d["N"], d["G"] * d["M"], d["P"], d["Q"]), dtype=np.int64)
    seen = set()
    dup = 0
    for vals in _iter(_loops(m, {s.name for s in m.slots})):
        pt = _index(m, vals)
        if not _valid(nest, pt):
            continue
        key = tuple(pt[k] for k in DIMS)
        if key in seen:
            dup += 1
        seen.add(key)
        xi = nest.project("ifmap", pt)
        if xi is None:
            continue
        out[nest.project("ofmap", pt)] += w[nest.project("filter", pt)] * x[xi]
    assert len(seen) == nest.macs, "some iteration points were never visited"
    return out, dup


def direct_conv(nest: LoopNest, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Grouped, strided, dilated, padded 2-D convolution written directly in numpy."""
    d = nest.dims
    N, G, M, C, P, Q, R, S = (d[k] for k in DIMS)
    (sh, sw), (dh, dw) = nest.stride, nest.dilation
    pt, pb, pl, pr = nest.padding
    xp = np.zeros((N, G * C, nest.H + pt + pb + sh * P + dh * R, nest.W + pl + pr + sw * Q + dw * S), dtype=np.int64)
    xp[:, :, pt:pt + nest.H, pl:pl + nest.W] = x
    out = np.zeros((N, G * M, P, Q), dtype=np.int64)
    for g in range(G):
        for r in range(R):
            for s in range(S):
                win = xp[:, g * C:(g + 1) * C, r * dh: r * dh + sh * P: sh, s * dw: s * dw + sw * Q: sw]
                out[:, g * M:(g + 1) * M] += np.einsum("ncpq,mc->nmpq", win[:, :, :P, :Q], w[g, :, :, r, s])
    return out


def walk_counts(nest: LoopNest, arch, m: Mapping) -> dict:
    """Count accesses by walking the nest literally, for any hierarchy (bypass, fan-outs at any level).

    Every level instance buffers one tile of each tensor it keeps (a Python
    set of coordinates); every step of the temporal loops above it is visited
    in order.  For each tensor, along the chain of levels keeping it: a
    child's fills are the new words of its tile; its parent reads the union
    of what its children (within one parent instance) newly need, or each
    child's words when the link is unicast; the innermost keeper serves the
    MACs (one read per MAC, shared by the MAC units of a fan-out below it
    that need the same operand in the same cycle).  Psums: a revisited element
    comes back to one child of a reduction group (a fill of the child, a
    read of the parent), a leaving word is a drain of the child and, once per
    reduction group, an update of the parent, passing through any write buffer
    between them (an update and a drain of the buffer).  Returns the structure of
    ``AccessCounts.as_dict()``.
    """
    names = [lv.name for lv in arch.levels]
    res = {"macs": nest.macs, "levels": {n: {} for n in names}, "noc": {}}
    z = lambda: dict(reads=0, fills=0, updates=0, rmw_reads=0, drains=0)
    for lv in arch.levels:
        for t in lv.keeps:
            res["levels"][lv.name][t] = z()
        if lv.write_buffer is not None:
            res["levels"][lv.name]["ofmap"] = z()

    def through(c, p, words):
        """Ofmap words going up from level c (-1: the MACs) to keeper p pass through the write buffers
        between them: written in, then drained out."""
        for lv in arch.levels[c + 1:p]:
            if lv.write_buffer is not None:
                res["levels"][lv.name]["ofmap"]["updates"] += words
                res["levels"][lv.name]["ofmap"]["drains"] += words

    def noc(level, t):
        return res["noc"].setdefault(names[level], {}).setdefault(t, dict(words=0, transfers=0, reduction_adds=0))

    def tile(t, base, inner_loops):
        out = set()
        for v in _iter(inner_loops):
            vals = dict(base)
            vals.update(v)
            c = _proj(nest, t, _index(m, vals))
            if c is not None:
                out.add(c)
        return out

    def link(c, p):
        for i in range(p, c, -1):
            if arch.levels[i].noc:
                return i
        return None

    for t in TENSORS:
        chain = arch.keepers(t)
        # ---- the innermost keeper serves the MACs, step by step
        c0 = chain[0]
        above = [s.name for s in m.above(c0)] + [m.temporal_slot(c0).name]
        below_sp = [s.name for s in m.below(c0) if s.spatial]
        inner_t = [s.name for s in m.below(c0) if not s.spatial]
        outer_sp = [s.name for s in m.above(c0) if s.spatial]
        lv0 = res["levels"][names[c0]][t]
        for step in _iter(_loops(m, [x for x in above if x not in outer_sp] + inner_t)):
            for inst in _iter(_loops(m, outer_sp)):
                got, shared = [], []
                for lane in _iter(_loops(m, below_sp)):
                    vals = {**step, **inst, **lane}
                    pt = _index(m, vals)
                    got.append(nest.project(t, pt) if _valid(nest, pt) else None)
                    # one read serves the lanes that differ only in dims the tensor does not depend on
                    shared.append(all(v == 0 for (_, d), v in lane.items() if d not in RELEVANT[t]))
                if t == "ofmap":
                    got = [g for g in got if g is not None]
                    uniq = set(got)
                    lv0["updates"] += len(uniq)
                    through(-1, c0, len(uniq))
                    if below_sp:
                        n = noc(max(s.level for s in m.below(c0) if s.spatial), t)
                        n["words"] += len(got)
                        n["transfers"] += len(uniq)
                        n["reduction_adds"] += len(got) - len(uniq)
                else:
                    real = [g for g in got if g is not None]
                    served = sum(1 for g, first in zip(got, shared) if g is not None and first)
                    lv0["reads"] += served
                    if below_sp:
                        n = noc(max(s.level for s in m.below(c0) if s.spatial), t)
                        n["words"] += len(real)
                        n["transfers"] += served
        # ---- every hop of the chain
        rmw_fresh = 0
        for k, (c, p) in enumerate(zip(chain, chain[1:])):
            above_c = m.above(c)
            tloops = _loops(m, [s.name for s in above_c if not s.spatial])
            sib = [s.name for s in above_c if s.spatial and s.level <= p]
            outer = [s.name for s in above_c if s.spatial and s.level > p]
            inner = _loops(m, [s.name for s in m.below(c)])
            groups = [(o, [{**o, **x} for x in _iter(_loops(m, sib))]) for o in _iter(_loops(m, outer))]
            insts = [i for _, g in groups for i in g]
            key = lambda i: tuple(sorted(i.items()))
            prev = {key(i): set() for i in insts}
            seen = {key(i): set() for i in insts}
            cl, pl = res["levels"][names[c]][t], res["levels"][names[p]][t]
            lk = link(c, p)
            uni = lk is not None and arch.levels[lk].noc[t].type == "unicast"
            fresh_entries = 0

            def visit(step, last=False):
                nonlocal fresh_entries
                for _, g in groups:
                    union_new, given, leave_union = set(), set(), set()
                    for i in g:
                        cur = set() if last else tile(t, {**step, **i}, inner)
                        new = cur - prev[key(i)]
                        if t == "ofmap":
                            leave = prev[key(i)] - cur
                            cl["drains"] += len(leave)
                            leave_union |= leave
                            for e in new:
                                if e in seen[key(i)] and e not in given:
                                    given.add(e)
                                    cl["fills"] += 1
                                else:
                                    fresh_entries += 1
                            seen[key(i)] |= cur
                        else:
                            cl["fills"] += len(new)
                            union_new |= new
                            if uni:
                                pl["reads"] += len(new)
                            if lk is not None:
                                noc(lk, t)["words"] += len(new)
                                if uni:
                                    noc(lk, t)["transfers"] += len(new)
                        prev[key(i)] = cur
                    if t == "ofmap":
                        pl["updates"] += len(leave_union)
                        through(c, p, len(leave_union))
                        pl["reads"] += len(given)
                        if lk is not None:
                            n = noc(lk, t)
                            n["transfers"] += len(leave_union) + len(given)
                            n["words"] += len(given)
                    elif not uni:
                        pl["reads"] += len(union_new)
                        if lk is not None:
                            noc(lk, t)["transfers"] += len(union_new)

            for step in _iter(tloops):
                visit(step)
            visit({}, last=True)
            if t == "ofmap":
                if lk is not None:
                    n = noc(lk, t)
                    n["words"] += cl["drains"]
                    n["reduction_adds"] += cl["drains"] - pl["updates"]
                if k == 0:
                    rmw_fresh = fresh_entries
        if t == "ofmap":
            if len(chain) > 1:
                lv0["rmw_reads"] = lv0["updates"] - rmw_fresh
            else:
                lv0["rmw_reads"] = lv0["updates"] - len({_proj(nest, t, _index(m, v))
                                                         for v in _iter(_loops(m, {s.name for s in m.slots}))
                                                         if _valid(nest, _index(m, v))})
    return res
