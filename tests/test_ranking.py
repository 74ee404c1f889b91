"""Ranking: the search's shortlist by the model, confirmed by simulation (accelsim.mapper.confirm)."""

import pytest

from accelsim.arch import load_arch
from accelsim.mapper.confirm import Shortlist
from accelsim.mapper.search import evaluate, score, search
from accelsim.mapping import load_dataflow
from accelsim.sim import simulate
from accelsim.workload import load_workload


def _layers(name, picks):
    wl = load_workload(name)
    return [l for l in wl.layers if l.name in picks]


@pytest.mark.parametrize("objective", ["cycles", "edp"])
@pytest.mark.parametrize("df", ["rs", "ws", "os"])
def test_chosen_is_best_of_the_shortlist_by_simulation(df, objective):
    """Every shortlisted candidate, simulated here again, scores no better than the chosen one; the
    chosen one's recorded simulation is the simulator's figure for its mapping."""
    arch, flow = load_arch("eyeriss.yaml"), load_dataflow(df)
    for layer in _layers("mobilenet.yaml", {"conv2_dw", "conv5_pw"}):
        nest = layer.nest
        k = 6
        sr = search(nest, arch, flow, objective, budget=120, confirm_k=k)
        assert sr.sim.cycles == simulate(nest, arch, sr.best.mapping, flow.stationary).cycles
        chosen = score(objective, sr.best.energy.total_pj, sr.sim.cycles)
        plain = search(nest, arch, flow, objective, budget=120)  # the model's best, as without confirmation
        model_best = simulate(nest, arch, plain.best.mapping, flow.stationary)
        assert sr.confirmation.model_best_cycles == model_best.cycles
        assert chosen <= score(objective, plain.best.energy.total_pj, model_best.cycles)
        assert 1 <= sr.confirmation.simulated <= k
        assert 0 <= sr.confirmation.chosen_model_rank < sr.confirmation.simulated


def test_shortlist_keeps_the_k_best_deterministically():
    """Fed in any order, the shortlist holds the k best by (score, mapping key), best first."""
    import random

    from accelsim.mapper.space import enumerate_space, spatial_candidates
    from accelsim.mapper.tilings import Work

    arch, flow = load_arch("eyeriss.yaml"), load_dataflow("rs")
    nest = _layers("mobilenet.yaml", {"conv3_pw"})[0].nest
    sp = spatial_candidates(nest, arch, flow).pairs[:3]
    evs = [evaluate(nest, arch, b(), "edp") for b in enumerate_space(nest, arch, flow, sp, True, 40, Work())]
    assert len(evs) >= 20
    want = [e.mapping.key for e in sorted(evs, key=lambda e: (e.score, e.mapping.key))[:5]]
    rng = random.Random(0)
    for _ in range(3):
        rng.shuffle(evs)
        sl = Shortlist(5)
        for ev in evs:
            sl.offer(ev)
        assert [e.mapping.key for e in sl.items] == want
        assert sl.evaluated == len(evs)
