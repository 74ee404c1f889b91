"""Command line: ``accelsim run``, ``accelsim show-mapping``, ``accelsim list``.

Bad input never produces a traceback: an :class:`InputError` is printed as
``error: FILE: FIELD: what is wrong`` on stderr and the exit code is 2.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from . import __version__
from .arch.spec import load_arch
from .errors import InputError, InputWarning, printable, short
from .files import bundled_names
from .mapping.dataflow import load_dataflow
from .mapper.fixed import load_mappings
from .limits import MAX_BATCH, MAX_BUDGET, MAX_CONFIRM, MAX_JOBS
from .mapper.confirm import DEFAULT_CONFIRM
from .mapper.search import DEFAULT_BUDGET
from .pipeline import baseline_for, run_network, select_layers
from .report.build import build_report, to_csv
from .report.table import render_table
from .sim.trace import write_trace
from .workload.network import load_workload
from .importers import parse_input_shape
from .workload.params import parse_param

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="accelsim: map DNN layers onto spatial accelerators and report cycles and energy.")
out_console = Console() if sys.stdout.isatty() else Console(width=160)
err_console = Console(stderr=True)


class Objective(str, Enum):
    edp = "edp"
    energy = "energy"
    cycles = "cycles"


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class SparseMode(str, Enum):
    statistical = "statistical"
    actual = "actual"


def _fail(e: InputError) -> None:
    err_console.print(Text("error: ", style="bold red") + Text(printable(str(e))), highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _show_warnings(caught) -> None:
    for w in caught:
        if isinstance(w.message, InputWarning):
            err_console.print(Text("warning: ", style="bold yellow") + Text(printable(str(w.message))),
                              highlight=False, soft_wrap=True)


def _prepare(arch_file, workload_file, dataflow, mapping_file, batch=None, input_shape=None, skip=False,
             params=None, precision=None):
    """Load every input; warnings (a bundled name shadowing a local file) are printed as they arise."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        try:
            arch = load_arch(arch_file, precision)
            workload = load_workload(workload_file, batch, parse_input_shape(input_shape), skip,
                                     dict(parse_param(p) for p in params or ()))
            if dataflow is not None:
                df = load_dataflow(dataflow, field="--dataflow")
            else:
                df = load_dataflow(arch.default_dataflow, base=arch.folder, source=arch.path,
                                   field="default_dataflow")
            mappings = load_mappings(mapping_file) if mapping_file is not None else None
        finally:
            _show_warnings(caught)
    return arch, workload, df, mappings


def _dump_json(report: dict) -> str:
    """Strict JSON (no NaN or Infinity); a non-finite figure is reported, never written."""
    try:
        return json.dumps(report, indent=1, allow_nan=False) + "\n"
    except ValueError:
        raise InputError("a figure of the report is not finite (an input value is too large); "
                         "see the limits in the README") from None


