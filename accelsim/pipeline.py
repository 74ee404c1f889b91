"""Run a workload on an architecture: map every MAC layer, cost it, simulate it.

Data flows one way: workload + arch + dataflow -> mapping search (ranked by
the analytical cost model) -> counts, energy -> event simulation of the
chosen mapping (cycles, stalls) -> :class:`NetworkResult`, which the report
stage renders.  Identical layers (same loop nest) are searched
once per run and the result reused (memoised on layer shape, arch, dataflow,
objective and budget).
"""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable

from .arch.spec import Architecture
from .errors import InputError, short
from .gcpolicy import fewer_collections
from .mapping.dataflow import Dataflow
from .mapper.fixed import MappingFile, build_fixed
from .mapper.confirm import DEFAULT_CONFIRM
from .mapper.search import DEFAULT_BUDGET, SearchResult, evaluate, search
from .sim.engine import SimResult, simulate
from .workload import Layer, Workload
from .workload.density import operand_masks


@dataclass
class LayerResult:
    """One mapped layer: the layer, the search outcome (best evaluation), and whether it was reused."""

    layer: Layer
    result: SearchResult
    reused_from: str | None = None
    sim: SimResult | None = None
    resident: tuple[str, ...] = ()  # tensors a fused layer keeps on chip (accelsim.fusion), else none


@dataclass
class NetworkResult:
    """Everything one run produced.

    Attributes:
        arch, workload, dataflow, objective: the resolved inputs.
        layers: mapped MAC layers in file order.
        unmapped: layers without MACs (pool, add), listed but not mapped.
        wall_seconds: time spent mapping, costing and simulating.
    """

    arch: Architecture
    workload: Workload
    dataflow: Dataflow
    objective: str
    budget: int
    exact: bool = False
    layers: list[LayerResult] = field(default_factory=list)
    unmapped: list[Layer] = field(default_factory=list)
    wall_seconds: float = 0.0
    mapping_file: MappingFile | None = None
    sparse_mode: str = "statistical"
    baseline: str | None = None  # for a dense baseline: "searched" (its own mappings) or "same mapping"
    fused: list | None = None  # with fuse=True: the FusedEdge records (accelsim.fusion), else None


def select_layers(workload: Workload, selection: str | None, label: str = "--layers") -> list[Layer]:
    """Layers picked by ``--layers``, in file order.

    ``selection`` is comma-separated parts, each a layer name, a 1-based
    position, or a range of positions (``1-3,conv9``).  ``#N`` / ``#A-B``
    always mean positions and ``name:X`` always a name; a bare part that is
    both the name of one layer and the position of another is ambiguous and
    rejected.  A comma inside a name is written ``\\,``.

    Raises:
        InputError: an unknown name, a position out of range, an ambiguous
            part, or a selection that picks nothing.
    """
    if selection is None:
        return list(workload.layers)
    by_name = {l.name: i for i, l in enumerate(workload.layers)}
    n = len(workload.layers)
    picked: set[int] = set()
    parts = [p.replace("\\,", ",").strip() for p in re.split(r"(?<!\\),", selection)]
    for part in parts:
        if not part:
            continue
        if part.startswith("name:"):
            name = part[5:]
            if name not in by_name:
                raise InputError(f"no layer named {short(name)} in {workload.path}", field=label)
            picked.add(by_name[name])
            continue
        text = part[1:] if part.startswith("#") else part
        m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", text)
        positions = None
        if m:
            a, b = int(m.group(1)), int(m.group(2) or m.group(1))
            positions = range(a - 1, b)
        if part in by_name and not part.startswith("#"):
            if positions is not None and list(positions) != [by_name[part]]:
                raise InputError(f"{short(part)} is both the name of layer {by_name[part] + 1} and a position; "
                                 f"write name:{part} or #{part}", field=label)
            picked.add(by_name[part])
            continue
        if positions is not None:
            if not (1 <= positions.start + 1 <= positions.stop <= n):
                raise InputError(f"position {short(part)} is outside 1-{n}", field=label)
            picked.update(positions)
            continue
        raise InputError(f"no layer named {short(part)} in {workload.path} (layers are picked by name, by "
                         f"1-based position or range such as 2-5; a comma in a name is written \\,)", field=label)
    if not picked:
        raise InputError(f"{short(selection)} selects no layer", field=label)
    return [l for i, l in enumerate(workload.layers) if i in picked]


