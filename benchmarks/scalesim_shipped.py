"""Run SCALE-Sim 3.0.0 on its own shipped conv-net topologies, layer by layer.

Regenerates the oracle tables in tests/data/scalesim/:

* ``shipped_runs.csv``  -- one row per completed run, ``total_cycles`` being
  SCALE-Sim's COMPUTE_REPORT.csv "Total Cycles", verbatim;
* ``skipped_runs.csv``  -- the runs that timed out, ran out of memory, failed,
  or were never launched because the time budget ran out (``reason`` column).

SCALE-Sim is not a dependency of accelsim.  To run this (from the repo root):

    python -m venv /tmp/ssv && /tmp/ssv/bin/pip install scalesim==3.0.0 "numpy<2.3"
    nice -n 19 /tmp/ssv/bin/python benchmarks/scalesim_shipped.py [--budget-min 70] [--resume]

Topologies: tests/data/scalesim/topologies/{mobilenet,Resnet50,alexnet}.csv,
verbatim copies of SCALE-Sim's topologies/conv_nets/ (see the README there).
Only the first eight columns are used (name, IFMAP H, IFMAP W, filter H,
filter W, channels, num filter, stride); rows with an empty name (Resnet50.csv's
second row) are ignored.  SCALE-Sim cannot read Resnet50.csv as shipped (its
extra Eh/Ew/e2 columns and the all-comma row make topology_utils.py:150 raise
IndexError), so each layer is written to a clean one-row topology file.

Config (``CFG``): arrays 12x14 and 32x32 (ArrayHeight x ArrayWidth),
dataflows ws/os/is, IfmapSramSzkB = FilterSramSzkB = OfmapSramSzkB = 64,
InterfaceBandwidth = CALC (SCALE-Sim estimates the bandwidth, so memory never
stalls), no ``[network_presets]`` section and a header-only layout file
(as in benchmarks/scalesim_crosscheck.py).

Each run is a child process (``--single``), one at a time, at nice 19, killed
after ``--timeout`` seconds (default 120) or when it exceeds ``--mem-gb`` of
address space (default 6).  Runs are launched cheapest first (estimated from
SCALE-Sim's fold count), and no new run is launched after ``--budget-min``
minutes; the rest are recorded as skipped.  Layers of identical shape
(ResNet-50's repeated identity blocks, MobileNet's Conv14-23) are simulated
once per array and dataflow and the result is recorded for each of them
(SCALE-Sim is deterministic here: the random seed only drives sparsity).
``--resume`` keeps the rows already in shipped_runs.csv and only runs the
missing ones.

The checked-in tables came from one ``--budget-min 52`` run (52 min, 217 distinct
simulations, 415 of 516 rows completed, none timed out or ran out of memory), one
``--resume --budget-min 40`` run (464 of 516) and two ``--resume --timeout 1200``
runs (100 and 30 min budgets; the slowest layer, AlexNet Conv2 IS on 12 x 14, took
943 s): all 516 rows completed, none skipped.  Every completed
row equals accelsim.sim.systolic.layer_compute_cycles(...) - 1 when the ofmap
size uses SCALE-Sim's rule P = ceil((H - R + stride) / stride).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "scalesim"
TOPOLOGIES = ("mobilenet", "Resnet50", "alexnet")
ARRAYS = ((12, 14), (32, 32))
DATAFLOWS = ("ws", "os", "is")
SRAM_KB = 64

LAYER_FIELDS = ["ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filter", "stride"]
RUN_FIELDS = ["topology", "layer", *LAYER_FIELDS, "dataflow", "rows", "cols"]

from scalesim_crosscheck import CFG  # noqa: E402  (the same config template, SRAM size as a field)


class Layer(NamedTuple):
    """One conv layer of a SCALE-Sim topology file (square stride)."""

    topology: str
    name: str
    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    num_filter: int
    stride: int


class Run(NamedTuple):
    """One SCALE-Sim simulation: a layer on a rows x cols array with a dataflow."""

    layer: Layer
    dataflow: str
    rows: int
    cols: int

    def shape(self) -> tuple[object, ...]:
        """What SCALE-Sim's result depends on: layer dimensions, dataflow and array."""
        return (*self.layer[2:], self.dataflow, self.rows, self.cols)

    def key(self) -> tuple[str, ...]:
        """The run's identity as it appears (as strings) in the output CSVs."""
        return tuple(str(v) for v in self.record().values())

    def record(self) -> dict[str, object]:
        """The run's columns of shipped_runs.csv / skipped_runs.csv."""
        lay = self.layer
        return dict(topology=lay.topology, layer=lay.name,
                    **{f: getattr(lay, f) for f in LAYER_FIELDS},
                    dataflow=self.dataflow, rows=self.rows, cols=self.cols)


def read_topology(path: Path) -> list[Layer]:
    """The layers of a SCALE-Sim conv topology CSV (first eight columns only)."""
    layers = []
    with open(path, newline="") as f:
        rows = csv.reader(f)
        next(rows)  # header
        for row in rows:
            if not row or not row[0].strip():
                continue
            layers.append(Layer(path.stem, row[0].strip(), *(int(v) for v in row[1:8])))
    return layers


def estimated_cycles(run: Run) -> int:
    """Rough SCALE-Sim cycle count (folds x fold length), used only to order runs."""
    lay = run.layer
    p = math.ceil((lay.ifmap_h - lay.filter_h + lay.stride) / lay.stride)
    q = math.ceil((lay.ifmap_w - lay.filter_w + lay.stride) / lay.stride)
    k, m, np_ = lay.filter_h * lay.filter_w * lay.channels, lay.num_filter, p * q
    sr, sc, t = {"ws": (k, m, np_), "is": (k, np_, m), "os": (np_, m, k)}[run.dataflow]
    return math.ceil(sr / run.rows) * math.ceil(sc / run.cols) * (2 * run.rows + run.cols + t)


