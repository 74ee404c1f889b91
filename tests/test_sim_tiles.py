"""Tile level: the fast walk (recurrence over the DRAM loop hierarchy) equals exact simpy tiles."""

import random
from collections import Counter

import pytest
import simpy

import accelsim.sim.passes
import accelsim.sim.tiles
import accelsim.sim.tiles_exact
from accelsim.arch import build_arch
from accelsim.mapping import make_mapping, slots_of
from accelsim.sim import simulate
from accelsim.sim.tiles import TileCost, tile_counts, tile_kinds, walk_tiles
from accelsim.sim.tiles_exact import Channel, run_exact
from accelsim.workload import LoopNest


def _random_loops(rng, max_loops=5):
    n = rng.randint(0, max_loops)
    return [rng.choice([2, 2, 3, 4, 7]) for _ in range(n)], [rng.random() < 0.4 for _ in range(n)]


@pytest.mark.parametrize("seed", range(20))
def test_tile_counts_from_the_hierarchy_equal_the_flat_odometer(seed):
    factors, irr = _random_loops(random.Random(seed), 6)
    flat = Counter(tile_kinds(factors, irr))
    assert tile_counts(factors, irr) == dict(flat)
    n = 1
    for f in factors:
        n *= f
    assert sum(flat.values()) == n


def _synthetic(factors, irr, double, seed, prefetch=False):
    """Random cycles per tile kind (zeros included, so ties and zero-byte transfers happen).

    ``prefetch``: single-buffered tiles that also prefetch part of the next tile while they compute.
    """
    rng = random.Random(seed)
    costs = {}

    def cost(kind):
        if kind not in costs:
            pre = rng.choice([0, 1, 6, 45]) if prefetch and kind[2] is not None else 0
            array = rng.choice([0, 1, 3, 30])
            stream = rng.choice([0, 0, 1, array])  # a stream is part of the array time
            costs[kind] = TileCost(rng.choice([0, 1, 5, 40]), array, rng.choice([0, 2, 7, 50]),
                                   prefetch=pre, stream=stream)
        return costs[kind]

    fast = walk_tiles(factors, irr, double, cost)

    def run_array(env, kind):
        yield env.timeout(cost(kind).array)

    exact = run_exact(factors, irr, double, lambda k: (cost(k).load, cost(k).drain, cost(k).prefetch, cost(k).stream),
                      run_array)
    busy = sum(n * (cost(k).load + cost(k).drain + cost(k).prefetch + cost(k).stream) for k, n in fast.counts.items())
    return fast, exact, busy


@pytest.mark.parametrize("seed", range(25))
def test_walk_equals_exact_tiles_with_prefetch_of_double_buffered_partitions(seed):
    rng = random.Random(3000 + seed)
    factors, irr = _random_loops(rng)
    fast, exact, busy = _synthetic(factors, irr, False, seed, prefetch=True)
    assert (fast.end, fast.array_end, fast.stalls, fast.counts) == \
        (exact.end, exact.array_end, exact.stalls, exact.counts)
    assert exact.dram_busy == busy


def test_prefetch_hand_count():
    """Three tiles, load 10 (tile 0: everything), array 20, drain 5, prefetch 8 (next tile's filters).

    t0: load 0-10, array 10-30, prefetch 10-18 | D0 30-35, L1 35-45 | array 45-65, prefetch 45-53 |
    D1 65-70, L2 70-80 | array 80-100 (no prefetch: last tile) | D2 100-105.
    """
    def cost(kind):
        return TileCost(10, 20, 5, prefetch=8 if kind[2] is not None else 0)

    fast = walk_tiles([3], [False], False, cost)
    assert (fast.end, fast.array_end) == (105, 100)
    assert fast.stalls == {"fill": 10, "dram": 30, "drain": 5}


@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("seed", range(25))
def test_walk_equals_exact_tiles_on_random_loop_nests(seed, double):
    rng = random.Random(1000 + seed)
    factors, irr = _random_loops(rng)
    fast, exact, busy = _synthetic(factors, irr, double, seed)
    assert (fast.end, fast.array_end, fast.stalls, fast.counts) == \
        (exact.end, exact.array_end, exact.stalls, exact.counts)
    assert exact.dram_busy == busy


@pytest.mark.parametrize("double", [False, True])
def test_walk_equals_exact_tiles_on_thousands_of_alike_tiles(double):
    for seed, factors, irr in [(1, [3001], [False]), (2, [2, 1500], [True, False]), (3, [7, 3, 97], [False, True, False])]:
        fast, exact, _ = _synthetic(factors, irr, double, seed)
        assert (fast.end, fast.stalls, fast.counts) == (exact.end, exact.stalls, exact.counts)
        assert fast.events < 60  # the walk does not step through the tiles


