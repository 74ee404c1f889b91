"""An ofmap write buffer: outputs stream through a level to DRAM instead of taking whole-tile space there.

Oracles: the same arch with the ofmap simply bypassing the level (the counts of every kept tensor,
the DRAM traffic and the cycles must not change; the buffer adds one write and one read per word
passing through), the capacity rule stated in ``accelsim.arch.spec`` (one step's outputs, halved
when double-buffered), and the brute-force walk on random hierarchies with write buffers
(``test_mapping_oracles.random_hierarchy``).
"""

from __future__ import annotations

import copy

import pytest

from accelsim.arch import build_arch
from accelsim.cost import access_counts, fits, tile_words
from accelsim.energy import energy
from accelsim.errors import InputError
from accelsim.mapping import load_dataflow
from accelsim.mapper.search import search
from accelsim.sim import simulate
from accelsim.workload import LoopNest
from scalesim_table import scalesim_arch


def _arch(rows=8, cols=8, words=4096, wb=True, wb_words=4096, wb_double=True, wb_bw=None, energy_pj=None):
    d = copy.deepcopy(scalesim_arch(rows, cols, sram_kb=1))
    sram = d["levels"][1]
    sram["capacity_words"] = {"filter": words, "ifmap": words}
    sram.pop("write_buffer", None)
    if wb:
        sram["write_buffer"] = {"capacity_words": wb_words, "double_buffered": wb_double}
        if wb_bw is not None:
            sram["write_buffer"]["write_bw_words"] = wb_bw
    else:
        sram["keeps"] = ["filter", "ifmap"]
    if energy_pj is not None:
        sram["energy"] = energy_pj
    return build_arch(d, "wb.yaml")


NEST = LoopNest(dims=dict(N=1, G=1, M=24, C=20, P=14, Q=14, R=3, S=3), H=16, W=16)


def test_counts_and_cycles_equal_the_bypass_plus_one_write_and_read_per_word():
    e = {"read_pj": 2.0, "fill_pj": 3.0, "update_pj": 5.0}
    a, b = _arch(energy_pj=e), _arch(wb=False, energy_pj=e)
    df = load_dataflow("ws")
    m = search(NEST, a, df, "cycles").best.mapping
    ca, cb = access_counts(NEST, a, m), access_counts(NEST, b, m)
    for lv in b.levels:
        for t in lv.keeps:
            assert ca.levels[lv.name][t].as_dict() == cb.levels[lv.name][t].as_dict(), (lv.name, t)
    buf = ca.levels["SRAM"]["ofmap"]
    up = ca.levels["DRAM"]["ofmap"].updates
    assert up >= NEST.dims["M"] * NEST.dims["P"] * NEST.dims["Q"]  # every output leaves at least once
    assert (buf.updates, buf.drains, buf.reads, buf.fills, buf.rmw_reads) == (up, up, 0, 0, 0)
    extra = energy(a, ca).total_pj - energy(b, cb).total_pj
    assert extra == pytest.approx(up * (5.0 + 2.0))
    sa, sb = simulate(NEST, a, m, df.stationary), simulate(NEST, b, m, df.stationary)
    assert (sa.cycles, sa.stall_cycles) == (sb.cycles, sb.stall_cycles)
    assert sa.moved["SRAM"]["ofmap"] == {"updates": up, "drains": up}
    ex = simulate(NEST, a, m, df.stationary, exact=True)
    assert (ex.cycles, ex.moved) == (sa.cycles, sa.moved)


