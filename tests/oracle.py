"""Brute-force oracles: walk a mapped loop nest literally.

Independent of ``accelsim.cost``: tiles are Python sets built point by point,
buffers hold one tile per instance, and every step is visited in order.
Only for small layers.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from accelsim.mapping.mapping import LEVELS, Mapping
from accelsim.workload.loopnest import DIMS, TENSORS, LoopNest


def _loops(m: Mapping, levels):
    out = []
    for l in levels:
        order = m.orders[l] if l in m.orders else DIMS
        for d in order:
            if m.factors[l][d] > 1:
                out.append((l, d, m.factors[l][d]))
    return out


def _index(m: Mapping, vals: dict) -> dict[str, int]:
    pt = {}
    for d in DIMS:
        x = 0
        for l in LEVELS:
            x = x * m.factors[l][d] + vals.get((l, d), 0)
        pt[d] = x
    return pt


def _iter(loops):
    for combo in product(*[range(f) for _, _, f in loops]):
        yield {(l, d): v for (l, d, _), v in zip(loops, combo)}


def run_nest(nest: LoopNest, m: Mapping, w: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, int]:
    """Execute every MAC of the mapped nest in its order; return (ofmap, points visited twice)."""
    d = nest.dims
    out = np.zeros((d["N"], d["G"] * d["M"], d["P"], d["Q"]), dtype=np.int64)
    seen = set()
    dup = 0
    for vals in _iter(_loops(m, LEVELS)):
        pt = _index(m, vals)
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


def walk_counts(nest: LoopNest, m: Mapping, unicast: tuple[str, ...] = ()) -> dict:
    """Count accesses by walking the nest with a one-tile buffer per instance.

    Tensors named in ``unicast`` get one GLB read per receiving PE (no multicast).
    Returns the same structure as ``AccessCounts.as_dict()``.
    """
    outer_rf = _loops(m, ("dram", "glb"))
    outer_glb = _loops(m, ("dram",))
    rf_loops = _loops(m, ("rf",))
    sp_loops = _loops(m, ("rows", "cols"))
    glb_inner = _loops(m, ("glb", "rows", "cols", "rf"))
    pes = list(_iter(sp_loops))
    res = {"macs": nest.macs, "rf": {}, "glb": {}, "dram": {}, "noc": {}}

    def tile(t, base, inner_loops):
        s = set()
        for v in _iter(inner_loops):
            vals = dict(base)
            vals.update(v)
            c = nest.project(t, _index(m, vals))
            if c is not None:
                s.add(c)
        return s

    for t in TENSORS:
        z = lambda: dict(reads=0, fills=0, updates=0, rmw_reads=0, drains=0)
        rf, glb, dram = z(), z(), z()
        noc = dict(words=0, transfers=0, reduction_adds=0)
        # ---- RF level: one buffer per PE
        prev = [set() for _ in pes]
        seen = [set() for _ in pes]
        pending_fresh = [set() for _ in pes]
        for step in _iter(outer_rf):
            newsets = []
            union_new = set()
            refetch_union = set()
            leave_union = set()
            for i, pe in enumerate(pes):
                base = dict(step)
                base.update(pe)
                cur = tile(t, base, rf_loops)
                new = cur - prev[i]
                newsets.append((i, cur, new))
                union_new |= new
                if t == "ofmap":
                    leave = prev[i] - cur
                    rf["drains"] += len(leave)
                    leave_union |= {(e,) for e in leave} if False else leave
            if t == "ofmap":
                glb["updates"] += len(leave_union)
                given = set()
                for i, cur, new in newsets:
                    for e in new:
                        if e in seen[i] and e not in given:
                            given.add(e)  # one PE of the reduction group gets the psum back
                            rf["fills"] += 1
                        else:
                            pending_fresh[i].add(e)
                    seen[i] |= cur
                glb["reads"] += len(given)
            else:
                for i, cur, new in newsets:
                    rf["fills"] += len(new)
                    if t in unicast:
                        glb["reads"] += len(new)
                if t not in unicast:
                    glb["reads"] += len(union_new)
            for i, cur, new in newsets:
                prev[i] = cur
            # MACs of this step, PE by PE
            for i, pe in enumerate(pes):
                for v in _iter(rf_loops):
                    vals = dict(step)
                    vals.update(pe)
                    vals.update(v)
                    pt = _index(m, vals)
                    c = nest.project(t, pt)
                    if t == "filter":
                        rf["reads"] += 1
                    elif t == "ifmap":
                        rf["reads"] += c is not None
                    else:
                        rf["updates"] += 1
                        if c in pending_fresh[i]:
                            pending_fresh[i].discard(c)
                        else:
                            rf["rmw_reads"] += 1
        if t == "ofmap":
            final_union = set()
            for i in range(len(pes)):
                rf["drains"] += len(prev[i])
                final_union |= prev[i]
            glb["updates"] += len(final_union)
            noc["words"] = rf["drains"] + rf["fills"]
            noc["transfers"] = glb["updates"] + rf["fills"]
            noc["reduction_adds"] = rf["drains"] - glb["updates"]
        else:
            noc["words"] = rf["fills"]
            noc["transfers"] = glb["reads"]
        # ---- GLB level: one buffer
        gprev, gseen = set(), set()
        for step in _iter(outer_glb):
            cur = tile(t, step, glb_inner)
            new = cur - gprev
            if t == "ofmap":
                leave = gprev - cur
                glb["drains"] += len(leave)
                for e in new:
                    if e in gseen:
                        glb["fills"] += 1
                gseen |= cur
            else:
                glb["fills"] += len(new)
            gprev = cur
        if t == "ofmap":
            glb["drains"] += len(gprev)
            dram["reads"] = glb["fills"]
            dram["updates"] = glb["drains"]
        else:
            dram["reads"] = glb["fills"]
        res["rf"][t], res["glb"][t], res["dram"][t], res["noc"][t] = rf, glb, dram, noc
    return res
