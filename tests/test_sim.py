"""Event simulator: one truth about traffic, exact == steady-state reuse, closed-form timing cases."""

import json
import math
import random

import pytest

from accelsim.arch import build_arch
from accelsim.cost import access_counts, dram_bytes
from accelsim.mapping import load_dataflow, make_mapping, slots_of, stationary_order
from accelsim.mapper.search import search
from accelsim.sim import simulate
from accelsim.workload import LoopNest
from helpers import SMALL_LAYERS, TINY_ARCH, small_nest, tiny_arch
from test_mapping_oracles import (_prime_nest, _random_imperfect_mapping, _random_mapping, _random_nest,
                                  random_hierarchy)

DATAFLOWS = ["ws", "os", "is", "rs", "nlr"]


def assert_moved_matches(sim, counts):
    """Every (level, tensor, action) the simulation moved equals the cost model's count of it."""
    assert sim.moved, "the simulation moved nothing"
    for level, tensors in sim.moved.items():
        for t, actions in tensors.items():
            for action, words in actions.items():
                assert words == getattr(counts.levels[level][t], action), (level, t, action)


@pytest.mark.parametrize("df", DATAFLOWS)
@pytest.mark.parametrize("variant", ["plain", "fifo", "double"])
@pytest.mark.parametrize("entry", SMALL_LAYERS, ids=[e[0] for e in SMALL_LAYERS])
def test_moved_equals_cost_model_and_exact_equals_shortcut(entry, variant, df):
    over = {}
    if variant == "fifo":
        over["rf"] = {**TINY_ARCH["rf"], "fifo": True}
    if variant == "double":
        over["glb"] = {**TINY_ARCH["glb"], "words": 192, "double_buffered": True}
    arch = tiny_arch(**over)
    nest = small_nest(entry)
    flow = load_dataflow(df)
    ev = search(nest, arch, flow, budget=80).best
    fast = simulate(nest, arch, ev.mapping, flow.stationary)
    exact = simulate(nest, arch, ev.mapping, flow.stationary, exact=True)
    assert fast.moved == exact.moved
    assert_moved_matches(fast, ev.counts)
    assert fast.cycles == exact.cycles
    assert fast.stall_cycles == exact.stall_cycles and fast.busy_cycles == exact.busy_cycles
    for s in (fast, exact):
        assert s.compute_cycles + sum(s.stall_cycles.values()) == s.cycles
        assert s.compute_cycles == ev.mapping.temporal_steps
        assert s.cycles >= math.ceil(nest.macs / ev.mapping.active_macs)
        assert s.cycles >= dram_bytes(arch, ev.counts) / arch.dram_bw_bytes_per_cycle


@pytest.mark.parametrize("seed", range(4))
def test_moved_equals_cost_model_for_random_mappings(seed):
    rng = random.Random(100 + seed)
    arch = build_arch({**TINY_ARCH, "pe_array": {"rows": 64, "cols": 64}, "rf": {"shared": 10_000},
                       "glb": {"words": 1 << 20, "read_bw_words": 4, "write_bw_words": 4}}, "big.yaml")
    done = 0
    while done < 15:
        dims = dict(N=rng.choice([1, 2]), G=rng.choice([1, 2]), M=rng.choice([1, 2, 4]), C=rng.choice([1, 2, 3]),
                    P=rng.choice([1, 2, 4, 6]), Q=rng.choice([1, 2, 4]), R=rng.choice([1, 3]), S=rng.choice([1, 3]))
        st, pad = rng.choice([1, 2]), rng.choice([0, 1])
        h, w = (dims["P"] - 1) * st + dims["R"] - 2 * pad, (dims["Q"] - 1) * st + dims["S"] - 2 * pad
        if h < 1 or w < 1:
            continue
        nest = LoopNest(dims=dims, H=h, W=w, stride=(st, st), padding=(pad,) * 4)
        _check_fast_exact_counts(rng, nest, arch)
        done += 1


def _check_fast_exact_counts(rng, nest, arch, m=None):
    """A random mapping simulated both ways: the same moved words, equal to the counts, and the same timing."""
    m = m or _random_mapping(rng, nest, arch)
    stat = rng.choice(["filter", "ifmap", "ofmap", None])
    fast = simulate(nest, arch, m, stat)
    exact = simulate(nest, arch, m, stat, exact=True)
    assert fast.moved == exact.moved
    assert_moved_matches(fast, access_counts(nest, arch, m))
    assert (fast.cycles, fast.stall_cycles, fast.busy_cycles) == (exact.cycles, exact.stall_cycles, exact.busy_cycles)
    assert fast.compute_cycles + sum(fast.stall_cycles.values()) == fast.cycles


