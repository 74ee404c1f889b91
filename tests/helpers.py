"""Small layers and a tiny architecture that force every level of the hierarchy to be used."""

from accelsim.arch import build_arch
from accelsim.workload import build_workload

TINY_ARCH = {
    "name": "tiny",
    "clock_mhz": 100,
    "default_dataflow": "rs",
    "word_bits": 16,
    "pe_array": {"rows": 3, "cols": 4},
    "rf": {"filter": 8, "ifmap": 6, "psum": 4},
    "glb": {"words": 96, "read_bw_words": 4, "write_bw_words": 4},
    "noc": {"filter": {"bw_words": 2}, "ifmap": {"bw_words": 2}, "psum": {"bw_words": 2}},
    "dram": {"bw_bytes_per_cycle": 4},
}


def fixed_form(name: str) -> dict:
    """A bundled design as release 0.1 wrote it (pe_array, rf, glb, noc): ``tests/data/fixed_form/<name>.yaml``."""
    import os

    import yaml

    with open(os.path.join(os.path.dirname(__file__), "data", "fixed_form", f"{name}.yaml")) as f:
        return yaml.safe_load(f)


def tiny_arch(**over):
    d = {**TINY_ARCH, **over}
    return build_arch(d, "tiny.yaml")


# (description, input (C, H, W), batch, layer spec)
SMALL_LAYERS = [
    ("conv3x3_pad1", (2, 6, 5), 1, {"type": "conv2d", "out_channels": 3, "kernel": 3, "padding": 1}),
    ("conv3x3_stride2", (2, 7, 7), 1, {"type": "conv2d", "out_channels": 2, "kernel": 3, "stride": 2, "padding": 1}),
    ("grouped", (4, 5, 5), 1, {"type": "conv2d", "out_channels": 4, "kernel": 3, "groups": 2}),
    ("depthwise", (4, 6, 6), 1, {"type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1, "groups": 4}),
    ("dilated", (2, 7, 6), 1, {"type": "conv2d", "out_channels": 2, "kernel": 2, "dilation": 2, "padding": [1, 0, 0, 1]}),
    ("rect_kernel_stride", (3, 6, 8), 1, {"type": "conv2d", "out_channels": 2, "kernel": [1, 3], "stride": [1, 2]}),
    ("fc_batch2", (12, 1, 1), 2, {"type": "fc", "out_features": 6}),
    ("pointwise_batch2", (4, 3, 3), 2, {"type": "conv2d", "out_channels": 6, "kernel": 1}),
]


def small_nest(spec_entry):
    _, (c, h, w), n, layer = spec_entry
    wl = build_workload({"batch": n, "input": {"channels": c, "height": h, "width": w}, "layers": [layer]})
    return wl.layers[0].nest
