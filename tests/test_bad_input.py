"""Bad input never produces a traceback: exit code 2 and ``error: FILE: FIELD: what is wrong``.

Every case writes its bad file(s) into ``tmp_path``, starting from a small valid
workload (:data:`MINI`) or the bundled ``eyeriss.yaml`` (parsed with yaml and
modified), runs the CLI in-process with typer's CliRunner, and asserts on the
exit code, the absence of a traceback, and key substrings of the message: the
file name, the field path or layer name, and a word of the explanation.

Some cases (brackets in names, typos of required fields, booleans for ints, a list as a
layer type) were bugs once; their tests stay as regression tests.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import fixed_form
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.files import resolve

runner = CliRunner()

#: A small valid workload: 3x8x8 input, two 3x3 convs, a 2x2 max pool, an fc.
MINI = {
    "name": "mini",
    "input": {"channels": 3, "height": 8, "width": 8},
    "layers": [
        {"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "c2", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "p", "type": "pool", "mode": "max", "kernel": 2},
        {"name": "fc", "type": "fc", "out_features": 10},
    ],
}

#: A valid fixed mapping of MINI's c1 (N1 G1 M4 C3 P8 Q8 R3 S3) on eyeriss under rs, in the keys of
#: the earlier fixed form (still accepted; eyeriss's levels are spad, GLB, DRAM).
GOOD_C1_MAPPING = {
    "glb": {"Q": 8},
    "rows": {"M": 4, "R": 3},
    "cols": {"P": 8},
    "rf": {"C": 3, "S": 3},
    "orders": {"glb": ["Q"], "rf": ["C", "S"]},
}

#: The same mapping with slots named after eyeriss's levels.
GOOD_C1_MAPPING_LEVELS = {
    "GLB": {"Q": 8},
    "GLB.rows": {"M": 4, "R": 3},
    "GLB.cols": {"P": 8},
    "spad": {"C": 3, "S": 3},
    "orders": {"GLB": ["Q"], "spad": ["C", "S"]},
}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run every test from its own empty folder, so no default output lands in the repo."""
    monkeypatch.chdir(tmp_path)


def eyeriss() -> dict:
    """The bundled eyeriss.yaml (a hierarchy: levels spad, GLB with the 12x14 fan-out, DRAM)."""
    text = resolve("eyeriss.yaml", "arch").text
    return yaml.safe_load(text)


def tpu() -> dict:
    """A fixed-form arch (tpu.yaml as release 0.1 gave it), read through the translation to levels."""
    return fixed_form("tpu")


def mini() -> dict:
    return copy.deepcopy(MINI)


def write(tmp_path, name: str, data) -> str:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return str(p)


def workload_with(tmp_path, layers, name="bad_wl.yaml", **top) -> str:
    d = mini()
    d["layers"] = layers
    d.update(top)
    return write(tmp_path, name, d)


def invoke(tmp_path, *args: str):
    return runner.invoke(app, [*args, "--out", str(tmp_path / "out")])


def stderr_of(result) -> str:
    try:
        return result.stderr
    except (ValueError, AttributeError):  # older click: stderr mixed into output
        return result.output


def assert_input_error(result, *needles: str) -> str:
    """Exit 2, no traceback, ``error:`` on stderr, and every needle in the message."""
    err = stderr_of(result)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in err
    assert "error:" in err, err
    for n in needles:
        assert n in err, f"{n!r} not in message: {err!r}"
    return err


# ---------------------------------------------------------------------------- files


def test_malformed_workload_yaml(tmp_path):
    wl = write(tmp_path, "broken_wl.yaml", "name: x\nlayers: [\n  {type: conv2d, kernel: 3\n")
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "broken_wl.yaml", "malformed YAML", "line")


def test_malformed_arch_yaml(tmp_path):
    arch = write(tmp_path, "broken_arch.yaml", "name: x\n  pe_array: : {rows: 2\n")
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", arch, wl), "broken_arch.yaml", "malformed YAML", "line")


@pytest.mark.parametrize("which", ["workload", "arch"])
def test_empty_file(tmp_path, which):
    empty = write(tmp_path, "empty.yaml", "")
    wl = write(tmp_path, "mini.yaml", mini())
    args = ("eyeriss.yaml", empty) if which == "workload" else (empty, wl)
    assert_input_error(invoke(tmp_path, "run", *args), "empty.yaml", "empty")


def test_workload_not_found_lists_bundled(tmp_path):
    err = assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", "no_such_net.yaml"),
                             "no_such_net.yaml", "no such file")
    for bundled in ("mobilenet.yaml", "resnet50.yaml", "steering.yaml"):
        assert bundled in err


