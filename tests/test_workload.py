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
