"""Running a sweep: points in parallel on dask.distributed, each finished point stored at once.

* Points that differ only in their workload form one task, so their shared layers are evaluated once
  (the task's :class:`~accelsim.pipeline.Memo`; each worker keeps its memo across tasks).  Each task
  runs its networks with ``jobs=1``: the per-network process pool does not nest inside dask workers.
* ``scheduler``: ``local`` (default) starts a ``dask.distributed.LocalCluster`` on the local cores,
  ``tcp://HOST:PORT`` sends the same tasks to an existing cluster, ``inline`` runs them in this process
  (no dask).  The stored results do not depend on it.
* Finished points go to the :class:`~accelsim.sweep.store.SweepStore` as they arrive; points already
  stored (same content hash) are skipped, so a killed sweep resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field

from ..errors import InputError
from ..files import resolve
from .spec import Point, Sweep, points, quantities, resolve_point, satisfies
from .store import SweepStore

#: Each worker process's memo, shared by the tasks it runs.
_WORKER_MEMO = None


@dataclass
class Task:
    """Points sharing arch, dataflow, objective and batch (picklable: plain data only)."""

    arch: dict
    arch_name: str
    dataflow: str | None
    objective: str
    batch: int | None
    budget: int
    confirm: int
    points: list = field(default_factory=list)
    precision: str | None = None  # --precision applied to ``arch`` (accelsim.arch.precision)  # [(key, workload file, axes dict, pes, onchip_kb, source)]


@dataclass
class SweepSummary:
    """What a sweep did: points in the grid, dropped by constraints, already stored, evaluated now; the
    memo's layer hits and misses; wall seconds."""

    grid: int = 0
    dropped: int = 0
    skipped: int = 0
    evaluated: int = 0
    memo_hits: int = 0
    memo_misses: int = 0
    wall_s: float = 0.0
    fronts: object = None  # an optuna search's FrontComparison with the grid (dse.search), when the store has it
    keys: list = field(default_factory=list)  # the planned points' keys (stored before or now), in plan order

    @property
    def points_per_s(self) -> float:
        return self.evaluated / self.wall_s if self.wall_s else 0.0

    @property
    def memo_hit_rate(self) -> float:
        n = self.memo_hits + self.memo_misses
        return self.memo_hits / n if n else 0.0


def point_key(arch_dict: dict, workload_text: str, run: dict, budget: int, confirm: int) -> str:
    blob = json.dumps([arch_dict, hashlib.sha256(workload_text.encode()).hexdigest(), run, budget, confirm],
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def plan(sw: Sweep, store: SweepStore, confirm: int, source: str = "grid",
         chosen: list[Point] | None = None) -> tuple[list[Task], SweepSummary]:
    """The tasks still to run (module doc) and the counts so far."""
    summary = SweepSummary()
    done = store.done()
    texts = {w: resolve(f, "workload").text for w, f in sw.workload_files.items()}
    tasks: dict = {}
    for p in chosen if chosen is not None else points(sw):
        summary.grid += 1
        arch, d, run = resolve_point(sw, p)
        q = quantities(arch, p)
        if not satisfies(sw.spec.constraints, q, sw.source):
            summary.dropped += 1
            continue
        key = point_key(d, texts[p.workload], run, sw.spec.budget, confirm)
        summary.keys.append(key)
        if key in done:
            summary.skipped += 1
            continue
        gk = json.dumps([d, run], sort_keys=True, default=str)
        t = tasks.get(gk)
        if t is None:
            t = tasks[gk] = Task(d, sw.spec.arch, run["dataflow"], run["objective"], run["batch"], sw.spec.budget,
                                 confirm, precision=run.get("precision"))
        t.points.append((key, sw.workload_files[p.workload], p.as_dict(), q["pes"], q["onchip_kb"], source))
        done.add(key)
    return list(tasks.values()), summary


def run_task(t: Task) -> tuple[list[dict], int, int]:
    """Evaluate a task's points (in a worker): ``(store rows, memo hits, memo misses)``."""
    global _WORKER_MEMO
    from ..api import resolve_dataflow
    from ..arch import build_arch
    from ..pipeline import Memo, run_network
    from ..report import build_report
    from ..workload import load_workload

    if _WORKER_MEMO is None:
        _WORKER_MEMO = Memo()
    memo = _WORKER_MEMO
    h0, m0 = memo.hits, memo.misses
    arch = build_arch(t.arch, f"{t.arch_name} (sweep point)", precision=t.precision)
    df = resolve_dataflow(t.dataflow, arch)
    rows = []
    for key, wl, axes, pes, kb, source in t.points:
        w = load_workload(wl, t.batch)
        res = run_network(arch, w, df, t.objective, t.budget, jobs=1, confirm=t.confirm, memo=memo)
        rep = build_report(res)
        tot = rep["totals"]
        layers = [{"name": l["name"], "cycles": l["cycles"], "energy_pj": l["energy_pj"],
                   "dram_bytes": l["dram_bytes"], "utilization": l["utilization"],
                   "energy_by_level_pj": l["energy_by_level_pj"]} for l in rep["layers"]]
        rows.append({"key": key, "spec_name": None, "spec_hash": None, "source": source, "workload": w.name,
                     "dataflow": df.name, "objective": t.objective, "batch": rep["layers"][0]["shape"]["N"],
                     "axes": axes, "pes": pes, "onchip_kb": kb, "macs": tot["macs"], "cycles": tot["cycles"],
                     "latency_s": tot["latency_s"], "energy_pj": tot["energy_pj"],
                     "edp_pj_cycles": tot["edp_pj_cycles"], "dram_bytes": tot["dram_bytes"],
                     "utilization": tot["utilization"], "layers": layers})
    return rows, memo.hits - h0, memo.misses - m0


def release_memo() -> None:
    """Drop this worker's memo and the cost model's caches (run on every worker when a sweep ends)."""
    global _WORKER_MEMO
    _WORKER_MEMO = None
    import gc

    gc.collect()


def execute(tasks: list[Task], store: SweepStore, sw: Sweep, summary: SweepSummary, scheduler: str = "local",
            workers: int | None = None, progress=None) -> SweepSummary:
    """Run ``tasks`` on ``scheduler`` (module doc), storing every point as its task finishes."""
    total = sum(len(t.points) for t in tasks)
    t0 = time.perf_counter()

    def take(result):
        rows, hits, misses = result
        summary.memo_hits += hits
        summary.memo_misses += misses
        for r in rows:
            r.update(spec_name=sw.spec.name, spec_hash=sw.spec_hash)
            if store.add(r):
                summary.evaluated += 1
        if progress:
            progress(summary.evaluated, total)

    if progress:
        progress(0, total)
    if scheduler == "inline" or not tasks:
        global _WORKER_MEMO
        from ..pipeline import Memo

        _WORKER_MEMO = Memo()  # this sweep's own memo, as a fresh cluster's workers have
        for t in tasks:
            take(run_task(t))
    else:
        from dask.distributed import Client, LocalCluster, as_completed

        cluster = None
        try:
            if scheduler == "local":
                cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as e:
            raise InputError(f"cannot reach the dask scheduler {scheduler}: {e}", field="--scheduler") from None
        try:
            futures = client.map(run_task, tasks, pure=False)
            for fut in as_completed(futures):
                take(fut.result())
        finally:
            try:  # workers drop their memo now, so they exit within the nanny's grace period
                client.run(release_memo)
            except Exception:  # noqa: BLE001 - a worker already gone has nothing to release
                pass
            client.close()
            if cluster is not None:
                cluster.close()
    summary.wall_s = time.perf_counter() - t0
    return summary
