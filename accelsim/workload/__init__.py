"""Workload stage: layer files -> validated graph -> canonical loop nests."""

from .loopnest import COORDS, DIMS, RELEVANT, TENSORS, LoopNest, out_size
from .network import Layer, Shape, Workload, build_workload, load_workload

__all__ = [
    "COORDS", "DIMS", "RELEVANT", "TENSORS", "LoopNest", "out_size",
    "Layer", "Shape", "Workload", "build_workload", "load_workload",
]