def _run(arch, workload, df, objective, budget, layers, mappings, jobs, exact=False, trace=False, quiet=False,
         confirm=DEFAULT_CONFIRM, sparse_mode="statistical", fuse=False):
    kw = dict(jobs=jobs, exact=exact, trace=trace, confirm=confirm, sparse_mode=sparse_mode, fuse=fuse)
    if quiet or not sys.stderr.isatty():
        return run_network(arch, workload, df, objective, budget, layers, mappings, **kw)
    with Progress(TextColumn("mapping {task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as prog:
        task = prog.add_task("", total=None)

        def cb(done, total, name):
            prog.update(task, completed=done, total=total, description=printable(name))

        return run_network(arch, workload, df, objective, budget, layers, mappings, progress=cb, **kw)


@app.command()
def run(
    arch_file: str = typer.Argument(..., metavar="ARCH", help="arch YAML: bundled name (eyeriss.yaml) or path"),
    workload_file: str = typer.Argument(..., metavar="WORKLOAD",
                                        help="workload YAML (bundled name or path), .onnx, SCALE-Sim .csv or "
                                             "Timeloop problem YAML"),
    dataflow: Optional[str] = typer.Option(None, "--dataflow", "-d",
                                           help="ws, os, is, rs, nlr, os_gemm, ws_gemm or a dataflow YAML (default: the arch's)"),
    objective: Objective = typer.Option(Objective.edp, "--objective", help="what the mapper minimises"),
    out: Path = typer.Option(Path("accelsim-out"), "--out", "-o", help="folder for report.json and layers.csv"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="what to print on stdout"),
    layers: Optional[str] = typer.Option(None, "--layers", help="names and/or 1-based positions: 'conv1,3-5'"),
    mapping: Optional[str] = typer.Option(None, "--mapping", help="YAML of fixed mappings for some layers"),
    budget: int = typer.Option(DEFAULT_BUDGET, "--budget", min=1, max=MAX_BUDGET,
                               help=f"max mappings evaluated per layer (at most {MAX_BUDGET:,})"),
    show_mapping: bool = typer.Option(False, "--show-mappings", help="also print every layer's loop nest"),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, max=MAX_JOBS,
                                       help=f"worker processes for the searches (default: all cores; at most {MAX_JOBS})"),
    exact: bool = typer.Option(False, "--exact", help="simulate every pass (no steady-state reuse; same cycles)"),
    trace: Optional[Path] = typer.Option(None, "--trace", help="folder for per-layer trace JSON (Perfetto)"),
    confirm: int = typer.Option(DEFAULT_CONFIRM, "--confirm", min=0, max=MAX_CONFIRM,
                                help="candidates per layer re-ranked by simulated cycles "
                                     f"(0: the model's best alone; at most {MAX_CONFIRM})"),
    batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, max=MAX_BATCH,
                                        help="batch size N, replacing the workload's (default: the workload's)"),
    sparse_mode: SparseMode = typer.Option(SparseMode.statistical, "--sparse-mode",
                                           help="statistical: expected values from the densities; actual: "
                                                "the real non-zeros of each layer's tensors on the PEs"),
    compare_dense: bool = typer.Option(False, "--compare-dense",
                                       help="also run dense (density 1, no compression, no gating or skipping) "
                                            "and report speedup and energy saving per layer"),
    input_shape: Optional[str] = typer.Option(None, "--input-shape",
                                              help="ONNX: the graph input's sizes when dynamic, e.g. 1x3x224x224"),
    skip_unsupported: bool = typer.Option(False, "--skip-unsupported",
                                          help="ONNX: skip unsupported ops with a warning instead of stopping"),
    param: Optional[list[str]] = typer.Option(None, "--param",
                                              help="NAME=INT: replace a parameter the workload declares "
                                                   "(e.g. --param neighbours=16 for cs_lstm.yaml); repeatable"),
    precision: Optional[str] = typer.Option(None, "--precision",
                                            help="int8, fp16 or fp32: operand and psum widths and MAC energy, "
                                                 "on the arch's silicon (capacities keep their bytes)"),
    fuse: bool = typer.Option(False, "--fuse", help="keep intermediate ofmaps on chip where that lowers DRAM "
                                                    "traffic (fused layers)"),
) -> None:
    """Map every layer of WORKLOAD onto ARCH and report cycles, utilization and energy per level.

    WORKLOAD is a workload YAML, an ONNX model (.onnx), a SCALE-Sim topology CSV (.csv) or a Timeloop
    problem YAML."""
    try:
        a, w, df, maps = _prepare(arch_file, workload_file, dataflow, mapping, batch, input_shape, skip_unsupported,
                                  param, precision)
        res = _run(a, w, df, objective.value, budget, layers, maps, jobs, exact, trace is not None, confirm=confirm,
                   sparse_mode=sparse_mode.value, fuse=fuse)
        dense = baseline_for(res, compare_dense, lambda da, dw: _run(da, dw, df, objective.value, budget, layers,
                                                                     maps, jobs, exact, confirm=confirm))
    except InputError as e:
        _fail(e)
    report = build_report(res, dense)
    try:
        text = _dump_json(report)
    except InputError as e:
        _fail(e)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(text)
        (out / "layers.csv").write_text(to_csv(report))
    except OSError as e:
        _fail(InputError(f"cannot write the report: {e.strerror}", source=str(out), field="--out"))
    if trace is not None:
        try:
            trace.mkdir(parents=True, exist_ok=True)
            for i, lr in enumerate(res.layers, 1):
                safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in lr.layer.name)
                write_trace(trace / f"{i:03d}_{safe}.trace.json", lr.sim.trace, lr.layer.name, lr.sim.cycles)
        except OSError as e:
            _fail(InputError(f"cannot write traces: {e.strerror}", source=str(trace), field="--trace"))
    if fmt == Format.json:
        sys.stdout.write(text)
    elif fmt == Format.csv:
        sys.stdout.write(to_csv(report))
    else:
        render_table(report, out_console)
        if show_mapping:
            for l in report["layers"]:
                out_console.print(Text(f"\n{printable(l['name'])}", style="bold") + Text(f" ({l['shape_text']})"))
                out_console.print(l["mapping"]["loop_nest"], highlight=False, markup=False)
    err_console.print(Text(f"wrote {out / 'report.json'} and {out / 'layers.csv'}"), highlight=False)


