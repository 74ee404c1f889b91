"""The command line end to end: ``accelsim run``, ``show-mapping`` and ``list``.

Most tests run in-process with typer's CliRunner; the full MobileNet run on
eyeriss and the determinism check use the installed ``accelsim`` executable from
an empty temporary folder, which also proves the bundled files resolve from
anywhere.  Where search quality does not matter, runs use ``--layers`` and a
small ``--budget`` to stay fast.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

import accelsim.cli as cli
from accelsim.cli import app
from accelsim.report.build import SCHEMA
from accelsim.workload import load_workload

runner = CliRunner()



def energy_entries(rep: dict) -> set[str]:
    """The energy breakdown's entries: MAC, each of the arch's levels by its name (DRAM included), NoC."""
    return {"MAC", "NoC"} | {lv["name"] for lv in rep["inputs"]["arch"]["levels"]}

FEW = "1-3,fc"  # conv1, conv2_dw, conv2_pw and fc of MobileNet
FEW_NAMES = ["conv1", "conv2_dw", "conv2_pw", "fc"]


@pytest.fixture(autouse=True)
def _wide_console_in_tmp(tmp_path, monkeypatch):
    """Run from an empty folder; print the table at a fixed width whatever the terminal."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "out_console", Console(width=200))


@pytest.fixture(scope="module")
def mobilenet():
    return load_workload("mobilenet.yaml")


def accelsim_exe() -> str:
    exe = shutil.which("accelsim") or str(Path(sys.executable).parent / "accelsim")
    assert Path(exe).exists(), "the accelsim console script is not installed"
    return exe


def invoke(*args: str):
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, (r.exit_code, r.output, r.exception)
    return r


def load_report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def table_has_row(text: str, first_cell: str) -> bool:
    return re.search(rf"^\W*{re.escape(first_cell)}\s*[│|]", text, re.M) is not None


def check_report(rep: dict, workload, names: list[str]) -> None:
    """Schema, totals and per-layer invariants of one report."""
    assert rep["schema"] == SCHEMA == "accelsim.report/4"
    layers = rep["layers"]
    assert [l["name"] for l in layers] == names
    tot = rep["totals"]
    assert tot["layers"] == len(names)
    by_name = {l.name: l for l in workload.layers}
    assert tot["macs"] == sum(l["macs"] for l in layers) == sum(by_name[n].macs for n in names)
    assert tot["cycles"] == sum(l["cycles"] for l in layers)
    levels = energy_entries(rep)
    assert {"MAC", "NoC", "DRAM"} <= levels and len(levels) >= 4
    assert set(tot["energy_by_level_pj"]) == levels
    assert math.isclose(sum(tot["energy_by_level_pj"].values()), tot["energy_pj"], rel_tol=1e-9)
    arch = rep["inputs"]["arch"]
    pes = arch["pe_array"]["rows"] * arch["pe_array"]["cols"]
    macs_units = arch["mac_units"]
    assert macs_units >= pes
    for l in layers:
        assert l["macs"] == by_name[l["name"]].macs
        assert set(l["energy_by_level_pj"]) == levels
        assert math.isclose(sum(l["energy_by_level_pj"].values()), l["energy_pj"], rel_tol=1e-9), l["name"]
        assert l["cycles"] >= math.ceil(l["macs"] / pes), l["name"]
        assert l["cycles"] >= l["compute_cycles"] >= 1
        assert 1 <= l["active_pes"] <= pes
        assert 1 <= l["active_macs"] <= macs_units
        assert 0 < l["utilization"] <= 1


def check_csv(text: str, names: list[str], rep: dict | None = None) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "layer" and "cycles" in rows[0] and "energy_pj" in rows[0]
    if rep is not None:
        for e in energy_entries(rep):
            assert f"energy_{e}_pj" in rows[0], (e, rows[0])
    assert len(rows) == 1 + len(names)
    assert [r[0] for r in rows[1:]] == names


# ---------------------------------------------------------------------------- run, whole network


