"""Oracles for the mapper and the cost model.

* Functional: the chosen mapping's loop nest, executed literally on random
  integers, equals a direct numpy convolution (every point exactly once).
* Counts: a brute-force walk with a one-tile buffer per instance gives
  exactly the cost model's counts, for chosen and for random mappings, on
  the bundled three-level form and on random hierarchies of 2 to 5 levels
  with bypassed tensors, partitions and fan-outs at any level.
"""

import random

import numpy as np
import pytest

from accelsim.cost import access_counts
from accelsim.arch import build_arch
from accelsim.mapping import load_dataflow, make_mapping, slots_of
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
    assert access_counts(nest, tiny_arch(), m).as_dict() == walk_counts(nest, tiny_arch(), m)


def test_direct_conv_oracle_against_hand_computed_case():
    # 1 channel, 3x3 input, 2x2 filter of ones, stride 1, no padding: each output is a 2x2 window sum.
    nest = small_nest(("t", (1, 3, 3), 1, {"type": "conv2d", "out_channels": 1, "kernel": 2}))
    w = np.ones((1, 1, 1, 2, 2), dtype=np.int64)
    x = np.arange(9).reshape(1, 1, 3, 3)
    assert direct_conv(nest, w, x).tolist() == [[[[8, 12], [20, 24]]]]


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _random_mapping(rng, nest, arch=None):
    """Random factors over ``arch``'s slots (default: the tiny three-level arch), random orders."""
    arch = arch or tiny_arch()
    slots = slots_of(arch)
    f = {s.name: {} for s in slots}
    for d in DIMS:
        n = nest.dims[d]
        parts = []
        for s in slots[:-1]:
            k = rng.choice(_divisors(n))
            parts.append(k)
            n //= k
        parts.append(n)
        rng.shuffle(parts)
        for s, k in zip(slots, parts):
            f[s.name][d] = k
    orders = {s.name: tuple(rng.sample(DIMS, len(DIMS))) for s in slots if not s.spatial}
    return make_mapping(slots, f, orders)


def _random_nest(rng):
    from accelsim.workload import LoopNest

    while True:
        dims = dict(N=rng.choice([1, 2]), G=rng.choice([1, 2]), M=rng.choice([1, 2, 4]), C=rng.choice([1, 2, 3]),
                    P=rng.choice([1, 2, 3, 4, 6]), Q=rng.choice([1, 2, 4]), R=rng.choice([1, 2, 3]),
                    S=rng.choice([1, 3]))
        st, dil, pad = rng.choice([1, 2]), rng.choice([1, 1, 2]), rng.choice([0, 1, 2])
        h = (dims["P"] - 1) * st + (dims["R"] - 1) * dil + 1 - 2 * pad
        w = (dims["Q"] - 1) * st + (dims["S"] - 1) * dil + 1 - 2 * pad
        if h >= 1 and w >= 1:
            return LoopNest(dims=dims, H=h, W=w, stride=(st, st), dilation=(dil, dil), padding=(pad, pad, pad, pad))


def random_hierarchy(rng, unicast=()):
    """A random arch of 2 to 5 on-chip levels: random keeps (bypass), ofmap write buffers, partitions and
    fan-outs, roomy capacities."""
    n = rng.randint(2, 5)
    levels = []
    for i in range(n):
        keeps = [t for t in ("filter", "ifmap", "ofmap") if rng.random() < 0.6] or [rng.choice(["filter", "ifmap"])]
        if rng.random() < 0.5:
            cap = {t: 10_000 for t in keeps}
        else:
            cap = 30_000
        lv = {"name": f"L{i}", "keeps": keeps, "capacity_words": cap}
        # outputs stream through this level (drawn aside, so the other draws stay as they were)
        if "ofmap" not in keeps and random.Random(f"{n}/{i}/{keeps}/{cap}").random() < 0.5:
            lv["write_buffer"] = {"capacity_words": 10_000}
        if i == n - 1 and rng.random() < 0.5:  # the outermost level: some partitions double-buffered
            lv["double_buffered"] = ({t: rng.random() < 0.5 for t in keeps} if isinstance(cap, dict)
                                     else rng.random() < 0.5)
        if rng.random() < 0.5:
            lv["fanout"] = {"rows": rng.choice([1, 2, 3]), "cols": rng.choice([1, 2])}
            if lv["fanout"]["rows"] * lv["fanout"]["cols"] > 1:
                lv["noc"] = {t: {"type": "unicast" if t in unicast else "multicast", "bw_words": 4}
                             for t in ("filter", "ifmap", "ofmap")}
        levels.append(lv)
    return build_arch({"name": "rand", "clock_mhz": 100, "default_dataflow": "rs", "levels": levels,
                       "dram": {"bw_bytes_per_cycle": 8}}, "rand.yaml")


