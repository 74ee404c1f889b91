"""Energy stage: access counts x energy per action -> breakdown per level and tensor."""

from .model import LEVEL_NAMES, Energy, energy

__all__ = ["LEVEL_NAMES", "Energy", "energy"]
