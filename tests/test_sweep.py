"""Design-space sweeps: grid expansion and constraints, equality with single runs, kill and resume, the
dask path, the layer memo, optuna, the Pareto figure, and spec errors.

Oracles: single ``accelsim.run`` calls on the same resolved inputs; an uninterrupted sweep's store; the
count of distinct loop nests.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml
from typer.testing import CliRunner

import accelsim
from accelsim.cli import app
from accelsim.dse.spec import load_sweep_spec, points, resolve_point

LAYER = {"type": "conv2d", "kernel": 3, "padding": 1}


def _workload(path, name, layers, hw=14):
    path.write_text(yaml.safe_dump({"name": name, "independent": True, "layers": [
        {"name": n, "input": {"channels": c, "height": hw, "width": hw}, "out_channels": m, **LAYER}
        for n, c, m in layers]}))
    return str(path)


def _spec(tmp_path, axes, workloads, constraints=(), budget=20):
    spec = {"name": "t", "arch": "eyeriss.yaml", "workloads": workloads, "budget": budget, "axes": axes,
            "constraints": list(constraints)}
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(p)


AXES = [{"name": "rows", "path": "levels.GLB.fanout.rows", "values": [4, 8, 12]},
        {"zip": [{"name": "glb", "path": "levels.GLB.capacity_words.ifmap+ofmap", "values": [4096, 51200]},
                 {"name": "bw", "path": "dram.bw_bytes_per_cycle", "values": [4, 8]}]},
        {"name": "dataflow", "path": "dataflow", "values": ["rs", "ws"]}]


@pytest.fixture()
def wl(tmp_path):
    return _workload(tmp_path / "w.yaml", "w", [("a", 8, 16), ("b", 16, 16)])


def _frame(folder):
    df = accelsim.load_sweep(folder).to_dataframe()
    return df.drop(columns=["created"]).sort_values("key").reset_index(drop=True)


def test_grid_minus_constraints_and_each_point_equals_a_single_run(tmp_path, wl):
    spec = _spec(tmp_path, AXES, [wl], ["pes <= 120"])
    store, s = accelsim.sweep(spec, str(tmp_path / "out"), scheduler="inline")
    assert s.grid == 3 * 2 * 2 and s.dropped == 2 * 2  # rows 12 x 14 cols = 168 PEs > 120
    assert len(store) == s.evaluated == s.grid - s.dropped
    df = store.to_dataframe()
    assert df["key"].is_unique
    sw = load_sweep_spec(spec)
    for p in points(sw):
        arch, d, run = resolve_point(sw, p)
        if arch.pes > 120:
            continue
        want = tuple(p.as_dict()[k] for k in ("rows", "glb", "bw", "dataflow"))
        row = df[df.apply(lambda r: (r["axis_rows"], r["axis_glb"], r["axis_bw"], r["axis_dataflow"]) == want,
                          axis=1)]
        assert len(row) == 1
        single = accelsim.run(d, wl, dataflow=run["dataflow"], budget=20)
        assert row["cycles"].iloc[0] == single.totals["cycles"]
        assert row["energy_pj"].iloc[0] == single.totals["energy_pj"]
        assert row["dram_bytes"].iloc[0] == single.totals["dram_bytes"]
    n0 = len(store)
    again, s2 = accelsim.sweep(spec, str(tmp_path / "out"), scheduler="inline")
    assert s2.skipped == n0 and s2.evaluated == 0 and len(again) == n0
    # a changed spec adds its new points beside the old ones
    spec2 = _spec(tmp_path, AXES[:1] + [{"name": "dataflow", "path": "dataflow", "values": ["os"]}], [wl])
    _, s3 = accelsim.sweep(spec2, str(tmp_path / "out"), scheduler="inline")
    assert s3.evaluated == 3 and len(accelsim.load_sweep(tmp_path / "out")) == n0 + 3


def test_killed_sweep_resumes_without_loss_or_duplicates(tmp_path):
    w = _workload(tmp_path / "k.yaml", "k", [("a", 16, 32), ("b", 32, 32), ("c", 32, 64)], hw=28)
    axes = [{"name": "rows", "path": "levels.GLB.fanout.rows", "values": [2, 4, 8]},
            {"name": "cols", "path": "levels.GLB.fanout.cols", "values": [7, 14]},
            {"name": "dataflow", "path": "dataflow", "values": ["rs", "ws"]}]
    spec = _spec(tmp_path, axes, [w], budget=30)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "accelsim.cli", "sweep", spec, "--out", str(out), "--scheduler", "inline"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "results.sqlite"
    n = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM points").fetchone()[0]
            except sqlite3.Error:
                n = 0
            if n >= 2:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = sqlite3.connect(db).execute("SELECT COUNT(*) FROM points").fetchone()[0]
    assert 2 <= partial < 12
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{partial} already stored" in res.stdout
    whole, _ = accelsim.sweep(spec, str(tmp_path / "whole"), scheduler="inline")
    a, b = _frame(out), _frame(tmp_path / "whole")
    assert len(a) == 12 and a["key"].is_unique
    assert a.equals(b)


def test_dask_cluster_gives_the_same_store(tmp_path, wl):
    from dask.distributed import LocalCluster

    spec = _spec(tmp_path, AXES, [wl])
    accelsim.sweep(spec, str(tmp_path / "inline"), scheduler="inline")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        accelsim.sweep(spec, str(tmp_path / "dask"), scheduler=cluster.scheduler_address)
    assert _frame(tmp_path / "inline").equals(_frame(tmp_path / "dask"))


def test_the_memo_evaluates_each_distinct_layer_once(tmp_path):
    w1 = _workload(tmp_path / "w1.yaml", "w1", [("a", 8, 16), ("b", 16, 16)])
    w2 = _workload(tmp_path / "w2.yaml", "w2", [("a2", 8, 16), ("c", 16, 32), ("b2", 16, 16)])
    spec = _spec(tmp_path, [{"name": "dataflow", "path": "dataflow", "values": ["rs", "ws"]}], [w1, w2])
    _, s = accelsim.sweep(spec, str(tmp_path / "m"), scheduler="inline")
    # per dataflow: distinct nests a, b, c -> 3 searches; a2 and b2 repeat a and b -> 2 hits
    assert (s.memo_misses, s.memo_hits) == (2 * 3, 2 * 2)
    assert s.memo_hit_rate == pytest.approx(4 / 10)


def test_optuna_search_fills_the_same_store_and_the_pareto_plot_draws_it(tmp_path, wl):
    spec = _spec(tmp_path, AXES, [wl])
    store, s = accelsim.sweep(spec, str(tmp_path / "o"), search="optuna", trials=6)
    df = store.to_dataframe()
    assert len(df) >= 1 and set(df["source"]) == {"optuna"} and df["key"].is_unique
    accelsim.sweep(spec, str(tmp_path / "o"), scheduler="inline")  # the grid adds the rest beside them
    full = accelsim.load_sweep(tmp_path / "o").to_dataframe()
    assert len(full) == 12 and full["key"].is_unique
    assert s.fronts is None  # the grid was not there yet
    _, again = accelsim.sweep(spec, str(tmp_path / "o"), search="optuna", trials=6)
    f = again.fronts
    assert f is not None and f.grid == 12 and 1 <= f.searched <= 6
    assert 0 < f.hypervolume_ratio <= 1 and f.found <= f.grid_front
    assert (f.hypervolume_ratio == pytest.approx(1)) == (f.found == f.grid_front)
    fig = accelsim.plot(tmp_path / "o", "pareto", tmp_path / "figs", formats=("png",), color="dataflow")
    a, b = fig.axes
    assert a.get_xlabel() == "latency (ms)" and a.get_ylabel() == "energy (µJ)"
    assert b.get_xlabel() == "on-chip storage (KiB)"
    assert len(a.collections) == 2  # one series per dataflow
    assert sum(len(c.get_offsets()) for c in a.collections) == 12
    assert (tmp_path / "figs" / "pareto.png").stat().st_size > 0


@pytest.mark.parametrize("axis, words", [
    ({"name": "x", "path": "levels.NOPE.fanout.rows", "values": [4]}, ["'x'", "levels.NOPE.fanout.rows", "NOPE"]),
    ({"name": "x", "path": "levels.GLB.fanout.rows", "values": [-4]}, ["point", "rows"]),
    ({"name": "x", "path": "levels.GLB.fanout.rows"}, ["axes.0", "values or range"]),
])
def test_spec_errors_name_the_axis_path_and_point(tmp_path, wl, axis, words):
    spec = _spec(tmp_path, [axis], [wl])
    res = CliRunner().invoke(app, ["sweep", spec, "--out", str(tmp_path / "e"), "--scheduler", "inline"])
    assert res.exit_code == 2, res.output
    try:
        err = res.stderr
    except (ValueError, AttributeError):
        err = ""
    text = res.output + err
    assert "Traceback" not in text
    for w in words:
        assert w in text, (w, text)


def test_front_comparison_by_hand():
    """Hypervolumes of small fronts computed by hand (objectives scaled by the grid's worst, ref (1, 1))."""
    from accelsim.dse.search import compare_fronts, hypervolume

    assert hypervolume([(0.5, 0.5, "a")], (1.0, 1.0)) == pytest.approx(0.25)
    # a (0.2, 0.8) and b (0.6, 0.3): 0.8 * 0.2 + 0.4 * 0.5 = 0.36; c (0.7, 0.9) is dominated
    assert hypervolume([(0.2, 0.8, "a"), (0.6, 0.3, "b"), (0.7, 0.9, "c")], (1.0, 1.0)) == pytest.approx(0.36)
    grid = {"a": (2.0, 8.0), "b": (6.0, 3.0), "c": (7.0, 9.0), "w": (10.0, 10.0)}
    c = compare_fronts({"b": grid["b"], "c": grid["c"]}, grid)
    assert (c.searched, c.grid, c.search_front, c.grid_front, c.found) == (2, 4, 1, 2, 1)
    assert c.hypervolume_ratio == pytest.approx(0.4 * 0.7 / 0.36)
    assert compare_fronts(dict(grid), grid).hypervolume_ratio == pytest.approx(1.0)


def test_precision_is_a_sweep_axis(tmp_path, wl):
    """A precision axis gives each point the arch ``--precision`` gives a single run."""
    spec = _spec(tmp_path, [{"name": "precision", "path": "precision", "values": ["int8", "fp16"]}], [wl])
    store, s = accelsim.sweep(spec, str(tmp_path / "p"), scheduler="inline")
    df = store.to_dataframe().set_index("axis_precision")
    for p in ("int8", "fp16"):
        one = accelsim.run("eyeriss.yaml", wl, precision=p, budget=20)
        assert df.loc[p, "cycles"] == one.totals["cycles"]
        assert df.loc[p, "energy_pj"] == pytest.approx(one.totals["energy_pj"])
