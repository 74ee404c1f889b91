"""The figure kinds of :mod:`accelsim.plots` (see its doc), each a function of report dicts."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

from ..errors import InputError

#: µJ per pJ.
UJ = 1e-6


def load_report(source) -> dict:
    """A report dict from a dict, an :class:`accelsim.api.Result` or a ``report.json`` path (or its folder).

    Raises:
        InputError: the file is missing, not JSON, or not an accelsim report.
    """
    if isinstance(source, dict):
        return source
    if hasattr(source, "report") and isinstance(source.report, dict):
        return source.report
    if not isinstance(source, (str, PathLike)):
        raise InputError(f"cannot plot a {type(source).__name__}: give a report.json path, a report dict or a Result")
    p = Path(source)
    if p.is_dir():
        p = p / "report.json"
    try:
        data = json.loads(p.read_text())
    except OSError as e:
        raise InputError(f"cannot read the report: {e.strerror}", source=str(p)) from None
    except ValueError as e:
        raise InputError(f"not JSON: {e}", source=str(p)) from None
    if not isinstance(data, dict) or not str(data.get("schema", "")).startswith("accelsim.report/"):
        raise InputError("not an accelsim report (no 'schema': 'accelsim.report/N')", source=str(p), field="schema")
    return data


def _figure(nrows: int = 1, ncols: int = 1, width: float = 8.0, height: float = 4.5):
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe in workers

    fig = Figure(figsize=(width, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [a for row in axes for a in row]


def _title(report: dict) -> str:
    inp = report["inputs"]
    return f"{inp['workload']['name']} on {inp['arch']['name']} ({inp['dataflow']['name']})"


def _stacked(ax, names, series: dict, scale: float = 1.0) -> None:
    """Stacked bars: one container per series, in the dict's order."""
    bottom = [0.0] * len(names)
    for label, vals in series.items():
        v = [x * scale for x in vals]
        ax.bar(names, v, bottom=bottom, label=label)
        bottom = [b + x for b, x in zip(bottom, v)]
    ax.tick_params(axis="x", labelrotation=90 if len(names) > 8 else 0)
    ax.legend(fontsize="small", ncols=2)


def _order(keys_per_item) -> list:
    """Union of keys in order of first appearance."""
    out: list = []
    for keys in keys_per_item:
        for k in keys:
            if k not in out:
                out.append(k)
    return out


def energy_figure(reports: list[dict]):
    r = reports[0]
    layers = r["layers"]
    names = [l["name"] for l in layers]
    fig, (a, b) = _figure(2, 1)
    levels = _order(l["energy_by_level_pj"] for l in layers)
    _stacked(a, names, {lv: [l["energy_by_level_pj"].get(lv, 0.0) for l in layers] for lv in levels}, UJ)
    a.set_ylabel("energy (µJ)")
    a.set_title(f"energy per layer by level: {_title(r)}")
    tensors = _order(l["energy_by_level_tensor_pj"].get(lv, {}) for l in layers for lv in levels)
    _stacked(b, names, {t: [sum(l["energy_by_level_tensor_pj"].get(lv, {}).get(t, 0.0) for lv in levels)
                            for l in layers] for t in tensors}, UJ)
    b.set_ylabel("energy (µJ)")
    b.set_xlabel("layer")
    b.set_title("energy per layer by tensor (every level and the NoC)")
    return fig


def dataflows_figure(reports: list[dict]):
    labels = []
    for r in reports:
        label = r["inputs"]["dataflow"]["name"]
        labels.append(label if label not in labels else f"{label} ({r['inputs']['arch']['name']})")
    fig, (ax,) = _figure(1, 1, width=max(5.0, 1.2 * len(reports) + 3))
    levels = _order(r["totals"]["energy_by_level_pj"] for r in reports)
    series = {lv: [r["totals"]["energy_by_level_pj"].get(lv, 0.0) / max(1, r["totals"]["macs"]) for r in reports]
              for lv in levels}
    _stacked(ax, labels, series)
    ax.set_ylabel("energy per MAC (pJ/MAC)")
    ax.set_xlabel("dataflow")
    nets = sorted({r["inputs"]["workload"]["name"] for r in reports})
    ax.set_title(f"{', '.join(nets)}: energy per MAC by level across dataflows")
    return fig


