"""Workload stage: layer files -> validated graph -> canonical loop nests."""

from .loopnest import COORDS, DIMS, RELEVANT, TENSORS, LoopNest, out_size
from .layers import Layer, Shape
from .network import Workload, build_workload, load_workload

__all__ = [
    "COORDS", "DIMS", "RELEVANT", "TENSORS", "LoopNest", "out_size",
    "Layer", "Shape", "Workload", "build_workload", "load_workload",
]