@pytest.mark.parametrize("seed", range(6))
def test_moved_equals_cost_model_on_random_hierarchies(seed):
    """Random 2-5 level archs (bypass, partitions, fan-outs at any level), random mappings and small nests."""
    rng = random.Random(300 + seed)
    for _ in range(4):
        arch = random_hierarchy(rng, unicast=rng.choice([(), ("ifmap",), ("filter", "ofmap")]))
        for _ in range(3):
            _check_fast_exact_counts(rng, _random_nest(rng), arch)


@pytest.mark.parametrize("seed", range(4))
def test_partial_tiles_moved_equals_cost_model(seed):
    """Imperfect factors (prime dims): the simulator moves exactly the counted words, both modes agree, and
    compute cycles stay the product of the temporal factors (no temporal step is empty)."""
    rng = random.Random(700 + seed)
    for _ in range(6):
        arch = random_hierarchy(rng, unicast=rng.choice([(), ("ifmap",)])) if rng.random() < 0.6 else tiny_arch()
        nest = _prime_nest(rng)
        m = _random_imperfect_mapping(rng, nest, arch)
        _check_fast_exact_counts(rng, nest, arch, m)
        assert simulate(nest, arch, m).compute_cycles == m.temporal_steps


# ---------------------------------------------------------------- closed-form cases

NEST = LoopNest(dims=dict(N=1, G=1, M=8, C=8, P=8, Q=8, R=3, S=3), H=8, W=8, padding=(1, 1, 1, 1))


def _arch(dram_bw, glb_double=False, fifo=True, noc_bw=1 << 16):
    return build_arch({
        "name": "closed", "clock_mhz": 100, "default_dataflow": "ws", "word_bits": 16,
        "pe_array": {"rows": 4, "cols": 4},
        "rf": {"shared": 4096, "fifo": fifo},
        "glb": {"words": 1 << 20, "read_bw_words": noc_bw, "write_bw_words": noc_bw, "double_buffered": glb_double},
        "noc": {t: {"bw_words": noc_bw} for t in ("filter", "ifmap", "psum")},
        "dram": {"bw_bytes_per_cycle": dram_bw},
    }, "closed.yaml")