def test_arch_not_found_lists_bundled(tmp_path):
    err = assert_input_error(invoke(tmp_path, "run", "no_such_arch.yaml", "mobilenet.yaml"),
                             "no_such_arch.yaml", "no such file")
    for bundled in ("eyeriss.yaml", "tpu.yaml", "shidiannao.yaml"):
        assert bundled in err


# ---------------------------------------------------------------------------- fields


def test_missing_required_layer_field(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "kernel": 3}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "layers.0.out_channels", "missing")


def test_arch_missing_pe_array(tmp_path):
    """Fixed form: pe_array is required and named by its own field name."""
    a = tpu()
    del a["pe_array"]
    arch = write(tmp_path, "no_pe.yaml", a)
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", arch, wl), "no_pe.yaml", "pe_array", "missing")


def test_arch_missing_levels(tmp_path):
    a = eyeriss()
    del a["levels"]
    arch = write(tmp_path, "no_levels.yaml", a)
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", arch, wl), "no_levels.yaml", "levels", "missing")


def test_mistyped_field(tmp_path):
    layers = mini()["layers"][:1] + [{"name": "c2", "type": "conv2d", "out_channels": 4, "kernel": "three"}]
    wl = workload_with(tmp_path, layers)
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "layers.1.kernel", "integer", "three")


@pytest.mark.parametrize("form", ["hierarchy", "fixed"])
def test_arch_mistyped_field(tmp_path, form):
    if form == "hierarchy":
        a, field = eyeriss(), "levels.1.fanout.rows"
        a["levels"][1]["fanout"]["rows"] = "twelve"
    else:
        a, field = tpu(), "pe_array.rows"
        a["pe_array"]["rows"] = "twelve"
    arch = write(tmp_path, "typo_arch.yaml", a)
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", arch, wl), "typo_arch.yaml", field, "integer")


def test_boolean_kernel_is_rejected(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": True}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", "layers.0.kernel")


def test_unknown_layer_field(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3, "paddding": 1}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "layers.0.paddding", "unknown field")


@pytest.mark.parametrize("form", ["hierarchy", "fixed"])
def test_unknown_arch_field(tmp_path, form):
    if form == "hierarchy":
        a, field = eyeriss(), "levels.1.fanout.colz"
        a["levels"][1]["fanout"]["colz"] = 3
    else:
        a, field = tpu(), "pe_array.colz"
        a["pe_array"]["colz"] = 3
    arch = write(tmp_path, "typo_arch.yaml", a)
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", arch, wl), "typo_arch.yaml", field, "unknown field")


def test_typo_of_required_field_names_the_typo(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "out_channels": 4, "kernal": 3}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", "kernal", "unknown field")


def test_unknown_layer_type(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv3d", "out_channels": 4, "kernel": 3}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "layers.0.type", "unknown layer type", "conv3d")


def test_layer_type_not_a_string(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": ["conv2d"], "out_channels": 4, "kernel": 3}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", "layers.0.type")


def test_unknown_dataflow(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    err = assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl, "--dataflow", "xyz"),
                             "'xyz'", "--dataflow", "no dataflow named")
    assert "rs" in err and "ws" in err and "os_gemm" in err


def test_missing_dataflow_file(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl, "--dataflow", str(tmp_path / "none.yaml")),
                       "none.yaml", "no such file")


def test_selection_without_mac_layers(tmp_path):
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", "mobilenet.yaml", "--layers", "pool"),
                       "--layers", "'pool'", "no layer with MACs")


def test_unknown_objective(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    r = invoke(tmp_path, "run", "eyeriss.yaml", wl, "--objective", "speed")
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert "objective" in r.output + stderr_of(r)


# ---------------------------------------------------------------------------- shapes


def test_out_height_disagrees_with_floor_rule(tmp_path):
    # 8x8 input, k3 s2 p0 -> floor((8-3)/2)+1 = 3, not 4
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3,
                                   "stride": 2, "out_height": 4}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'c1'", "out_height", "floor rule", "3")


def test_empty_output(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 11, "padding": 1}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", "'c1'", "kernel", "empty")


@pytest.mark.parametrize("layer, field, words", [
    ({"out_channels": 0, "kernel": 3}, "layers.0.out_channels", ">= 1"),
    ({"out_channels": -4, "kernel": 3}, "layers.0.out_channels", ">= 1"),
    ({"out_channels": 4, "kernel": 3, "stride": 0}, "layers.0.stride", ">= 1"),
    ({"out_channels": 4, "kernel": 0}, "layers.0.kernel", ">= 1"),
    ({"out_channels": 4, "kernel": 3, "padding": -1}, "layers.0.padding", ">= 0"),
], ids=["out_channels0", "out_channels-4", "stride0", "kernel0", "padding-1"])
def test_zero_or_negative_layer_sizes(tmp_path, layer, field, words):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", **layer}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", field, words)


