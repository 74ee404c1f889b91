"""Confirmation by simulation: the mapper's best few candidates by the model, re-ranked by the simulator.

The analytical model (:mod:`accelsim.cost.latency`) bounds each resource
over the whole layer; the event simulator also sees fill and drain, the
order of the steps and which transfers overlap.  So the search keeps the
best ``k`` candidates by the model's score, simulates each, and chooses the
best by the objective on *simulated* cycles (energy is the model's either
way: counts are exact).  A reported choice is what the simulator measured
(the project's design notes, "Mappings").  Ties break on the model's order.

:class:`Shortlist` keeps the k best evaluations while the search streams
them (memory O(k)); :func:`confirm` simulates them.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass

from ..sim.engine import simulate

#: Candidates confirmed by simulation per layer unless ``--confirm`` says otherwise.
DEFAULT_CONFIRM = 4


@dataclass(frozen=True)
class Confirmation:
    """How the simulation re-ranked the model's shortlist.

    Attributes:
        simulated: candidates simulated (the shortlist's length).
        chosen_model_rank: the chosen mapping's place in the model's order (0 = the model's best).
        model_best_cycles: simulated cycles of the model's best candidate.
        chosen_cycles: simulated cycles of the chosen one.
    """

    simulated: int
    chosen_model_rank: int
    model_best_cycles: int
    chosen_cycles: int

    def as_dict(self) -> dict:
        return {"simulated": self.simulated, "chosen_model_rank": self.chosen_model_rank,
                "model_best_cycles": self.model_best_cycles, "chosen_cycles": self.chosen_cycles}


class Shortlist:
    """The ``k`` best evaluations by (score, mapping key), fed one at a time; deterministic ties.

    Attributes:
        evaluated: evaluations offered so far.
        items: the kept evaluations, best first.
    """

    def __init__(self, k: int):
        self.k = max(1, k)
        self.evaluated = 0
        self._items: list = []  # (score, key, n, evaluation), sorted

    def offer(self, ev) -> None:
        self.evaluated += 1
        if len(self._items) >= self.k and ev.score > self._items[-1][0]:
            return  # not among the k best (no need for the mapping's key)
        entry = (ev.score, ev.mapping.key, self.evaluated, ev)
        if len(self._items) < self.k:
            insort(self._items, entry, key=lambda e: e[:2])
        elif entry[:2] < self._items[-1][:2]:
            insort(self._items, entry, key=lambda e: e[:2])
            self._items.pop()

    @property
    def items(self) -> list:
        return [e[3] for e in self._items]

    @property
    def best(self):
        return self._items[0][3] if self._items else None


def confirm(nest, arch, candidates: list, stationary: str | None, objective: str, score) -> tuple:
    """Simulate ``candidates`` (best by the model first) and pick the best by simulated cycles.

    Args:
        score: ``score(objective, energy_pj, cycles)``, lower is better.
    Returns:
        ``(evaluation, SimResult, Confirmation)`` of the chosen candidate.
    """
    best = None
    first_cycles = 0
    for rank, ev in enumerate(candidates):
        sim = simulate(nest, arch, ev.mapping, stationary)
        s = score(objective, ev.energy.total_pj, sim.cycles)
        if rank == 0:
            first_cycles = sim.cycles
        if best is None or s < best[0]:
            best = (s, rank, ev, sim)
    s, rank, ev, sim = best
    return ev, sim, Confirmation(len(candidates), rank, first_cycles, sim.cycles)

