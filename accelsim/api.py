"""The Python API: the same run as ``accelsim run``, from a notebook or a script.

    import accelsim
    r = accelsim.run("eyeriss.yaml", "mobilenet.yaml")
    r.totals["latency_s"], r.totals["energy_pj"]
    df = r.to_dataframe()                  # one row per layer, units in the column names
    r                                      # in Jupyter: a compact HTML table

Inputs are bundled names, paths, already-parsed dicts (the YAML's content) or resolved objects
(:class:`~accelsim.arch.Architecture`, :class:`~accelsim.workload.Workload`,
:class:`~accelsim.mapping.dataflow.Dataflow`).  The figures are the CLI's to the last digit: both run
:func:`~accelsim.pipeline.run_network`, the same baseline (:func:`~accelsim.pipeline.baseline_for`) and
:func:`~accelsim.report.build_report`; ``Result.report`` is the ``report.json`` the CLI writes.
Bad input raises :class:`~accelsim.errors.InputError` naming the file (or ``<arch dict>``), the field
and what is wrong.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from os import PathLike
from typing import Any

from .arch import Architecture, build_arch, load_arch
from .mapper.confirm import DEFAULT_CONFIRM
from .mapper.fixed import load_mappings
from .mapper.search import DEFAULT_BUDGET, OBJECTIVES
from .mapping import load_dataflow
from .mapping.dataflow import Dataflow
from .errors import InputError
from .pipeline import NetworkResult, baseline_for, run_network
from .report import build_report
from .workload import Workload, load_workload
from .workload.network import build_workload


def _arch(arch, precision: str | None = None) -> Architecture:
    if isinstance(arch, Architecture):
        if precision is not None:
            raise InputError("precision applies to an arch file or dict, not a resolved Architecture",
                             field="precision")
        return arch
    if isinstance(arch, dict):
        return build_arch(arch, "<arch dict>", precision=precision)
    if isinstance(arch, (str, PathLike)):
        return load_arch(str(arch), precision)
    raise InputError(f"arch must be a file name, a path, a dict or an Architecture, not {type(arch).__name__}")


def _workload(workload, batch: int | None, params: dict | None = None) -> Workload:
    if isinstance(workload, Workload):
        if batch is not None:
            raise InputError("batch applies to a workload file or dict, not a compiled Workload", field="batch")
        return workload
    if isinstance(workload, dict):
        return build_workload({**workload, "batch": batch} if batch is not None else workload, "<workload dict>",
                              params=params)
    if isinstance(workload, (str, PathLike)):
        return load_workload(str(workload), batch, params=params)
    raise InputError(f"workload must be a file name, a path, a dict or a Workload, not {type(workload).__name__}")


def resolve_dataflow(dataflow, arch: Architecture) -> Dataflow:
    """The dataflow of a run: a Dataflow as is, a bundled name or path loaded, None the arch's
    ``default_dataflow`` (resolved beside the arch file).

    Raises:
        InputError: an unknown name, a bad file, or a value of another type.
    """
    if isinstance(dataflow, Dataflow):
        return dataflow
    if dataflow is None:
        return load_dataflow(arch.default_dataflow, base=arch.folder, source=arch.path, field="default_dataflow")
    if isinstance(dataflow, (str, PathLike)):
        return load_dataflow(str(dataflow), field="dataflow")
    raise InputError(f"dataflow must be a name, a path or a Dataflow, not {type(dataflow).__name__}",
                     field="dataflow")


@dataclass
class Result:
    """One run's outcome.

    Attributes:
        report: the ``report.json`` content (schema ``accelsim.report/4``; units in the field names:
            cycles, pJ, bytes, seconds).
        network: the typed :class:`~accelsim.pipeline.NetworkResult` (mappings, counts, simulations).
    """

    report: dict
    network: NetworkResult

    @property
    def totals(self) -> dict:
        """Network totals: ``cycles``, ``latency_s``, ``energy_pj``, ``edp_pj_cycles``, ``dram_bytes``, ..."""
        return self.report["totals"]

    @property
    def layers(self) -> list[dict]:
        """Per-layer entries of the report, in file order."""
        return self.report["layers"]

    def to_dataframe(self):
        """One row per mapped layer (pandas; ``pip install accelsim[plot]``); units in the column names.

        Columns: ``layer``, ``type``, ``macs``, ``cycles``, ``compute_cycles``, ``stall_<cause>_cycles``,
        ``latency_s``, ``utilization`` (fraction), ``energy_pj``, ``energy_<level>_pj`` (MAC, each level,
        NoC), ``pj_per_mac``, ``dram_bytes``, ``active_pes``, and with sparse operands
        ``effective_macs`` and ``speedup_vs_dense``.

        Raises:
            ImportError: pandas is not installed.
        """
        return layers_frame(self.report)

    def _repr_html_(self) -> str:
        t = self.totals
        arch = self.report["inputs"]["arch"]["name"]
        wl = self.report["inputs"]["workload"]["name"]
        head = (f"<b>{html.escape(str(wl))} on {html.escape(str(arch))}</b>: {t['layers']} layers, "
                f"{t['latency_s'] * 1e3:.3f} ms, {t['energy_pj'] / 1e6:.2f} µJ, {t['pj_per_mac']:.2f} pJ/MAC, "
                f"utilization {100 * t['utilization']:.1f}%, DRAM {t['dram_bytes'] / 1e6:.2f} MB")
        cols = ["layer", "cycles", "utilization", "energy µJ", "pJ/MAC", "DRAM MB"]
        rows = "".join(
            "<tr>" + "".join(f"<td>{v}</td>" for v in (
                html.escape(str(l["name"])), f"{l['cycles']:,}", f"{100 * l['utilization']:.1f}%",
                f"{l['energy_pj'] / 1e6:.2f}", f"{l['pj_per_mac']:.2f}", f"{l['dram_bytes'] / 1e6:.3f}")) + "</tr>"
            for l in self.layers)
        return (f"<div>{head}<table><thead><tr>{''.join(f'<th>{c}</th>' for c in cols)}</tr></thead>"
                f"<tbody>{rows}</tbody></table></div>")

    def __repr__(self) -> str:
        t = self.totals
        return (f"<accelsim.Result {self.report['inputs']['workload']['name']} on "
                f"{self.report['inputs']['arch']['name']}: {t['cycles']} cycles, {t['energy_pj']:.6g} pJ>")


def layers_frame(report: dict):
    """The per-layer pandas frame of a report dict (see :meth:`Result.to_dataframe`)."""
    import pandas as pd

    rows = []
    for l in report["layers"]:
        row: dict[str, Any] = {"layer": l["name"], "type": l["type"], "macs": l["macs"], "cycles": l["cycles"],
                               "compute_cycles": l["compute_cycles"]}
        row.update({f"stall_{c}_cycles": v for c, v in l["stall_cycles_by_cause"].items()})
        row["latency_s"] = l["cycles"] / (report["inputs"]["arch"]["clock_mhz"] * 1e6)
        row["utilization"] = l["utilization"]
        row["energy_pj"] = l["energy_pj"]
        row.update({f"energy_{k}_pj": v for k, v in l["energy_by_level_pj"].items()})
        row.update(pj_per_mac=l["pj_per_mac"], dram_bytes=l["dram_bytes"], active_pes=l["active_pes"])
        if l.get("sparse"):
            row["effective_macs"] = l["sparse"]["effective_macs"]
            row["speedup_vs_dense"] = l["sparse"].get("speedup")
        rows.append(row)
    return pd.DataFrame(rows)


def run(arch, workload, dataflow=None, objective: str = "edp", *, batch: int | None = None,
        layers: str | None = None, mapping: str | PathLike | None = None, budget: int = DEFAULT_BUDGET,
        confirm: int = DEFAULT_CONFIRM, jobs: int | None = None, exact: bool = False,
        sparse_mode: str = "statistical", compare_dense: bool = False, precision: str | None = None,
        params: dict[str, int] | None = None, fuse: bool = False) -> Result:
    """Map every layer of ``workload`` onto ``arch`` and simulate it: ``accelsim run`` as a function.

    Args:
        arch, workload: bundled name, path, parsed dict or resolved object.
        dataflow: a name (``rs``), a path or a Dataflow; None: the arch's ``default_dataflow``.
        objective: ``edp``, ``energy`` or ``cycles``.
        batch, layers, mapping, budget, confirm, jobs, exact, sparse_mode, compare_dense, precision: as
            the CLI's ``--batch``, ``--layers``, ``--mapping``, ``--budget``, ``--confirm``, ``--jobs``,
            ``--exact``, ``--sparse-mode``, ``--compare-dense``, ``--precision``.
        params: ``{name: int}``, the workload's parameters (``--param``).
        fuse: keep intermediate ofmaps on chip where that lowers DRAM traffic (``--fuse``).
    Returns:
        :class:`Result`.
    Raises:
        InputError: bad input (file, field and what is wrong), or a layer that cannot be mapped.
    """
    if objective not in OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}", field="objective")
    if sparse_mode not in ("statistical", "actual"):
        raise InputError(f"unknown sparse_mode {sparse_mode!r}: use statistical or actual", field="sparse_mode")
    a = _arch(arch, precision)
    w = _workload(workload, batch, params)
    df = resolve_dataflow(dataflow, a)
    maps = load_mappings(str(mapping)) if mapping is not None else None
    res = run_network(a, w, df, objective, budget, layers, maps, jobs=jobs, exact=exact, confirm=confirm,
                      sparse_mode=sparse_mode, fuse=fuse)
    dense = baseline_for(res, compare_dense, lambda da, dw: run_network(
        da, dw, df, objective, budget, layers, maps, jobs=jobs, exact=exact, confirm=confirm))
    return Result(build_report(res, dense), res)