@pytest.mark.parametrize("seed", range(6))
def test_random_mappings_counts_equal_brute_force_walk(seed):
    """Random shapes (stride, dilation, padding, groups) and random tilings/orders/unrollings."""
    rng = random.Random(seed)
    for _ in range(20):
        nest = _random_nest(rng)
        arch = tiny_arch()
        m = _random_mapping(rng, nest, arch)
        assert access_counts(nest, arch, m).as_dict() == walk_counts(nest, arch, m), (nest, m.to_dict())
        uni = rng.choice([(), ("filter",), ("ifmap",), ("filter", "ifmap")])
        noc = {t: {"type": "unicast" if t in uni else "multicast", "bw_words": 2} for t in ("filter", "ifmap", "psum")}
        arch = tiny_arch(noc=noc)
        assert access_counts(nest, arch, m).as_dict() == walk_counts(nest, arch, m), (nest, m.to_dict(), uni)


@pytest.mark.parametrize("seed", range(8))
def test_random_hierarchies_counts_equal_brute_force_walk(seed):
    """2 to 5 levels, bypassed tensors, partitions, fan-outs at any level (also below the innermost level)."""
    rng = random.Random(100 + seed)
    for _ in range(6):
        arch = random_hierarchy(rng, rng.choice([(), ("filter",), ("ifmap",)]))
        nest = _random_nest(rng)
        m = _random_mapping(rng, nest, arch)
        got, want = access_counts(nest, arch, m).as_dict(), walk_counts(nest, arch, m)
        assert got == want, ([(lv.name, lv.keeps, lv.rows, lv.cols) for lv in arch.levels], nest, m.to_dict())


def test_oracle_sees_sliding_window_reuse():
    """A known case: 1-D conv, P=4, R=3, stride 1, P stepped at the GLB level one output at a time.

    RF ifmap tile per step = 3 words; the window slides by one, so after the first
    tile (3 fills) each of the 3 further steps fills exactly 1 new word: 6 fills.
    """
    from accelsim.workload import LoopNest

    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=1, P=4, Q=1, R=3, S=1), H=6, W=1)
    a = tiny_arch()
    m = make_mapping(slots_of(a), {"GLB": {"P": 4}, "RF": {"R": 3}}, {"GLB": ("P",)})
    c = access_counts(nest, a, m)
    assert c.levels["RF"]["ifmap"].fills == 6 == walk_counts(nest, a, m)["levels"]["RF"]["ifmap"]["fills"]
    assert c.levels["RF"]["filter"].fills == 3  # stationary: fetched once
    assert c.levels["DRAM"]["ifmap"].reads == 6  # each ifmap word from DRAM once


def test_psum_refetch_hand_count():
    """C stepped outside P at the GLB level: each psum leaves the PE and comes back once.

    Steps (c, p): (0,0) (0,1) (1,0) (1,1).  The RF holds one psum; 4 entries, 2 distinct
    elements, so 2 psums are fetched back from the GLB (GLB reads = RF fills = 2), the MAC
    reads a psum from the RF for 2 of its 4 updates, 4 drains reach the GLB as plain writes
    (the PE returns the full sum, so no read-modify-write there), and 2 finished words go to DRAM.
    """
    from accelsim.workload import LoopNest

    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=2, P=2, Q=1, R=1, S=1), H=2, W=1)
    a = tiny_arch()
    m = make_mapping(slots_of(a), {"GLB": {"C": 2, "P": 2}}, {"GLB": ("C", "P")})
    c = access_counts(nest, a, m)
    rf, glb, dram = c.levels["RF"]["ofmap"], c.levels["GLB"]["ofmap"], c.levels["DRAM"]["ofmap"]
    assert (rf.updates, rf.fills, rf.rmw_reads, rf.drains) == (4, 2, 2, 4)
    assert (glb.updates, glb.reads, glb.rmw_reads, glb.fills, glb.drains) == (4, 2, 0, 0, 2)
    assert (dram.reads, dram.updates) == (0, 2)
    assert c.as_dict() == walk_counts(nest, a, m)