@fewer_collections()
def _search_layer(nest, arch, dataflow, objective, budget, path, name, exact, trace, confirm):
    """Search one layer, confirming its shortlist by simulation, and return the chosen mapping's
    simulation (again in exact mode or with a trace if asked; runs in a worker process)."""
    try:
        sr = search(nest, arch, dataflow, objective, budget, confirm_k=confirm)
    except InputError as e:
        where = f" [{e.source}: {e.field}]" if e.field and e.source == arch.path else ""
        raise InputError(f"cannot be mapped on {arch.name} ({arch.path}): {e.message}{where}", source=path,
                         field=f"layer {short(name)}") from None
    if sr.sim is not None and not exact and not trace:
        return sr, sr.sim
    return sr, simulate(nest, arch, sr.best.mapping, dataflow.stationary, exact=exact, trace=trace)


class Memo:
    """Layer evaluations shared across runs (a sweep): ``{content hash: (SearchResult, SimResult)}``.

    The key hashes everything a layer's evaluation depends on: its loop nest (shape, density), the
    resolved arch (``Architecture.to_dict``), the dataflow, the objective, the search budget, the
    confirmation count and the simulation mode.  ``hits`` and ``misses`` count lookups.
    """

    def __init__(self):
        self.entries: dict = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(nest, arch: Architecture, dataflow: Dataflow, objective: str, budget: int, confirm: int,
            exact: bool) -> str:
        import hashlib
        import json

        a = {k: v for k, v in arch.to_dict().items() if k not in ("file", "path", "name", "source")}
        blob = json.dumps([repr(nest), a, {k: v for k, v in dataflow.to_dict().items() if k not in ("file", "path")},
                           objective, budget, confirm, exact], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


@fewer_collections()
def run_network(
    arch: Architecture,
    workload: Workload,
    dataflow: Dataflow,
    objective: str = "edp",
    budget: int = DEFAULT_BUDGET,
    selection: str | None = None,
    mappings: MappingFile | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    jobs: int | None = None,
    exact: bool = False,
    trace: bool = False,
    confirm: int = DEFAULT_CONFIRM,
    sparse_mode: str = "statistical",
    memo: Memo | None = None,
    fuse: bool = False,
) -> NetworkResult:
    """Map, cost and simulate every selected MAC layer.

    Args:
        mappings: the ``--mapping`` file; the layers it names
            are evaluated with the given mapping instead of searched.
        progress: called as ``progress(done, total, layer_name)``.
        jobs: worker processes for the searches of distinct layers (default:
            the machine's cores).  Results do not depend on it.
        exact: simulate every pass (no steady-state reuse); same cycles, slower.
        trace: keep each layer's simulation spans (``LayerResult.sim.trace``).
        confirm: candidates per layer the search keeps by the model and
            re-ranks by simulated cycles (0: the model's best alone).
        sparse_mode: ``statistical`` (expected values from the densities, :mod:`accelsim.cost.sparse`)
            or ``actual``: each layer's chosen mapping is simulated again with its operands' real
            non-zeros (npy tensors, draws, or a uniform draw of seed 0 for a number;
            :mod:`accelsim.sim.actual`), layer by layer (layers of one shape may hold other tensors).
        memo: a :class:`Memo` shared across runs: a distinct layer evaluated before with the same
            inputs is taken from it (a sweep's cache; not with ``trace``).
        fuse: keep intermediate ofmaps on chip where that lowers DRAM traffic (:mod:`accelsim.fusion`).
    Raises:
        InputError: bad selection, a mapping for an unknown or MAC-less layer,
            an invalid fixed mapping, or a layer that cannot be mapped.
    """
    t0 = time.perf_counter()
    layers = select_layers(workload, selection)
    res = NetworkResult(arch, workload, dataflow, objective, budget, exact, mapping_file=mappings)
    mac_layers = [l for l in layers if l.nest is not None]
    res.unmapped = [l for l in layers if l.nest is None]
    if not mac_layers:
        what = f"{short(selection)} selects" if selection else f"{workload.path} has"
        raise InputError(f"{what} no layer with MACs (pool and add layers are not mapped)",
                         field="--layers" if selection else None)
    fixed = _fixed_mappings(workload, mappings, arch, dataflow)  # checked before any search starts
    # one search per distinct loop nest, in parallel; fixed mappings are evaluated directly
    first_of: dict = {}
    for layer in mac_layers:
        if layer.name not in fixed:
            first_of.setdefault(layer.nest, layer.name)
    keys = {}
    if memo is not None and not trace:
        todo = {}
        for nest, name in first_of.items():
            keys[nest] = Memo.key(nest, arch, dataflow, objective, budget, confirm, exact)
            if keys[nest] in memo.entries:
                memo.hits += 1
            else:
                memo.misses += 1
                todo[nest] = name
    else:
        todo = first_of
    results = _search_distinct(todo, arch, dataflow, objective, budget, workload.path, exact, trace, jobs,
                               progress, confirm)
    if keys:
        for nest, k in keys.items():
            if nest in results:
                memo.entries[k] = results[nest]
            else:
                results[nest] = memo.entries[k]
    for layer in mac_layers:
        if layer.name in fixed:
            ev = evaluate(layer.nest, arch, fixed[layer.name], objective, dataflow.stationary)
            sim = simulate(layer.nest, arch, ev.mapping, dataflow.stationary, exact=exact, trace=trace)
            res.layers.append(LayerResult(layer, SearchResult(ev, 1, 1, True, objective, fixed=True), sim=sim))
        else:
            first = first_of[layer.nest]
            sr, sim = results[layer.nest]
            res.layers.append(LayerResult(layer, sr, None if first == layer.name else first, sim))
    if fuse:
        from .fusion import fuse as fuse_layers

        res.fused = fuse_layers(res, confirm)
    if sparse_mode == "actual":
        for lr in res.layers:
            masks = operand_masks(lr.layer.density, lr.layer.nest)
            a = arch
            if lr.resident:  # a fused layer runs on the arch as it sees it
                from .fusion import resident_arch

                a = resident_arch(arch, lr.resident)
            lr.sim = simulate(lr.layer.nest, a, lr.result.best.mapping, dataflow.stationary, exact=exact,
                              trace=trace, masks=masks)
    res.sparse_mode = sparse_mode
    res.wall_seconds = time.perf_counter() - t0
    return res


def _fixed_mappings(workload: Workload, mappings: MappingFile | None, arch: Architecture,
                    dataflow: Dataflow) -> dict:
    """``{layer name: Mapping}`` from the ``--mapping`` file, every one checked (selected by --layers or not).

    Raises:
        InputError: a mapping for an unknown or MAC-less layer, or one that
            does not fit the layer, the dataflow or the arch.
    """
    if not mappings:
        return {}
    src, specs = mappings.source, mappings.layers
    names = {l.name: l for l in workload.layers}
    for name in specs:
        if name not in names:
            raise InputError(f"no layer named {short(name)} in {workload.path}", source=src, field=f"layers.{name}")
        if names[name].nest is None:
            raise InputError(f"layer {short(name)} is a {names[name].type} layer, which has no MACs to map",
                             source=src, field=f"layers.{name}")
    return {l.name: build_fixed(specs[l.name], l.nest, arch, dataflow, src, l.name)
            for l in workload.layers if l.name in specs}


def _search_distinct(first_of: dict, arch, dataflow, objective, budget, path, exact, trace, jobs,
                     progress, confirm) -> dict:
    """Search and simulate each distinct loop nest once: ``{nest: (SearchResult, SimResult)}``.

    With more than one worker the nests run in a process pool; a layer that
    cannot be mapped is reported for the first such layer in file order, so
    the message does not depend on ``jobs``.
    """
    results: dict = {}
    done = 0

    def tick(name):
        nonlocal done
        done += 1
        if progress:
            progress(done, len(first_of), name)

    if progress:
        progress(0, len(first_of), "")
    workers = min(jobs or os.cpu_count() or 1, len(first_of))
    if workers <= 1:
        for nest, name in first_of.items():
            results[nest] = _search_layer(nest, arch, dataflow, objective, budget, path, name, exact, trace,
                                          confirm)
            tick(name)
        return results
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        futs = {pool.submit(_search_layer, nest, arch, dataflow, objective, budget, path, name, exact, trace,
                            confirm): nest
                for nest, name in first_of.items()}
        for f in as_completed(futs):
            try:
                results[futs[f]] = f.result()
            except InputError as e:  # reported below for the first failing layer in file order
                results[futs[f]] = e
            tick(first_of[futs[f]])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for nest in first_of:
        if isinstance(results[nest], InputError):
            raise results[nest]
    return results


def dense_baseline(arch: Architecture, workload: Workload) -> tuple[Architecture, Workload]:
    """The same arch and workload run dense (``--compare-dense``): every operand dense (density 1),
    every level storing every tensor uncompressed, and no gating or skipping."""
    from dataclasses import replace

    from .workload.density import DENSE

    levels = tuple(replace(lv, formats={}, sparse_reads={}) for lv in arch.levels)
    a = replace(arch, levels=levels, mac_sparse=None, mac_check_pj=0.0)
    layers = [replace(l, density=DENSE, nest=replace(l.nest, density=(1.0, 1.0, 1.0))) if l.nest is not None else l
              for l in workload.layers]
    return a, replace(workload, layers=layers)


def dense_same_mapping(res: NetworkResult) -> NetworkResult:
    """The run's own mappings evaluated and simulated once more with dense operands on the arch without
    sparse features (:func:`dense_baseline`): the default baseline of a run with sparse operands, which
    isolates what the zeros save on the chosen mapping (one evaluation per layer, no search).  A dense
    tile may exceed a buffer its compressed form fitted; the counts and cycles are those of the mapping
    as it stands.  ``--compare-dense`` searches the dense run's own mappings instead."""
    da, dw = dense_baseline(res.arch, res.workload)
    by_name = {l.name: l for l in dw.layers}
    out = NetworkResult(da, dw, res.dataflow, res.objective, res.budget, res.exact, baseline="same mapping")
    for lr in res.layers:
        layer = by_name[lr.layer.name]
        m = lr.result.best.mapping
        ev = evaluate(layer.nest, da, m, res.objective, res.dataflow.stationary)
        sim = simulate(layer.nest, da, m, res.dataflow.stationary, exact=res.exact)
        out.layers.append(LayerResult(layer, SearchResult(ev, 1, 1, True, res.objective, fixed=True), sim=sim))
    return out


def baseline_for(res: NetworkResult, compare_dense: bool, run_dense) -> NetworkResult | None:
    """The dense baseline a report sets beside a run: with ``compare_dense`` the dense run's own search
    (``run_dense(arch, workload)``, the caller's way of running); else, when some operand is sparse or
    the mode is actual, the run's own mappings run dense (:func:`dense_same_mapping`); else none."""
    if compare_dense:
        dense = run_dense(*dense_baseline(res.arch, res.workload))
        dense.baseline = "searched"
        return dense
    if any(not lr.layer.nest.dense for lr in res.layers) or res.sparse_mode == "actual":
        return dense_same_mapping(res)
    return None
