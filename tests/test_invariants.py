"""Property tests (hypothesis): conservation, lower bounds, determinism."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim.cost import dram_bytes
from accelsim.mapping import load_dataflow
from accelsim.mapper.search import search
from accelsim.workload import build_workload
from helpers import tiny_arch

DATAFLOWS = ["ws", "os", "is", "rs", "nlr"]


@st.composite
def layers(draw):
    kind = draw(st.sampled_from(["conv", "dw", "grouped", "fc"]))
    n = draw(st.integers(1, 2))
    if kind == "fc":
        c = draw(st.integers(1, 24))
        return n, (c, 1, 1), {"type": "fc", "out_features": draw(st.integers(1, 12))}
    k = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    pad = draw(st.integers(0, k - 1))
    h = draw(st.integers(k, 8))
    w = draw(st.integers(k, 8))
    if kind == "conv":
        c, g, m = draw(st.integers(1, 4)), 1, draw(st.integers(1, 6))
    elif kind == "dw":
        c = g = m = draw(st.integers(1, 8))
    else:
        g = draw(st.integers(2, 3))
        c, m = g * draw(st.integers(1, 2)), g * draw(st.integers(1, 2))
    return n, (c, h, w), {"type": "conv2d", "out_channels": m, "kernel": k, "stride": stride,
                          "padding": pad, "groups": g}


def _nest(spec):
    n, (c, h, w), layer = spec
    return build_workload({"batch": n, "input": {"channels": c, "height": h, "width": w}, "layers": [layer]}).layers[0].nest


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=layers(), df=st.sampled_from(DATAFLOWS), rows=st.integers(1, 4), cols=st.integers(1, 5),
       glb=st.sampled_from([64, 256, 4096]), bw=st.sampled_from([1, 4, 32]))
def test_invariants(spec, df, rows, cols, glb, bw):
    nest = _nest(spec)
    arch = tiny_arch(pe_array={"rows": rows, "cols": cols},
                     glb={"words": glb, "read_bw_words": 4, "write_bw_words": 4},
                     dram={"bw_bytes_per_cycle": bw})
    flow = load_dataflow(df)
    res = search(nest, arch, flow, budget=60)
    ev = res.best
    c = ev.counts
    # MACs conserved: every MAC updates a psum in some RF exactly once
    assert c.macs == nest.macs == c.levels["RF"]["ofmap"].updates == c.levels["RF"]["filter"].reads
    # cycles lower bounds
    assert arch.mac_units == arch.pes == rows * cols
    assert ev.latency.cycles >= math.ceil(nest.macs / arch.mac_units)
    assert ev.latency.cycles >= dram_bytes(arch, c) / arch.dram_bw_bytes_per_cycle
    # every tensor crosses the DRAM boundary at least once
    assert c.levels["DRAM"]["filter"].reads >= nest.tensor_words("filter")
    assert c.levels["DRAM"]["ifmap"].reads >= nest.tensor_words("ifmap")
    assert c.levels["DRAM"]["ofmap"].updates >= nest.tensor_words("ofmap")
    dram_e = arch.dram.energy
    floor_pj = (nest.macs * arch.mac_pj + dram_e["filter"].read_pj * nest.tensor_words("filter")
                + dram_e["ifmap"].read_pj * nest.tensor_words("ifmap"))
    assert ev.energy.total_pj >= floor_pj * (1 - 1e-12)
    # same inputs, same answer
    again = search(nest, arch, flow, budget=60)
    assert again.best.mapping == ev.mapping
    assert again.best.energy.as_dict() == ev.energy.as_dict()
    assert again.best.latency == ev.latency
