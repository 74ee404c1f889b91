"""Simulation stage: the event simulator (simpy) of a mapped layer, and trace output."""

from .engine import CAUSES, RESOURCES, SimResult, simulate
from .systolic import fold_cycles, layer_compute_cycles

__all__ = ["CAUSES", "RESOURCES", "SimResult", "simulate", "fold_cycles", "layer_compute_cycles"]