@app.command("import")
def import_cmd(
    source: str = typer.Argument(..., metavar="MODEL", help="an ONNX model, SCALE-Sim topology CSV or Timeloop problem"),
    out: Path = typer.Option(..., "--out", "-o", help="workload YAML to write"),
    input_shape: Optional[str] = typer.Option(None, "--input-shape",
                                              help="ONNX: the graph input's sizes when dynamic, e.g. 1x3x224x224"),
    skip_unsupported: bool = typer.Option(False, "--skip-unsupported",
                                          help="ONNX: skip unsupported ops with a warning instead of stopping"),
) -> None:
    """Convert a network from another tool's format into an accelsim workload YAML (checked by compiling it)."""
    import yaml

    from .workload.network import build_workload, import_workload

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InputWarning)
        try:
            data, display, path = import_workload(source, parse_input_shape(input_shape), skip_unsupported)
            w = build_workload(data, display, path)
        except InputError as e:
            _show_warnings(caught)
            _fail(e)
        _show_warnings(caught)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)
    try:
        out.write_text(f"# accelsim import {source}\n" + text)
    except OSError as e:
        _fail(InputError(f"cannot write: {e.strerror}", source=str(out), field="--out"))
    err_console.print(Text(f"wrote {out}: {len(w.layers)} layers, {len(w.mac_layers)} with MACs, {w.macs:,} MACs, "
                           f"{w.params:,} parameters"), highlight=False)


@app.command("show-mapping")
def show_mapping_cmd(
    arch_file: str = typer.Argument(..., metavar="ARCH", help="arch YAML: bundled name or path"),
    workload_file: str = typer.Argument(..., metavar="WORKLOAD", help="workload YAML: bundled name or path"),
    layer: str = typer.Argument(..., metavar="LAYER", help="layer name or 1-based position"),
    dataflow: Optional[str] = typer.Option(None, "--dataflow", "-d",
                                           help="ws, os, is, rs, nlr, os_gemm, ws_gemm or a dataflow YAML (default: the arch's)"),
    objective: Objective = typer.Option(Objective.edp, "--objective", help="what the mapper minimises"),
    mapping: Optional[str] = typer.Option(None, "--mapping", help="YAML of fixed mappings"),
    budget: int = typer.Option(DEFAULT_BUDGET, "--budget", min=1, max=MAX_BUDGET,
                               help=f"max mappings evaluated (at most {MAX_BUDGET:,})"),
    confirm: int = typer.Option(DEFAULT_CONFIRM, "--confirm", min=0, max=MAX_CONFIRM,
                                help="candidates per layer re-ranked by simulated cycles "
                                     f"(0: the model's best alone; at most {MAX_CONFIRM})"),
    batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, max=MAX_BATCH,
                                        help="batch size N, replacing the workload's (default: the workload's)"),
) -> None:
    """Print the loop nest (Timeloop-style) chosen for one layer, with its cycles, utilization and pJ/MAC."""
    try:
        a, w, df, maps = _prepare(arch_file, workload_file, dataflow, mapping, batch)
        picked = select_layers(w, layer, label="LAYER")
        if len(picked) != 1 or picked[0].nest is None:
            raise InputError(f"{short(layer)} must name exactly one layer with MACs", field="LAYER")
        res = run_network(a, w, df, objective.value, budget, picked[0].name, maps, jobs=1, confirm=confirm)
    except InputError as e:
        _fail(e)
    rec = build_report(res)["layers"][0]
    out_console.print(Text(printable(rec["name"]), style="bold")
                      + Text(printable(f" {rec['shape_text']} on {a.name}, dataflow {df.name}")))
    out_console.print(rec["mapping"]["loop_nest"], highlight=False, markup=False)
    where = "; ".join(f"{t} in {' -> '.join(levels)}" for t, levels in rec["mapping"]["tensor_levels"].items())
    out_console.print(Text(printable(f"tensors live in (innermost first): {where}")), highlight=False)
    s = rec["search"]
    out_console.print(
        f"cycles {rec['cycles']} (compute {rec['compute_cycles']}, bound by {rec['bound_by']}), "
        f"utilization {100 * rec['utilization']:.1f}%, {rec['pj_per_mac']:.2f} pJ/MAC; "
        f"{s['evaluated']} mappings evaluated ({'exhaustive' if s['exhaustive'] else 'pruned'})",
        highlight=False,
        markup=False,
    )