def test_negative_input_height(tmp_path):
    wl = workload_with(tmp_path, mini()["layers"], input={"channels": 3, "height": -1, "width": 8})
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", "input.height", ">= 1")


def test_in_channels_not_divisible_by_groups(tmp_path):
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3, "groups": 2}])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'c1'", "groups", "input channels 3", "divide")


def test_out_channels_not_divisible_by_groups(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "c1", "type": "conv2d", "out_channels": 6, "kernel": 3},
        {"name": "c2", "type": "conv2d", "out_channels": 4, "kernel": 1, "groups": 3},
    ])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'c2'", "layers.1", "out_channels", "divide")


# ---------------------------------------------------------------------------- graph


def test_in_channels_disagree_with_producer(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "c1", "type": "conv2d", "out_channels": 6, "kernel": 3},
        {"name": "c2", "type": "conv2d", "out_channels": 4, "kernel": 1, "in_channels": 5},
    ])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'c2'", "in_channels", "'c1'", "6 channels")


def test_add_of_different_shapes(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 1},
        {"name": "b", "type": "conv2d", "out_channels": 8, "kernel": 1, "inputs": ["input"]},
        {"name": "s", "type": "add", "inputs": ["a", "b"]},
    ])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'s'", "inputs", "shape", "1x8x8x8", "1x4x8x8")


def test_inputs_names_missing_layer(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 1},
        {"name": "b", "type": "conv2d", "out_channels": 8, "kernel": 1, "inputs": ["ghost"]},
    ])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'b'", "inputs", "'ghost'", "not an earlier layer")


def test_duplicate_layer_name(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 1},
        {"name": "a", "type": "conv2d", "out_channels": 8, "kernel": 1},
    ])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl), "bad_wl.yaml", "'a'", "layers.1", "duplicate")


def test_fc_in_features_disagree(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 1},
        {"name": "f", "type": "fc", "out_features": 8, "in_features": 100},
    ])
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'f'", "in_features", "100", "256")


def test_matmul_mismatch_message_is_printed_verbatim(tmp_path):
    wl = workload_with(tmp_path, [
        {"name": "f", "type": "fc", "out_features": 8},
        {"name": "mm", "type": "matmul", "rows": 4, "inner": 8, "cols": 8},
    ], input={"channels": 8})
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl),
                       "bad_wl.yaml", "'mm'", "[rows x inner]", "does not match")


# ---------------------------------------------------------------------------- unmappable


@pytest.mark.parametrize("base, change, reason", [
    (eyeriss, lambda a: a["levels"][1].update(capacity_words={"ifmap+ofmap": 1}), "GLB"),
    (eyeriss, lambda a: a["levels"][0].update(capacity_words=2), "spad"),
    (tpu, lambda a: a["glb"].update(words=2), "GLB"),
    (tpu, lambda a: a.update(rf={"shared": 2}), "RF"),
], ids=["glb1word", "spad_shared2", "fixed_glb2words", "fixed_rf_shared2"])
def test_layer_cannot_be_mapped(tmp_path, base, change, reason):
    a = base()
    a["name"] = "tiny_buffers"
    change(a)
    arch = write(tmp_path, "tiny_arch.yaml", a)
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", arch, wl),
                       "mini.yaml", "'c1'", "cannot be mapped", "tiny_buffers", reason)


# ---------------------------------------------------------------------------- --mapping


def _mapping_run(tmp_path, c1_spec, layer="c1"):
    wl = write(tmp_path, "mini.yaml", mini())
    mp = write(tmp_path, "bad_map.yaml", {"layers": {layer: c1_spec}})
    return invoke(tmp_path, "run", "eyeriss.yaml", wl, "--mapping", mp)


def test_mapping_factors_do_not_multiply_to_bound(tmp_path):
    spec = {**GOOD_C1_MAPPING, "glb": {"Q": 4}}
    assert_input_error(_mapping_run(tmp_path, spec), "bad_map.yaml", "layers.c1", "Q", "multiply to 4", "Q = 8")


def test_mapping_imperfect_factor_with_an_empty_step(tmp_path):
    """P = 8 as 3 x 3 overshoots: allowed, as no temporal step is empty; C = 3 as 2 x 2 in time is not."""
    ok = {**GOOD_C1_MAPPING, "glb": {"Q": 8, "P": 3}, "cols": {"P": 3}}
    rep = _mapping_run(tmp_path, ok)
    assert rep.exit_code == 0, rep.output
    bad = {**GOOD_C1_MAPPING, "glb": {"Q": 8, "C": 2}, "rf": {"C": 2, "S": 3}}
    assert_input_error(_mapping_run(tmp_path, bad), "bad_map.yaml", "layers.c1", "overshoot 3",
                       "last temporal step")