def cycles_figure(reports: list[dict]):
    r = reports[0]
    layers = r["layers"]
    names = [l["name"] for l in layers]
    causes = _order(l["stall_cycles_by_cause"] for l in layers)
    series = {"compute": [l["compute_cycles"] for l in layers]}
    series.update({c: [l["stall_cycles_by_cause"].get(c, 0) for l in layers] for c in causes
                   if any(l["stall_cycles_by_cause"].get(c, 0) for l in layers)})
    fig, (ax,) = _figure()
    _stacked(ax, names, series)
    ax.set_ylabel("cycles")
    ax.set_xlabel("layer")
    ax.set_title(f"cycles per layer, compute and stalls by cause: {_title(r)}")
    return fig


def utilization_figure(reports: list[dict]):
    r = reports[0]
    layers = r["layers"]
    names = [l["name"] for l in layers]
    fig, (ax,) = _figure()
    x = range(len(names))
    w = 0.4
    ax.bar([i - w / 2 for i in x], [100 * l["utilization"] for l in layers], w, label="utilization")
    ax.bar([i + w / 2 for i in x], [100 * l["spatial_utilization"] for l in layers], w, label="spatial utilization")
    ax.set_xticks(list(x), names, rotation=90 if len(names) > 8 else 0)
    ax.set_ylim(0, 105)
    ax.set_ylabel("utilization (%)")
    ax.set_xlabel("layer")
    ax.legend(fontsize="small")
    ax.set_title(f"utilization per layer: {_title(r)}")
    return fig


