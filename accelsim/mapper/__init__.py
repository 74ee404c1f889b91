"""Mapper stage: the search over the mapping space, ranked by the cost and energy models, and user mappings.

It sits above :mod:`accelsim.cost` and :mod:`accelsim.energy` (which only need
the mapping representation in :mod:`accelsim.mapping`), so data flows one way:
mapping representation -> cost -> energy -> mapper.
"""

from .fixed import MappingFile, build_fixed, load_mappings
from .search import DEFAULT_BUDGET, Evaluation, SearchResult, evaluate, search

__all__ = ["MappingFile", "build_fixed", "load_mappings", "DEFAULT_BUDGET", "Evaluation", "SearchResult",
           "evaluate", "search"]
