"""accelsim: a simulator of spatial DNN accelerators.

Stages, each its own package, data flowing one way:
``workload`` (layers -> loop nests) -> ``arch`` (architecture spec) ->
``mapping`` (mapping representation, dataflow constraints) -> ``cost``
(access counts, analytical latency) -> ``energy`` (counts x energy per
action) -> ``mapper`` (search ranked by cost and energy; user mappings) ->
``sim`` (event simulation of the chosen mapping: cycles, stalls) -> ``report``.
"""

__version__ = "0.1.0"
