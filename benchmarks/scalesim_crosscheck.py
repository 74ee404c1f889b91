"""Run SCALE-Sim 3.0.0 on the systolic test table and compare with accelsim.

SCALE-Sim is not a dependency of accelsim.  To run this:

    python -m venv /tmp/ssv && /tmp/ssv/bin/pip install scalesim==3.0.0 "numpy<2.3" -e .
    /tmp/ssv/bin/python benchmarks/scalesim_crosscheck.py

(scalesim 3.0.0 fails with numpy >= 2.3: a TypeError in
memory/double_buffered_scratchpad_mem.py:307.)  It prints, per case, SCALE-Sim's
"Total Cycles" (COMPUTE_REPORT.csv), accelsim's array cycles - 1 (SCALE-Sim
reports the last cycle's index), and whether they agree.  The table it reads
is ``SCALESIM_RUNS`` in tests/test_systolic.py, whose last column was produced
by this script.

Config used: 10 MB SRAMs and CALC interface bandwidth, so memory never stalls;
no ``[network_presets]`` section (scale_config.py:128 then looks for the
topology in the wrong section); a header-only layout file.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
import tempfile
from pathlib import Path

#: SCALE-Sim config template (``benchmarks/scalesim_shipped.py`` uses it too): array, dataflow, SRAM KB.
CFG = """[general]
run_name = {name}

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = {sram}
FilterSramSzkB = {sram}
OfmapSramSzkB = {sram}
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Bandwidth = 1000
Dataflow = {df}
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 1000
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 1000
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40
"""


def run_one(case, workdir: Path) -> int:
    """SCALE-Sim's Total Cycles for (dataflow, rows, cols, H, W, R, S, C, M, stride)."""
    from scalesim.scale_sim import scalesim

    df, ra, ca, H, W, R, S, C, M, s = case
    name = f"{df}_{ra}x{ca}_" + "_".join(map(str, (H, W, R, S, C, M, s)))
    workdir.mkdir(parents=True, exist_ok=True)
    cfg, topo, layout = workdir / f"{name}.cfg", workdir / f"{name}.csv", workdir / "layout.csv"
    cfg.write_text(CFG.format(name=name, rows=ra, cols=ca, df=df, sram=10000))
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                    f"Strides,\nL0, {H}, {W}, {R}, {S}, {C}, {M}, {s},\n")
    layout.write_text("Layer name,\n")
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(save_disk_space=True, verbose=False, config=str(cfg), topology=str(topo),
                       layout=str(layout), input_type_gemm=False)
        sim.run_scale(top_path=str(workdir))
    with open(workdir / name / "COMPUTE_REPORT.csv") as f:
        row = list(csv.reader(f))[1]
    return int(row[2].strip())


def main() -> None:
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here.parent / "tests"))
    from test_systolic import DATAFLOW, SCALESIM_RUNS, scalesim_mapping, systolic_arch

    from accelsim.mapping import load_dataflow
    from accelsim.sim import simulate
    from accelsim.workload import LoopNest

    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':<40}{'scalesim':>10}{'accelsim-1':>12}")
        for case in SCALESIM_RUNS:
            df, ra, ca, H, W, R, S, C, M, s, _ = case
            ss = run_one(case[:10], Path(tmp))
            P, Q = (H - R) // s + 1, (W - S) // s + 1
            nest = LoopNest(dims=dict(N=1, G=1, M=M, C=C, P=P, Q=Q, R=R, S=S), H=H, W=W, stride=(s, s))
            flow = load_dataflow(DATAFLOW[df])
            sim = simulate(nest, systolic_arch(ra, ca), scalesim_mapping(df, ra, ca, nest), flow.stationary)
            ours = sim.compute_cycles + sim.stall_cycles["pipeline"] - 1
            bad += ours != ss
            print(f"{str(case[:10]):<40}{ss:>10}{ours:>12}{'' if ours == ss else '  MISMATCH'}")
    print(f"{len(SCALESIM_RUNS) - bad} passed, {bad} failed")


if __name__ == "__main__":
    main()
