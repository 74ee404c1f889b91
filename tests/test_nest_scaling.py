"""Window-coordinate counting of the nest analysis: exact, and independent of H, W and the loop factors.

* A slow reference (the former enumeration of every combo of the outer loop
  values with one boolean membership row of width H per shift) agrees with
  ``coordinate.coord_sums``, ``coord_distinct`` and ``pattern_size`` on random small
  cases: stride, dilation, padding (also wider than the kernel), spatial
  digits, loop orders, ifmaps narrower than a tile.
* Huge extents (H = 10^9; H = W = 2^20) are analysed in well under a second
  and a few MB, with counts checked against hand formulas.
"""

import random
import time
import tracemalloc
from itertools import product

import pytest

from accelsim.cost import clipped
from accelsim.cost import coordinate as co
from accelsim.cost import nest_analysis as na
from accelsim.cost.progressions import sumset_size
from accelsim.workload import LoopNest

# ---------------------------------------------------------------- slow reference


def _ref_offsets(digits):
    offs = [0]
    for f, st in digits:
        offs = [o + j * st for o in offs for j in range(f)]
    return offs


def _ref_pattern(s, dil, inner):
    return sorted({p * s + r * dil for p in range(inner[0]) for r in range(inner[1])})


def _ref_tile(pattern, shift, size):
    return {v for v in (shift + q for q in pattern) if 0 <= v < size}


def _ref_coord_sums(dims, kp, rel_loops, inner, spatial, situation):
    """Every combo of the free loops, every instance, Python sets of coordinate values."""
    s, dil, pad, size = kp
    scale = {dims[0]: s, dims[1]: dil}
    kind, k = situation
    free, fixed_b, c_step = [], 0, 0
    for i, (d, f, st) in enumerate(rel_loops):
        c = st * scale[d]
        if kind == "first":
            continue
        if i < k:
            free.append(range(0, f * c, c))
        elif kind == "loop" and i == k:
            free.append(range(0, (f - 1) * c, c))
            c_step = c
        else:
            fixed_b += (f - 1) * c
    pattern = _ref_pattern(s, dil, inner)
    sig = [op * s + orr * dil for op in _ref_offsets(spatial[0]) for orr in _ref_offsets(spatial[1])]
    xa = xab = u = v = 0
    for combo in product(*free):
        a = sum(combo) + c_step - pad
        b = sum(combo) + fixed_b - pad
        after = [_ref_tile(pattern, a + o, size) for o in sig]
        xa += sum(len(t) for t in after)
        union = set().union(*after)
        u += len(union)
        if kind == "first":
            continue
        before = [_ref_tile(pattern, b + o, size) for o in sig]
        xab += sum(len(t & t0) for t, t0 in zip(after, before))
        v += sum(1 for y in union if all(y in t0 for t, t0 in zip(after, before) if y in t))
    return (xa, xab, u, v)


def _ref_coord_distinct(dims, kp, rel_loops, inner, spatial):
    s, dil, pad, size = kp
    scale = {dims[0]: s, dims[1]: dil}
    times = [0]
    for d, f, st in rel_loops:
        times = [t + j * st * scale[d] for t in times for j in range(f)]
    pattern = _ref_pattern(s, dil, inner)
    full = {t + q for t in times for q in pattern}
    sig = [op * s + orr * dil for op in _ref_offsets(spatial[0]) for orr in _ref_offsets(spatial[1])]
    return sum(sum(1 for w in full if 0 <= w + o - pad < size) for o in sig)


def _random_case(rng):
    s, dil = rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2, 3])
    pad = rng.choice([0, 0, 1, 2, 3, 5])  # 5: wider than most kernels here
    inner = (rng.choice([1, 2, 3]), rng.choice([1, 2, 3]))
    spatial = tuple(tuple((rng.choice([2, 3]), rng.choice([1, 2, 3, 4])) for _ in range(rng.choice([0, 0, 1, 2])))
                    for _ in range(2))
    rel_loops = tuple((rng.choice("PR"), rng.choice([2, 3, 4]), rng.choice([1, 2, 3, 5, 6])) for _ in range(rng.randint(0, 3)))
    extent = sum((f - 1) * st * (s if d == "P" else dil) for d, f, st in rel_loops) + \
        sum((f - 1) * st * sc for digits, sc in zip(spatial, (s, dil)) for f, st in digits) + \
        (inner[0] - 1) * s + (inner[1] - 1) * dil + 1
    size = rng.choice([1, max(1, extent - 2 * pad), max(1, extent - pad), extent + rng.randint(0, 3), rng.randint(1, 8)])
    return ("P", "R"), (s, dil, pad, size), rel_loops, inner, spatial


@pytest.mark.parametrize("seed", range(8))
def test_window_counts_equal_reference_enumeration(seed):
    rng = random.Random(seed)
    for _ in range(60):
        dims, kp, rel_loops, inner, spatial = _random_case(rng)
        situations = [("first", 0)] + [(kind, k) for k in range(len(rel_loops) + 1) for kind in ("loop", "skip")
                                       if not (kind == "loop" and k == len(rel_loops))]
        for sit in situations:
            got = co.coord_sums(dims, kp, rel_loops, inner, spatial, ((), ()), sit)  # no parent fan-out
            assert got == _ref_coord_sums(dims, kp, rel_loops, inner, spatial, sit), (kp, rel_loops, inner, spatial, sit)
        got = co.coord_distinct(dims, kp, rel_loops, inner, spatial)
        assert got == _ref_coord_distinct(dims, kp, rel_loops, inner, spatial), (kp, rel_loops, inner, spatial)
        assert co.pattern_size(kp, inner) == len(_ref_pattern(kp[0], kp[1], inner))


