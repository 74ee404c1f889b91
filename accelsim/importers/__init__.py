"""Networks from other tools' formats, as accelsim workload data (the dict a workload YAML file holds).

* :mod:`.onnx_graph`: ONNX models (``.onnx``), with ONNX shape inference;
* :mod:`.scalesim`: SCALE-Sim topology CSVs (``.csv``), conv or GEMM;
* :mod:`.timeloop`: Timeloop problem YAML files (a top-level ``problem``).

Each converter states its conventions in its module doc.  The workload compiler
(:func:`accelsim.workload.network.build_workload`) then validates the data like any workload file.
"""

from .onnx_graph import onnx_workload
from .onnx_inputs import parse_input_shape
from .scalesim import scalesim_workload
from .timeloop import is_timeloop_problem, timeloop_workload

__all__ = ["onnx_workload", "parse_input_shape", "scalesim_workload", "timeloop_workload", "is_timeloop_problem"]
