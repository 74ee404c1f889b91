"""accelsim: a simulator of spatial DNN accelerators.

Stages, each its own package, data flowing one way:
``workload`` (layers -> loop nests) -> ``arch`` (architecture spec) ->
``mapping`` (dataflow constraints, mapping search) -> ``cost`` (access counts,
latency) -> ``energy`` (counts x energy per action) -> ``report``.
"""

__version__ = "0.1.0"
