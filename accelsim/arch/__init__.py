"""Architecture stage: storage hierarchy, fan-outs, NoC, DRAM and energy per action."""

from .levels import ActionEnergy, NocLink, Partition, StorageLevel
from .spec import Architecture, build_arch, load_arch

__all__ = ["ActionEnergy", "Architecture", "NocLink", "Partition", "StorageLevel", "build_arch", "load_arch"]
