"""Design-space exploration (DSE): ``accelsim sweep`` and ``accelsim.sweep`` (see :mod:`.spec` for the spec,
:mod:`.engine` for the execution on dask, :mod:`.store` for the results, :mod:`.search` for optuna)."""

from .engine import SweepSummary
from .run import sweep
from .store import SweepStore, load_sweep

__all__ = ["SweepStore", "SweepSummary", "load_sweep", "sweep"]
