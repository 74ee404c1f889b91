"""Benchmark issue 11's target: import and run MobileNet-v1 + SSD300 from ONNX on eyeriss.yaml (< 10 s).

Usage:  python benchmarks/onnx_import.py
Builds the model with onnx.helper (tests/onnx_graphs.py; weights are zeros, 27 MB on disk), then times
the whole command ``accelsim run eyeriss.yaml model.onnx`` in a fresh process, and the import alone.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def main() -> None:
    import onnx
    from onnx_graphs import mobilenet_ssd300

    from accelsim.workload import load_workload

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "mobilenet_ssd300.onnx"
        onnx.save(mobilenet_ssd300(), path)
        t0 = time.perf_counter()
        w = load_workload(str(path))
        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = subprocess.run(["accelsim", "run", "eyeriss.yaml", str(path), "-o", str(Path(d) / "out")],
                             capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode:
            sys.exit(res.stderr)
        line = next(l for l in res.stdout.splitlines() if l.startswith("latency"))
        print(f"model {path.stat().st_size / 1e6:.1f} MB, {len(w.layers)} layers, {w.macs:,} MACs, "
              f"{w.params:,} parameters")
        print(f"import alone {t_import:.2f} s; accelsim run eyeriss.yaml model.onnx {wall:.2f} s wall (target < 10 s)")
        print(line)


if __name__ == "__main__":
    main()
