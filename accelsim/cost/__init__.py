"""Cost stage: exact access counts and a first latency model for a mapping."""

from .model import (ACTIONS, STORAGE, AccessCounts, Latency, LevelCounts, NocCounts, access_counts,
                    dram_bytes, fits, latency, tile_words, valid_macs)

__all__ = ["ACTIONS", "STORAGE", "AccessCounts", "Latency", "LevelCounts", "NocCounts", "access_counts",
           "dram_bytes", "fits", "latency", "tile_words", "valid_macs"]
