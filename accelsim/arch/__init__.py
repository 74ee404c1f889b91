"""Architecture stage: arch YAML -> resolved :class:`Architecture`."""

from .spec import Architecture, LevelEnergy, NocLink, build_arch, load_arch

__all__ = ["Architecture", "LevelEnergy", "NocLink", "build_arch", "load_arch"]
