"""Every bundled network x arch x dataflow in default mode: wall time and peak memory of each run.

Usage:  python benchmarks/cliff_check.py [--jobs 1]

Each combination runs ``accelsim run ARCH WORKLOAD --dataflow DF`` in a fresh process (its own
peak memory, ru_maxrss of the child) and prints wall seconds, peak MB and total cycles.  Target
(issue 8, "no cliffs"): every run under 10 s and 500 MB on 2 cores.  Runs whose mapping space
has no legal mapping for a dataflow are listed as such (that is an answer, not a failure).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARCHS = ["eyeriss.yaml", "tpu.yaml", "shidiannao.yaml", "eyeriss_like.yaml", "simple_weight_stationary.yaml",
         "simple_output_stationary.yaml", "simba_like.yaml", "eie.yaml", "scnn.yaml", "dcnn.yaml"]
WORKLOADS = ["mobilenet.yaml", "alexnet.yaml", "vgg16.yaml", "resnet50.yaml", "steering.yaml", "alexnet_sparse.yaml",
             "vgg16_sparse.yaml", "alexnet_fc_sparse.yaml", "vgg16_fc_sparse.yaml"]
DATAFLOWS = ["ws", "os", "is", "rs", "nlr", "eie", "scnn", "dcnn"]


#: Runs the CLI in-process and reports its peak memory (itself, and its worker processes) at exit.
CHILD = ("import atexit, resource, sys\n"
         "def report():\n"
         "    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
         "    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
         "    print('PEAK_KB', max(own, kids), file=sys.stderr)\n"
         "atexit.register(report)\n"
         "from accelsim.cli import app\n"
         "sys.argv = ['accelsim'] + sys.argv[1:]\n"
         "app()\n")


def one(arch: str, wl: str, df: str, jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", CHILD, "run", arch, wl, "--dataflow", df, "--jobs",
                            str(jobs), "--out", tmp, "--format", "json"], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        peak = max((int(line.split()[1]) for line in p.stderr.splitlines() if line.startswith("PEAK_KB")), default=0)
        out = {"arch": arch, "workload": wl, "dataflow": df, "wall_s": wall, "peak_mb": peak / 1024,
               "ok": p.returncode == 0}
        if p.returncode == 0:
            rep = json.loads(Path(tmp, "report.json").read_text())
            out["cycles"] = rep["totals"]["cycles"]
        else:
            lines = [x for x in p.stderr.splitlines() if x.strip() and not x.startswith("PEAK_KB")]
            out["error"] = lines[-1][:120] if lines else "?"
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=None,
                    help="check only the runs whose arch or dataflow is one of these (e.g. scnn.yaml scnn)")
    args = ap.parse_args()
    worst_t = worst_m = 0.0
    for arch in ARCHS:
        for wl in WORKLOADS:
            for df in DATAFLOWS:
                if args.only and arch not in args.only and df not in args.only:
                    continue
                r = one(arch, wl, df, args.jobs)
                worst_t = max(worst_t, r["wall_s"])
                worst_m = max(worst_m, r["peak_mb"])
                flag = "  SLOW" if r["wall_s"] > 10 else ""
                flag += "  BIG" if r["peak_mb"] > 500 else ""
                what = r.get("cycles", r.get("error"))
                print(f"{arch:32s}{wl:16s}{df:5s}{r['wall_s']:7.2f} s {r['peak_mb']:7.0f} MB  {what}{flag}", flush=True)
    print(f"slowest run {worst_t:.2f} s wall; largest {worst_m:.0f} MB")


if __name__ == "__main__":
    main()