def test_channel_grants_the_earliest_request_and_a_load_before_a_drain_of_the_same_cycle():
    env = simpy.Environment()
    chan = Channel(env)
    order = []

    def user(name, drain, at, hold):
        yield env.timeout(at)
        yield chan.request(drain)
        order.append((name, env.now))
        yield env.timeout(hold)
        chan.release()

    env.process(user("drain@0", True, 0, 10))  # gets the free channel
    env.process(user("drain@3", True, 3, 5))  # waits from cycle 3
    env.process(user("load@5", False, 5, 5))  # later request: after drain@3
    env.process(user("drain@20", True, 20, 1))  # same cycle: the drain asks first ...
    env.process(user("load@20", False, 20, 1))  # ... but the load goes first
    env.run()
    assert order == [("drain@0", 0), ("drain@3", 10), ("load@5", 15), ("load@20", 20), ("drain@20", 21)]


# ---------------------------------------------------------------- whole layers, default vs exact


def _arch(dram_bw, double, latency, fifo=True):
    return build_arch({
        "name": "tiles", "clock_mhz": 100, "default_dataflow": "ws", "word_bits": 16,
        "pe_array": {"rows": 4, "cols": 4},
        "rf": {"shared": 4096, "fifo": fifo},
        "glb": {"words": 1 << 20, "read_bw_words": 4, "write_bw_words": 4, "double_buffered": double},
        "noc": {t: {"bw_words": 2} for t in ("filter", "ifmap", "psum")},
        "dram": {"bw_bytes_per_cycle": dram_bw, "latency_cycles": latency},
    }, "tiles.yaml")


def _fc(m_out):
    nest = LoopNest(dims=dict(N=1, G=1, M=m_out, C=8, P=1, Q=1, R=1, S=1), H=1, W=1)
    m = make_mapping(slots_of(_arch(1, False, 0)), {"GLB.rows": {"C": 4}, "RF": {"C": 2}, "DRAM": {"M": m_out}},
                     {"DRAM": ("M",)})
    return nest, m


CONV = LoopNest(dims=dict(N=1, G=1, M=8, C=8, P=16, Q=16, R=3, S=3), H=16, W=16, padding=(1, 1, 1, 1))


def _conv(order):
    return make_mapping(slots_of(_arch(1, False, 0)),
                        {"GLB.rows": {"C": 2}, "GLB.cols": {"M": 2}, "RF": {"R": 3, "S": 3}, "GLB": {"Q": 2, "M": 2},
                         "DRAM": {"P": 16, "Q": 8, "M": 2, "C": 4}}, {"DRAM": order, "GLB": ("M", "Q")})


def _same(a, b):
    assert a.cycles == b.cycles
    assert a.stall_cycles == b.stall_cycles and a.busy_cycles == b.busy_cycles
    assert a.compute_cycles == b.compute_cycles and a.moved == b.moved
    assert (a.tiles, a.passes) == (b.tiles, b.passes)


@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("dram_bw, latency", [(0.25, 0), (16, 0), (2, 30)])
@pytest.mark.parametrize("case", ["fc2003", "conv_c_outer", "conv_c_inner"])
def test_many_tiles_default_equals_exact(case, dram_bw, latency, double):
    if case == "fc2003":
        nest, m = _fc(2003)
    else:
        nest, m = CONV, _conv(("C", "P", "Q", "M") if case == "conv_c_outer" else ("P", "M", "Q", "C"))
    arch = _arch(dram_bw, double, latency)
    fast = simulate(nest, arch, m, "filter")
    exact = simulate(nest, arch, m, "filter", exact=True)
    assert fast.tiles >= 1000
    _same(fast, exact)
    assert fast.compute_cycles + sum(fast.stall_cycles.values()) == fast.cycles


@pytest.mark.parametrize("double", [False, True])
def test_default_events_do_not_grow_with_alike_tiles(double):
    arch = _arch(2, double, 5)
    (n1, m1), (n2, m2) = _fc(1009), _fc(10009)
    small = simulate(n1, arch, m1, "filter")
    big = simulate(n2, arch, m2, "filter")
    assert big.tiles == 10 * small.tiles - 81
    assert abs(big.events - small.events) <= 2
    assert big.cycles > 9 * small.cycles


def test_trace_is_capped_and_keeps_the_cycles(monkeypatch):
    nest, m = _fc(3001)
    arch = _arch(2, True, 5)
    plain = simulate(nest, arch, m, "filter")
    for mod in (accelsim.sim.tiles, accelsim.sim.tiles_exact, accelsim.sim.passes):
        monkeypatch.setattr(mod, "MAX_SPANS", 1000)
    for exact in (False, True):
        traced = simulate(nest, arch, m, "filter", exact=exact, trace=True)
        _same(plain, traced)
        assert len(traced.trace) == 1000
        assert min(s for _, _, s, _ in traced.trace) == 0
        assert {tr for tr, _, _, _ in traced.trace} >= {"DRAM", "GLB tiles", "PE array"}
