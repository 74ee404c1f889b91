"""SCALE-Sim topology CSVs -> accelsim workload data (independent layers).

Two formats, told apart by the header's column count (SCALE-Sim's ``load_arrays_conv`` and
``load_arrays_gemm``):

* conv: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
  Strides,`` (extra columns after the eighth are ignored, as in SCALE-Sim's shipped ``Resnet50.csv``);
* GEMM: ``Layer, M, N, K,``: [M x K] . [K x N], an accelsim ``matmul`` rows M, inner K, cols N.

Conventions, as SCALE-Sim computes them (``scalesim/topology_utils.py``, scalesim 2.x and 3.0):

* The IFMAP sizes already include any padding: there is no padding column.  The ofmap size is
  ``ceil((ifmap - filter + stride) / stride)``; accelsim's floor rule gives it with that many rows
  (columns) of bottom (right) zero padding, which this converter adds (0 whenever the stride divides
  ``ifmap - filter``).
* A row whose name contains ``DP`` is depthwise: SCALE-Sim runs it as one single-channel layer per
  channel, each with ``Num Filter`` filters; here it is one conv with ``groups`` = Channels and
  Channels x Num Filter filters (the same MACs and shapes).  Any other row, even one with
  ``Num Filter = 1`` (MobileNet's shipped file), is an ordinary conv over all its channels.
* Blank rows and rows with an empty name or height are skipped; the header row is not a layer.
"""

from __future__ import annotations

import csv
import io

from ..errors import InputError, short

CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
                "Num Filter", "Strides")
GEMM_COLUMNS = ("Layer", "M", "N", "K")


def extra_pad(size: int, kernel: int, stride: int) -> int:
    """Bottom (right) padding that makes the floor rule give SCALE-Sim's ceil((size - kernel + stride) / stride)."""
    want = -(-(size - kernel + stride) // stride)
    return max(0, (want - 1) * stride + kernel - size)


def read_rows(display: str, text: str) -> tuple[str, list[list[str]]]:
    """``(format, rows)``: ``conv`` or ``gemm`` and the data rows' cells (stripped, trailing empties kept).

    Raises:
        InputError: an empty file, or a header with too few columns for either format.
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError("is empty; expected a SCALE-Sim topology CSV", source=display)
    header = [c.strip() for c in rows[0] if c.strip()]
    if len(header) >= len(CONV_COLUMNS):
        fmt = "conv"
    elif len(header) >= len(GEMM_COLUMNS):
        fmt = "gemm"
    else:
        raise InputError(f"the header has {len(header)} columns; a SCALE-Sim topology needs "
                         f"{', '.join(CONV_COLUMNS)} (or, for GEMMs, {', '.join(GEMM_COLUMNS)})",
                         source=display, field="row 1")
    return fmt, [[c.strip() for c in r] for r in rows[1:]]


def scalesim_workload(display: str, text: str, name: str | None = None) -> dict:
    """The workload data (independent layers) of a SCALE-Sim topology CSV (module doc).

    Raises:
        InputError: a row with missing columns or a cell that is not a positive integer, naming the
            row (1-based, the header is row 1) and the column; a file with no layer.
    """
    fmt, rows = read_rows(display, text)
    cols = CONV_COLUMNS if fmt == "conv" else GEMM_COLUMNS
    layers = []
    for k, cells in enumerate(rows, start=2):
        if not any(cells) or not cells[0] or len(cells) < 2 or not cells[1]:
            continue
        if len(cells) < len(cols) or not all(cells[: len(cols)]):
            missing = cols[next(i for i in range(len(cols)) if i >= len(cells) or not cells[i])]
            raise InputError(f"has {sum(1 for c in cells if c)} of the {len(cols)} columns {', '.join(cols)}; "
                             f"{missing!r} is missing", source=display, field=f"row {k}")
        vals = []
        for col, cell in zip(cols[1:], cells[1: len(cols)]):
            try:
                v = int(cell)
            except ValueError:
                v = 0
            if v < 1:
                raise InputError(f"{col} must be a positive integer, got {short(cell)}", source=display,
                                 field=f"row {k} ({cols[0]} {short(cells[0])})")
            vals.append(v)
        lname = cells[0]
        if fmt == "gemm":
            m, n, kk = vals
            layers.append({"name": lname, "type": "matmul", "rows": m, "inner": kk, "cols": n})
            continue
        h, w, r, s, c, m, st = vals
        layer = {"name": lname, "type": "conv2d", "input": {"channels": c, "height": h, "width": w},
                 "out_channels": m, "kernel": [r, s], "stride": st,
                 "padding": [0, extra_pad(h, r, st), 0, extra_pad(w, s, st)]}
        if "DP" in lname:
            layer.update(groups=c, out_channels=c * m)
        layers.append(layer)
    if not layers:
        raise InputError("has no layer rows after its header", source=display)
    return {"name": name or display, "source": f"imported from the SCALE-Sim topology {display} ({fmt})",
            "independent": True, "layers": layers}