def _mapping(dram_p=1):
    return make_mapping(slots_of(_arch(16)), {"GLB.rows": {"C": 4}, "GLB.cols": {"M": 4}, "RF": {"R": 3, "S": 3},
                                              "GLB": {"C": 2, "M": 2, "P": 8 // dram_p, "Q": 8}, "DRAM": {"P": dram_p}},
                        {"GLB": stationary_order("filter"), "DRAM": ("P",)})


def test_compute_bound_layer_is_compute_plus_fill_and_drain():
    arch, m = _arch(16), _mapping()
    sim = simulate(NEST, arch, m, "filter")
    compute = 2 * 2 * 8 * 8 * 3 * 3  # temporal steps: C2 M2 P8 Q8 R3 S3
    fill = math.ceil((8 * 8 * 9 + 8 * 8 * 8) * 2 / 16)  # whole filter + ifmap, 16-bit words, 16 B/cycle
    drain = math.ceil(8 * 8 * 8 * 2 / 16)  # whole ofmap
    assert sim.compute_cycles == compute
    assert sim.stall_cycles["fill"] == fill and sim.stall_cycles["drain"] == drain
    # the pass pipeline adds one cycle to deliver the first operands and one to collect the last psums
    assert sim.stall_cycles["noc"] + sim.stall_cycles["glb"] == 2
    assert sim.cycles == compute + fill + drain + 2


def test_dram_fills_and_drains_take_glb_port_time():
    """A GLB port narrower than DRAM sets the tile transfers: the first load takes its words over the write
    port (2 words/cycle against DRAM's 64 B = 32 words), the last drain its words over the read port; both
    modes agree."""
    arch = build_arch({
        "name": "narrow", "clock_mhz": 100, "default_dataflow": "ws", "word_bits": 16,
        "pe_array": {"rows": 4, "cols": 4}, "rf": {"shared": 4096, "fifo": True},
        "glb": {"words": 1 << 20, "read_bw_words": 2, "write_bw_words": 2},
        "noc": {t: {"bw_words": 1 << 16} for t in ("filter", "ifmap", "psum")},
        "dram": {"bw_bytes_per_cycle": 64},
    }, "narrow.yaml")
    m = _mapping()
    fast, exact = simulate(NEST, arch, m, "filter"), simulate(NEST, arch, m, "filter", exact=True)
    assert fast.cycles == exact.cycles and fast.stall_cycles == exact.stall_cycles
    assert fast.stall_cycles["fill"] == math.ceil((8 * 8 * 9 + 8 * 8 * 8) / 2)  # words over the write port
    assert fast.stall_cycles["drain"] == math.ceil(8 * 8 * 8 / 2)  # words over the read port
    wide = simulate(NEST, _arch(64), m, "filter")
    assert wide.stall_cycles["fill"] == math.ceil((8 * 8 * 9 + 8 * 8 * 8) * 2 / 64)  # DRAM-bound then


def test_dram_bound_layer_takes_traffic_over_bandwidth_within_one_tile():
    arch, m = _arch(0.25, glb_double=True), _mapping(dram_p=8)
    sim = simulate(NEST, arch, m, "filter")
    traffic = dram_bytes(arch, access_counts(NEST, arch, m)) / arch.dram_bw_bytes_per_cycle
    tile_compute = m.temporal_steps // 8
    assert sim.stall_cycles["dram"] + sim.stall_cycles["fill"] > sim.compute_cycles  # DRAM-bound
    assert traffic <= sim.cycles <= traffic + tile_compute + 2


def test_halving_dram_bandwidth_doubles_a_dram_bound_layer():
    m = _mapping(dram_p=8)
    a = simulate(NEST, _arch(0.5, glb_double=True), m, "filter").cycles
    b = simulate(NEST, _arch(0.25, glb_double=True), m, "filter").cycles
    assert abs(b / a - 2) <= 0.05 * 2


def test_double_buffering_hides_transfers_only_when_compute_dominates():
    m = _mapping(dram_p=8)
    single = simulate(NEST, _arch(8, glb_double=False), m, "filter")
    double = simulate(NEST, _arch(8, glb_double=True), m, "filter")
    assert single.stall_cycles["dram"] > 0
    assert double.stall_cycles["dram"] == 0  # every later tile was loaded during the previous one's compute
    assert double.cycles < single.cycles
    slow_single = simulate(NEST, _arch(0.25, glb_double=False), m, "filter")
    slow_double = simulate(NEST, _arch(0.25, glb_double=True), m, "filter")
    traffic = dram_bytes(_arch(0.25), access_counts(NEST, _arch(0.25), m)) / 0.25
    assert slow_double.stall_cycles["dram"] > 0  # transfers outlast compute: nothing to hide them behind
    assert slow_double.cycles >= traffic and slow_single.cycles >= traffic
    # overlap can only save the array's own time (compute and its pass pipeline), which the transfers now cover
    d = slow_double
    assert slow_single.cycles - d.cycles <= d.compute_cycles + d.stall_cycles["noc"] + d.stall_cycles["glb"]


def test_rf_fifo_overlaps_operand_delivery_with_compute():
    m = _mapping()
    narrow = dict(noc_bw=1)
    plain = simulate(NEST, _arch(16, fifo=False, **narrow), m, "filter")
    fifo = simulate(NEST, _arch(16, fifo=True, **narrow), m, "filter")
    assert fifo.cycles < plain.cycles
    assert plain.compute_cycles == fifo.compute_cycles


def test_trace_spans_are_consistent_with_cycles(tmp_path):
    from typer.testing import CliRunner

    from accelsim.cli import app

    r = CliRunner().invoke(app, ["run", "eyeriss.yaml", "mobilenet.yaml", "--layers", "conv1,conv2_dw",
                                 "--budget", "60", "--out", str(tmp_path / "o"), "--trace", str(tmp_path / "t"),
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "o" / "report.json").read_text())
    files = sorted((tmp_path / "t").glob("*.trace.json"))
    assert [f.name for f in files] == ["001_conv1.trace.json", "002_conv2_dw.trace.json"]
    for f, layer in zip(files, rep["layers"]):
        doc = json.loads(f.read_text())
        spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
        assert spans and doc["otherData"]["cycles"] == layer["cycles"]
        assert max(e["ts"] + e["dur"] for e in spans) == layer["cycles"]
        assert min(e["ts"] for e in spans) >= 0
        pe = sum(e["dur"] for e in spans if e["cat"] == "PE array")
        assert pe == layer["compute_cycles"]
        dram = sum(e["dur"] for e in spans if e["cat"] == "DRAM")
        assert dram == layer["busy_cycles_by_resource"]["dram"]


def _tracks(spans):
    from collections import defaultdict

    out = defaultdict(list)
    for track, name, start, dur in spans:
        out[track].append((start, dur, name))
    return {k: sorted(v) for k, v in out.items()}


@pytest.mark.parametrize("exact", [False, True])
def test_trace_tracks_never_overlap_and_end_at_cycles(exact):
    arch, m = _arch(2, glb_double=True, noc_bw=2), _mapping(dram_p=4)
    sim = simulate(NEST, arch, m, "filter", exact=exact, trace=True)
    assert max(s + d for _, _, s, d in sim.trace) == sim.cycles
    for track, spans in _tracks(sim.trace).items():
        for (s0, d0, _), (s1, _, _) in zip(spans, spans[1:]):
            assert s0 + d0 <= s1, track
    for r, busy in sim.busy_cycles.items():
        assert busy <= sim.cycles, r


def test_operands_run_at_most_one_pass_ahead():
    """Two operand buffers: pass p's operands cannot arrive before pass p-2 has finished computing."""
    arch, m = _arch(1 << 10, noc_bw=64), _mapping()
    sim = simulate(NEST, arch, m, "filter", exact=True, trace=True)
    tr = _tracks(sim.trace)
    compute_end = {name.split()[1]: s + d for s, d, name in tr["PE array"]}
    for s, d, name in tr["NoC in"]:
        p = int(name.split()[1])
        if p >= 2:
            assert s >= compute_end[str(p - 2)]


@pytest.mark.parametrize("order, folds", [(("M", "P"), 2), (("P", "M"), 4)])
def test_systolic_fold_starts_whenever_the_stationary_tile_moves(order, folds):
    """WS on 4x4: M steps move the weights; with M innermost every pass is its own fold."""
    from accelsim.sim import fold_cycles
    from test_systolic import systolic_arch

    nest = LoopNest(dims=dict(N=1, G=1, M=8, C=4, P=2, Q=1, R=1, S=1), H=2, W=1)
    arch = systolic_arch(4, 4)
    m = make_mapping(slots_of(arch), {"GLB.rows": {"C": 4}, "GLB.cols": {"M": 4}, "GLB": {"M": 2, "P": 2}},
                     {"GLB": order})
    sim = simulate(nest, arch, m, "filter")
    t = 4 // folds
    assert sim.compute_cycles + sim.stall_cycles["pipeline"] == folds * fold_cycles(4, 4, t, "filter")


def test_glb_banks_turn_unbalanced_reads_into_bank_conflicts():
    """One pooled port vs banks split by tile size: reads of one tensor get only its banks' bandwidth."""
    from accelsim.sim.ports import Ports

    m = _mapping()

    def arch(banks):  # a narrow GLB read port, everything else wide
        return build_arch({
            "name": "banks", "clock_mhz": 100, "default_dataflow": "ws", "word_bits": 16,
            "pe_array": {"rows": 4, "cols": 4}, "rf": {"shared": 4096, "fifo": True},
            "glb": {"words": 1 << 20, "banks": banks, "read_bw_words": 3, "write_bw_words": 1 << 10},
            "noc": {t: {"bw_words": 1 << 10} for t in ("filter", "ifmap", "psum")},
            "dram": {"bw_bytes_per_cycle": 1 << 10},
        }, "banks.yaml")

    def read_groups(banks):  # GLB read port group and bandwidth per tensor
        return {t: g[:2] for (lv, t, side), g in Ports(NEST, arch(banks), m).groups.items() if lv == 1 and side == "read"}

    split = read_groups(9)
    assert len({k for k, _ in split.values()}) == 3  # every tensor reads only its own banks
    bws = [bw for _, bw in split.values()]
    assert abs(sum(bws) - 3) < 1e-12 and min(bws) >= 3 / 9
    assert len({k for k, _ in read_groups(2).values()}) == 1  # fewer banks than tensors: pooled
    pooled = simulate(NEST, arch(1), m, "filter")
    banked = simulate(NEST, arch(9), m, "filter")
    banked_reads = [v for r, v in banked.busy_cycles.items() if r.startswith("GLB_") and r.endswith("_read")]
    assert "GLB_read" not in banked.busy_cycles and len(banked_reads) == 3
    assert max(banked_reads) > pooled.busy_cycles["GLB_read"]
    assert banked.cycles >= pooled.cycles
    assert banked.moved == pooled.moved  # banks change timing, never traffic
