"""accelsim: a simulator of spatial DNN accelerators.

Stages, each its own package, data flowing one way:
``workload`` (layers -> loop nests) -> ``arch`` (architecture spec) ->
``mapping`` (mapping representation, dataflow constraints) -> ``cost``
(access counts, analytical latency) -> ``energy`` (counts x energy per
action) -> ``mapper`` (search ranked by cost and energy; user mappings) ->
``sim`` (event simulation of the chosen mapping: cycles, stalls) -> ``report``.
"""

__version__ = "0.1.0"

#: The public API (``accelsim.run``, ...), loaded on first use so that ``import accelsim.arch`` stays light.
_API = {"run": "api", "Result": "api", "layers_frame": "api", "plot": "plots", "PLOT_KINDS": "plots",
        "sweep": "dse", "load_sweep": "dse"}
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'accelsim' has no attribute {name!r}")
