"""Searching a space too large for a grid: optuna's multi-objective NSGA-II over the sweep's axes.

Every axis (or zip group) is a categorical choice among its values; a trial is one point per workload,
evaluated as the grid would (same keys, same store, ``source`` = ``optuna``) and scored by its energy
(pJ) and cycles summed over the workloads.  A point a constraint drops is pruned.  Deb et al., "A fast
and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEVC 2002; optuna's ``NSGAIISampler``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engine import SweepSummary, execute, plan
from .spec import Point, Sweep, points, quantities, resolve_point, satisfies
from .store import SweepStore


def pareto_front(rows: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The non-dominated ``(energy, cycles, label)`` rows (both minimised), by energy."""
    front = []
    for e, c, lab in sorted(rows):
        if not front or c < front[-1][1]:
            front.append((e, c, lab))
    return front


@dataclass(frozen=True)
class FrontComparison:
    """The search's Pareto front against the whole grid's, on the same (energy, cycles) objectives.

    Attributes:
        searched: designs the search evaluated (distinct points).
        grid: designs of the grid that the constraints keep (all present in the store).
        search_front, grid_front: sizes of the two Pareto fronts.
        found: designs of the grid's front that the search evaluated.
        hypervolume_ratio: the search front's hypervolume over the grid front's (1.0: as good; it cannot
            exceed 1, the search's designs being grid points).  Both objectives are divided by the
            grid's worst values, which are also the reference point (Zitzler & Thiele, "Multiobjective
            optimization using evolutionary algorithms: a comparative case study", PPSN 1998).
    """

    searched: int
    grid: int
    search_front: int
    grid_front: int
    found: int
    hypervolume_ratio: float

    def describe(self) -> str:
        return (f"optuna evaluated {self.searched} of the grid's {self.grid} designs: its Pareto front of "
                f"{self.search_front} holds {self.found} of the grid front's {self.grid_front} designs and "
                f"{100 * self.hypervolume_ratio:.1f} % of its hypervolume")


def hypervolume(front: list[tuple[float, float, str]], ref: tuple[float, float]) -> float:
    """Area dominated by a 2-D front (both objectives minimised) up to the reference point ``ref``."""
    area, prev_c = 0.0, ref[1]
    for e, c, _ in pareto_front(front):
        if e < ref[0] and c < prev_c:
            area += (ref[0] - e) * (prev_c - c)
            prev_c = c
    return area


def compare_fronts(searched: dict, grid: dict) -> FrontComparison:
    """:class:`FrontComparison` of ``searched`` and ``grid``: ``{design label: (energy pJ, cycles)}``
    (each summed over the workloads)."""
    emax = max(e for e, _ in grid.values())
    cmax = max(c for _, c in grid.values())

    def norm(rows):
        return [(e / emax, c / cmax, k) for k, (e, c) in rows.items()]

    sf, gf = pareto_front(norm(searched)), pareto_front(norm(grid))
    g_hv = hypervolume(gf, (1.0, 1.0))
    ratio = hypervolume(sf, (1.0, 1.0)) / g_hv if g_hv else 1.0
    return FrontComparison(len(searched), len(grid), len(sf), len(gf), len({k for *_, k in gf} & set(searched)),
                           ratio)


def optuna_search(sw: Sweep, store: SweepStore, trials: int, confirm: int, seed: int = 0,
                  progress=None) -> tuple[SweepSummary, object]:
    """Run ``trials`` NSGA-II trials (module doc); returns the summary and the optuna study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    total = SweepSummary()
    searched: dict = {}

    def objective(trial):
        vals = []
        for gi, group in enumerate(sw.groups):
            k = trial.suggest_categorical(f"g{gi}", list(range(len(group[0].values))))
            vals += [(a.name, a.values[k]) for a in group]
        pts = [Point(tuple(vals), w) for w in sw.spec.workloads]
        tasks, s = plan(sw, store, confirm, source="optuna", chosen=pts)
        if s.dropped:
            total.dropped += 1
            raise optuna.TrialPruned()
        execute(tasks, store, sw, s, scheduler="inline")
        for f in ("grid", "skipped", "evaluated", "memo_hits", "memo_misses"):
            setattr(total, f, getattr(total, f) + getattr(s, f))
        if progress:
            progress(trial.number + 1, trials)
        searched[_axes_json(vals)] = store.totals(s.keys)  # this design's points, over the workloads
        return searched[_axes_json(vals)]

    study = optuna.create_study(directions=["minimize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    total.fronts = grid_comparison(sw, store, searched)
    return total, study


def grid_comparison(sw: Sweep, store: SweepStore, searched: dict) -> FrontComparison | None:
    """The search's front against the grid's, when the store holds every point of the grid that the
    constraints keep (run the grid into the same ``--out``); else None."""
    if not searched:
        return None
    want: dict = {}
    for p in points(sw):
        arch, _, _ = resolve_point(sw, p)
        if satisfies(sw.spec.constraints, quantities(arch, p), sw.source):
            want.setdefault(_axes_json(p.values), set()).add(p.workload)
    df = store.to_dataframe()
    df = df[df["spec_hash"] == sw.spec_hash]
    grid = {}
    for axes, part in df.groupby("axes"):
        if axes in want and len(part) == len(want[axes]):
            grid[axes] = (float(part["energy_pj"].sum()), float(part["cycles"].sum()))
    if len(grid) < len(want):
        return None
    return compare_fronts(searched, grid)


def _axes_json(vals) -> str:
    import json

    return json.dumps(dict(vals), sort_keys=True)
