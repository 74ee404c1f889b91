"""Precision: INT8, FP16 and FP32 on the same silicon (accelsim.arch.precision)."""

from __future__ import annotations

import copy

import pytest
from typer.testing import CliRunner

import accelsim
from accelsim.arch import build_arch, load_arch
from accelsim.cli import app
from accelsim.cost.model import access_counts
from accelsim.energy.model import energy
from accelsim.errors import InputError
from accelsim.files import load_yaml
from accelsim.mapping import load_dataflow
from accelsim.mapper.search import search
from accelsim.workload import load_workload

#: Horowitz ISSCC 2014, 45 nm: multiply + add per precision (pJ).
TABLE = {"int8": 0.2 + 0.03, "fp16": 1.1 + 0.4, "fp32": 3.7 + 0.9}


def _glb(arch):
    return next(lv for lv in arch.onchip if lv.index == arch.array_level)


def test_int8_halves_weight_bytes_and_glb_bytes_per_word():
    """The same mapping on INT8 and FP16: the same words move, weight bytes halve; the GLB keeps its
    bits, so it holds twice the words; a MAC costs the table's energy."""
    nest = load_workload("alexnet.yaml").mac_layers[2].nest
    a8, a16 = load_arch("eyeriss_like.yaml", "int8"), load_arch("eyeriss_like.yaml", "fp16")
    df = load_dataflow(a16.default_dataflow, base=a16.folder)
    m = search(nest, a16, df, budget=40).best.mapping
    c8, c16 = access_counts(nest, a8, m), access_counts(nest, a16, m)
    dram = a16.dram.name
    w8 = c8.levels[dram]["filter"].reads * a8.dram.word_bits["filter"] / 8
    w16 = c16.levels[dram]["filter"].reads * a16.dram.word_bits["filter"] / 8
    assert c8.levels[dram]["filter"].reads == c16.levels[dram]["filter"].reads > 0
    assert w8 == w16 / 2
    for p8, p16 in zip(_glb(a8).partitions, _glb(a16).partitions):
        assert p8.cap_bits == p16.cap_bits
        ref = "ifmap" if "ifmap" in p8.tensors else p8.tensors[0]
        assert p8.words * 8 == p16.words * 16 or ref == "ofmap"
    assert a8.mac_pj / a16.mac_pj == pytest.approx(TABLE["int8"] / TABLE["fp16"])  # its own MAC, scaled
    mac8, mac16 = (energy(a, c).by_level_tensor["MAC"]["mac"] for a, c in ((a8, c8), (a16, c16)))
    assert mac8 / mac16 == pytest.approx(TABLE["int8"] / TABLE["fp16"])
    _, data = load_yaml("eyeriss_like.yaml", "arch")
    plain = {**copy.deepcopy(data), "mac": {}}  # no MAC energy given: the table's
    for p in TABLE:
        assert build_arch(plain, "x.yaml", precision=p).mac_pj == pytest.approx(TABLE[p])


def test_explicit_energies_keep_their_energy_per_bit():
    f, data = load_yaml("eyeriss_like.yaml", "arch")
    d = copy.deepcopy(data)
    d["word_bits"] = 16
    d["mac"] = {"energy_pj": 3.0}
    glb = load_arch("eyeriss_like.yaml").array_level
    d["levels"][glb]["energy"] = {"read_pj": 10.0, "fill_pj": 10.0, "update_pj": 10.0}
    base = build_arch(d, "x.yaml")
    a8 = build_arch(d, "x.yaml", precision="int8")
    e16, e8 = base.levels[glb].energy, a8.levels[glb].energy
    assert e8["ifmap"].read_pj == pytest.approx(e16["ifmap"].read_pj / 2)
    assert e8["ofmap"].update_pj == pytest.approx(e16["ofmap"].update_pj * 2)  # psums are 32-bit
    assert a8.mac_pj == pytest.approx(3.0 * TABLE["int8"] / TABLE["fp16"])  # the given MAC, scaled by the table


def test_arch_precision_field():
    f, data = load_yaml("eyeriss_like.yaml", "arch")
    d = copy.deepcopy(data)
    d["precision"] = "int8"
    d["mac"] = {}
    with pytest.raises(InputError, match="precision int8 has 8-bit operands") as e:
        build_arch({**d, "word_bits": 16}, "x.yaml")
    assert e.value.field == "precision"
    a = build_arch({**d, "word_bits": {"filter": 8, "ifmap": 8, "ofmap": 32}}, "x.yaml")
    assert a.mac_pj == pytest.approx(TABLE["int8"]) and a.precision_text.startswith("int8")


def test_report_states_the_precision_and_cli_refuses_unknown(tmp_path):
    r = accelsim.run("eyeriss_like.yaml", "steering.yaml", precision="int8", budget=20)
    assert r.report["inputs"]["arch"]["precision"] == "int8"
    assert r.report["inputs"]["arch"]["precision_text"] == "int8 (psum 32-bit)"
    res = CliRunner().invoke(app, ["run", "eyeriss_like.yaml", "steering.yaml", "--precision", "int4",
                                   "-o", str(tmp_path)])
    assert res.exit_code == 2 and "unknown precision" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(app, ["run", "eyeriss_like.yaml", "steering.yaml", "--precision", "int8", "--budget",
                                   "20", "-o", str(tmp_path)])
    assert res.exit_code == 0 and "int8 (psum 32-bit)" in res.output