# ---- imperfect factors: partial tiles --------------------------------------------------------------------------
def _random_imperfect_mapping(rng, nest, arch):
    """Random factors that need not divide (each slot a random split, the last one the ceiling), kept only
    when :meth:`Mapping.check` accepts them; random orders."""
    slots = slots_of(arch)
    while True:
        f = {s.name: {} for s in slots}
        for d in DIMS:
            n = nest.dims[d]
            order = list(slots)
            rng.shuffle(order)
            for s in order[:-1]:
                k = rng.randint(1, n)
                f[s.name][d] = k
                n = -(-n // k)
            f[order[-1].name][d] = n
        orders = {s.name: tuple(rng.sample(DIMS, len(DIMS))) for s in slots if not s.spatial}
        m = make_mapping(slots, f, orders)
        try:
            m.check(nest)
        except ValueError:
            continue
        return m


def _prime_nest(rng):
    from accelsim.workload import LoopNest

    while True:
        dims = dict(N=rng.choice([1, 2]), G=rng.choice([1, 2]), M=rng.choice([1, 3, 5]), C=rng.choice([1, 3, 5]),
                    P=rng.choice([3, 5, 7]), Q=rng.choice([1, 3, 5]), R=rng.choice([1, 2, 3]), S=rng.choice([1, 3]))
        st, dil, pad = rng.choice([1, 2]), rng.choice([1, 1, 2]), rng.choice([0, 1, 2])
        h = (dims["P"] - 1) * st + (dims["R"] - 1) * dil + 1 - 2 * pad
        w = (dims["Q"] - 1) * st + (dims["S"] - 1) * dil + 1 - 2 * pad
        if h >= 1 and w >= 1:
            return LoopNest(dims=dims, H=h, W=w, stride=(st, st), dilation=(dil, dil), padding=(pad, pad, pad, pad))


@pytest.mark.parametrize("seed", range(6))
def test_imperfect_mappings_compute_the_convolution_and_count_exactly(seed):
    """Prime dims, random imperfect factors: the nest visits every point once, and every count equals the walk."""
    rng = random.Random(500 + seed)
    partial = 0
    for _ in range(12):
        nest = _prime_nest(rng)
        arch = tiny_arch() if rng.random() < 0.5 else random_hierarchy(rng, rng.choice([(), ("ifmap",)]))
        m = _random_imperfect_mapping(rng, nest, arch)
        partial += not m.perfect(nest)
        w, x = _data(nest, seed)
        out, dup = run_nest(nest, m, w, x)
        assert dup == 0
        np.testing.assert_array_equal(out, direct_conv(nest, w, x))
        got, want = access_counts(nest, arch, m).as_dict(), walk_counts(nest, arch, m)
        assert got == want, (nest, m.to_dict())
    assert partial >= 6  # the draw really exercises partial tiles


def test_imperfect_rules():
    """A factor product below the bound, an instance that never works, or an empty temporal step: refused."""
    from accelsim.workload import LoopNest

    nest = LoopNest(dims=dict(N=1, G=1, M=1, C=1, P=55, Q=1, R=1, S=1), H=55, W=1)
    slots = slots_of(tiny_arch())
    names = [s.name for s in slots]
    ok = make_mapping(slots, {"GLB": {"P": 8}, names[2]: {"P": 7}})  # 8 strips of 7, the last of 6
    ok.check(nest)
    assert ok.partial_dims(nest) == ("P",)
    with pytest.raises(ValueError, match="less than the layer.s P = 55"):
        make_mapping(slots, {"GLB": {"P": 7}, names[2]: {"P": 7}}).check(nest)
    with pytest.raises(ValueError, match="no P index"):
        make_mapping(slots, {"GLB": {"P": 10}, names[2]: {"P": 7}}).check(nest)
    with pytest.raises(ValueError, match="last temporal step"):
        make_mapping(slots, {"GLB": {"P": 7}, "RF": {"P": 8}}).check(nest)


#: Layers with prime dims: the mapper's chosen unrolling is imperfect on a 3 x 3 or 4 x 4 array.
PRIME_LAYERS = [
    ("prime_conv", (5, 9, 9), 1, {"type": "conv2d", "out_channels": 7, "kernel": 3}),
    ("prime_fc", (11, 1, 1), 3, {"type": "fc", "out_features": 5}),
    ("prime_strided", (3, 11, 7), 1, {"type": "conv2d", "out_channels": 5, "kernel": 3, "stride": 2, "padding": 1}),
]


@pytest.mark.parametrize("df", DATAFLOWS)
def test_chosen_imperfect_mappings_compute_and_count_exactly(df):
    """Every dataflow, layers with prime dims: the chosen mappings (often with partial tiles) compute the
    convolution and their counts equal the brute-force walk; some of them are imperfect."""
    partial = 0
    for arch in (tiny_arch(pe_array={"rows": 3, "cols": 3}), tiny_arch(pe_array={"rows": 4, "cols": 4})):
        for entry in PRIME_LAYERS:
            nest = small_nest(entry)
            m = search(nest, arch, load_dataflow(df), budget=60).best.mapping
            partial += not m.perfect(nest)
            w, x = _data(nest, 3)
            out, dup = run_nest(nest, m, w, x)
            assert dup == 0
            np.testing.assert_array_equal(out, direct_conv(nest, w, x))
            assert access_counts(nest, arch, m).as_dict() == walk_counts(nest, arch, m), (entry[0], m.to_dict())
    assert partial >= 1
