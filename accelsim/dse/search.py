"""Searching a space too large for a grid: optuna's multi-objective NSGA-II over the sweep's axes.

Every axis (or zip group) is a categorical choice among its values; a trial is one point per workload,
evaluated as the grid would (same keys, same store, ``source`` = ``optuna``) and scored by its energy
(pJ) and cycles summed over the workloads.  A point a constraint drops is pruned.  Deb et al., "A fast
and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEVC 2002; optuna's ``NSGAIISampler``.
"""

from __future__ import annotations

from .engine import SweepSummary, execute, plan
from .spec import Point, Sweep
from .store import SweepStore


def pareto_front(rows: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """The non-dominated ``(energy, cycles, label)`` rows (both minimised), by energy."""
    front = []
    for e, c, lab in sorted(rows):
        if not front or c < front[-1][1]:
            front.append((e, c, lab))
    return front


def optuna_search(sw: Sweep, store: SweepStore, trials: int, confirm: int, seed: int = 0,
                  progress=None) -> tuple[SweepSummary, object]:
    """Run ``trials`` NSGA-II trials (module doc); returns the summary and the optuna study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    total = SweepSummary()
    by_key: dict = {}

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
        df = store.to_dataframe()
        mine = df[df["axes"].apply(lambda a: a == _axes_json(vals))]
        return float(mine["energy_pj"].sum()), float(mine["cycles"].sum())

    study = optuna.create_study(directions=["minimize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    return total, study


def _axes_json(vals) -> str:
    import json

    return json.dumps(dict(vals), sort_keys=True)