def test_sumset_size_equals_enumeration():
    """Distinct sums of progressions, including spans far longer than the rest (the peeled case)."""
    rng = random.Random(7)
    for _ in range(1500):
        progs = [(rng.randint(1, 9), rng.choice([1, 2, 3, 5, 8, 40])) for _ in range(rng.randint(0, 4))]
        vals = {0}
        for c, n in progs:
            vals = {x + j * c for x in vals for j in range(n)}
        assert sumset_size(progs) == len(vals), progs


def test_pattern_size_of_huge_tiles_is_closed_form():
    # stride 2, dilation 3, R = 3: all of 0..2(P-1)+6 except 1 and the one just below the top
    assert co.pattern_size((2, 3, 0, 0), (10**9, 3)) == 2 * 10**9 + 3
    assert co.pattern_size((1, 1, 0, 0), (10**9, 3)) == 10**9 + 2


# ---------------------------------------------------------------- huge extents


def _measure(fn):
    na._QUICK.clear()
    co.coord_sums.cache_clear()
    co.coord_distinct.cache_clear()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def test_height_1e9_analysed_fast_and_exact():
    """3 x 10^9 x 8 ifmap, 3x3 kernel, stride 1, no padding: P = 10^9 - 2 = 1382 * 723589.

    RF tile: 3 channels x 3 rows x 8 columns; P steps one row at a time (two
    loops), so each step brings one new row of 3 x 8 words: fills = 24 * H.
    """
    h = 10**9
    nest = LoopNest(dims=dict(N=1, G=1, M=4, C=3, P=h - 2, Q=6, R=3, S=3), H=h, W=8)
    inner = dict(N=1, G=1, M=1, C=3, P=1, Q=6, R=3, S=3)
    outer = [("P", 723589, 1382), ("P", 1382, 1)]
    st, dt, peak = _measure(lambda: na.analyse(nest, "ifmap", outer, inner, {}))
    assert dt < 0.5 and peak < 100 * 2**20, (dt, peak)
    assert st.pe_fills == st.union_fills == st.distinct == 24 * h
    assert (st.first_pe, st.max_tile) == (72, 72)
    assert [e[:3] for e in st.per_loop] == [(723588, 24 * 723588, 24 * 723588), (723589 * 1381, 24 * 723589 * 1381, 24 * 723589 * 1381)]


def test_2pow20_square_with_spatial_digits_and_padding():
    """H = W = 2^20 on a 4x4 array; P and Q each: 2 per PE, 4 PEs, 2^20/8 outer steps; pad 1, 3x3.

    h (likewise w): a PE's rows at step t are 8t + 2i - 1 + [0, 4) for PE i,
    clipped to [0, H).  Hand counts for the h coordinate alone (w the same):
      per-PE words over all steps: 4 PEs x 4 rows x T steps, minus the row
        -1 (PE 0, step 0) and the row H (PE 3, last step): 16T - 2;
      per step the union is the 10 rows 8t - 1 .. 8t + 8, minus the two
        clipped ones: 10T - 2 (each multicast read);
      distinct per PE: 4 rows a step, none shared between steps: 16T - 2.
    Q outer, P inner: a P step moves every tile to new rows (all new words);
    a Q step moves to new columns with the same rows (all new words too).
    """
    h = 2**20
    t = h // 8
    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=1, P=h, Q=h, R=3, S=3), H=h, W=h, padding=(1, 1, 1, 1))
    inner = dict(N=1, G=1, M=1, C=1, P=2, Q=2, R=3, S=3)
    outer = [("Q", t, 8), ("P", t, 8)]
    spatial = {"P": ((4, 2),), "Q": ((4, 2),)}
    st, dt, peak = _measure(lambda: na.analyse(nest, "ifmap", outer, inner, spatial))
    assert dt < 0.5 and peak < 100 * 2**20, (dt, peak)
    pe_h, union_h = 16 * t - 2, 10 * t - 2
    assert st.pe_fills == pe_h * pe_h  # every step's tiles are all new words
    assert st.union_fills == union_h * union_h
    assert st.distinct == pe_h * pe_h
    assert st.first_pe == (16 - 1) ** 2 and st.first_union == (10 - 1) ** 2


def test_caches_are_bounded():
    for f in (co.coord_sums, co.coord_distinct, na._coord_sums_by_id, na._coord_fills_by_id, na._coord_loops,
              co.pattern_size, clipped.coord_sums, clipped.coord_distinct):
        assert f.cache_info().maxsize is not None
    assert na._QUICK_MAX and na._COORD_IDS_MAX


def test_window_pairs_equals_enumeration():
    rng = random.Random(3)
    for _ in range(400):
        s, dil, pad, size = rng.randint(1, 3), rng.randint(1, 3), rng.randint(0, 6), rng.randint(1, 20)
        p, r = rng.randint(1, 12), rng.randint(1, 5)
        want = sum(1 for i in range(p) for j in range(r) if 0 <= i * s + j * dil - pad < size)
        assert co.window_pairs(s, dil, pad, size, p, r) == want
    assert co.window_pairs(1, 1, 1, 10**9, 10**9, 3) == 3 * 10**9 - 2  # "same" 3-tap conv: 2 taps on padding
