"""Mapping representation and dataflow constraints.

This package sits below the cost model, which only needs the representation;
the search that ranks mappings with the cost model is :mod:`accelsim.mapper`.
"""

from .dataflow import Dataflow, load_dataflow, stationary_order
from .mapping import Mapping, Slot, make_mapping, slots_of

__all__ = ["Dataflow", "load_dataflow", "stationary_order", "Mapping", "Slot", "make_mapping", "slots_of"]
