"""SCALE-Sim's shipped topologies and runs, restated for accelsim (used by the reproduction test and README).

* :func:`read_topology` reads a SCALE-Sim topology CSV (its shipped conv-net files, with their
  trailing commas, padded cells and blank rows).
* :func:`to_workload` writes the layers as an accelsim workload of independent layers, each as
  SCALE-Sim sees it: no groups (a depthwise row is one filter over all channels, as given), and
  SCALE-Sim's output size ceil((H - R + stride) / stride) (scalesim 3.0.0
  ``topology_utils.py`` lines 285-286), which accelsim's floor rule gives with that many rows of
  bottom (right) padding.
* :func:`to_gemm_workload` writes each layer as the GEMM SCALE-Sim lowers it to (im2col: ofmap
  pixels NP = P*Q by window K = R*S*C by filters M), whose folds it counts.
* :func:`scalesim_arch` is SCALE-Sim's machine: a rows x cols systolic array, 8-bit words,
  double-buffered 64 KB SRAMs per operand (the ofmap's a write buffer: outputs drain to DRAM as
  they leave the array, needing no whole-tile space), and memory that never stalls (its CALC
  bandwidth).
"""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).parent / "data" / "scalesim"
#: SCALE-Sim dataflow -> accelsim dataflow with its axes (ws_gemm: M alone across the columns; os_gemm: pixels down the rows).
DATAFLOW = {"ws": "ws_gemm", "is": "is", "os": "os_gemm"}


def read_topology(path: Path) -> list[tuple]:
    """Rows ``(name, H, W, R, S, C, M, stride)`` of a SCALE-Sim topology CSV (blank rows skipped)."""
    out = []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    for row in rows[1:]:
        cells = [c.strip() for c in row]
        if len(cells) < 8 or not cells[0] or not cells[1]:
            continue
        name = cells[0]
        h, w, r, s, c, m, st = (int(x) for x in cells[1:8])
        out.append((name, h, w, r, s, c, m, st))
    return out


def _extra_pad(size: int, kernel: int, stride: int) -> int:
    """Bottom padding that makes the floor rule give SCALE-Sim's ceil((size - kernel + stride) / stride)."""
    want = -(-(size - kernel + stride) // stride)
    return max(0, (want - 1) * stride + kernel - size)


def to_workload(rows: list[tuple], name: str) -> dict:
    """An accelsim workload (independent layers) with SCALE-Sim's shapes (module doc)."""
    layers = []
    for lname, h, w, r, s, c, m, st in rows:
        layers.append({"name": lname, "type": "conv2d", "input": {"channels": c, "height": h, "width": w},
                       "out_channels": m, "kernel": [r, s], "stride": st,
                       "padding": [0, _extra_pad(h, r, st), 0, _extra_pad(w, s, st)]})
    return {"name": name, "independent": True, "layers": layers}


def gemm_dims(row: tuple) -> tuple[int, int, int]:
    """SCALE-Sim's GEMM of a topology row (its im2col lowering): ``(NP, K, M)`` = (ofmap pixels,
    window size R*S*C, filters), with its output-size rule (module doc)."""
    _, h, w, r, s, c, m, st = row
    p, q = -(-(h - r + st) // st), -(-(w - s + st) // st)
    return p * q, r * s * c, m


def to_gemm_workload(rows: list[tuple], name: str) -> dict:
    """The layers as SCALE-Sim computes them: one matmul [NP x K] . [K x M] per layer (:func:`gemm_dims`)."""
    layers = []
    for row in rows:
        np_, k, m = gemm_dims(row)
        layers.append({"name": row[0], "type": "matmul", "rows": np_, "inner": k, "cols": m})
    return {"name": f"{name}_gemm", "independent": True, "layers": layers}


def scalesim_arch(rows: int, cols: int, sram_kb: int = 64) -> dict:
    """SCALE-Sim's machine in accelsim's hierarchy form (module doc)."""
    words = sram_kb * 1024
    big = 1 << 20
    return {
        "name": f"scalesim_{rows}x{cols}",
        "source": "SCALE-Sim 3.0.0's systolic array (Samajdar et al., ISPASS 2020): 8-bit words "
                  "(single_layer_sim.py: word_size = 1), double-buffered operand SRAMs of "
                  f"{sram_kb} KB each, the ofmap's a write buffer draining to DRAM, CALC interface "
                  "bandwidth (no memory stall).",
        "clock_mhz": 1000,
        "default_dataflow": "ws",
        "word_bits": {"filter": 8, "ifmap": 8, "ofmap": 8},
        "levels": [
            {"name": "PE_regs", "capacity_words": {"filter": 2, "ifmap": 1, "ofmap": 1}},
            {"name": "SRAM", "capacity_words": {"filter": words, "ifmap": words},
             "write_buffer": {"capacity_words": words, "double_buffered": True},
             "double_buffered": True, "read_bw_words": big, "write_bw_words": big,
             "fanout": {"rows": rows, "cols": cols},
             "noc": {t: {"type": "systolic", "bw_words": big} for t in ("filter", "ifmap", "ofmap")}},
        ],
        "dram": {"bw_bytes_per_cycle": big, "latency_cycles": 0},
    }


def shipped_runs() -> list[dict]:
    """The measured SCALE-Sim runs (``shipped_runs.csv``): one dict per layer x array x dataflow."""
    with open(DATA / "shipped_runs.csv", newline="") as f:
        return [{k: (v if k in ("topology", "layer", "dataflow") else int(v)) for k, v in row.items()}
                for row in csv.DictReader(f)]
