"""Systolic-array fold timing, exactly as SCALE-Sim 3.0.0 counts it.

A fold is one placement of the stationary operand on the physical Ra x Ca
array.  SCALE-Sim (Samajdar et al., ISPASS 2020; package scalesim 3.0.0)
lowers a conv to a GEMM with NP = P*Q ofmap pixels, K = R*S*C window size
and M filters, maps Sr onto the rows and Sc onto the columns, streams T
steps per fold, and charges per fold:

=========  ====  ====  ====  =====================
dataflow   Sr    Sc    T     cycles per fold
=========  ====  ====  ====  =====================
WS         K     M     NP    2*Ra + Ca + T - 2
IS         K     NP    M     2*Ra + Ca + T - 2
OS         NP    M     K     Ra + Ca + T - 2
=========  ====  ====  ====  =====================

with ceil(Sr/Ra) * ceil(Sc/Ca) folds, the full array size counting even in a
partly used fold.  Sources: scalesim 3.0.0 ``compute/systolic_compute_ws.py``
lines 102-110 (dims, folds), 242-245 and 325 (Ra-row prefix, Ca-1 suffix,
Ra-1 skew of the ifmap demand), 345 (filter fold Ra + Ra + Ca + T - 2);
``systolic_compute_os.py`` 85-92, 264-294 (T + Ca - 1 rows, then Ra - 1 of
skew); ``systolic_compute_is.py`` 86-93, 224-257.  WS/IS: Ra cycles load the
stationary operand, T stream, Ra + Ca - 2 cross the skewed wavefront; OS
accumulates in place and needs no load phase.

SCALE-Sim's COMPUTE_REPORT "Total Cycles" is the index of the last cycle,
i.e. (sum of fold cycles) - 1 when nothing stalls; accelsim reports the
count, sum of fold cycles.  The formula matched scalesim 3.0.0 on 252
layer/array/dataflow runs; tests/test_systolic.py keeps the 76 of them whose
folds a perfect factorisation reproduces and checks the simulator against them.
"""

from __future__ import annotations


def fold_cycles(rows: int, cols: int, t: int, stationary: str | None = "filter") -> int:
    """Cycles of one fold on a rows x cols systolic array streaming t steps.

    ``stationary`` is the dataflow's stationary tensor: ``ofmap`` (OS) has
    no load phase; ``filter`` (WS), ``ifmap`` (IS) and None load first.
    """
    load = 0 if stationary == "ofmap" else rows
    return load + rows + cols + t - 2


def layer_compute_cycles(rows: int, cols: int, sr: int, sc: int, t: int, stationary: str | None = "filter") -> int:
    """SCALE-Sim's compute cycles (as a count) of a GEMM-shaped layer: folds x fold cycles.

    ``sr`` is folded over the rows and ``sc`` over the columns (see the table in the module doc).
    """
    folds = -(-sr // rows) * -(-sc // cols)
    return folds * fold_cycles(rows, cols, t, stationary)
