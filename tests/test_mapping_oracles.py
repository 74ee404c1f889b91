"""Oracles for the mapper and the cost model.

* Functional: the chosen mapping's loop nest, executed literally on random
  integers, equals a direct numpy convolution (every point exactly once).
* Counts: a brute-force walk with a one-tile buffer per instance gives
  exactly the cost model's counts, for chosen and for random mappings.
"""

import random

import numpy as np
import pytest

from accelsim.cost import access_counts
from accelsim.mapping import LEVELS, load_dataflow, make_mapping
from accelsim.mapper.search import search
from accelsim.workload import DIMS
from helpers import SMALL_LAYERS, small_nest, tiny_arch
from oracle import direct_conv, run_nest, walk_counts

DATAFLOWS = ["ws", "os", "is", "rs", "nlr"]


def _data(nest, seed):
    rng = np.random.default_rng(seed)
    d = nest.dims
    w = rng.integers(-4, 5, size=(d["G"], d["M"], d["C"], d["R"], d["S"]))
    x = rng.integers(-4, 5, size=(d["N"], d["G"] * d["C"], nest.H, nest.W))
    return w, x


@pytest.mark.parametrize("df", DATAFLOWS)
@pytest.mark.parametrize("entry", SMALL_LAYERS, ids=[e[0] for e in SMALL_LAYERS])
def test_chosen_mapping_computes_the_convolution(entry, df):
    nest = small_nest(entry)
    res = search(nest, tiny_arch(), load_dataflow(df))
    w, x = _data(nest, 1)
    out, dup = run_nest(nest, res.best.mapping, w, x)
    assert dup == 0
    np.testing.assert_array_equal(out, direct_conv(nest, w, x))


@pytest.mark.parametrize("df", DATAFLOWS)
@pytest.mark.parametrize("entry", SMALL_LAYERS, ids=[e[0] for e in SMALL_LAYERS])
def test_chosen_mapping_counts_equal_brute_force_walk(entry, df):
    nest = small_nest(entry)
    m = search(nest, tiny_arch(), load_dataflow(df)).best.mapping
    assert access_counts(nest, m).as_dict() == walk_counts(nest, m)


def test_direct_conv_oracle_against_hand_computed_case():
    # 1 channel, 3x3 input, 2x2 filter of ones, stride 1, no padding: each output is a 2x2 window sum.
    nest = small_nest(("t", (1, 3, 3), 1, {"type": "conv2d", "out_channels": 1, "kernel": 2}))
    w = np.ones((1, 1, 1, 2, 2), dtype=np.int64)
    x = np.arange(9).reshape(1, 1, 3, 3)
    assert direct_conv(nest, w, x).tolist() == [[[[8, 12], [20, 24]]]]


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _random_mapping(rng, nest):
    f = {l: {} for l in LEVELS}
    for d in DIMS:
        n = nest.dims[d]
        parts = []
        for _ in range(len(LEVELS) - 1):
            k = rng.choice(_divisors(n))
            parts.append(k)
            n //= k
        parts.append(n)
        rng.shuffle(parts)
        for l, k in zip(LEVELS, parts):
            f[l][d] = k
    orders = {l: tuple(rng.sample(DIMS, len(DIMS))) for l in ("dram", "glb", "rf")}
    return make_mapping(f, orders)


@pytest.mark.parametrize("seed", range(6))
def test_random_mappings_counts_equal_brute_force_walk(seed):
    """Random shapes (stride, dilation, padding, groups) and random tilings/orders/unrollings."""
    rng = random.Random(seed)
    checked = 0
    while checked < 25:
        dims = dict(N=rng.choice([1, 2]), G=rng.choice([1, 2]), M=rng.choice([1, 2, 4]), C=rng.choice([1, 2, 3]),
                    P=rng.choice([1, 2, 3, 4, 6]), Q=rng.choice([1, 2, 4]), R=rng.choice([1, 2, 3]),
                    S=rng.choice([1, 3]))
        st, dil, pad = rng.choice([1, 2]), rng.choice([1, 1, 2]), rng.choice([0, 1, 2])
        h = (dims["P"] - 1) * st + (dims["R"] - 1) * dil + 1 - 2 * pad
        w = (dims["Q"] - 1) * st + (dims["S"] - 1) * dil + 1 - 2 * pad
        if h < 1 or w < 1:
            continue
        from accelsim.workload import LoopNest

        nest = LoopNest(dims=dims, H=h, W=w, stride=(st, st), dilation=(dil, dil), padding=(pad, pad, pad, pad))
        m = _random_mapping(rng, nest)
        assert access_counts(nest, m).as_dict() == walk_counts(nest, m), (nest, m.to_dict())
        uni = rng.choice([(), ("filter",), ("ifmap",), ("filter", "ifmap")])
        types = {t: "unicast" for t in uni}
        assert access_counts(nest, m, types).as_dict() == walk_counts(nest, m, uni), (nest, m.to_dict(), uni)
        checked += 1


def test_oracle_sees_sliding_window_reuse():
    """A known case: 1-D conv, P=4, R=3, stride 1, P stepped at the GLB level one output at a time.

    RF ifmap tile per step = 3 words; the window slides by one, so after the first
    tile (3 fills) each of the 3 further steps fills exactly 1 new word: 6 fills.
    """
    from accelsim.workload import LoopNest

    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=1, P=4, Q=1, R=3, S=1), H=6, W=1)
    m = make_mapping({"glb": {"P": 4}, "rf": {"R": 3}}, {"glb": ("P",)})
    c = access_counts(nest, m)
    assert c.levels["rf"]["ifmap"].fills == 6 == walk_counts(nest, m)["rf"]["ifmap"]["fills"]
    assert c.levels["rf"]["filter"].fills == 3  # stationary: fetched once
    assert c.levels["dram"]["ifmap"].reads == 6  # each ifmap word from DRAM once


def test_psum_refetch_hand_count():
    """C stepped outside P at the GLB level: each psum leaves the PE and comes back once.

    Steps (c, p): (0,0) (0,1) (1,0) (1,1).  The RF holds one psum; 4 entries, 2 distinct
    elements, so 2 psums are fetched back from the GLB (GLB reads = RF fills = 2), the MAC
    reads a psum from the RF for 2 of its 4 updates, 4 drains reach the GLB as plain writes
    (the PE returns the full sum, so no read-modify-write there), and 2 finished words go to DRAM.
    """
    from accelsim.workload import LoopNest

    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=2, P=2, Q=1, R=1, S=1), H=2, W=1)
    m = make_mapping({"glb": {"C": 2, "P": 2}}, {"glb": ("C", "P")})
    c = access_counts(nest, m)
    rf, glb, dram = c.levels["rf"]["ofmap"], c.levels["glb"]["ofmap"], c.levels["dram"]["ofmap"]
    assert (rf.updates, rf.fills, rf.rmw_reads, rf.drains) == (4, 2, 2, 4)
    assert (glb.updates, glb.reads, glb.rmw_reads, glb.fills, glb.drains) == (4, 2, 0, 0, 2)
    assert (dram.reads, dram.updates) == (0, 2)
    assert c.as_dict() == walk_counts(nest, m)