def test_show_mapping_prints_a_partial_tile(tmp_path):
    spec = {**GOOD_C1_MAPPING, "glb": {"Q": 8, "P": 3}, "cols": {"P": 3}}
    wl = write(tmp_path, "mini.yaml", mini())
    mp = write(tmp_path, "map.yaml", {"layers": {"c1": spec}})
    res = runner.invoke(app, ["show-mapping", "eyeriss.yaml", wl, "c1", "--mapping", mp])
    assert res.exit_code == 0, res.output
    assert "for p in [0:3)  (last: 2 of 3, P = 8)" in res.output


def test_mapping_spatial_dim_not_allowed_by_dataflow(tmp_path):
    spec = {**GOOD_C1_MAPPING, "cols": {"P": 8, "S": 3}, "rf": {"C": 3}, "orders": {}}
    assert_input_error(_mapping_run(tmp_path, spec),
                       "bad_map.yaml", "layers.c1.cols.S", "does not unroll", "'rs'")


@pytest.mark.parametrize("spec", [
    {**GOOD_C1_MAPPING, "rows": {"M": 4, "R": 3, "C": 3}, "rf": {"S": 3}, "orders": {}},
    {**GOOD_C1_MAPPING_LEVELS, "GLB.rows": {"M": 4, "R": 3, "C": 3}, "spad": {"S": 3}, "orders": {}},
], ids=["old_keys", "level_names"])
def test_mapping_exceeds_pe_array(tmp_path, spec):
    # 36 rows used (M4 R3 C3) of the 12 rows of the GLB's 12x14 fan-out (the PE array)
    assert_input_error(_mapping_run(tmp_path, spec), "bad_map.yaml", "layers.c1", "does not fit",
                       "uses 36 of the 12 rows", "GLB's fan-out")


def test_good_mapping_with_level_names_is_accepted(tmp_path):
    r = _mapping_run(tmp_path, GOOD_C1_MAPPING_LEVELS)
    assert r.exit_code == 0, (r.output, r.exception)


def test_mapping_unknown_layer(tmp_path):
    assert_input_error(_mapping_run(tmp_path, GOOD_C1_MAPPING, layer="conv9"),
                       "bad_map.yaml", "layers.conv9", "no layer named", "mini.yaml")


def test_mapping_for_layer_without_macs(tmp_path):
    assert_input_error(_mapping_run(tmp_path, {"glb": {"P": 4}}, layer="p"),
                       "bad_map.yaml", "layers.p", "no MACs")


def test_mapping_file_not_found(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl, "--mapping", "no_map.yaml"),
                       "no_map.yaml", "no such file", "mapping file")


# ---------------------------------------------------------------------------- --layers, --out


@pytest.mark.parametrize("sel, words", [
    ("c1,nope", ("--layers", "'nope'", "no layer named", "mini.yaml")),
    ("7", ("--layers", "'7'", "outside 1-4")),
    ("0", ("--layers", "'0'", "outside 1-4")),
    ("2-9", ("--layers", "'2-9'", "outside 1-4")),
], ids=["unknown_name", "past_end", "zero", "range_past_end"])
def test_bad_layer_selection(tmp_path, sel, words):
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl, "--layers", sel), *words)


def test_bad_layer_selection_with_brackets(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    assert_input_error(invoke(tmp_path, "run", "eyeriss.yaml", wl, "--layers", "[/x]"),
                       "--layers", "'[/x]'", "no layer named")


def test_show_mapping_bad_layer(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    r = runner.invoke(app, ["show-mapping", "eyeriss.yaml", wl, "p"])
    assert_input_error(r, "'p'", "exactly one layer with MACs")


def test_out_is_an_existing_file(tmp_path):
    wl = write(tmp_path, "mini.yaml", mini())
    blocker = tmp_path / "occupied.txt"
    blocker.write_text("not a folder\n")
    r = runner.invoke(app, ["run", "eyeriss.yaml", wl, "--layers", "fc", "--budget", "50", "--out", str(blocker)])
    assert_input_error(r, "occupied.txt", "--out", "cannot write")
    assert blocker.read_text() == "not a folder\n"


def test_real_executable_reports_bad_input_without_traceback(tmp_path):
    """End to end: the installed ``accelsim`` script, bad workload, from an unrelated folder."""
    exe = shutil.which("accelsim") or str(Path(sys.executable).parent / "accelsim")
    wl = workload_with(tmp_path, [{"name": "c1", "type": "conv2d", "kernel": 3}])
    p = subprocess.run([exe, "run", "eyeriss.yaml", wl, "--out", str(tmp_path / "out")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    assert p.stderr.startswith("error: ")
    assert "bad_wl.yaml" in p.stderr and "layers.0.out_channels" in p.stderr and "missing" in p.stderr
    assert not (tmp_path / "out").exists()
