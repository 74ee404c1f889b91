"""Workload compiler: floor rule, lowering to the loop nest, graph edges."""

from hypothesis import given
from hypothesis import strategies as st

from accelsim.workload import build_workload, load_workload, out_size


@given(h=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3))
def test_out_size_matches_sliding_window_count(h, k, s, p, d):
    """Oracle: count window positions whose dilated extent lies inside the padded input."""
    padded = h + 2 * p
    count = sum(1 for start in range(0, padded, s) if start + d * (k - 1) < padded)
    assert max(out_size(h, k, s, p, p, d), 0) == count


def test_lowering_of_conv_depthwise_fc_matmul():
    wl = build_workload({
        "batch": 2,
        "input": {"channels": 8, "height": 10, "width": 12},
        "layers": [
            {"name": "c", "type": "conv2d", "out_channels": 16, "kernel": [3, 5], "stride": 2, "padding": [1, 2]},
            {"name": "dw", "type": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1, "groups": 16},
            {"name": "g", "type": "conv2d", "out_channels": 8, "kernel": 1, "groups": 4},
            {"name": "fc", "type": "fc", "out_features": 10},
            {"name": "mm", "type": "matmul", "rows": 2, "inner": 10, "cols": 3},
        ],
    })
    d = {l.name: l.nest.dims for l in wl.layers}
    assert d["c"] == dict(N=2, G=1, M=16, C=8, P=5, Q=6, R=3, S=5)
    assert d["dw"] == dict(N=2, G=16, M=1, C=1, P=5, Q=6, R=3, S=3)
    assert d["g"] == dict(N=2, G=4, M=2, C=4, P=5, Q=6, R=1, S=1)
    assert d["fc"] == dict(N=2, G=1, M=10, C=8 * 5 * 6, P=1, Q=1, R=1, S=1)
    assert d["mm"] == dict(N=2, G=1, M=3, C=10, P=1, Q=1, R=1, S=1)
    for l in wl.layers:
        dd = l.nest.dims
        assert l.macs == dd["N"] * dd["G"] * dd["M"] * dd["C"] * dd["P"] * dd["Q"] * dd["R"] * dd["S"]


def test_resnet50_graph_has_shortcut_edges():
    wl = load_workload("resnet50.yaml")
    g = wl.graph
    adds = [n for n, a in g.nodes(data=True) if a.get("type") == "add"]
    assert len(adds) == 16
    for a in adds:
        assert g.in_degree(a) == 2
    import networkx as nx

    assert nx.is_directed_acyclic_graph(g)


def test_independent_layers_each_read_their_own_input():
    """A SCALE-Sim/Timeloop-style list: no chaining, no shape checks between layers, MACs by hand."""
    wl = build_workload({
        "independent": True, "batch": 2,
        "layers": [
            {"name": "c1", "type": "conv2d", "out_channels": 64, "kernel": 7, "stride": 2,
             "input": {"channels": 3, "height": 230, "width": 230}},
            {"name": "c2", "type": "conv2d", "out_channels": 8, "kernel": [3, 1], "input": {"channels": 5, "height": 9}},
            {"name": "fc", "type": "fc", "out_features": 10, "input": {"channels": 7}},
            {"name": "qk", "type": "matmul", "rows": 4, "inner": 6, "cols": 5},
        ],
    })
    c1, c2, fc, qk = wl.layers
    assert c1.nest.dims["P"] == (230 - 7) // 2 + 1 == 112 and c1.macs == 2 * 64 * 3 * 112 * 112 * 7 * 7
    assert (c2.nest.dims["P"], c2.nest.dims["Q"]) == (7, 1) and c2.macs == 2 * 8 * 5 * 7 * 1 * 3 * 1
    assert fc.macs == 2 * 7 * 10 and qk.macs == 4 * 6 * 5
    assert all(l.inputs == () for l in wl.layers) and wl.graph.number_of_edges() == 0


def test_a_layer_may_start_its_own_branch_with_an_input():
    wl = build_workload({
        "input": {"channels": 3, "height": 8, "width": 8},
        "layers": [{"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 3},
                   {"name": "b", "type": "fc", "out_features": 2, "input": {"channels": 5}},
                   {"name": "c", "type": "conv2d", "out_channels": 2, "kernel": 1, "inputs": ["a"]}],
    })
    a, b, c = wl.layers
    assert b.inputs == () and b.macs == 5 * 2 and c.inputs == ("a",) and c.nest.dims["C"] == 4


def test_independent_workload_errors_name_the_field():
    import pytest

    from accelsim.errors import InputError

    cases = [
        ({"independent": True, "layers": [{"name": "a", "type": "conv2d", "out_channels": 4, "kernel": 3}]},
         "layers.0).input", "needs its own 'input'"),
        ({"independent": True, "layers": [
            {"name": "a", "type": "fc", "out_features": 2, "input": {"channels": 3}},
            {"name": "b", "type": "fc", "out_features": 2, "inputs": ["a"]}]}, "layers.1).inputs", "read no other"),
        ({"input": {"channels": 3}, "layers": [
            {"name": "a", "type": "fc", "out_features": 2, "inputs": ["input"], "input": {"channels": 3}}]},
         "layers.0).input", "not both"),
    ]
    for data, field, words in cases:
        with pytest.raises(InputError) as e:
            build_workload(data, "w.yaml")
        assert field in e.value.field and words in e.value.message, str(e.value)
