"""``accelsim.sweep``: the engine behind ``accelsim sweep``."""

from __future__ import annotations

from ..errors import InputError
from ..mapper.confirm import DEFAULT_CONFIRM
from .engine import SweepSummary, execute, plan
from .spec import load_sweep_spec
from .store import SweepStore


def sweep(spec: str, out: str, scheduler: str = "local", workers: int | None = None, search: str | None = None,
          trials: int = 100, confirm: int = DEFAULT_CONFIRM, seed: int = 0,
          progress=None) -> tuple[SweepStore, SweepSummary]:
    """Run the sweep of spec file ``spec`` into ``out`` (results in ``out/results.sqlite``).

    Args:
        scheduler: ``local`` (a dask LocalCluster on this machine's cores), ``tcp://HOST:PORT`` (an
            existing dask.distributed scheduler) or ``inline`` (this process, no dask).
        workers: LocalCluster workers (default: the cores).
        search: None (the whole grid) or ``optuna`` (``trials`` NSGA-II trials over the same axes).
        progress: ``callback(done, total)``.
    Returns:
        ``(store, summary)``: the open store and what this call did (grid size, dropped by constraints,
        already stored, evaluated, memo hits and misses, wall seconds).
    Raises:
        InputError: a bad spec (the axis, path and point named), an unreachable scheduler.
    """
    if scheduler not in ("local", "inline") and "://" not in scheduler:
        raise InputError(f"unknown scheduler {scheduler!r}: use local, inline or a dask address tcp://HOST:PORT",
                         field="--scheduler")
    if search not in (None, "optuna"):
        raise InputError(f"unknown search {search!r}: use optuna", field="--search")
    sw = load_sweep_spec(spec)
    store = SweepStore(out)
    if search == "optuna":
        from .search import optuna_search

        summary, _ = optuna_search(sw, store, trials, confirm, seed, progress)
        return store, summary
    tasks, summary = plan(sw, store, confirm)
    execute(tasks, store, sw, summary, scheduler, workers, progress)
    return store, summary
