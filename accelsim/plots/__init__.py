"""Figures from reports (``accelsim plot``, ``accelsim.plot``): matplotlib, drawn from ``report.json``.

Every figure draws the levels and causes present in its report, never a fixed list; axes carry their
units.  The kinds (:data:`PLOT_KINDS`):

* ``energy``: energy per layer as stacked bars, by level (MAC, each storage level, NoC) and by tensor.
* ``dataflows``: a network's energy per MAC across several runs side by side (one bar per report,
  labelled by its dataflow), stacked by level, in the shape of the Eyeriss ISCA 2016 comparison
  (Chen, Emer, Sze, Fig. 10-11).
* ``cycles``: cycles per layer split into compute and each stall cause.
* ``utilization``: utilization and spatial utilization per layer.
* ``roofline``: attainable MAC/s against operational intensity (MACs per DRAM byte), each layer a point
  under the arch's compute roof (peak MACs per cycle x clock) and DRAM roof (bytes per cycle x clock x
  intensity): Williams, Waterman, Patterson, "Roofline", CACM 2009.
* ``pe-busy``: per-PE utilization (busy cycles / compute cycles) of each layer, a heatmap, from a run
  with ``--sparse-mode actual`` (load imbalance from the real non-zeros).
* ``speedup``: each layer's speedup over its dense baseline against its operand density (filter x
  ifmap), from one or more runs with sparse operands.
* ``pareto``: a sweep's points (its results store), energy against latency with the Pareto front
  marked and the points coloured by an axis, and energy against on-chip storage (an area proxy).
"""

from .figures import PLOT_KINDS, load_report, plot

__all__ = ["PLOT_KINDS", "load_report", "plot"]
