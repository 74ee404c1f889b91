"""Named regression tests for every case of the hardening issue: no traceback, hang or runaway cost.

Each case runs the CLI in-process (typer's CliRunner) from an empty folder
under a 10 s deadline (a SIGALRM guard, so a hang fails the test instead of
stalling the suite).  Legal inputs give exit 0 and a strictly valid
``report.json`` (no NaN or Infinity); everything else gives exit 2 with
``error:``, the file and the field named, and never a traceback.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.files import resolve
from accelsim.limits import MAX_BUDGET, MAX_DIM, MAX_YAML_DEPTH
from helpers import fixed_form

runner = CliRunner()
DEADLINE_S = 10

MINI = {
    "name": "mini",
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
        {"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "fc", "type": "fc", "out_features": 10},
    ],
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@contextmanager
def deadline(seconds: float = DEADLINE_S):
    """Fail (instead of hanging) when the body runs longer than ``seconds``."""

    def _raise(*_):
        raise TimeoutError(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.perf_counter() - t0 < seconds


def run(*args: str):
    """The CLI with ``--jobs 1`` (no worker processes, so the deadline applies to all the work)."""
    extra = ["--jobs", "1"] if args and args[0] == "run" else []
    with deadline():
        res = runner.invoke(app, [*args, *extra])
    out = res.output + _stderr(res)
    assert "Traceback" not in out, out
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


def _stderr(res) -> str:
    try:
        return res.stderr
    except (ValueError, AttributeError):
        return ""


def fails(res, *needles: str) -> str:
    err = _stderr(res) or res.output
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "error:" in err, err
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    return err


def succeeds(res, out: Path = Path("accelsim-out")) -> dict:
    assert res.exit_code == 0, (res.exit_code, res.output)
    text = (out / "report.json").read_text()
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} in report")))


def write(name: str, data) -> str:
    Path(name).write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return name


def mini(**changes) -> dict:
    d = copy.deepcopy(MINI)
    d.update(changes)
    return d


EYERISS_FILTER_GLB = Path(__file__).parent / "data" / "eyeriss" / "eyeriss_filter_glb.yaml"


def eyeriss() -> dict:
    """Eyeriss as a hierarchy of levels spad (0), GLB (1, the 12x14 fan-out, with its filter partition)
    and DRAM, without sparse features (``tests/data/eyeriss/eyeriss_filter_glb.yaml``)."""
    return yaml.safe_load(EYERISS_FILTER_GLB.read_text())


def tpu() -> dict:
    """A fixed-form arch (tpu.yaml as release 0.1 gave it), read through the translation to levels."""
    return fixed_form("tpu")


def single_glb(a: dict, words: int) -> dict:
    """Eyeriss with one shared, single-buffered, one-bank GLB of ``words`` words (the old ``glb.words``)."""
    glb = a["levels"][1]
    assert glb["name"] == "GLB"
    glb["capacity_words"] = words
    glb["read_bw_words"] = glb["write_bw_words"] = 16
    glb.pop("banks", None)
    glb.pop("double_buffered", None)
    return a


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def bomb(levels: int = 9) -> str:
    """Billion-laughs: each anchor is a list of ten aliases of the one before (10**levels leaves)."""
    lines = ["a0: &a0 [1]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- tracebacks once


@pytest.mark.parametrize("kind", ["arch", "workload", "mapping"])
def test_5000_deep_nested_yaml(kind):
    f = write(f"deep_{kind}.yaml", f"name: x\nlayers: {nested(5000)}\n")
    args = {"arch": ["run", f, write("w.yaml", mini())],
            "workload": ["run", "eyeriss.yaml", f],
            "mapping": ["run", "eyeriss.yaml", write("w.yaml", mini()), "--mapping", f]}[kind]
    fails(run(*args), f, f"nested deeper than {MAX_YAML_DEPTH} levels", "line 2")


def test_alias_bomb_as_out_channels():
    text = bomb() + yaml.safe_dump({"name": "x", "input": {"channels": 3}, "layers": [
        {"type": "fc", "out_features": 4}]}).replace("out_features: 4", "out_features: *a9")
    fails(run("run", "eyeriss.yaml", write("bomb_wl.yaml", text)), "bomb_wl.yaml", "aliases", "1,000,000")


def test_alias_bomb_as_arch_name():
    text = yaml.safe_dump(eyeriss(), sort_keys=False).replace("name: eyeriss", "name: *a9", 1)
    fails(run("run", write("bomb_arch.yaml", bomb() + text), write("w.yaml", mini())), "bomb_arch.yaml", "aliases")


def test_alias_bomb_as_mapping_factors():
    text = bomb() + "layers:\n  c1:\n    glb: *a9\n"
    fails(run("run", "eyeriss.yaml", write("w.yaml", mini()), "--mapping", write("bomb_map.yaml", text)),
          "bomb_map.yaml", "aliases")


def test_alias_bomb_as_workload_name():
    text = bomb() + yaml.safe_dump(mini()).replace("name: mini", "name: *a9")
    fails(run("run", "eyeriss.yaml", write("bomb_name.yaml", text)), "bomb_name.yaml", "aliases")


def test_short_alias_expansion_still_loads():
    """Aliases themselves are fine: a layer template reused by reference loads normally."""
    text = ("input: {channels: 3, height: 8, width: 8}\nlayers:\n"
            "  - &t {type: conv2d, out_channels: 4, kernel: 3, padding: 1}\n  - *t\n")
    assert succeeds(run("run", "eyeriss.yaml", write("alias_ok.yaml", text)))["totals"]["layers"] == 2


def test_input_height_1e9_runs_or_is_rejected_by_a_bound():
    wl = {"input": {"channels": 1, "height": 10**9, "width": 1},
          "layers": [{"name": "tall", "type": "conv2d", "out_channels": 1, "kernel": [3, 1]}]}
    rep = succeeds(run("run", "eyeriss.yaml", write("tall.yaml", wl)))
    assert rep["layers"][0]["macs"] == (10**9 - 2) * 3


@pytest.mark.parametrize("cmd", ["run", "show-mapping"])
def test_superscript_digit_in_layer_selection(cmd):
    w = write("w.yaml", mini())
    args = ["run", "eyeriss.yaml", w, "--layers", "²"] if cmd == "run" else ["show-mapping", "eyeriss.yaml", w, "²"]
    fails(run(*args), "no layer named '²'")


# ---------------------------------------------------------------- hangs once


@pytest.mark.parametrize("field,value", [
    ("out_channels", 10**30), ("out_channels", 2**63), ("in_channels", 2**63),
])
def test_huge_channel_counts(field, value):
    d = mini()
    if field == "in_channels":
        d["input"]["channels"] = value
        where = "input.channels"
    else:
        d["layers"][0]["out_channels"] = value
        where = "layers.0.out_channels"
    fails(run("run", "eyeriss.yaml", write("huge.yaml", d)), "huge.yaml", where, f"<= {MAX_DIM:,}")


def test_padding_1e9_on_8x8_input():
    d = mini()
    d["layers"][0]["padding"] = 10**9
    fails(run("run", "eyeriss.yaml", write("pad.yaml", d)), "pad.yaml", "layer 'c1'", "MACs", "limit")


def test_fc_with_2_to_40_outputs():
    d = mini()
    d["layers"][1]["out_features"] = 2**40
    fails(run("run", "eyeriss.yaml", write("fc40.yaml", d)), "fc40.yaml", "layers.1.out_features", "<=")


# ---------------------------------------------------------------- invalid output once


@pytest.mark.parametrize("path,value", [(("mac", "energy_pj"), 1e308), (("dram", "bw_gb_s"), 1e300)])
def test_overflowing_arch_values(path, value):
    a = eyeriss()
    a.setdefault(path[0], {})
    a[path[0]].pop("bw_bytes_per_cycle", None)
    a[path[0]][path[1]] = value
    fails(run("run", write("big.yaml", a), write("w.yaml", mini())), "big.yaml", ".".join(path), "<=")


def test_report_is_strict_json():
    rep = succeeds(run("run", "eyeriss.yaml", write("w.yaml", mini())))
    assert rep["totals"]["macs"] > 0


# ---------------------------------------------------------------- runaway cost once


@pytest.mark.parametrize("budget", [10_000_000, 10**9])
def test_budget_over_the_ceiling(budget):
    res = run("run", "eyeriss.yaml", write("w.yaml", mini()), "--budget", str(budget))
    assert res.exit_code == 2 and "--budget" in res.output + _stderr(res)


def test_budget_at_the_ceiling_on_a_small_layer():
    wl = {"input": {"channels": 2, "height": 4, "width": 4},
          "layers": [{"name": "pw", "type": "conv2d", "out_channels": 2, "kernel": 1}]}
    rep = succeeds(run("run", "eyeriss.yaml", write("pw.yaml", wl), "--budget", str(MAX_BUDGET)))
    assert rep["layers"][0]["search"]["exhaustive"]


def test_glb_of_40_words_on_mobilenet_layers_1_to_6():
    a = single_glb(eyeriss(), 40)
    rep = succeeds(run("run", write("glb40.yaml", a), "mobilenet.yaml", "--layers", "1-6"))
    assert len(rep["layers"]) == 6
    assert all(l["simulation"]["tiles"] > 100 for l in rep["layers"][1:])


def test_fc_with_a_prime_number_of_outputs():
    wl = {"input": {"channels": 3}, "layers": [{"name": "fc", "type": "fc", "out_features": 4_000_037}]}
    rep = succeeds(run("run", "eyeriss.yaml", write("prime_fc.yaml", wl)))
    assert rep["layers"][0]["macs"] == 3 * 4_000_037


# ---------------------------------------------------------------- silently accepted once


@pytest.mark.parametrize("base, extra, key", [
    (eyeriss, "levels: []\n", "levels"),
    (tpu, "pe_array: {rows: 1, cols: 1}\n", "pe_array"),
], ids=["hierarchy", "fixed"])
def test_duplicate_key_in_arch(base, extra, key):
    text = yaml.safe_dump(base(), sort_keys=False) + extra
    err = fails(run("run", write("dup_arch.yaml", text), write("w.yaml", mini())), "dup_arch.yaml",
                f"'{key}' is given twice")
    assert "lines" in err


def test_duplicate_key_in_layer():
    text = ("input: {channels: 3, height: 8, width: 8}\nlayers:\n"
            "  - {name: c1, type: conv2d, out_channels: 4, kernel: 3, out_channels: 8}\n")
    fails(run("run", "eyeriss.yaml", write("dup_wl.yaml", text)), "dup_wl.yaml", "'out_channels' is given twice",
          "lines 3 and 3")


def test_duplicate_layer_in_mapping_file():
    text = "layers:\n  c1:\n    rf: {C: 3}\n  c1:\n    rf: {S: 3}\n"
    fails(run("run", "eyeriss.yaml", write("w.yaml", mini()), "--mapping", write("dup_map.yaml", text)),
          "dup_map.yaml", "'c1' is given twice (lines 2 and 4)")


def test_empty_dataflow_option():
    fails(run("run", "eyeriss.yaml", write("w.yaml", mini()), "--dataflow", ""), "--dataflow", "empty")


def test_local_file_does_not_replace_the_bundled_dataflow():
    local = yaml.safe_load(resolve("ws", "dataflow").text)
    local["name"] = "my_rs"
    write("rs.yaml", local)
    w = write("w.yaml", mini())
    res = run("run", "eyeriss.yaml", w, "--dataflow", "rs")
    rep = succeeds(res)
    assert rep["inputs"]["dataflow"]["name"] == "rs"
    assert Path(rep["inputs"]["dataflow"]["path"]).is_absolute()
    assert rep["inputs"]["dataflow"]["path"].endswith("dataflows/rs.yaml")
    assert "warning:" in _stderr(res) and "./rs.yaml" in _stderr(res)
    rep = succeeds(run("run", "eyeriss.yaml", w, "--dataflow", "./rs.yaml"))
    assert rep["inputs"]["dataflow"]["name"] == "my_rs"
    assert rep["inputs"]["dataflow"]["path"] == str(Path("rs.yaml").absolute())


def test_default_dataflow_path_is_relative_to_the_arch_file(tmp_path):
    sub = tmp_path / "design"
    sub.mkdir()
    df = yaml.safe_load(resolve("ws", "dataflow").text)
    df["name"] = "mydf"
    (sub / "mydf.yaml").write_text(yaml.safe_dump(df))
    a = eyeriss()
    a["default_dataflow"] = "mydf.yaml"
    (sub / "arch.yaml").write_text(yaml.safe_dump(a))
    rep = succeeds(run("run", str(sub / "arch.yaml"), write("w.yaml", mini())))
    assert rep["inputs"]["dataflow"]["name"] == "mydf"
    assert rep["inputs"]["dataflow"]["path"] == str(sub / "mydf.yaml")
    assert rep["inputs"]["arch"]["path"] == str(sub / "arch.yaml")
    assert rep["inputs"]["workload"]["path"] == str(Path("w.yaml").absolute())


def test_layer_named_like_a_position():
    d = mini()
    d["layers"][1]["name"] = "1"
    w = write("w.yaml", d)
    fails(run("run", "eyeriss.yaml", w, "--layers", "1"), "--layers", "both the name of layer 2 and a position")
    assert [l["name"] for l in succeeds(run("run", "eyeriss.yaml", w, "--layers", "name:1"))["layers"]] == ["1"]
    assert [l["name"] for l in succeeds(run("run", "eyeriss.yaml", w, "--layers", "#1"))["layers"]] == ["c1"]


def test_layer_name_with_a_comma():
    d = mini()
    d["layers"][1]["name"] = "fc,final"
    w = write("w.yaml", d)
    rep = succeeds(run("run", "eyeriss.yaml", w, "--layers", "fc\\,final"))
    assert [l["name"] for l in rep["layers"]] == ["fc,final"]


def test_ansi_escape_in_layer_name():
    d = mini()
    d["layers"][0]["name"] = "c1\x1b[31mred"
    res = run("run", "eyeriss.yaml", write("w.yaml", d))
    rep = succeeds(res)
    assert "\x1b[31m" not in res.output and "\\x1b[31mred" in res.output
    assert rep["layers"][0]["name"] == "c1\x1b[31mred"  # the report keeps what the user gave


# ---------------------------------------------------------------- unclear messages once


def test_glb_of_one_word_says_what_the_smallest_tile_needs():
    a = single_glb(eyeriss(), 1)
    fails(run("run", write("glb1.yaml", a), write("w.yaml", mini())), "glb1.yaml", "layer 'c1'",
          "smallest GLB tiles", "levels.1.capacity_words is 1", "at least 3")


def test_shared_rf_of_one_word_with_wide_psums():
    a = eyeriss()
    a["levels"][0].update(capacity_words=2, double_buffered=True)
    a["word_bits"] = {"filter": 16, "ifmap": 16, "ofmap": 32}
    err = fails(run("run", write("rf1.yaml", a), write("w.yaml", mini())), "smallest spad tiles", "ofmap 32 bits",
                "x2 double-buffered", "levels.0.capacity_words is 2", "at least 8",
                "levels.0.double_buffered: false")
    assert "one-word tile" not in err


def test_double_buffered_rf_of_one_word_per_operand():
    a = eyeriss()
    a["levels"][0].update(capacity_words={"filter": 1, "ifmap": 1, "ofmap": 1}, double_buffered=True)
    fails(run("run", write("rfdb.yaml", a), write("w.yaml", mini())), "smallest spad tiles",
          "one word each of filter 16 bits", "x2 double-buffered", "i.e. 2 words",
          "levels.0.capacity_words.filter is 1", "at least 2", "levels.0.double_buffered: false")


def test_unknown_default_dataflow_is_blamed_on_the_arch_file():
    a = eyeriss()
    a["default_dataflow"] = "nosuch"
    fails(run("run", write("a.yaml", a), write("w.yaml", mini())), "a.yaml: default_dataflow",
          "no dataflow named 'nosuch'")


@pytest.mark.parametrize("content,needle", [
    ("- 1\n- 2\n", "expected a dataflow file: a mapping of fields at the top level, got a list"),
    (yaml.safe_dump(MINI), "looks like a workload file, but a dataflow file is expected"),
])
def test_dataflow_path_that_is_not_a_dataflow(content, needle):
    err = fails(run("run", "eyeriss.yaml", write("w.yaml", mini()), "--dataflow", write("notdf.yaml", content)),
                "notdf.yaml", needle)
    assert "DataflowSpec" not in err


def test_workload_given_as_the_arch():
    w = write("w.yaml", mini())
    fails(run("run", w, w), "w.yaml", "looks like a workload file, but an arch file is expected")


def test_mapping_option_given_a_directory(tmp_path):
    (tmp_path / "maps").mkdir()
    fails(run("run", "eyeriss.yaml", write("w.yaml", mini()), "--mapping", "maps"), "maps", "is a directory",
          "expected a mapping file")


def test_symlink_loop():
    os.symlink("loop_b.yaml", "loop_a.yaml")
    os.symlink("loop_a.yaml", "loop_b.yaml")
    fails(run("run", "eyeriss.yaml", "loop_a.yaml"), "loop_a.yaml", "symbolic link loop")


def test_named_pipe():
    os.mkfifo("pipe.yaml")
    fails(run("run", "eyeriss.yaml", "pipe.yaml"), "pipe.yaml", "is a named pipe, not a regular file")


def test_dev_zero():
    fails(run("run", "/dev/zero", write("w.yaml", mini())), "/dev/zero", "is a device, not a regular file")


def test_two_yaml_documents():
    text = yaml.safe_dump(mini()) + "---\nname: second\n"
    fails(run("run", "eyeriss.yaml", write("two.yaml", text)), "two.yaml", "more than one YAML document",
          "line")


def test_non_utf8_file():
    Path("latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    fails(run("run", "eyeriss.yaml", "latin1.yaml"), "latin1.yaml", "not UTF-8", "0xe9")


@pytest.mark.parametrize("content,needle", [("", "file is empty"), ("# only a comment\n", "file is empty"),
                                            ("42\n", "got a number"), ("[1, 2]\n", "got a list")])
def test_empty_or_wrong_top_level(content, needle):
    fails(run("run", "eyeriss.yaml", write("odd.yaml", content)), "odd.yaml", needle)


def test_python_tag_is_not_executed():
    text = "name: !!python/object/apply:os.system ['touch pwned']\nlayers: []\n"
    fails(run("run", "eyeriss.yaml", write("tag.yaml", text)), "tag.yaml", "malformed YAML")
    assert not Path("pwned").exists()


def test_long_values_are_cut_in_messages():
    d = mini()
    d["layers"][0]["type"] = "x" * 10_000
    err = fails(run("run", "eyeriss.yaml", write("long.yaml", d)), "long.yaml", "unknown layer type")
    assert len(err) < 600


def test_highly_divisible_layer_on_a_huge_glb_is_searched_in_bounded_time():
    """Every dim 360 (24 divisors) on a 2**40-word GLB: ~10**9 tilings; the walk's work allowance stops it."""
    a = single_glb(eyeriss(), 2**40)
    wl = {"batch": 360, "input": {"channels": 360, "height": 360, "width": 360},
          "layers": [{"name": "big", "type": "conv2d", "out_channels": 360, "kernel": 1}]}
    rep = succeeds(run("run", write("huge_glb.yaml", a), write("div.yaml", wl), "--dataflow", "ws"))
    search = rep["layers"][0]["search"]
    assert search["space_capped"] and not search["exhaustive"]


