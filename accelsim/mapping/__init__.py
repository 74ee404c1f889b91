"""Mapping stage: dataflow constraints, the mapping representation, search, user mappings.

The search (``accelsim.mapping.search``) ranks candidates with the cost model,
which itself only needs the representation here; import it from its module.
"""

from .dataflow import Dataflow, load_dataflow, stationary_order
from .mapping import LEVELS, TEMPORAL, Mapping, make_mapping

__all__ = ["Dataflow", "load_dataflow", "stationary_order", "LEVELS", "TEMPORAL", "Mapping", "make_mapping"]
