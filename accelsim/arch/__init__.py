"""Architecture stage: arch YAML -> resolved :class:`Architecture`."""

from .spec import Architecture, LevelEnergy, build_arch, load_arch

__all__ = ["Architecture", "LevelEnergy", "build_arch", "load_arch"]
