"""The storage hierarchy end to end: restated designs, bypass, partitions, energy sums, translation.

* The bundled designs restated from the earlier fixed form give, for the same mapping, the same counts,
  energy and cycles as the fixed-form files of release 0.1 (``tests/data/fixed_form``), wherever the design
  did not change; eyeriss.yaml changed its GLB and ifmap NoC, so only its counts are compared.
* A tensor that bypasses a level has no counts there, takes no room there, and moves between the levels
  around it; a layer whose weights do not fit a GLB they bypass still maps.
* Energy per level sums to the total; the energy of each level is count x energy per action.
"""

from __future__ import annotations

import os
import warnings

import pytest

from accelsim.arch import build_arch, load_arch
from accelsim.cost import access_counts, fits
from accelsim.energy import energy
from accelsim.errors import InputWarning
from accelsim.files import parse_yaml
from accelsim.mapping import load_dataflow, make_mapping, slots_of
from accelsim.mapper.search import search
from accelsim.sim.engine import simulate
from accelsim.workload import LoopNest, load_workload

DATA = os.path.join(os.path.dirname(__file__), "data", "fixed_form")


def _fixed(name):
    path = os.path.join(DATA, f"{name}.yaml")
    with open(path) as f:
        data = parse_yaml(f.read(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return build_arch(data, path)


def _renamed(m, old, new):
    """The same mapping on another arch's slots (level names mapped in order)."""
    names = dict(zip([s.name for s in m.slots], [s.name for s in slots_of(new)]))
    factors = {names[k]: v for k, v in m.factors.items()}
    orders = {names[k]: v for k, v in m.orders.items()}
    return make_mapping(slots_of(new), factors, orders)


def _same_counts(a, b, ca, cb):
    for la, lb in zip(a.levels, b.levels):
        for t in la.keeps:
            assert ca.levels[la.name][t].as_dict() == cb.levels[lb.name][t].as_dict(), (la.name, t)


@pytest.mark.parametrize("name,workload", [("tpu", "mobilenet"), ("shidiannao", "alexnet")])
def test_restated_designs_equal_their_fixed_form(name, workload):
    new, old = load_arch(name), _fixed(name)
    df = load_dataflow(new.default_dataflow)
    for layer in [l for l in load_workload(workload).layers if l.nest is not None][:4]:
        m = search(layer.nest, new, df, budget=60).best.mapping
        mo = _renamed(m, new, old)
        cn, co = access_counts(layer.nest, new, m), access_counts(layer.nest, old, mo)
        _same_counts(new, old, cn, co)
        assert energy(new, cn).total_pj == pytest.approx(energy(old, co).total_pj, rel=1e-12)
        sn, so = simulate(layer.nest, new, m, df.stationary), simulate(layer.nest, old, mo, df.stationary)
        assert (sn.cycles, sn.stall_cycles) == (so.cycles, so.stall_cycles)


#: Eyeriss's hierarchy with its GLB filter partition and no sparse features (eyeriss.yaml before it
#: streamed its filters and coded its DRAM fmaps): the fixture for partitions and the form restatement.
EYERISS_FILTER_GLB = os.path.join(os.path.dirname(__file__), "data", "eyeriss", "eyeriss_filter_glb.yaml")


def test_restated_eyeriss_keeps_the_counts_of_the_same_mapping():
    new, old = load_arch(EYERISS_FILTER_GLB), _fixed("eyeriss")
    df = load_dataflow("rs")
    for layer in [l for l in load_workload("mobilenet").layers if l.nest is not None][:6]:
        m = search(layer.nest, new, df, budget=60).best.mapping
        _same_counts(new, old, access_counts(layer.nest, new, m), access_counts(layer.nest, old, _renamed(m, new, old)))


def test_split_glb_partitions_are_checked_separately():
    a = load_arch(EYERISS_FILTER_GLB)
    glb = a.levels[a.level_index("GLB")]
    assert [p.tensors for p in glb.partitions] == [("filter",), ("ifmap", "ofmap")]
    assert glb.partition("filter").double_buffered and not glb.partition("ifmap").double_buffered
    # a filter tile of 2,049 words overflows the double-buffered 4,096-word filter banks alone
    nest = LoopNest(dims=dict(N=1, G=1, M=2049, C=1, P=1, Q=1, R=1, S=1), H=1, W=1)
    m = make_mapping(slots_of(a), {"GLB": {"M": 2049}})
    assert "GLB filter tiles of 4098 words (x2 buffers) exceed 4096" in fits(nest, a, m)
    m = make_mapping(slots_of(a), {"GLB": {"M": 2048}, "DRAM": {"M": 1}})
    nest = LoopNest(dims=dict(N=1, G=1, M=2048, C=1, P=1, Q=1, R=1, S=1), H=1, W=1)
    assert fits(nest, a, m) is None


def test_bypassed_weights_stream_past_the_glb_and_a_big_layer_still_maps():
    """eyeriss_like keeps no weights in shared_glb: a VGG-16 layer whose weights exceed it maps anyway."""
    a = load_arch("eyeriss_like")
    layer = [l for l in load_workload("vgg16").layers if l.nest is not None and l.params > 131072][0]
    res = search(layer.nest, a, load_dataflow("rs"), budget=100)
    c = res.best.counts
    assert "filter" not in c.levels["shared_glb"]
    assert c.levels["DRAM"]["filter"].reads == c.hops["filter"][-1].parent_reads
    assert c.levels["weights_spad"]["filter"].fills >= layer.params  # every weight reaches a PE
    sim = simulate(layer.nest, a, res.best.mapping, "filter")
    assert sim.moved["DRAM"]["filter"]["reads"] == c.levels["DRAM"]["filter"].reads
    assert sim.busy_cycles.get("dram_stream", 0) > 0  # weights come from DRAM during the passes


@pytest.mark.parametrize("name", ["eyeriss", "tpu", "eyeriss_like", "simple_weight_stationary",
                                  "simple_output_stationary", "simba_like"])
def test_energy_per_level_sums_to_total_and_is_count_times_energy(name):
    a = load_arch(name)
    layer = [l for l in load_workload("mobilenet").layers if l.nest is not None][1]
    ev = search(layer.nest, a, load_dataflow(a.default_dataflow), budget=40).best
    e = ev.energy
    assert sum(e.level_pj(l) for l in e.by_level_tensor) == pytest.approx(e.total_pj, rel=1e-12)
    assert list(e.by_level_tensor) == ["MAC"] + [lv.name for lv in a.levels] + ["NoC"]
    for lv in a.levels:
        for t in lv.keeps:
            # the counts in dense-word equivalents of the bits they carry (eyeriss.yaml codes its DRAM fmaps)
            c, pj = ev.counts.scaled[lv.name][t], lv.energy[t]
            want = (c["reads"] + c["rmw_reads"] + c["drains"]) * pj.read_pj + c["fills"] * pj.fill_pj \
                + c["updates"] * pj.update_pj
            assert e.by_level_tensor[lv.name][t] == pytest.approx(want, rel=1e-12)


def test_fixed_form_translation_warns_once_and_names_the_new_fields():
    path = os.path.join(DATA, "eyeriss.yaml")
    with open(path) as f:
        data = parse_yaml(f.read(), path)
    with pytest.warns(InputWarning, match="levels") as rec:
        a = build_arch(data, path)
    assert len(rec) == 1 and "fill_pj" in str(rec[0].message)
    assert [lv.name for lv in a.levels] == ["RF", "GLB", "DRAM"] and a.form == "fixed (translated)"


def test_unmappable_fixed_form_file_is_told_about_its_own_fields():
    """A file in the earlier form gets the fields it has (glb.words, rf.psum), not the levels it was read as."""
    from accelsim.errors import MappingError

    path = os.path.join(DATA, "eyeriss.yaml")
    with open(path) as f:
        data = parse_yaml(f.read(), path)
    nest = LoopNest(dims=dict(N=1, G=1, M=2, C=2, P=2, Q=2, R=1, S=1), H=2, W=2)
    for field, value, want in (("glb", {"words": 2}, "glb.words is 2"), ("rf", {"psum": 1, "filter": 1, "ifmap": 1,
                                                                             "double_buffered": True},
                                                                   "rf.filter is 1")):
        d = dict(data, **{field: {**data[field], **value}})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            a = build_arch(d, path)
        with pytest.raises(MappingError, match=want.replace(".", r"\.")) as e:
            search(nest, a, load_dataflow("rs"))
        assert "levels." not in str(e.value)


def test_a_level_with_wider_psums_fits_them_in_proportion():
    """word_bits per level: 32-bit psums next to 16-bit operands take two words each of a shared buffer."""
    base = {"name": "w", "clock_mhz": 100, "default_dataflow": "ws", "word_bits": 16,
            "levels": [{"name": "RF", "capacity_words": 10, "word_bits": {"psum": 32}},
                       {"name": "GLB", "capacity_words": 4096, "fanout": {"rows": 1, "cols": 1}}]}
    a = build_arch(base, "w.yaml")
    assert a.levels[0].word_bits == {"filter": 16, "ifmap": 16, "ofmap": 32}
    assert a.levels[1].word_bits == {"filter": 16, "ifmap": 16, "ofmap": 16}
    nest = LoopNest(dims=dict(N=1, G=1, M=3, C=1, P=1, Q=1, R=1, S=1), H=1, W=1)
    # RF tile: 3 filter + 1 ifmap + 3 psums x 2 = 10 words: fits; a 4th output does not
    m = make_mapping(slots_of(a), {"RF": {"M": 3}})
    assert fits(nest, a, m) is None
    nest4 = LoopNest(dims=dict(N=1, G=1, M=4, C=1, P=1, Q=1, R=1, S=1), H=1, W=1)
    assert "RF filter+ifmap+ofmap tiles of 13 words exceed 10" in fits(nest4, a, make_mapping(slots_of(a),
                                                                                              {"RF": {"M": 4}}))
    # the default energy of a 32-bit word is twice a 16-bit one's
    e = a.levels[0].energy
    assert e["ofmap"].read_pj == pytest.approx(2 * e["ifmap"].read_pj)


def _eyeriss_dict():
    import yaml

    from accelsim.files import resolve
    with open(EYERISS_FILTER_GLB) as f:
        return yaml.safe_load(f.read())


BAD_HIERARCHIES = [
    ("keeps_unknown", lambda d: d["levels"][0].update(keeps=["weights"]), "levels.0.keeps.0", "weights"),
    ("keeps_empty", lambda d: d["levels"][0].update(keeps=[]), "levels.0.keeps", "keeps no tensor"),
    ("partition_of_bypassed", lambda d: d["levels"][1].update(keeps=["ifmap", "ofmap"]),
     "levels.1.capacity_words.filter", "not kept by this level"),
    ("no_partition", lambda d: d["levels"][1].update(capacity_words={"ifmap+ofmap": 100}),
     "levels.1.capacity_words", "no partition holds filter"),
    ("two_partitions", lambda d: d["levels"][1].update(capacity_words={"ifmap+ofmap": 9, "ifmap": 3, "filter": 5}),
     "levels.1.capacity_words", "in two partitions"),
    ("unknown_tensor", lambda d: d["levels"][1].update(capacity_words={"ifmap+bias": 9, "filter": 5}),
     "levels.1.capacity_words.ifmap+bias", "'bias' is not a tensor"),
    ("banks_key", lambda d: d["levels"][1].update(banks={"ifmap": 3}), "levels.1.banks.ifmap",
     "no partition holds exactly ifmap"),
    ("duplicate_name", lambda d: d["levels"][1].update(name="spad"), "levels.1.name", "used twice"),
    ("reserved_name", lambda d: d["levels"][1].update(name="NoC"), "levels.1.name", "reserved"),
    ("bad_name", lambda d: d["levels"][0].update(name="my level"), "levels.0.name", "not a level name"),
    ("noc_without_fanout", lambda d: d["levels"][0].update(noc={"filter": {"bw_words": 1}}), "levels.0.noc",
     "no fan-out"),
    ("no_levels", lambda d: d.update(levels=[]), "levels", "at least 1"),
    ("too_many_levels", lambda d: d.update(levels=[dict(d["levels"][0], name=f"L{i}") for i in range(9)]), "levels",
     "at most 8"),
    ("too_many_macs", lambda d: (d["levels"][1].update(fanout={"rows": 4096, "cols": 4096}),
                                 d["levels"][0].update(fanout={"rows": 4, "cols": 1})), "levels.0.fanout",
     "MAC units"),
    ("level_bits", lambda d: d["levels"][0].update(word_bits={"psum": 0}), "levels.0.word_bits.psum", "> 0"),
    ("reduce_on_filter", lambda d: d["levels"][1]["noc"]["filter"].update(reduce_add_pj=1.0),
     "levels.1.noc.filter.reduce_add_pj", "only the ofmap"),
    ("both_forms", lambda d: d.update(pe_array={"rows": 2, "cols": 2}), "pe_array", "unknown field"),
    ("dram_name", lambda d: d["dram"].update(name="GLB"), "dram.name", "used twice"),
]


@pytest.mark.parametrize("name,change,field,words", BAD_HIERARCHIES, ids=[c[0] for c in BAD_HIERARCHIES])
def test_bad_hierarchy_is_named_field_by_field(name, change, field, words):
    from accelsim.errors import InputError

    d = _eyeriss_dict()
    change(d)
    with pytest.raises(InputError) as e:
        build_arch(d, f"{name}.yaml")
    assert e.value.field == field, str(e.value)
    assert words in str(e.value)