def test_a_whole_ofmap_tile_no_longer_limits_the_operand_tiles():
    """With the ofmap kept in a 4,096-word partition (x2 buffers), 24 x 14 x 14 = 4,704 outputs force
    DRAM tiles; through a write buffer the operands' tiles alone decide."""
    nest = LoopNest(dims=dict(N=1, G=1, M=24, C=8, P=14, Q=14, R=1, S=1), H=14, W=14)
    keep = copy.deepcopy(scalesim_arch(8, 8, sram_kb=4))
    keep["levels"][1].pop("write_buffer")
    keep["levels"][1]["capacity_words"] = {"filter": 4096, "ifmap": 4096, "ofmap": 4096}
    kept = build_arch(keep, "keep.yaml")
    streamed = _arch(words=4096, wb_words=64)
    df = load_dataflow("ws")
    mk = search(nest, kept, df, "cycles").best.mapping
    ms = search(nest, streamed, df, "cycles").best.mapping
    dram_tiles = lambda m: m.extent("P", ["DRAM"]) * m.extent("Q", ["DRAM"]) * m.extent("M", ["DRAM"])
    assert dram_tiles(mk) > 1
    assert tile_words(nest, "ofmap", mk.tile_extent(1)) <= 2048
    assert dram_tiles(ms) == 1
    assert fits(nest, streamed, ms) is None


def test_a_buffer_smaller_than_one_step_is_refused_and_the_mapper_respects_it():
    a = _arch(wb_words=8, wb_double=True)  # 4 outputs per step
    df = load_dataflow("ws")
    ev = search(NEST, a, df, "cycles")
    m = ev.best.mapping
    assert tile_words(NEST, "ofmap", m.inner_extent(1)) <= 4
    assert fits(NEST, a, m) is None
    wide = _arch(wb_words=4096)
    m_wide = search(NEST, wide, df, "cycles").best.mapping
    assert tile_words(NEST, "ofmap", m_wide.inner_extent(1)) > 4
    why = fits(NEST, a, m_wide)
    assert why and "write buffer holds 4 words (half of a double-buffered one)" in why


def test_write_buffer_ports_are_charged_in_the_simulator_and_the_model():
    df = load_dataflow("ws")
    free, slow = _arch(), _arch(wb_bw=0.25)
    m = search(NEST, free, df, "cycles").best.mapping
    up = access_counts(NEST, slow, m).levels["DRAM"]["ofmap"].updates
    s = simulate(NEST, slow, m, df.stationary)
    assert s.busy_cycles["SRAM_write_buffer_write"] == up / 0.25
    assert s.stall_cycles["glb"] > 0  # a port of the level
    assert s.cycles >= up / 0.25 > simulate(NEST, free, m, df.stationary).cycles
    from accelsim.cost import latency
    lat = latency(NEST, slow, m, access_counts(NEST, slow, m), df.stationary)
    assert lat.bounds["SRAM_write_buffer_write"] == -(-up // 0.25)


@pytest.mark.parametrize("change,field,words", [
    (lambda lv: lv.update(keeps=["filter", "ifmap", "ofmap"], capacity_words=9000), "levels.1.keeps",
     "does not keep the ofmap"),
    (lambda lv: lv["capacity_words"].update(ofmap=100), "levels.1.capacity_words.ofmap", "write_buffer.capacity_words"),
    (lambda lv: lv["write_buffer"].update(capacity_words=1), "levels.1.write_buffer.capacity_words", "at least 2"),
    (lambda lv: lv["write_buffer"].update(words=10), "levels.1.write_buffer.words", "unknown field"),
], ids=["keeps_ofmap", "ofmap_partition", "too_small", "unknown_field"])
def test_bad_write_buffer_is_named(change, field, words):
    d = copy.deepcopy(scalesim_arch(4, 4))
    change(d["levels"][1])
    with pytest.raises(InputError) as e:
        build_arch(d, "bad.yaml")
    assert e.value.field == field, str(e.value)
    assert words in str(e.value)


def test_report_states_the_write_buffer():
    lv = _arch().levels[1].to_dict()
    assert lv["keeps"] == ["filter", "ifmap"]
    assert lv["write_buffer"] == {"words": 4096, "double_buffered": True, "read_bw_words_per_cycle": None,
                                  "write_bw_words_per_cycle": None}
