"""Peak memory of the search at the --budget ceiling, on the largest bundled layer.

Usage:  python benchmarks/memory_budget.py [ARCH] [BUDGET]
Defaults: eyeriss.yaml and accelsim.limits.MAX_BUDGET.  The largest layer (by MACs) of every
bundled workload is searched and simulated once, in a fresh subprocess, with ``--jobs 1``;
the script prints wall seconds, mappings evaluated, mappings per second and peak RSS
(ru_maxrss).  Target (hardening issue): under 500 MB at the ceiling.
"""

from __future__ import annotations

import json
import subprocess
import sys

from accelsim.files import bundled_names
from accelsim.limits import MAX_BUDGET
from accelsim.workload import load_workload

CHILD = r"""
import json, resource, sys, time
from accelsim.arch import load_arch
from accelsim.mapping import load_dataflow
from accelsim.pipeline import run_network
from accelsim.workload import load_workload
arch = load_arch(sys.argv[1]); wl = load_workload(sys.argv[2])
df = load_dataflow(arch.default_dataflow)
t0 = time.perf_counter()
res = run_network(arch, wl, df, "edp", int(sys.argv[4]), sys.argv[3], jobs=1)
lr = res.layers[0]
print(json.dumps({"wall_s": time.perf_counter() - t0, "evaluated": lr.result.evaluated,
                  "exhaustive": lr.result.exhaustive, "cycles": lr.sim.cycles,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def largest_layer() -> tuple[str, str, int]:
    """(workload, layer name, MACs) of the bundled layer with the most MACs."""
    best = ("", "", 0)
    for wl in bundled_names("workload"):
        for layer in load_workload(wl).mac_layers:
            if layer.macs > best[2]:
                best = (wl, layer.name, layer.macs)
    return best


def main() -> None:
    arch = sys.argv[1] if len(sys.argv) > 1 else "eyeriss.yaml"
    budget = int(sys.argv[2]) if len(sys.argv) > 2 else MAX_BUDGET
    wl, name, macs = largest_layer()
    out = subprocess.run([sys.executable, "-c", CHILD, arch, wl, f"name:{name}", str(budget)], check=True,
                         capture_output=True, text=True).stdout
    d = json.loads(out)
    print(f"{wl} {name} ({macs / 1e9:.2f} GMAC) on {arch}, --budget {budget}: {d['wall_s']:.1f} s, "
          f"{d['evaluated']} mappings ({d['evaluated'] / d['wall_s']:.0f}/s, "
          f"{'exhaustive' if d['exhaustive'] else 'pruned'}), peak RSS {d['maxrss_mb']:.0f} MB (target < 500 MB)")


if __name__ == "__main__":
    main()