def roofline_figure(reports: list[dict]):
    r = reports[0]
    arch = r["inputs"]["arch"]
    hz = arch["clock_mhz"] * 1e6
    peak = arch.get("peak_macs_per_cycle", arch["mac_units"]) * hz
    bw = arch["dram_bw_bytes_per_cycle"] * hz
    pts = [(l["macs"] / l["dram_bytes"], l["macs"] / (l["cycles"] / hz), l["name"]) for l in r["layers"]
           if l["dram_bytes"] > 0 and l["cycles"] > 0]
    fig, (ax,) = _figure()
    xs = [p[0] for p in pts] or [1.0]
    lo, hi = min(min(xs), peak / bw) / 4, max(max(xs), peak / bw) * 4
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.loglog(grid, [min(peak, bw * x) for x in grid], color="black", label="roofs (compute, DRAM)")
    ax.scatter(xs, [p[1] for p in pts] or [peak], s=18, label="layers", zorder=3)
    for x, y, name in pts:
        ax.annotate(name, (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel("operational intensity (MAC per DRAM byte)")
    ax.set_ylabel("attainable throughput (MAC/s)")
    ax.set_title(f"roofline: {_title(r)}; peak {peak / 1e9:.3g} GMAC/s, DRAM {bw / 1e9:.3g} GB/s")
    ax.legend(fontsize="small")
    return fig


def pe_busy_figure(reports: list[dict]):
    r = reports[0]
    rows, names = [], []
    for l in r["layers"]:
        act = (l.get("sparse") or {}).get("actual") or {}
        busy = act.get("busy_cycles_per_unit")
        if busy and act.get("compute_cycles"):
            rows.append([b / act["compute_cycles"] for b in busy])
            names.append(l["name"])
    if not rows:
        raise InputError("no per-PE busy cycles in this report: run with --sparse-mode actual (at most 1,024 "
                         "MAC units per layer are kept)", field="--kind")
    width = max(len(x) for x in rows)
    import numpy as np

    grid = np.full((len(rows), width), np.nan)
    for i, x in enumerate(rows):
        grid[i, :len(x)] = x
    fig, (ax,) = _figure(1, 1, width=10.0, height=max(2.5, 0.3 * len(rows) + 1.5))
    im = ax.imshow(grid * 100, aspect="auto", interpolation="nearest", vmin=0, vmax=100, cmap="viridis")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("MAC unit (PE), in the mapping's unit order")
    ax.set_ylabel("layer")
    fig.colorbar(im, ax=ax, label="busy cycles / compute cycles (%)")
    ax.set_title(f"per-PE utilization with the real non-zeros: {_title(r)}")
    return fig


def speedup_figure(reports: list[dict]):
    fig, (ax,) = _figure()
    n = 0
    for r in reports:
        pts = []
        for l in r["layers"]:
            sp = l.get("sparse") or {}
            d = sp.get("densities") or {}
            if sp.get("speedup") and "filter" in d and "ifmap" in d:
                pts.append((d["filter"]["density"] * d["ifmap"]["density"], sp["speedup"], l["name"]))
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=20, label=_title(r), zorder=3)
            for x, y, name in pts:
                ax.annotate(name, (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
            n += 1
    if not n:
        raise InputError("no sparse speedups in these reports: give reports of runs with sparse operands",
                         field="--kind")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("operand density (filter density x ifmap density)")
    ax.set_ylabel("speedup over the dense run (x)")
    ax.set_title("speedup against density")
    ax.legend(fontsize="small")
    return fig


def pareto_figure(frames: list, color: str | None = None):
    """Energy against latency of every stored point, the Pareto front marked, coloured by an axis; and
    energy against on-chip storage (an area proxy)."""
    import pandas as pd

    df = pd.concat(frames, ignore_index=True)
    axes = [c for c in df.columns if c.startswith("axis_")]
    col = f"axis_{color}" if color else (axes[0] if axes else None)
    if color and col not in df.columns:
        raise InputError(f"no axis named {color!r} in the store (axes: {', '.join(a[5:] for a in axes)})",
                         field="--color")
    from ..dse.search import pareto_front

    fig, (a, b) = _figure(1, 2, width=12.0)
    groups = [(str(v), g) for v, g in df.groupby(col, sort=True)] if col else [("points", df)]
    for label, g in groups:
        a.scatter(g["latency_s"] * 1e3, g["energy_pj"] * UJ, s=14, label=label)
        b.scatter(g["onchip_kb"], g["energy_pj"] * UJ, s=14, label=label)
    front = pareto_front(list(zip(df["energy_pj"], df["latency_s"], df["key"])))
    a.plot([f[1] * 1e3 for f in front], [f[0] * UJ for f in front], "k-o", drawstyle="steps-post", markersize=7,
           markerfacecolor="none", label=f"Pareto front ({len(front)})", zorder=4)
    a.set_xlabel("latency (ms)")
    a.set_ylabel("energy (µJ)")
    a.set_title(f"{len(df)} design points: energy against latency")
    a.legend(fontsize="small", title=col[5:] if col else None)
    b.set_xlabel("on-chip storage (KiB)")
    b.set_ylabel("energy (µJ)")
    b.set_title("energy against on-chip storage (area proxy)")
    return fig


#: kind -> (function of report dicts, whether it takes several reports).
PLOT_KINDS = {"energy": (energy_figure, False), "dataflows": (dataflows_figure, True),
              "cycles": (cycles_figure, False), "utilization": (utilization_figure, False),
              "roofline": (roofline_figure, False), "pe-busy": (pe_busy_figure, False),
              "speedup": (speedup_figure, True), "pareto": (pareto_figure, True)}


def plot(reports, kind: str, out: str | PathLike | None = None, formats=("png", "svg"), stem: str | None = None,
         color: str | None = None):
    """Draw figure ``kind`` of ``reports`` (one or a list: report dicts, Results or report.json paths; for
    ``pareto``, sweep folders or stores, coloured by axis ``color``, default the first) and, with
    ``out``, write it there as ``<stem or kind>.<format>`` for each format (png, svg, pdf).

    Returns:
        the matplotlib Figure.
    Raises:
        InputError: unknown kind or format, unreadable reports, several reports for a one-report kind.
        ImportError: matplotlib is not installed (``pip install accelsim[plot]``).
    """
    if kind not in PLOT_KINDS:
        raise InputError(f"unknown plot kind {kind!r}: use {', '.join(PLOT_KINDS)}", field="--kind")
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad:
        raise InputError(f"unknown format {bad[0]!r}: use png, svg or pdf", field="--format")
    items = list(reports) if isinstance(reports, (list, tuple)) else [reports]
    if not items:
        raise InputError("no report to plot")
    if kind == "pareto":
        from ..dse.store import SweepStore, load_sweep

        frames = [(x if isinstance(x, SweepStore) else load_sweep(x)).to_dataframe() for x in items]
        if not any(len(f) for f in frames):
            raise InputError("the store holds no point yet")
        return _save(pareto_figure(frames, color), out, formats, stem or kind)
    data = [load_report(x) for x in items]
    fn, many = PLOT_KINDS[kind]
    if not many and len(data) > 1:
        raise InputError(f"the {kind} plot draws one report; {len(data)} were given", field="--kind")
    if any(not d["layers"] for d in data):
        raise InputError("a report without mapped layers has nothing to plot")
    return _save(fn(data), out, formats, stem or kind)


def _save(fig, out, formats, stem: str):
    if out is not None:
        folder = Path(out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for f in formats:
                fig.savefig(folder / f"{stem}.{f}", dpi=150)
        except OSError as e:
            raise InputError(f"cannot write the figure: {e.strerror}", source=str(folder), field="--out") from None
    return fig
