"""Energy stage: access counts x energy per action -> breakdown per level and tensor."""

from .model import MAC, NOC, Energy, energy

__all__ = ["MAC", "NOC", "Energy", "energy"]