@app.command("list")
def list_cmd() -> None:
    """List the bundled architectures, workloads and dataflows."""
    for kind, title in (("arch", "architectures"), ("workload", "workloads"), ("dataflow", "dataflows")):
        out_console.print(Text(f"{title}: ", style="bold") + Text(", ".join(bundled_names(kind))))


def _version(value: bool):
    if value:
        out_console.print(f"accelsim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="print the version and exit")) -> None:
    """accelsim: map DNN layers onto spatial accelerators and report cycles and energy."""


@app.command("sweep")
def sweep_cmd(
    spec: str = typer.Argument(..., metavar="SPEC", help="sweep spec YAML (base arch, workloads, axes)"),
    out: Path = typer.Option(..., "--out", "-o", help="folder of the results store (results.sqlite)"),
    scheduler: str = typer.Option("local", "--scheduler",
                                  help="local (a dask LocalCluster), tcp://HOST:PORT, or inline (no dask)"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, max=MAX_JOBS, help="LocalCluster workers"),
    search: Optional[str] = typer.Option(None, "--search", help="optuna: NSGA-II over the axes instead of the grid"),
    trials: int = typer.Option(100, "--trials", min=1, max=100000, help="points the optuna search evaluates"),
    confirm: int = typer.Option(DEFAULT_CONFIRM, "--confirm", min=0, max=MAX_CONFIRM,
                                help="candidates per layer re-ranked by simulated cycles"),
) -> None:
    """Run a design-space sweep; every finished point is stored at once, and a restarted sweep skips
    what is done."""
    from .dse import sweep

    if search not in (None, "optuna"):
        _fail(InputError(f"unknown search {search!r}: use optuna", field="--search"))
    try:
        with Progress(TextColumn("sweep"), BarColumn(), TextColumn("{task.completed}/{task.total} points"),
                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err_console,
                      transient=True, disable=not sys.stderr.isatty()) as prog:
            task = prog.add_task("", total=None, rate="")
            t0 = time.perf_counter()

            def cb(done, total):
                dt = time.perf_counter() - t0
                prog.update(task, completed=done, total=total, rate=f"{done / dt:.2f} points/s" if dt else "")

            store, s = sweep(spec, str(out), scheduler, workers, search, trials, confirm, progress=cb)
    except InputError as e:
        _fail(e)
    sys.stdout.write(f"{s.grid} points {'asked by the search' if search else 'in the grid'}, {s.dropped} dropped by constraints, {s.skipped} already "
                     f"stored, {s.evaluated} evaluated in {s.wall_s:.1f} s ({s.points_per_s:.2f} points/s); "
                     f"layer memo: {s.memo_hits} hits, {s.memo_misses} misses ({100 * s.memo_hit_rate:.0f}% hits); "
                     f"{len(store)} points in {out / 'results.sqlite'}\n")
    if search == "optuna":
        if s.fronts is not None:
            sys.stdout.write(s.fronts.describe() + "\n")
        else:
            sys.stdout.write(f"(run the grid into the same --out, accelsim sweep {spec} --out {out}, to compare "
                             "this search's Pareto front with the grid's)\n")


@app.command("plot")
def plot_cmd(
    reports: list[str] = typer.Argument(..., metavar="REPORT...",
                                        help="report.json files (or their folders); for pareto, sweep --out folders"),
    kind: str = typer.Option(..., "--kind", "-k", help="energy, dataflows, cycles, utilization, roofline, pe-busy, speedup or pareto"),
    out: Path = typer.Option(Path("plots"), "--out", "-o", help="folder for the figure files"),
    formats: str = typer.Option("png,svg", "--format", "-f", help="comma-separated: png, svg, pdf"),
    name: Optional[str] = typer.Option(None, "--name", help="file stem (default: the kind)"),
    color: Optional[str] = typer.Option(None, "--color", help="pareto: the axis that colours the points"),
) -> None:
    """Draw a figure from one or more reports: energy by level and tensor, dataflow comparison, cycles
    and stalls, utilization, roofline."""
    try:
        from .plots import plot
    except ImportError:
        _fail(InputError("plotting needs matplotlib: pip install 'accelsim[plot]'", field="plot"))
    try:
        plot(reports, kind, out, tuple(f.strip() for f in formats.split(",") if f.strip()), stem=name, color=color)
    except ImportError:
        _fail(InputError("plotting needs matplotlib: pip install 'accelsim[plot]'", field="plot"))
    except InputError as e:
        _fail(e)
    written = [str(out / f"{name or kind}.{f.strip()}") for f in formats.split(",") if f.strip()]
    sys.stdout.write(f"wrote {', '.join(written)}\n")


def main() -> None:
    """Console-script entry point (Ctrl-C exits with code 130 and no traceback)."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
