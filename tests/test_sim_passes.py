"""Pass level: the hierarchical walk over the GLB loops equals the flat pass-by-pass recurrences and exact mode."""

import random
import time
from collections import Counter

import pytest
import yaml

import accelsim.sim.passes
import accelsim.sim.tiles
from accelsim.arch import build_arch
from accelsim.cost import access_counts
from accelsim.files import resolve
from accelsim.mapping import make_mapping, slots_of
from accelsim.sim import fold_cycles, simulate
from accelsim.sim.passwalk import PassRecord, PassTree, PipelinedWalk, SequentialWalk, SystolicWalk
from accelsim.sim.schedule import odometer
from accelsim.workload import LoopNest
from test_sim import assert_moved_matches

# ---------------------------------------------------------------- synthetic records, flat references


def _flat(factors, nd, irr, record, k0, seen0, outer, nxt_tile):
    """Every pass's record, in order, from the odometer (the definition the walk must follow)."""
    steps = []
    for i, vals in odometer(factors):
        if i is None:
            steps.append((k0, seen0))
        else:
            j = nd + i
            steps.append((j, irr[j] or outer or any(irr[nd + l] and vals[l] > 0 for l in range(i))))
    return [record(j, seen, steps[r + 1][0] if r + 1 < len(steps) else nxt_tile) for r, (j, seen) in enumerate(steps)]


def _add(st, c, v):
    if v:
        st[c] = st.get(c, 0) + v


def _ref_sequential(recs):
    t, st = 0, {}
    for _, _, dv, dc, cp, dr, cc, _ in recs:
        t += dv + cp + dr
        _add(st, dc, dv)
        _add(st, cc, dr)
    return t, st


def _ref_pipelined(recs):
    fe1 = ce1 = ce2 = de1 = de2 = 0
    st, causes = {}, []
    for p, (_, _, dv, dc, cp, dr, cc, _) in enumerate(recs):
        fe = max(fe1, ce2) + dv
        cs = max(ce1, fe, de2)
        ce = cs + cp
        de = max(de1, ce) + dr
        _add(st, dc, max(0, fe - ce1))
        _add(st, causes[p - 2] if p >= 2 else cc, cs - max(ce1, fe))
        fe1, ce2, ce1, de2, de1 = fe, ce1, ce, de1, de
        causes.append(cc)
    _add(st, causes[-1], de1 - ce1)
    return de1, st


def _ref_systolic(recs, fold_start, rows, cols, stationary):
    folds = []
    for i, (j, _, dv, dc, cp, dr, cc, _) in enumerate(recs):
        if i == 0 or j is None or fold_start[j]:
            folds.append([0, 0, 0, dc, cc])
        folds[-1][0] += cp
        folds[-1][1] += dv
        folds[-1][2] += dr
    t, st = 0, {}
    for T, dv, dr, dc, cc in folds:
        base = fold_cycles(rows, cols, T, stationary)
        dur = max(base, dv, dr)
        _add(st, "pipeline", base - T)
        if dur > base:
            _add(st, dc if dv >= dr else cc, dur - base)
        t += dur
    return t, st


def _synthetic(rng, big):
    nd, m = rng.randint(0, 2), rng.randint(0, 4)
    factors = [rng.choice([1, 2, 3, 5, big]) for _ in range(m)]
    irr = [rng.random() < 0.4 for _ in range(nd + m)]
    cp, vals, cache = rng.choice([1, 3, 10]), [0, 1, 2, 3, 7, 10, 11, 50], {}

    def record(j, seen, nxt):  # random cycles per (type, seen, next type); ties and zeros included
        if (j, seen, nxt) not in cache:
            cache[j, seen, nxt] = PassRecord(j, seen, rng.choice(vals), rng.choice("ab"), cp, rng.choice(vals),
                                             rng.choice("cd"), ())
        return cache[j, seen, nxt]

    k0 = rng.choice([None] + list(range(nd)))
    seen0 = k0 is not None and rng.random() < 0.5
    outer = k0 is not None and rng.random() < 0.5
    return nd, factors, irr, record, (k0, seen0, outer, rng.choice([None] + list(range(nd))))


