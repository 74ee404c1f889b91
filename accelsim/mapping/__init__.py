"""Mapping stage: dataflow constraints, mapping representation, search, user mappings."""

from .dataflow import Dataflow, load_dataflow, stationary_order
from .mapping import LEVELS, TEMPORAL, Mapping, make_mapping
from .search import DEFAULT_BUDGET, OBJECTIVES, Evaluation, SearchResult, evaluate, search

__all__ = ["Dataflow", "load_dataflow", "stationary_order", "LEVELS", "TEMPORAL", "Mapping", "make_mapping",
           "DEFAULT_BUDGET", "OBJECTIVES", "Evaluation", "SearchResult", "evaluate", "search"]
