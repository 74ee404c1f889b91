"""Benchmark the main job: wall seconds, peak memory, mappings and simulator events per second.

Usage:  python benchmarks/run_bench.py [ARCH] [WORKLOAD ...]
Defaults: mobilenet.yaml on every bundled arch with its default dataflow, then on
eyeriss.yaml (or ARCH) once per dataflow (ws, os, is, rs).  Per case: wall and CPU seconds,
mappings per second, simulator time and events, peak memory, and how often the simulation
re-ranked the model's shortlist (and by how much).  Each case runs in a fresh subprocess so caches and peak
memory (ru_maxrss) are per case; wall time includes start-up, loading and the search.
Targets (issue 8): mobilenet.yaml on eyeriss.yaml under 3 s wall on 2 cores, mapping search and
event simulation included.  ``search s`` is the whole parallel map+simulate stage; the
simulator's own time (summed over layers, one per distinct layer) and its events give
events per second and simulated MACs per simulator second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from accelsim.arch import load_arch
from accelsim.mapping import load_dataflow
from accelsim.pipeline import run_network
from accelsim.report import build_report
from accelsim.workload import load_workload
arch = load_arch(sys.argv[1]); wl = load_workload(sys.argv[2])
df = load_dataflow(sys.argv[3] or arch.default_dataflow)
res = run_network(arch, wl, df)
rep = build_report(res)
firsts = [l for l in rep["layers"] if not l["search"]["reused_from"]]
sim_s = sum(l["simulation"]["wall_s"] for l in firsts)
conf = [l["search"]["confirmation"] for l in firsts if l["search"]["confirmation"]]
differ = [c for c in conf if c["chosen_model_rank"] != 0]
gain = [c["model_best_cycles"] / c["chosen_cycles"] for c in differ]
ru = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": time.perf_counter() - t0, "search_s": res.wall_seconds, "sim_s": sim_s,
                  "events": sum(l["simulation"]["events"] for l in firsts),
                  "sim_macs": sum(l["macs"] for l in firsts),
                  "evaluated": rep["totals"]["mappings_evaluated"], "cycles": rep["totals"]["cycles"],
                  "pj_per_mac": rep["totals"]["pj_per_mac"], "utilization": rep["totals"]["utilization"],
                  "maxrss_mb": max(ru.ru_maxrss, kids.ru_maxrss) / 1024,
                  "cpu_s": ru.ru_utime + ru.ru_stime + kids.ru_utime + kids.ru_stime,
                  "confirmed_layers": len(conf), "model_pick_differs": len(differ),
                  "mean_gain": sum(gain) / len(gain) if gain else 1.0, "max_gain": max(gain, default=1.0)}))
"""


def case(arch: str, workload: str, dataflow: str) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, arch, workload, dataflow], check=True,
                         capture_output=True, text=True).stdout
    d = json.loads(out)
    d["process_wall_s"] = time.perf_counter() - t0
    return d


def cli_case(arch: str, workload: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(["accelsim", "run", arch, workload, "--out", tmp], check=True, capture_output=True)
        return time.perf_counter() - t0


ARCHS = ["eyeriss.yaml", "tpu.yaml", "shidiannao.yaml", "eyeriss_like.yaml", "simple_weight_stationary.yaml",
         "simple_output_stationary.yaml", "simba_like.yaml", "eie.yaml", "scnn.yaml", "dcnn.yaml"]


def _row(label: str, df: str, d: dict) -> str:
    return (f"{label:<32}{(df or 'default'):<9}{d['process_wall_s']:>7.2f}{d['cpu_s']:>7.2f}{d['search_s']:>8.2f}"
            f"{d['evaluated']:>9}{d['evaluated'] / d['search_s']:>8.0f}{d['sim_s']:>7.2f}{d['events']:>8}"
            f"{d['maxrss_mb']:>8.0f}{d['cycles'] / 1e6:>9.2f}{d['pj_per_mac']:>8.2f}{d['utilization']:>6.3f}"
            f"{d['model_pick_differs']:>5}/{d['confirmed_layers']:<3}{d['mean_gain']:>6.3f}{d['max_gain']:>6.3f}")


def main() -> None:
    """Each bundled arch on the workload with its default dataflow, then ARCH under every dataflow.

    ``sim!=model`` counts the distinct layers whose simulated best of the confirmed shortlist is not the
    model's best; ``gain`` is the model's pick's simulated cycles over the chosen one's (mean, max)."""
    arch = sys.argv[1] if len(sys.argv) > 1 else "eyeriss.yaml"
    workloads = sys.argv[2:] or ["mobilenet.yaml"]
    print(f"{'arch / workload':<32}{'dataflow':<9}{'wall s':>7}{'cpu s':>7}{'map s':>8}{'mappings':>9}{'maps/s':>8}"
          f"{'sim s':>7}{'events':>8}{'peak MB':>8}{'Mcycles':>9}{'pJ/MAC':>8}{'util':>6}{'sim!=model':>10}"
          f"{'gain':>6}{'max':>6}")
    for wl in workloads:
        for a in ARCHS:
            print(_row(f"{a} {wl}", "", case(a, wl, "")), flush=True)
        for df in ["ws", "os", "is", "rs"]:
            print(_row(f"{arch} {wl}", df, case(arch, wl, df)), flush=True)
        print(f"{arch + ' ' + wl:<32}{'CLI':<9}{cli_case(arch, wl):>7.2f}  (accelsim run {arch} {wl}, whole command)")


if __name__ == "__main__":
    main()