@pytest.mark.parametrize("seed", range(40))
def test_walk_equals_the_flat_recurrences_on_random_loop_hierarchies(seed):
    rng = random.Random(seed)
    for _ in range(10):
        nd, factors, irr, record, kind = _synthetic(rng, rng.choice([13, 40]))
        recs = _flat(factors, nd, irr, record, *kind)
        tree = PassTree(factors, nd, irr, record)
        assert tree.counts(0, *kind) == dict(Counter(recs))
        jstar = rng.randint(-1, nd + len(factors) - 1)  # innermost loop indexing the stationary tensor
        fold_start = [j <= jstar for j in range(nd + len(factors))]
        rows, cols, stationary = rng.choice([1, 4]), rng.choice([1, 8]), rng.choice(["filter", "ofmap"])
        folds = sum(fold_start[nd:])  # a fold is a block of the GLB loops inside the last of them
        for make, ref in [(lambda sp, cap: SequentialWalk(tree, {}, sp, cap), _ref_sequential(recs)),
                          (lambda sp, cap: PipelinedWalk(tree, {}, sp, cap), _ref_pipelined(recs)),
                          (lambda sp, cap: SystolicWalk(tree, {}, sp, cap, folds, rows, cols, stationary),
                           _ref_systolic(recs, fold_start, rows, cols, stationary))]:
            spans = [] if rng.random() < 0.3 else None
            w = make(spans, rng.choice([7, 10_000]))
            dur = w.run(*kind)
            assert (dur, {c: v for c, v in w.stalls.items() if v}) == ref
            assert w.p == len(recs)


def test_memo_is_shared_by_tile_kinds():
    rng = random.Random(5)
    for _ in range(30):
        nd, factors, irr, record, _ = _synthetic(rng, 13)
        nd, irr = nd + 1, [False] + irr
        tree, memos = PassTree(factors, nd, irr, record), {}
        for _ in range(6):
            kind = (rng.choice([None, 0]), rng.random() < 0.5, rng.random() < 0.5, rng.choice([None, 0]))
            recs = _flat(factors, nd, irr, record, *kind)
            for walk, ref in ((SequentialWalk, _ref_sequential), (PipelinedWalk, _ref_pipelined)):
                w = walk(tree, memos.setdefault(walk, {}), None, 0)
                assert (w.run(*kind), {c: v for c, v in w.stalls.items() if v}) == ref(recs)


# ---------------------------------------------------------------- whole layers: many passes per tile

CONV = LoopNest(dims=dict(N=1, G=1, M=8, C=8, P=16, Q=16, R=3, S=3), H=16, W=16, padding=(1, 1, 1, 1))


def _arch(mode, double=False, noc_bw=2, glb_bw=4, latency=0, dram_bw=4, psum_bw=None):
    rf = {"shared": 4096, "fifo": mode == "fifo", "double_buffered": mode == "rf_double"}
    kind = "systolic" if mode == "systolic" else "multicast"
    return build_arch({
        "name": mode, "clock_mhz": 100, "default_dataflow": "ws", "word_bits": {"filter": 8, "ifmap": 8, "ofmap": 16},
        "pe_array": {"rows": 4, "cols": 4}, "rf": rf,
        "glb": {"words": 1 << 20, "read_bw_words": glb_bw, "write_bw_words": glb_bw, "double_buffered": double},
        "noc": {t: {"type": kind, "bw_words": psum_bw if t == "psum" and psum_bw else noc_bw}
                for t in ("filter", "ifmap", "psum")},
        "dram": {"bw_bytes_per_cycle": dram_bw, "latency_cycles": latency},
    }, f"{mode}.yaml")


def _conv(glb_order, dram=None):
    glb = {"M": 4, "C": 4, "P": 16, "Q": 16}
    for d, f in (dram or {}).items():
        glb[d] //= f
    return make_mapping(slots_of(_arch("plain")),
                        {"GLB.rows": {"C": 2}, "GLB.cols": {"M": 2}, "RF": {"R": 3, "S": 3}, "GLB": glb, "DRAM": dram or {}},
                        {"GLB": glb_order, "DRAM": tuple(dram or ())})


def _same(a, b):
    assert a.cycles == b.cycles
    assert a.stall_cycles == b.stall_cycles and a.busy_cycles == b.busy_cycles
    assert a.compute_cycles == b.compute_cycles and a.moved == b.moved
    assert (a.tiles, a.passes) == (b.tiles, b.passes)