def test_5000_digit_integer():
    text = "input: {channels: " + "9" * 5000 + "}\nlayers: [{type: fc, out_features: 3}]\n"
    fails(run("run", "eyeriss.yaml", write("bigint.yaml", text)), "bigint.yaml", "line 1", "5,000 characters")


@pytest.mark.parametrize("literal", ["0x" + "f" * 300, "0" + "7" * 400, "0b" + "1" * 1100])
def test_long_hex_octal_binary_integers_are_refused_not_printed(literal):
    """A hex literal converts at any length, but a message could not print it (found by the long fuzz run)."""
    text = "input: {channels: 3, height: 4, width: 4}\nlayers: [{type: conv2d, out_channels: 1, kernel: 1, " \
           f"out_width: {literal}}}]\n"
    fails(run("run", "eyeriss.yaml", write("hexint.yaml", text)), "hexint.yaml", "line 2", "numbers that long")


@pytest.mark.parametrize("content", ["\x00", "name: \x07\n", "name: a\x1b[31m\n", "name: \x7f\n"])
def test_control_character_in_yaml(content):
    Path("ctl.yaml").write_text(content)
    fails(run("run", "eyeriss.yaml", "ctl.yaml"), "ctl.yaml", "malformed YAML", "unacceptable character")


def test_bad_mapping_of_an_unselected_layer_is_still_reported():
    text = "layers:\n  fc:\n    rf: {M: 3}\n"
    fails(run("run", "eyeriss.yaml", write("w.yaml", mini()), "--layers", "c1", "--mapping", write("m.yaml", text)),
          "m.yaml", "layers.fc")
