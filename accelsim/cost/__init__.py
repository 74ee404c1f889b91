"""Cost stage: per-loop traffic, exact access counts, buffer fits and a first latency model for a mapping."""

from .latency import Latency, latency, prefetched_inputs, top_double_buffered
from .fits import fits, level_fits, tile_words
from .model import ACTIONS, AccessCounts, LevelCounts, NocCounts, access_counts, dram_bytes, valid_macs
from .traffic import Hop, hops, loop_strides, outer_loops

__all__ = ["ACTIONS", "AccessCounts", "Hop", "Latency", "LevelCounts", "NocCounts", "access_counts", "dram_bytes",
           "fits", "hops", "latency", "level_fits", "loop_strides", "outer_loops", "prefetched_inputs", "tile_words",
           "top_double_buffered", "valid_macs"]