MODES = ["fifo", "rf_double", "plain", "systolic"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stationary", ["filter", "ofmap", None])
@pytest.mark.parametrize("order, dram", [(("M", "C", "P", "Q"), None), (("P", "Q", "M", "C"), None),
                                         (("C", "Q", "M", "P"), {"P": 2, "C": 2})])
def test_many_passes_default_equals_exact(mode, stationary, order, dram):
    """Thousands of passes per tile, four nested GLB loops, psums revisited by C, each timing mode.

    The second arch mixes causes and bounds: psum refetches are limited by a narrow psum link
    ("noc"), other deliveries by the GLB read port ("glb"); drains (10 cycles, 0 for passes that
    leave no psums) outlast the 9-cycle compute.
    """
    m = _conv(order, dram)
    narrow = _arch(mode, double=True, noc_bw=8, psum_bw=0.2, glb_bw=3, latency=9, dram_bw=1)
    for arch in (_arch(mode, noc_bw=1), narrow):
        fast = simulate(CONV, arch, m, stationary)
        exact = simulate(CONV, arch, m, stationary, exact=True)
        assert fast.passes // fast.tiles >= 1024
        _same(fast, exact)
        assert_moved_matches(fast, access_counts(CONV, arch, m))
        assert fast.compute_cycles + sum(fast.stall_cycles.values()) == fast.cycles
        assert fast.events < 200
        if mode in ("fifo", "rf_double"):
            assert exact.events > fast.passes  # the reference did simulate every pass


@pytest.mark.parametrize("mode", MODES)
def test_default_events_do_not_grow_with_alike_passes(mode):
    def layer(q):
        nest = LoopNest(dims=dict(N=1, G=1, M=8, C=8, P=4, Q=q, R=3, S=1), H=4, W=q, padding=(1, 1, 0, 0))
        m = make_mapping(slots_of(_arch("plain")),
                         {"GLB.rows": {"C": 2}, "GLB.cols": {"M": 2}, "RF": {"R": 3}, "GLB": {"M": 4, "C": 4, "P": 4, "Q": q}},
                         {"GLB": ("M", "P", "C", "Q")})
        return nest, m

    arch = _arch(mode)
    small, big = (simulate(nest, arch, m, "ofmap") for nest, m in (layer(101), layer(1010)))
    assert big.passes == 10 * small.passes
    assert abs(big.events - small.events) <= 3
    assert big.cycles > 9 * small.cycles


def test_pass_trace_is_capped_and_keeps_the_cycles(monkeypatch):
    """Spans for every pass while below the cap, then the fast walk; the first spans equal exact mode's."""
    arch, m = _arch("fifo"), _conv(("M", "C", "P", "Q"))
    plain = simulate(CONV, arch, m, "filter")
    full = simulate(CONV, arch, m, "filter", trace=True)
    exact = simulate(CONV, arch, m, "filter", exact=True, trace=True)
    _same(plain, full)
    assert sorted(full.trace) == sorted(exact.trace)
    assert sum(d for tr, _, _, d in full.trace if tr == "PE array") == plain.compute_cycles
    for mod in (accelsim.sim.tiles, accelsim.sim.passes):
        monkeypatch.setattr(mod, "MAX_SPANS", 1000)
    capped = simulate(CONV, arch, m, "filter", trace=True)
    _same(plain, capped)
    assert len(capped.trace) == 1000
    assert set(capped.trace) <= set(full.trace)


def test_billions_of_passes_in_one_tile_are_simulated_in_bounded_time():
    """Every dim 360 on an Eyeriss with a 2**40-word GLB, WS: one GLB tile of 3.5e9 passes."""
    a = yaml.safe_load(resolve("eyeriss.yaml", "arch").text)
    glb = next(lv for lv in a["levels"] if lv["name"] == "GLB")
    glb["capacity_words"] = {k: 2**40 for k in glb["capacity_words"]}
    arch = build_arch(a, "huge_glb.yaml")
    nest = LoopNest(dims=dict(N=360, G=1, M=360, C=360, P=360, Q=360, R=1, S=1), H=360, W=360)
    m = make_mapping(slots_of(arch), {"GLB.rows": {"C": 12}, "GLB.cols": {"M": 12}, "spad": {"Q": 12},
                                      "GLB": {"N": 360, "M": 30, "C": 30, "P": 360, "Q": 30}}, {"GLB": ("M", "C", "N", "P", "Q")})
    t0 = time.perf_counter()
    sim = simulate(nest, arch, m, "filter")
    assert time.perf_counter() - t0 < 2
    assert (sim.tiles, sim.passes) == (1, 3_499_200_000)
    assert sim.events < 1000
    assert sim.compute_cycles == m.temporal_steps
    assert sim.compute_cycles + sum(sim.stall_cycles.values()) == sim.cycles
    assert_moved_matches(sim, access_counts(nest, arch, m))
