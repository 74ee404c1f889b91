"""Benchmark the main job: wall seconds, peak memory, mappings and simulator events per second.

Usage:  python benchmarks/run_bench.py [ARCH] [WORKLOAD ...]
Defaults: eyeriss.yaml on mobilenet.yaml, once with the arch's dataflow and once per
dataflow (ws, os, is, rs).  Each case runs in a fresh subprocess so caches and peak
memory (ru_maxrss) are per case; wall time includes start-up, loading and the search.
Targets: mobilenet.yaml on eyeriss.yaml under 10 s wall on 2 cores, mapping search and
event simulation included.  ``search s`` is the whole parallel map+simulate stage; the
simulator's own time (summed over layers, one per distinct layer) and its events give
events per second and simulated MACs per simulator second.
"""

from __future__ import annotations

import json
import resource
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
print(json.dumps({"wall_s": time.perf_counter() - t0, "search_s": res.wall_seconds, "sim_s": sim_s,
                  "events": sum(l["simulation"]["events"] for l in firsts),
                  "sim_macs": sum(l["macs"] for l in firsts),
                  "evaluated": rep["totals"]["mappings_evaluated"], "cycles": rep["totals"]["cycles"],
                  "pj_per_mac": rep["totals"]["pj_per_mac"], "utilization": rep["totals"]["utilization"],
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
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


def main() -> None:
    arch = sys.argv[1] if len(sys.argv) > 1 else "eyeriss.yaml"
    workloads = sys.argv[2:] or ["mobilenet.yaml"]
    print(f"{'workload':<16}{'dataflow':<10}{'wall s':>8}{'map+sim s':>10}{'mappings':>10}{'maps/s':>9}"
          f"{'sim s':>7}{'events':>9}{'ev/s':>9}{'GMAC/s':>8}{'peak MB':>9}{'Mcycles':>10}{'pJ/MAC':>8}{'util':>7}")
    for wl in workloads:
        for df in ["", "ws", "os", "is", "rs"]:
            d = case(arch, wl, df)
            print(f"{wl:<16}{(df or 'default'):<10}{d['process_wall_s']:>8.2f}{d['search_s']:>10.2f}"
                  f"{d['evaluated']:>10}{d['evaluated'] / d['search_s']:>9.0f}{d['sim_s']:>7.2f}{d['events']:>9}"
                  f"{d['events'] / d['sim_s']:>9.0f}{d['sim_macs'] / d['sim_s'] / 1e9:>8.1f}{d['maxrss_mb']:>9.0f}"
                  f"{d['cycles'] / 1e6:>10.2f}{d['pj_per_mac']:>8.2f}{d['utilization']:>7.3f}")
        print(f"{wl:<16}{'CLI':<10}{cli_case(arch, wl):>8.2f}  (accelsim run {arch} {wl}, whole command)")


if __name__ == "__main__":
    main()
