"""Actual sparse evaluation: the real non-zeros distributed to the MAC units as the mapping does.

Oracles: a literal walk of every iteration point of the mapped loop nest (each dim's index rebuilt
from its slots' digits, outermost first), the direct count of non-zero pairs, and the queue model's
limits (depth 0 = the slowest unit of every pass; a deep queue = the busiest unit's total).
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from accelsim.arch import build_arch
from accelsim.mapping import load_dataflow
from accelsim.mapper.search import search
from accelsim.sim import simulate
from accelsim.sim.actual import nonzero_pairs, queue_cycles, work_matrix
from accelsim.sim.schedule import build_schedule
from accelsim.workload import DIMS, LoopNest
from accelsim.workload.density import DrawDensitySpec, draw_tensor, tensor_shapes
from test_mapping_oracles import _prime_nest, _random_imperfect_mapping, random_hierarchy


def _masks(nest, seed, df=0.5, di=0.6):
    sh = tensor_shapes(nest)
    return {"filter": draw_tensor(DrawDensitySpec(draw="uniform", density=df, seed=seed), sh["filter"]),
            "ifmap": draw_tensor(DrawDensitySpec(draw="per_channel", density=di, seed=seed + 1), sh["ifmap"])}


def _walk(nest, m, masks, pass_inner):
    """Work per (pass digits, unit digits) by visiting every digit tuple of every slot literally."""
    slots = list(m.slots)
    per_dim = {d: [(s, m.factors[s.name][d]) for s in slots if m.factors[s.name][d] > 1] for d in DIMS}
    digit_list = [(d, s, f) for d in DIMS for s, f in per_dim[d]]
    w = masks["filter"].reshape(nest.dims["G"], nest.dims["M"], nest.dims["C"], nest.dims["R"], nest.dims["S"])
    x = masks["ifmap"]
    out = {}
    for values in itertools.product(*[range(f) for _, _, f in digit_list]):
        idx = {d: 0 for d in DIMS}
        for (d, s, f), v in zip(digit_list, values):
            idx[d] = idx[d] * f + v  # outermost slot first (mixed radix)
        if any(idx[d] >= nest.dims[d] for d in DIMS):
            continue
        c = nest.project("ifmap", idx)
        if c is None or not x[c] or not w[idx["G"], idx["M"], idx["C"], idx["R"], idx["S"]]:
            continue
        key_p = tuple(v for (d, s, f), v in zip(digit_list, values) if not s.spatial and s.level > pass_inner)
        key_u = tuple(v for (d, s, f), v in zip(digit_list, values) if s.spatial)
        out[(key_p, key_u)] = out.get((key_p, key_u), 0) + 1
    return out, digit_list


@pytest.mark.parametrize("seed", range(6))
def test_work_per_pass_and_unit_equals_a_literal_walk(seed):
    """Random prime-dim layers (stride, dilation, padding, groups), random imperfect mappings on random
    hierarchies: every (pass, unit) cell of the work matrix equals the literal count."""
    rng = random.Random(900 + seed)
    for _ in range(4):
        nest = _prime_nest(rng)
        arch = random_hierarchy(rng)
        m = _random_imperfect_mapping(rng, nest, arch)
        masks = _masks(nest, seed)
        inner = build_schedule(nest, arch, m).pass_inner
        work = work_matrix(nest, arch, m, masks, inner, ("filter", "ifmap"))
        want, digit_list = _walk(nest, m, masks, inner)
        # the work matrix orders passes and units by slot (outermost first), then by dim within a slot
        order = sorted(range(len(digit_list)), key=lambda i: ([s.name for s in m.slots].index(digit_list[i][1].name),
                                                              DIMS.index(digit_list[i][0])))
        p_ax = [i for i in order if not digit_list[i][1].spatial and digit_list[i][1].level > inner]
        u_ax = [i for i in order if digit_list[i][1].spatial]
        got = {}
        for pi, pv in enumerate(itertools.product(*[range(digit_list[i][2]) for i in p_ax])):
            for ui, uv in enumerate(itertools.product(*[range(digit_list[i][2]) for i in u_ax])):
                if work[pi, ui]:
                    # the literal walk keys digits in DIMS order per slot-less list; map ours to it
                    kp = tuple(dict(zip(p_ax, pv))[i] for i in sorted(p_ax))
                    ku = tuple(dict(zip(u_ax, uv))[i] for i in sorted(u_ax))
                    got[(kp, ku)] = int(work[pi, ui])
        assert got == want, (nest, m.to_dict())
        assert int(work.sum()) == nonzero_pairs(nest, masks)


def test_queue_model_limits_and_eie_trend():
    """EIE's trend (Han et al., ISCA 2016, load efficiency against the activation-queue depth): a deeper
    queue never hurts, helps most at small depths and little past 8."""
    rng = np.random.default_rng(3)
    units, passes = 64, 2048
    work = rng.binomial(16, rng.uniform(0.02, 0.2, size=(1, units)), size=(passes, units)).astype(np.int64)
    barrier = queue_cycles(work, 0)
    assert barrier == int(np.maximum(work.max(axis=1), 1).sum())
    eff = {}
    prev = barrier
    for depth in (1, 2, 4, 8, 16, 32, 64, 4096):
        c = queue_cycles(work, depth)
        assert c <= prev
        assert c >= work.sum(axis=0).max()  # never faster than the busiest unit
        eff[depth] = work.sum(axis=0).mean() / c
        prev = c
    assert queue_cycles(work, passes) <= work.sum(axis=0).max() + passes  # decoupled: the busiest unit
    gain = lambda a, b: eff[b] - eff[a]
    assert gain(1, 8) > 2 * gain(8, 64)  # diminishing returns past about 8
    assert eff[1] < eff[8] <= eff[64]


def _skip_arch(action, depth=0):
    d = {"name": "skip", "clock_mhz": 100, "default_dataflow": "os", "word_bits": 16,
         "mac": {"sparse": {"action": action, "condition_on": ["filter", "ifmap"]}},
         "levels": [{"name": "RF", "capacity_words": {"filter": 64, "ifmap": 64, "ofmap": 16}},
                    {"name": "GLB", "capacity_words": 60000, "fanout": {"rows": 4, "cols": 4},
                     "queue_depth": depth}],
         "dram": {"bw_bytes_per_cycle": 1000}}
    return build_arch(d, "skip.yaml")


NEST = LoopNest(dims=dict(N=1, G=1, M=16, C=16, P=8, Q=8, R=3, S=3), H=10, W=10, density=(0.3, 0.5, 1.0))


def test_skipping_array_takes_the_actual_work_and_gating_keeps_its_cycles():
    skip, gate = _skip_arch("skip"), _skip_arch("gate")
    m = search(NEST, skip, load_dataflow("os"), budget=60).best.mapping
    masks = _masks(NEST, 5, 0.3, 0.5)
    s_stat, s_act = simulate(NEST, skip, m, "ofmap"), simulate(NEST, skip, m, "ofmap", masks=masks)
    g_stat, g_act = simulate(NEST, gate, m, "ofmap"), simulate(NEST, gate, m, "ofmap", masks=masks)
    assert g_act.compute_cycles == g_stat.compute_cycles == m.temporal_steps  # gating saves no cycle
    a = s_act.actual
    assert a["effective_macs"] == a["performed_macs"] == nonzero_pairs(NEST, masks)
    assert a["imbalance_factor"] >= 1.0 and 0 < a["load_balance_efficiency"] <= 1.0
    assert abs(s_act.compute_cycles - a["compute_cycles"]) <= a["passes"]  # per-pass mean of the queue model
    assert s_act.compute_cycles > s_stat.compute_cycles  # the slowest unit sets each pass, not the mean
    assert s_act.compute_cycles < g_act.compute_cycles
    assert sum(a["busy_cycles_per_unit"]) == a["performed_macs"]
    deep = simulate(NEST, _skip_arch("skip", depth=64), m, "ofmap", masks=masks)
    assert deep.actual["compute_cycles"] <= a["compute_cycles"]
