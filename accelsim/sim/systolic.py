"""Systolic-array fold timing (SCALE-Sim's model).

A fold is one mapping of the stationary operand onto the physical array
(WS: a block of weights; OS: a block of outputs; IS: a block of ifmap
windows).  SCALE-Sim (Samajdar et al., "A Systematic Methodology for
Characterizing Scalability of DNN Accelerators using SCALE-Sim", ISPASS
2020, section III-B; scalesim 3.0.0 ``compute/systolic_compute_ws.py``,
``..._os.py``, ``..._is.py``, where each fold's demand matrix has
2*Ra + Ca + T - 2 rows) charges every fold

    2*Ra + Ca + T - 2 cycles

on an Ra x Ca array, where T is the number of temporal steps of the fold
(WS: ofmap pixels streamed; OS: window size R*S*C accumulated; IS: filters
streamed): Ra cycles to load the stationary operand, T cycles of streaming,
and Ra + Ca - 2 cycles of skew while the wavefront crosses the array.  The
physical array size counts even when a fold uses only part of it.
"""

from __future__ import annotations


def fold_cycles(rows: int, cols: int, t: int) -> int:
    """Cycles of one systolic fold on a rows x cols array streaming t steps (see module doc)."""
    return 2 * rows + cols + t - 2


def layer_compute_cycles(rows: int, cols: int, row_dim: int, col_dim: int, t: int) -> int:
    """SCALE-Sim's compute cycles of a whole GEMM-shaped layer.

    ``row_dim`` is folded over the array rows and ``col_dim`` over its
    columns: folds = ceil(row_dim / rows) * ceil(col_dim / cols), each of
    :func:`fold_cycles`.  WS: row_dim = R*S*C, col_dim = M, t = P*Q*N.
    """
    folds = -(-row_dim // rows) * -(-col_dim // cols)
    return folds * fold_cycles(rows, cols, t)
