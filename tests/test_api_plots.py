"""The Python API (``accelsim.run``) and the figures (``accelsim plot``).

Oracles: the CLI's own report for the same inputs (the API must give the same figures); the report's
numbers (frames and figures must carry exactly them: bar heights, series, labels with units).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import accelsim
from accelsim.cli import app
from accelsim.errors import InputError

VOLATILE = {"wall_s", "search_seconds", "seconds", "wall_seconds", "generated", "timestamp"}


def _strip(x):
    """A report without wall-clock figures."""
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [_strip(v) for v in x]
    return x


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("api")
    res = CliRunner().invoke(app, ["run", "eyeriss.yaml", "mobilenet.yaml", "--layers", "1-4", "--out", str(out),
                                   "--format", "json", "--budget", "80"])
    assert res.exit_code == 0, res.output
    api = accelsim.run("eyeriss.yaml", "mobilenet.yaml", layers="1-4", budget=80)
    return json.loads((out / "report.json").read_text()), api, out


def test_api_and_cli_give_identical_figures(runs):
    cli, api, _ = runs
    a, c = _strip(api.report), _strip(cli)
    for key in ("totals", "layers", "unmapped_layers"):
        assert a[key] == c[key], key
    assert a["inputs"]["arch"] == c["inputs"]["arch"]


def test_api_takes_dicts_and_names_bad_fields():
    import yaml

    from accelsim.files import resolve
    arch = yaml.safe_load(resolve("eyeriss.yaml", "arch").text)
    wl = yaml.safe_load(resolve("steering.yaml", "workload").text)
    r = accelsim.run(arch, wl, budget=40)
    s = accelsim.run("eyeriss.yaml", "steering.yaml", budget=40)
    assert r.totals["cycles"] == s.totals["cycles"] and r.totals["energy_pj"] == s.totals["energy_pj"]
    arch["levels"][0]["capacity_words"] = {"filter": -1, "ifmap": 12, "ofmap": 24}
    with pytest.raises(InputError) as e:
        accelsim.run(arch, wl)
    assert "<arch dict>" in str(e.value) and "levels.0.capacity_words" in str(e.value)
    with pytest.raises(InputError, match="objective"):
        accelsim.run("eyeriss.yaml", "steering.yaml", objective="speed")
    with pytest.raises(InputError, match="workload must be"):
        accelsim.run("eyeriss.yaml", 42)


def test_dataframe_carries_the_report_with_units_in_the_columns(runs):
    _, api, _ = runs
    df = api.to_dataframe()
    assert list(df["layer"]) == [l["name"] for l in api.layers]
    levels = list(api.layers[0]["energy_by_level_pj"])
    assert {"cycles", "latency_s", "energy_pj", "dram_bytes", "pj_per_mac"} <= set(df.columns)
    assert {f"energy_{lv}_pj" for lv in levels} <= set(df.columns)
    assert all(c.endswith(("_cycles", "_pj", "_s", "_bytes")) for c in df.columns
               if c.startswith(("stall_", "energy_", "latency", "dram")))
    for i, l in enumerate(api.layers):
        assert df["cycles"][i] == l["cycles"]
        assert sum(df[f"energy_{lv}_pj"][i] for lv in levels) == pytest.approx(l["energy_pj"], rel=1e-12)
        assert df["compute_cycles"][i] + sum(df[c][i] for c in df.columns if c.startswith("stall_")) == l["cycles"]
    html = api._repr_html_()
    assert html.count("<tr>") == len(api.layers) + 1 and "pJ/MAC" in html


def _heights(ax):
    return [[p.get_height() for p in c] for c in ax.containers]


def test_each_plot_kind_renders_the_report(runs, tmp_path):
    cli, api, folder = runs
    levels = list(cli["layers"][0]["energy_by_level_pj"])
    fig = accelsim.plot(folder, "energy", tmp_path, formats=("png", "svg"))
    for f in ("energy.png", "energy.svg"):
        assert (tmp_path / f).stat().st_size > 1000
    by_level, by_tensor = fig.axes
    assert [c.get_label() for c in by_level.containers] == levels  # the report's levels, in its order
    assert by_level.get_ylabel() == "energy (µJ)" and by_tensor.get_xlabel() == "layer"
    h = _heights(by_level)
    for i, l in enumerate(cli["layers"]):
        assert sum(s[i] for s in h) == pytest.approx(l["energy_pj"] * 1e-6, rel=1e-9)
    assert sum(sum(s) for s in _heights(by_tensor)) == pytest.approx(sum(sum(s) for s in h), rel=1e-9)

    fig = accelsim.plot(api, "cycles", tmp_path)
    (ax,) = fig.axes
    assert ax.get_ylabel() == "cycles" and ax.containers[0].get_label() == "compute"
    h = _heights(ax)
    assert [sum(s[i] for s in h) for i in range(len(cli["layers"]))] == [l["cycles"] for l in cli["layers"]]

    fig = accelsim.plot(cli, "utilization", tmp_path)
    (ax,) = fig.axes
    assert ax.get_ylabel() == "utilization (%)" and len(ax.containers) == 2
    assert [p.get_height() for p in ax.containers[0]] == pytest.approx([100 * l["utilization"] for l in cli["layers"]])

    fig = accelsim.plot(cli, "roofline", tmp_path)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and "MAC per DRAM byte" in ax.get_xlabel() and "MAC/s" in ax.get_ylabel()
    roof = ax.lines[0].get_ydata()
    arch = cli["inputs"]["arch"]
    assert max(roof) == pytest.approx(arch["peak_macs_per_cycle"] * arch["clock_mhz"] * 1e6)
    pts = ax.collections[0].get_offsets()
    assert len(pts) == len(cli["layers"])
    assert all(y <= max(roof) * (1 + 1e-9) for _, y in pts)  # nothing above the compute roof

    other = accelsim.run("eyeriss.yaml", "mobilenet.yaml", dataflow="ws", layers="1-4", budget=80)
    fig = accelsim.plot([cli, other], "dataflows", tmp_path)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["rs", "ws"]
    assert ax.get_ylabel() == "energy per MAC (pJ/MAC)"
    h = _heights(ax)
    assert sum(s[0] for s in h) == pytest.approx(cli["totals"]["pj_per_mac"], rel=1e-9)


def test_plot_cli_writes_files_and_refuses_bad_input(runs, tmp_path):
    _, _, folder = runs
    r = CliRunner().invoke(app, ["plot", str(folder / "report.json"), "--kind", "roofline", "--out", str(tmp_path),
                                 "--format", "png,pdf"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "roofline.png").stat().st_size > 0 and (tmp_path / "roofline.pdf").stat().st_size > 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": 1}')
    for args, words in ((["--kind", "pie"], "unknown plot kind"), ([str(bad), "--kind", "energy"], "not an accelsim"),
                        ([str(folder), str(folder), "--kind", "energy"], "draws one report"),
                        ([str(tmp_path / "none.json"), "--kind", "energy"], "cannot read")):
        argv = ["plot"] + (args if args[0] != "--kind" else [str(folder)] + args) + ["--out", str(tmp_path)]
        res = CliRunner().invoke(app, argv)
        assert res.exit_code == 2, (args, res.output)
        try:
            err = res.stderr
        except (ValueError, AttributeError):
            err = ""
        assert "Traceback" not in res.output and words in res.output + err, (words, res.output, err)


def test_sparse_kinds_draw_the_actual_work_and_the_speedups(tmp_path):
    r = accelsim.run("eie.yaml", "alexnet_fc_sparse.yaml", sparse_mode="actual", layers="fc7,fc8", budget=60)
    fig = accelsim.plot(r, "pe-busy", tmp_path)
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    units = [len(l["sparse"]["actual"]["busy_cycles_per_unit"]) for l in r.layers]
    assert grid.shape == (2, max(units)) and "busy cycles" in fig.axes[1].get_ylabel()
    for i, l in enumerate(r.layers):
        act = l["sparse"]["actual"]
        assert list(grid[i][:units[i]]) == pytest.approx(
            [100 * b / act["compute_cycles"] for b in act["busy_cycles_per_unit"]])
        assert grid.mask[i][units[i]:].all()  # units a layer does not use are blank
    fig = accelsim.plot([r], "speedup", tmp_path)
    (ax,) = fig.axes
    pts = ax.collections[0].get_offsets()
    want = [(l["sparse"]["densities"]["filter"]["density"] * l["sparse"]["densities"]["ifmap"]["density"],
             l["sparse"]["speedup"]) for l in r.layers]
    assert [float(v) for p in pts for v in p] == pytest.approx([v for w in want for v in w])
    assert "density" in ax.get_xlabel() and "speedup" in ax.get_ylabel()
    with pytest.raises(InputError, match="sparse-mode actual"):
        accelsim.plot(accelsim.run("eyeriss.yaml", "steering.yaml", budget=40), "pe-busy")