def simulate_single(run: Run, workdir: Path) -> int:
    """Run SCALE-Sim on one layer in this process; return COMPUTE_REPORT's Total Cycles."""
    from scalesim.scale_sim import scalesim

    lay = run.layer
    name = f"{lay.topology}_{lay.name}_{run.dataflow}_{run.rows}x{run.cols}"
    workdir.mkdir(parents=True, exist_ok=True)
    cfg, topo, layout = workdir / f"{name}.cfg", workdir / f"{name}.csv", workdir / "layout.csv"
    cfg.write_text(CFG.format(name=name, rows=run.rows, cols=run.cols, df=run.dataflow, sram=SRAM_KB))
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                    "Num Filter, Strides,\n"
                    + ", ".join([lay.name, *(str(getattr(lay, f)) for f in LAYER_FIELDS)]) + ",\n")
    layout.write_text("Layer name,\n")
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                       layout=str(layout), input_type_gemm=False)
        sim.run_scale(top_path=str(workdir))
    with open(workdir / name / "COMPUTE_REPORT.csv", newline="") as f:
        header, row = list(csv.reader(f))[:2]
    header = [h.strip() for h in header]
    return int(row[header.index("Total Cycles")].strip())


def launch(run: Run, workdir: Path, timeout: float, mem_gb: float) -> tuple[int | None, str]:
    """Simulate ``run`` in a niced, memory-capped child; (total_cycles, "") or (None, reason)."""
    limit = int(mem_gb * 2**30)

    def limit_child() -> None:
        os.nice(19 - os.nice(0))
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    lay = run.layer
    cmd = [sys.executable, str(Path(__file__).resolve()), "--single", str(workdir), lay.topology, lay.name,
           *(str(getattr(lay, f)) for f in LAYER_FIELDS), run.dataflow, str(run.rows), str(run.cols)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=limit_child)
    except subprocess.TimeoutExpired:
        return None, f"timeout > {timeout:g} s"
    if proc.returncode == 0:
        return int(proc.stdout.strip().splitlines()[-1]), ""
    err = proc.stderr.strip().splitlines()
    if any("MemoryError" in line or "Unable to allocate" in line for line in err):
        return None, f"memory > {mem_gb:g} GB"
    return None, "error: " + (err[-1] if err else f"exit status {proc.returncode}")


def write_csv(path: Path, fields: list[str], rows: list[dict[str, object]]) -> None:
    """Write ``rows`` (dicts keyed by ``fields``) as a CSV with a header."""
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        out.writeheader()
        out.writerows(rows)


def main() -> None:
    """Run every (topology layer, array, dataflow) once and write the two CSVs."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget-min", type=float, default=70.0, help="launch no run after this many minutes")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a run is skipped")
    ap.add_argument("--mem-gb", type=float, default=6.0, help="address-space cap of a run, GB")
    ap.add_argument("--resume", action="store_true", help="keep the rows already in shipped_runs.csv")
    ap.add_argument("--single", nargs=13, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.single:  # child process: one run, print its Total Cycles
        workdir, topology, name, *vals = args.single
        layer = Layer(topology, name, *(int(v) for v in vals[:7]))
        print(simulate_single(Run(layer, vals[7], int(vals[8]), int(vals[9])), Path(workdir)))
        return

    runs = [Run(lay, df, r, c)
            for topo in TOPOLOGIES for lay in read_topology(DATA / "topologies" / f"{topo}.csv")
            for (r, c) in ARRAYS for df in DATAFLOWS]
    order = {run: i for i, run in enumerate(runs)}
    done: dict[Run, int] = {}
    if args.resume and (DATA / "shipped_runs.csv").exists():
        with open(DATA / "shipped_runs.csv", newline="") as f:
            old = {tuple(r[k] for k in RUN_FIELDS): int(r["total_cycles"]) for r in csv.DictReader(f)}
        done = {run: old[run.key()] for run in runs if run.key() in old}

    todo: dict[tuple[object, ...], list[Run]] = {}
    for run in runs:
        if run not in done:
            todo.setdefault(run.shape(), []).append(run)

    skipped: dict[Run, str] = {}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="scalesim_shipped_") as tmp:
        for i, same in enumerate(sorted(todo.values(), key=lambda group: estimated_cycles(group[0]))):
            run = same[0]
            if time.monotonic() - start > 60 * args.budget_min:
                skipped.update((r, f"not run: {args.budget_min:g} min budget exhausted") for r in same)
                continue
            t0 = time.monotonic()
            cycles, reason = launch(run, Path(tmp) / str(i), args.timeout, args.mem_gb)
            if cycles is None:
                skipped.update((r, reason) for r in same)
            else:
                done.update((r, cycles) for r in same)
            print(f"{run.layer.topology:>9} {run.layer.name:<8} x{len(same)} {run.dataflow} {run.rows}x{run.cols} "
                  f"{cycles if cycles is not None else reason:>12}  {time.monotonic() - t0:6.1f} s", flush=True)

    write_csv(DATA / "shipped_runs.csv", RUN_FIELDS + ["total_cycles"],
              [dict(run.record(), total_cycles=done[run]) for run in sorted(done, key=order.get)])
    write_csv(DATA / "skipped_runs.csv", RUN_FIELDS + ["reason"],
              [dict(run.record(), reason=skipped[run]) for run in sorted(skipped, key=order.get)])
    print(f"{len(done)} completed, {len(skipped)} skipped, {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
