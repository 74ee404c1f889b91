"""Print the reproduction tables the README shows: the Eyeriss chip's AlexNet figures and SCALE-Sim's cycles.

Usage:  python benchmarks/reproduce.py [eyeriss|scalesim]   (default: both)

* Eyeriss (JSSC 2017, Table V): ``accelsim run eyeriss.yaml alexnet.yaml --batch 4 --layers
  conv1,...,conv5`` with the defaults; per layer the chip's latency and active PEs beside accelsim's.
* SCALE-Sim 3.0.0 (``tests/data/scalesim/shipped_runs.csv``, measured with
  ``benchmarks/scalesim_shipped.py``): per topology, array and dataflow, the layers whose array
  cycles equal SCALE-Sim's Total Cycles + 1, three ways:

  - ``gemm/cycles``: each layer as the GEMM SCALE-Sim lowers it to, ``--objective cycles`` (the
    reproduction test's setting: every layer agrees);
  - ``conv/cycles``: the conv shapes as given (P and Q kept apart), ``--objective cycles``;
  - ``conv/edp``: the conv shapes as given, the default objective.

  and the network's total cycles over SCALE-Sim's for the last two.
"""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def eyeriss() -> None:
    from test_eyeriss_repro import CHIP, CHIP_TOTAL_MS, _active_share

    from accelsim.arch import load_arch
    from accelsim.mapping import load_dataflow
    from accelsim.pipeline import run_network
    from accelsim.workload import load_workload

    arch = load_arch("eyeriss.yaml")
    res = run_network(arch, load_workload("alexnet.yaml", batch=4), load_dataflow(arch.default_dataflow),
                      selection=",".join(CHIP))
    clock = arch.clock_mhz * 1e3
    print("| layer | chip ms | accelsim ms | ratio | chip active PEs | accelsim active PEs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    ours = []
    for lr in res.layers:
        ms = lr.sim.cycles / clock
        m = lr.result.best.mapping
        pes = m.used(m.spatial_between(arch.array_level - 1, arch.array_level))
        ours.append((ms, pes))
        t, a = CHIP[lr.layer.name]
        print(f"| {lr.layer.name} | {t:.1f} | {ms:.1f} | {ms / t:.2f} | {a} | {pes} |")
    total = sum(t for t, _ in ours)
    print(f"| total | {CHIP_TOTAL_MS:.1f} | {total:.1f} | {total / CHIP_TOTAL_MS:.2f} | "
          f"{_active_share(CHIP.values()):.0%} | {_active_share(ours):.0%} |")


def scalesim() -> None:
    from scalesim_table import DATA, DATAFLOW, read_topology, scalesim_arch, shipped_runs, to_gemm_workload, \
        to_workload

    from accelsim.arch import build_arch
    from accelsim.mapping import load_dataflow
    from accelsim.pipeline import run_network
    from accelsim.workload.network import build_workload

    groups = defaultdict(dict)
    for r in shipped_runs():
        groups[(r["topology"], r["rows"], r["cols"], r["dataflow"])][r["layer"]] = r["total_cycles"]
    files = {p.stem.lower(): p for p in (DATA / "topologies").iterdir() if p.suffix == ".csv"}
    print("| topology | array | dataflow | layers | gemm/cycles equal | conv/cycles equal | conv/edp equal | "
          "conv/cycles total ÷ SCALE-Sim | conv/edp total ÷ SCALE-Sim |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (top, rows, cols, df), want in sorted(groups.items()):
        layers = [row for row in read_topology(files[top.lower()]) if row[0] in want]
        arch = build_arch(scalesim_arch(rows, cols), "scalesim.yaml")
        flow = load_dataflow(DATAFLOW[df])
        cells, ratios = [], []
        for view, obj in (("gemm", "cycles"), ("conv", "cycles"), ("conv", "edp")):
            data = to_gemm_workload(layers, top) if view == "gemm" else to_workload(layers, top)
            res = run_network(arch, build_workload(data, f"{top}.yaml"), flow, obj)
            got = {lr.layer.name: lr.sim.compute_cycles + lr.sim.stall_cycles["pipeline"] - 1 for lr in res.layers}
            cells.append(sum(got[n] == want[n] for n in want))
            if view == "conv":
                ratios.append(sum(got.values()) / sum(want.values()))
        print(f"| {top} | {rows}×{cols} | {df} | {len(want)} | {cells[0]} | {cells[1]} | {cells[2]} | "
              f"{ratios[0]:.3f} | {ratios[1]:.3f} |", flush=True)


def main() -> None:
    warnings.simplefilter("ignore")
    what = sys.argv[1:] or ["eyeriss", "scalesim"]
    if "eyeriss" in what:
        eyeriss()
    if "scalesim" in what:
        print()
        scalesim()


if __name__ == "__main__":
    main()