def test_run_mobilenet_on_eyeriss_real_executable(tmp_path, mobilenet):
    """The installed script from an empty folder: bundled names resolve, table + report + CSV."""
    assert list(tmp_path.iterdir()) == []
    p = subprocess.run([accelsim_exe(), "run", "eyeriss.yaml", "mobilenet.yaml", "--out", "out"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    names = [l.name for l in mobilenet.mac_layers]
    assert len(names) == 28
    for n in names:
        assert table_has_row(p.stdout, n), n
    assert re.search(r"^\W*total\s*│\s*28\s*│", p.stdout, re.M), p.stdout
    assert "wrote" in p.stderr
    rep = load_report(tmp_path / "out")
    check_report(rep, mobilenet, names)
    assert rep["totals"]["macs"] == mobilenet.macs == 568_740_352
    assert rep["inputs"]["dataflow"]["name"] == "rs"
    assert [u["name"] for u in rep["unmapped_layers"]] == ["pool"]
    check_csv((tmp_path / "out" / "layers.csv").read_text(), names, rep)


@pytest.mark.parametrize("arch, dataflow", [("tpu.yaml", "ws"), ("shidiannao.yaml", "os")])
def test_run_mobilenet_on_bundled_arch(tmp_path, mobilenet, arch, dataflow):
    out = tmp_path / "out"
    r = invoke("run", arch, "mobilenet.yaml", "--out", str(out))
    names = [l.name for l in mobilenet.mac_layers]
    for n in names:
        assert table_has_row(r.stdout, n), n
    assert re.search(r"^\W*total\s*│\s*28\s*│", r.stdout, re.M), r.stdout
    rep = load_report(out)
    check_report(rep, mobilenet, names)
    assert rep["totals"]["macs"] == mobilenet.macs
    assert rep["inputs"]["dataflow"]["name"] == dataflow  # the arch's default
    check_csv((out / "layers.csv").read_text(), names, rep)


# ---------------------------------------------------------------------------- formats


def test_format_json_on_stdout(tmp_path, mobilenet):
    out = tmp_path / "out"
    r = invoke("run", "eyeriss.yaml", "mobilenet.yaml", "--layers", FEW, "--budget", "50",
               "--format", "json", "--out", str(out))
    rep = json.loads(r.stdout)
    check_report(rep, mobilenet, FEW_NAMES)
    assert rep == load_report(out)


def test_format_csv_on_stdout(tmp_path):
    out = tmp_path / "out"
    r = invoke("run", "eyeriss.yaml", "mobilenet.yaml", "--layers", FEW, "--budget", "50",
               "--format", "csv", "--out", str(out))
    check_csv(r.stdout, FEW_NAMES)
    assert r.stdout == (out / "layers.csv").read_text()
    assert "│" not in r.stdout


# ---------------------------------------------------------------------------- dataflows, objectives


@pytest.mark.parametrize("dataflow", ["ws", "os", "is", "rs", "nlr"])
def test_each_dataflow_runs_on_eyeriss(tmp_path, mobilenet, dataflow):
    out = tmp_path / "out"
    invoke("run", "eyeriss.yaml", "mobilenet.yaml", "--dataflow", dataflow, "--layers", FEW,
           "--budget", "50", "--out", str(out), "--format", "csv")
    rep = load_report(out)
    assert rep["inputs"]["dataflow"]["name"] == dataflow
    assert rep["inputs"]["dataflow"]["file"] == f"{dataflow}.yaml"
    check_report(rep, mobilenet, FEW_NAMES)


def test_objective_cycles_vs_energy(tmp_path):
    reps = {}
    for obj in ("cycles", "energy"):
        out = tmp_path / obj
        invoke("run", "eyeriss.yaml", "mobilenet.yaml", "--objective", obj, "--layers", "1-5,fc",
               "--budget", "200", "--out", str(out), "--format", "csv")
        reps[obj] = load_report(out)
        assert reps[obj]["inputs"]["objective"] == obj
    cyc, en = reps["cycles"], reps["energy"]
    # the mapper ranks with the analytical model (DESIGN.md), so its cycles are what it minimises
    assert sum(l["model_cycles"] for l in cyc["layers"]) <= sum(l["model_cycles"] for l in en["layers"])
    assert en["totals"]["energy_pj"] <= cyc["totals"]["energy_pj"] * (1 + 1e-12)
    for a, b in zip(cyc["layers"], en["layers"], strict=True):
        assert a["name"] == b["name"]
        assert a["model_cycles"] <= b["model_cycles"], a["name"]
        assert b["energy_pj"] <= a["energy_pj"] * (1 + 1e-12), a["name"]


# ---------------------------------------------------------------------------- show-mapping, list


def test_show_mapping_conv1():
    r = invoke("show-mapping", "eyeriss.yaml", "mobilenet.yaml", "conv1", "--budget", "50")
    assert "conv1" in r.stdout
    assert "spatial_for" in r.stdout
    assert "MAC" in r.stdout
    assert "cycles" in r.stdout


def test_list_bundled():
    r = invoke("list")
    for name in ("eyeriss.yaml", "tpu.yaml", "shidiannao.yaml", "mobilenet.yaml", "steering.yaml",
                 "rs.yaml", "ws.yaml"):
        assert name in r.stdout


# ---------------------------------------------------------------------------- --mapping


TINY = {
    "name": "tiny",
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
        {"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "fc", "type": "fc", "out_features": 10},
    ],
}

#: c1 is N1 G1 M4 C3 P8 Q8 R3 S3; legal on eyeriss (12x14) under rs.  Slots are named after
#: eyeriss's levels (spad, GLB, DRAM); the GLB's fan-out gives the PE array's rows and cols.
C1_MAPPING = {
    "DRAM": {"Q": 2},
    "GLB": {"Q": 4},
    "GLB.rows": {"M": 4, "R": 3},
    "GLB.cols": {"P": 8},
    "spad": {"C": 3, "S": 3},
    "orders": {"DRAM": ["Q"], "GLB": ["Q"], "spad": ["C", "S"]},
}
C1_SLOTS = ("DRAM", "GLB", "GLB.rows", "GLB.cols", "spad")

#: The same mapping in the keys of the earlier fixed form (still accepted).
C1_MAPPING_OLD_KEYS = {
    "dram": {"Q": 2},
    "glb": {"Q": 4},
    "rows": {"M": 4, "R": 3},
    "cols": {"P": 8},
    "rf": {"C": 3, "S": 3},
    "orders": {"dram": ["Q"], "glb": ["Q"], "rf": ["C", "S"]},
}


@pytest.mark.parametrize("spec", [C1_MAPPING, C1_MAPPING_OLD_KEYS], ids=["level_names", "old_keys"])
def test_fixed_mapping_is_used(tmp_path, spec):
    wl = tmp_path / "tiny.yaml"
    wl.write_text(yaml.safe_dump(TINY))
    mp = tmp_path / "c1_map.yaml"
    mp.write_text(yaml.safe_dump({"layers": {"c1": spec}}))
    out = tmp_path / "out"
    invoke("run", "eyeriss.yaml", str(wl), "--mapping", str(mp), "--out", str(out), "--format", "json")
    rep = load_report(out)
    assert rep["inputs"]["mapping_file"]["file"] == str(mp)
    assert rep["inputs"]["mapping_file"]["path"] == str(Path(mp).absolute())
    c1, fc = rep["layers"]
    assert c1["name"] == "c1" and c1["search"]["fixed_mapping"] is True
    assert c1["search"]["evaluated"] == 1
    want = {l: copy.deepcopy(C1_MAPPING.get(l, {})) for l in C1_SLOTS}
    assert c1["mapping"]["factors"] == want
    assert c1["mapping"]["orders"] == C1_MAPPING["orders"]
    assert c1["active_pes"] == 4 * 3 * 8
    assert c1["active_macs"] == 4 * 3 * 8
    assert fc["search"]["fixed_mapping"] is False


# ---------------------------------------------------------------------------- determinism


def test_two_runs_give_identical_reports(tmp_path):
    """Same command twice (separate processes, different hash seeds): same report apart from wall times."""
    reports, csvs = [], []
    for i, seed in enumerate(("1", "2")):
        out = tmp_path / f"out{i}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        p = subprocess.run([accelsim_exe(), "run", "eyeriss.yaml", "mobilenet.yaml", "--layers", "1-4,conv14_pw,fc",
                            "--budget", "100", "--out", str(out), "--format", "csv"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        rep = load_report(out)
        assert rep["totals"]["wall_s"] >= 0
        del rep["totals"]["wall_s"]
        for layer in rep["layers"]:
            del layer["simulation"]["wall_s"]
        reports.append(rep)
        csvs.append((out / "layers.csv").read_text())
    assert reports[0] == reports[1]
    assert csvs[0] == csvs[1]


# ---------------------------------------------------------------------------- layer names in the table


@pytest.mark.parametrize("name", ["blk[a]fc", "fc[/x]"])
def test_layer_names_printed_verbatim(tmp_path, name):
    wl = tmp_path / "named.yaml"
    wl.write_text(yaml.safe_dump({"name": "named", "input": {"channels": 8},
                                  "layers": [{"name": name, "type": "fc", "out_features": 8}]}))
    r = runner.invoke(app, ["run", "eyeriss.yaml", str(wl), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, (r.output, r.exception)
    assert name in r.stdout


@pytest.mark.parametrize("budget", ["1", "2", "5"])
def test_tiny_budgets_still_map_every_layer(tmp_path, budget):
    invoke("run", "eyeriss.yaml", "mobilenet.yaml", "--layers", "1-3,fc", "--budget", budget, "--out", str(tmp_path))
    rep = load_report(tmp_path)
    assert len(rep["layers"]) == 4
    assert all(1 <= l["search"]["evaluated"] <= int(budget) for l in rep["layers"])
