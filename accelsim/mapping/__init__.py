"""Mapping representation and dataflow constraints.

This package sits below the cost model, which only needs the representation;
the search that ranks mappings with the cost model is :mod:`accelsim.mapper`.
"""

from .dataflow import Dataflow, load_dataflow, stationary_order
from .mapping import LEVELS, TEMPORAL, Mapping, make_mapping

__all__ = ["Dataflow", "load_dataflow", "stationary_order", "LEVELS", "TEMPORAL", "Mapping", "make_mapping"]
