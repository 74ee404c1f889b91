"""Hypothesis strategies for fuzzing the ``accelsim`` command line (used by ``test_fuzz.py``).

Everything here builds plain Python data (dicts and lists) that the tests dump
as YAML into temporary folders; nothing calls into the library, so every
expectation (output sizes, MACs, what a valid mapping is) is computed
independently of the code under test.  The only thing read from the package is
the *data* of the bundled dataflow files (which dims each dataflow allows where).

Valid-input strategies are kept small on purpose (tiny layers, small arrays,
roomy enough buffers) so one example runs in tens of milliseconds.  The nasty
inputs (huge or non-finite numbers, wrong types, deep nesting, alias bombs,
undecodable bytes ...) come only from :func:`mutated_text`.

Strategies:

- :func:`archs` -- valid arch dicts (PE array, RFs per operand or shared,
  GLB words/banks/bandwidths, NoC types and bandwidths, double buffering,
  FIFOs, DRAM bandwidth (bytes/cycle, GB/s or default) and latency, word bits,
  energies).
- :func:`workloads` -- valid workload dicts with the expected loop bounds and
  MACs of every layer (:class:`WorkloadCase`): conv, depthwise, grouped,
  pointwise, FC and matmul layers, pool and add layers, branches.
- :func:`cli_options` -- ``--dataflow``, ``--objective``, ``--budget``,
  ``--layers``, ``--format`` and friends (:class:`Options`).
- :func:`valid_mappings` / :func:`invalid_mappings` -- ``--mapping`` file data.
- :func:`mutated_text` -- any valid dict turned into YAML text (or bytes) that
  is possibly invalid.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from hypothesis import strategies as st

DIMS = ("N", "G", "M", "C", "P", "Q", "R", "S")
LEVELS = ("dram", "glb", "rows", "cols", "rf")
TEMPORAL = ("dram", "glb", "rf")

#: small sizes: mostly primes and ones, so factorisations are interesting but cheap
SMALL = st.sampled_from([1, 1, 2, 3, 4, 5, 6, 7])


# ----------------------------------------------------------------------------- helpers


def out_size(in_size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int) -> int:
    """PyTorch/ONNX floor rule, written out here independently of the library."""
    return math.floor((in_size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) / stride) + 1


def prime_factors(n: int) -> list[int]:
    """Prime factors of ``n`` with multiplicity (``[]`` for 1)."""
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


@lru_cache(maxsize=1)
def bundled_dataflows() -> dict[str, dict]:
    """The bundled dataflow files as data: ``{name: {"rf_dims", "rows", "cols"}}``."""
    root = resources.files("accelsim.dataflows")
    out = {}
    for p in sorted(root.iterdir(), key=lambda p: p.name):
        if p.name.endswith(".yaml"):
            d = yaml.safe_load(p.read_text(encoding="utf-8"))
            sp = d.get("spatial") or {}
            out[p.name[:-5]] = {"rf_dims": tuple(d.get("rf_dims") or ()), "rows": tuple(sp.get("rows") or ()),
                                "cols": tuple(sp.get("cols") or ())}
    return out


def finite_floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi], sometimes given as YAML ints, sometimes as round numbers."""
    return st.one_of(
        st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False),
        st.sampled_from([x for x in (0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 8, 16, 64, 300) if lo <= x <= hi]),
    )


@st.composite
def _maybe(draw, d: dict, key: str, strategy):
    """Set ``d[key]`` from ``strategy`` or leave it out (the default applies)."""
    if draw(st.booleans()):
        d[key] = draw(strategy)


# ----------------------------------------------------------------------------- architectures


@st.composite
def energies(draw, block: bool = True) -> dict:
    """An ``energy`` block: read/write pJ per word, each optional, and a vector ``block``."""
    e: dict = {}
    draw(_maybe(e, "read_pj", finite_floats(0, 500)))
    draw(_maybe(e, "write_pj", finite_floats(0, 500)))
    if block:
        draw(_maybe(e, "block", st.integers(1, 8)))
    return e


@st.composite
def archs(draw, roomy: bool = False) -> dict:
    """A valid arch dict in either form: the earlier fixed form (:func:`fixed_archs`) or a hierarchy
    (:func:`hierarchy_archs`)."""
    return draw(st.one_of(fixed_archs(roomy), hierarchy_archs(roomy)))


@st.composite
def hierarchy_archs(draw, roomy: bool = False) -> dict:
    """A valid arch dict in the ``levels:`` form: one level inside the PE, the array level with the PE
    array as its fan-out, and sometimes a third level above it; random keeps (bypass), partitions,
    double buffering per partition, per-tensor energies and NoC links.

    Mapping files of :func:`valid_mappings` use the earlier keys, which name DRAM, the array level,
    its fan-out and the single level inside the PE, so every generated hierarchy has those.
    """
    a = draw(fixed_archs(roomy))
    big = 1 << 16

    def keeps():
        k = [t for t in ("filter", "ifmap", "ofmap") if draw(st.booleans())]
        return k or [draw(st.sampled_from(["filter", "ifmap", "ofmap"]))]

    def capacity(ks, small, huge):
        if draw(st.booleans()):
            return {t: huge if roomy else draw(st.sampled_from(small)) for t in ks}
        return huge * len(ks) if roomy else draw(st.sampled_from(small)) * len(ks)

    def energy():
        e = {}
        for k in ("read_pj", "fill_pj", "update_pj"):
            draw(_maybe(e, k, finite_floats(0, 500)))
        draw(_maybe(e, "block", st.integers(1, 8)))
        return e

    names = draw(st.permutations(["RF", "spad", "GLB", "L2", "buf_0", "PE-regs"]))
    inner_k, array_k = keeps(), keeps()
    inner = {"name": names[0], "keeps": inner_k,
             "capacity_words": capacity(inner_k, [1, 2, 3, 4, 8, 12, 24, 64, 224], big)}
    draw(_maybe(inner, "fifo", st.booleans()))
    if draw(st.booleans()):
        inner["energy"] = energy() if draw(st.booleans()) else {t: energy() for t in inner_k}
    arr = {"name": names[1], "keeps": array_k,
           "capacity_words": capacity(array_k, [64, 96, 256, 1024, 4096], 1 << 22),
           "fanout": {"rows": a["pe_array"]["rows"], "cols": a["pe_array"]["cols"]},
           "noc": {t: dict(l, **({"energy_pj": draw(finite_floats(0, 20))} if draw(st.booleans()) else {}))
                   for t, l in a["noc"].items() if t != "energy"}}
    parts = list(arr["capacity_words"]) if isinstance(arr["capacity_words"], dict) else None
    if parts and draw(st.booleans()):
        arr["double_buffered"] = {t: draw(st.booleans()) for t in parts}
    else:
        draw(_maybe(arr, "double_buffered", st.booleans()))
    arr["read_bw_words"] = a["glb"]["read_bw_words"]
    arr["write_bw_words"] = a["glb"]["write_bw_words"]
    draw(_maybe(arr, "banks", st.sampled_from([1, 2, 3, 4, 8])))
    if draw(st.booleans()):
        arr["energy"] = energy()
    levels = [inner, arr]
    if draw(st.booleans()):
        outer_k = keeps()
        levels.append({"name": names[2], "keeps": outer_k,
                       "capacity_words": capacity(outer_k, [1024, 8192, 1 << 16], 1 << 22)})
    h = {k: v for k, v in a.items() if k not in ("pe_array", "rf", "glb", "noc", "dram")}
    h["levels"] = levels
    if "dram" in a:
        d = dict(a["dram"])
        if "energy" in d:
            d["energy"] = {("fill_pj" if k == "write_pj" else k): v for k, v in d["energy"].items()}
        h["dram"] = d
    return h


def slot_of_old_key(arch: dict) -> dict:
    """Slot names of an arch dict (either form) for the mapping-file keys dram, glb, rows, cols, rf."""
    if "levels" not in arch:
        return {"dram": "DRAM", "glb": "GLB", "rows": "GLB.rows", "cols": "GLB.cols", "rf": "RF"}
    lv = arch["levels"]
    dram = arch.get("dram", {}).get("name", "DRAM")
    return {"dram": dram, "glb": lv[1]["name"], "rows": lv[1]["name"] + ".rows", "cols": lv[1]["name"] + ".cols",
            "rf": lv[0]["name"]}


def pe_array(arch: dict) -> dict:
    """``{rows, cols}`` of the PE array of an arch dict in either form."""
    return arch["pe_array"] if "levels" not in arch else arch["levels"][1]["fanout"]


@st.composite
def fixed_archs(draw, roomy: bool = False) -> dict:
    """A valid arch dict in the earlier fixed form (``pe_array``, ``rf``, ``glb``, ``noc``).

    With ``roomy=True`` the RF and GLB are big enough for any tile of the tiny
    layers of :func:`workloads` (even double-buffered), so any mapping that obeys
    the dataflow and the array size fits.
    """
    dataflows = sorted(bundled_dataflows())
    a: dict = {
        "clock_mhz": draw(st.one_of(st.sampled_from([1, 100, 200, 700, 1000]), finite_floats(50, 2000))),
        "default_dataflow": draw(st.sampled_from(dataflows)),
        "pe_array": {"rows": draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 12, 16])),
                     "cols": draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 14, 16]))},
    }
    draw(_maybe(a, "name", st.sampled_from(["fuzz", "fuzz arch", "ü-arch", "[b]x[/b]"])))
    draw(_maybe(a, "source", st.sampled_from(["generated", ""])))
    draw(_maybe(a, "word_bits", st.one_of(
        st.sampled_from([4, 8, 16, 32]),
        st.fixed_dictionaries({t: st.sampled_from([4, 8, 12, 16, 32]) for t in ("filter", "ifmap", "ofmap")}))))
    if draw(st.booleans()):
        a["mac"] = {}
        draw(_maybe(a["mac"], "energy_pj", finite_floats(0, 10)))
    big = 1 << 16
    if draw(st.booleans()):
        rf = {t: big if roomy else draw(st.sampled_from([1, 2, 3, 4, 8, 12, 16, 24, 64, 224]))
              for t in ("filter", "ifmap", "psum")}
    else:
        rf = {"shared": 3 * big if roomy else draw(st.sampled_from([3, 4, 8, 16, 32, 64, 256, 512]))}
    draw(_maybe(rf, "double_buffered", st.booleans()))
    draw(_maybe(rf, "fifo", st.booleans()))
    draw(_maybe(rf, "energy", energies()))
    a["rf"] = rf
    glb = {"words": (1 << 22) if roomy else draw(st.sampled_from([64, 96, 128, 256, 1024, 4096, 8192])),
           "read_bw_words": draw(finite_floats(0.25, 64)),
           "write_bw_words": draw(finite_floats(0.25, 64))}
    draw(_maybe(glb, "banks", st.sampled_from([1, 2, 3, 4, 5, 8, 27, 32])))
    draw(_maybe(glb, "double_buffered", st.booleans()))
    draw(_maybe(glb, "energy", energies()))
    a["glb"] = glb
    noc: dict = {}
    for t in ("filter", "ifmap", "psum"):
        link = {"bw_words": draw(finite_floats(0.25, 32))}
        draw(_maybe(link, "type", st.sampled_from(["multicast", "unicast", "systolic"])))
        noc[t] = link
    if draw(st.booleans()):
        ne: dict = {}
        draw(_maybe(ne, "word_pj", finite_floats(0, 20)))
        draw(_maybe(ne, "reduce_add_pj", finite_floats(0, 5)))
        noc["energy"] = ne
    a["noc"] = noc
    if draw(st.booleans()):
        dram: dict = {}
        bw = draw(st.sampled_from(["bytes", "gb_s", None]))
        if bw == "bytes":
            dram["bw_bytes_per_cycle"] = draw(finite_floats(0.5, 128))
        elif bw == "gb_s":
            dram["bw_gb_s"] = draw(finite_floats(0.5, 200))
        draw(_maybe(dram, "latency_cycles", st.sampled_from([0, 1, 7, 50, 200])))
        draw(_maybe(dram, "energy", energies()))
        a["dram"] = dram
    return a


def arch_pes(arch: dict) -> int:
    """Number of PEs of an arch dict (either form)."""
    pe = pe_array(arch)
    return pe["rows"] * pe["cols"]


# ----------------------------------------------------------------------------- workloads


@dataclass
class LayerExpect:
    """What a generated layer must compile to: its name, type and (for MAC layers) loop bounds."""

    name: str
    type: str
    dims: dict[str, int] | None  # N G M C P Q R S; None for pool/add

    @property
    def macs(self) -> int:
        return math.prod(self.dims.values()) if self.dims else 0


@dataclass
class WorkloadCase:
    """A generated workload: the file data and the independent expectations for its layers (file order)."""

    data: dict
    layers: list[LayerExpect] = field(default_factory=list)

    @property
    def mac_layers(self) -> list[LayerExpect]:
        return [l for l in self.layers if l.dims]


def _pair(draw, a: int, b: int, allow_one_list: bool = True):
    """Write (a, b) as an int, a one-element list or a two-element list, as the schema allows."""
    forms = ["list2"]
    if a == b:
        forms += ["int", "int"] + (["list1"] if allow_one_list else [])
    f = draw(st.sampled_from(forms))
    return a if f == "int" else [a] if f == "list1" else [a, b]


def _padding(draw):
    """Padding in every form the schema allows; returns (yaml value, (top, bottom, left, right))."""
    f = draw(st.sampled_from(["none", "int", "list1", "list2", "list4"]))
    v = st.integers(0, 2)
    if f == "none":
        return None, (0, 0, 0, 0)
    if f == "int":
        p = draw(v)
        return p, (p, p, p, p)
    if f == "list1":
        p = draw(v)
        return [p], (p, p, p, p)
    if f == "list2":
        h, w = draw(v), draw(v)
        return [h, w], (h, h, w, w)
    t, b, l, r = draw(v), draw(v), draw(v), draw(v)
    return [t, b, l, r], (t, b, l, r)


NAME_SUFFIXES = ["", "", "", "_dw", "-x", ".1", " sp", "ü", "[b]", "[/x]", "é/é", "'q'", '"', "#h", ": c", ",c",
                 "\\"]


@st.composite
def workloads(draw, max_layers: int = 5, min_mac_layers: int = 1) -> WorkloadCase:
    """A valid workload dict plus the expected bounds of every layer (:class:`WorkloadCase`).

    Layers form a chain (each reads the previous one unless ``inputs`` says
    otherwise), sometimes with a branch from an earlier layer or the network
    input, and residual ``add`` layers.  Shapes stay tiny (channels <= 12,
    height/width <= 9) so any layer maps in milliseconds.
    """
    data: dict = {}
    draw(_maybe(data, "name", st.sampled_from(["fuzznet", "fuzz net ü"])))
    expects: list[LayerExpect] = []
    shapes: dict[str, tuple[int, int, int, int]] = {}
    layers: list[dict] = []
    matmul_only = draw(st.integers(0, 9)) == 0
    if not matmul_only:
        n = draw(st.sampled_from([1, 1, 1, 2, 3]))
        if n != 1 or draw(st.booleans()):
            data["batch"] = n
        inp: dict = {"channels": draw(SMALL)}
        h = draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9]))
        w = draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9]))
        if h != 1 or draw(st.booleans()):
            inp["height"] = h
        if w != 1 or draw(st.booleans()):
            inp["width"] = w
        data["input"] = inp
        shapes["input"] = (n, inp["channels"], h, w)
        prev: str | None = "input"
    else:
        prev = None
    n_layers = draw(st.integers(1, max_layers))
    i = 0
    while i < n_layers or sum(1 for e in expects if e.dims) < min_mac_layers:
        kinds = ["matmul"] if prev is None else ["conv", "conv", "dw", "grouped", "fc", "matmul", "pool", "add"]
        if matmul_only:
            kinds = ["matmul", "matmul", "fc"] if prev is not None else ["matmul"]
        kind = draw(st.sampled_from(kinds))
        idx = len(layers)
        named = draw(st.integers(0, 4)) > 0 or kind == "add"
        name = f"l{idx}{draw(st.sampled_from(NAME_SUFFIXES))}" if named else None
        src = prev
        explicit_inputs = None
        if prev is not None and kind != "add" and len(shapes) > 1 and draw(st.integers(0, 4)) == 4:
            src = draw(st.sampled_from(sorted(shapes)))  # a branch from an earlier layer or the input
            explicit_inputs = [src]
        layer: dict[str, Any] = {}
        if kind == "matmul":
            standalone = prev is None or draw(st.booleans())
            if standalone:
                rows, inner = draw(SMALL), draw(st.sampled_from([1, 2, 3, 5, 8, 12]))
                explicit_inputs = [] if prev is not None else None
            else:
                n_, c_, h_, w_ = shapes[src]
                rows, inner = n_, c_ * h_ * w_
            cols = draw(st.sampled_from([1, 2, 3, 5, 7, 8]))
            layer = {"type": "matmul", "rows": rows, "inner": inner, "cols": cols}
            dims = dict(N=rows, G=1, M=cols, C=inner, P=1, Q=1, R=1, S=1)
            out = (rows, cols, 1, 1)
        elif kind == "fc":
            n_, c_, h_, w_ = shapes[src]
            m = draw(st.sampled_from([1, 2, 3, 5, 7, 10, 12]))
            layer = {"type": "fc", "out_features": m}
            if draw(st.booleans()):
                layer["in_features"] = c_ * h_ * w_
            draw(_maybe(layer, "bias", st.booleans()))
            dims = dict(N=n_, G=1, M=m, C=c_ * h_ * w_, P=1, Q=1, R=1, S=1)
            out = (n_, m, 1, 1)
        elif kind in ("conv", "dw", "grouped"):
            n_, c_, h_, w_ = shapes[src]
            if kind == "dw":
                g, m_total = c_, c_ * (draw(st.sampled_from([1, 1, 2])) if c_ <= 8 else 1)
            elif kind == "grouped":
                divs = [d for d in range(2, c_ + 1) if c_ % d == 0] or [1]
                g = draw(st.sampled_from(divs))
                m_total = g * draw(st.sampled_from([m for m in (1, 2, 3) if g * m <= 16] or [1]))
            else:
                g, m_total = 1, draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 12]))
            R = draw(st.sampled_from([1, 1, 2, 3, 5]))
            S = draw(st.sampled_from([R, R, 1, 2, 3]))
            sh = draw(st.sampled_from([1, 1, 2, 3]))
            sw = draw(st.sampled_from([sh, sh, 1, 2]))
            dh = draw(st.sampled_from([1, 1, 1, 2]))
            dw = draw(st.sampled_from([dh, dh, 1, 2]))
            pad_v, (pt, pb, pl, pr) = _padding(draw)
            P = out_size(h_, R, sh, pt, pb, dh)
            Q = out_size(w_, S, sw, pl, pr, dw)
            if P < 1:
                R, dh = 1, 1
                P = out_size(h_, R, sh, pt, pb, dh)
            if Q < 1:
                S, dw = 1, 1
                Q = out_size(w_, S, sw, pl, pr, dw)
            layer = {"type": "conv2d", "out_channels": m_total, "kernel": _pair(draw, R, S)}
            if sh != 1 or sw != 1 or draw(st.booleans()):
                layer["stride"] = _pair(draw, sh, sw)
            if dh != 1 or dw != 1 or draw(st.booleans()):
                layer["dilation"] = _pair(draw, dh, dw)
            if pad_v is not None:
                layer["padding"] = pad_v
            if g != 1 or draw(st.booleans()):
                layer["groups"] = g
            draw(_maybe(layer, "bias", st.booleans()))
            draw(_maybe(layer, "in_channels", st.just(c_)))
            draw(_maybe(layer, "out_height", st.just(P)))
            draw(_maybe(layer, "out_width", st.just(Q)))
            dims = dict(N=n_, G=g, M=m_total // g, C=c_ // g, P=P, Q=Q, R=R, S=S)
            out = (n_, m_total, P, Q)
        elif kind == "pool":
            n_, c_, h_, w_ = shapes[src]
            if draw(st.integers(0, 3)) == 0:
                layer = {"type": "pool", "global": True}
                out = (n_, c_, 1, 1)
            else:
                R = draw(st.sampled_from([1, 2, 3]))
                S = draw(st.sampled_from([R, R, 1, 2]))
                layer = {"type": "pool", "kernel": _pair(draw, R, S)}
                if draw(st.booleans()):
                    sh, sw = draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 2]))
                    layer["stride"] = _pair(draw, sh, sw)
                else:
                    sh, sw = R, S
                pad_v, (pt, pb, pl, pr) = _padding(draw)
                P, Q = out_size(h_, R, sh, pt, pb, 1), out_size(w_, S, sw, pl, pr, 1)
                if P < 1 or Q < 1:  # fall back to a global pool
                    layer = {"type": "pool", "global": True}
                    P, Q = 1, 1
                elif pad_v is not None:
                    layer["padding"] = pad_v
                out = (n_, c_, P, Q)
            draw(_maybe(layer, "mode", st.sampled_from(["max", "avg"])))
            dims = None
        else:  # add: the previous layer plus itself or a same-shaped earlier layer
            same = sorted(k for k, s in shapes.items() if s == shapes[prev] and k != prev)
            other = draw(st.sampled_from(same)) if same else prev
            ins = [prev, other]
            if draw(st.booleans()):
                ins.reverse()
            layer = {"type": "add"}
            explicit_inputs = ins
            dims = None
            out = shapes[prev]
        if explicit_inputs is not None:
            layer["inputs"] = explicit_inputs
        if name is not None:
            layer["name"] = name
        else:
            name = f"{layer['type']}{idx}"
        # put "name" and "type" first, as a person would
        layer = {k: layer[k] for k in ("name", "type") if k in layer} | {k: v for k, v in layer.items()
                                                                         if k not in ("name", "type")}
        layers.append(layer)
        expects.append(LayerExpect(name, layer["type"], dims))
        shapes[name] = out
        prev = name
        i += 1
    data["layers"] = layers
    return WorkloadCase(data, expects)


# ----------------------------------------------------------------------------- CLI options


@dataclass
class Options:
    """CLI options of one ``accelsim run`` and the MAC layers they select (file order)."""

    dataflow: str | None
    objective: str | None
    budget: int
    fmt: str | None
    layers: str | None
    show_mappings: bool
    exact: bool
    trace: bool
    selected: list[str]

    def args(self) -> list[str]:
        """The options as CLI arguments (``--out``/``--trace`` folders and ``--jobs`` are added by the test)."""
        a: list[str] = []
        if self.dataflow is not None:
            a += ["--dataflow", self.dataflow]
        if self.objective is not None:
            a += ["--objective", self.objective]
        a += ["--budget", str(self.budget)]
        if self.fmt is not None:
            a += ["--format", self.fmt]
        if self.layers is not None:
            a += ["--layers", self.layers]
        if self.show_mappings:
            a.append("--show-mappings")
        if self.exact:
            a.append("--exact")
        return a


@st.composite
def layer_selections(draw, case: WorkloadCase) -> tuple[str | None, list[str]]:
    """A ``--layers`` value that picks at least one MAC layer.

    Parts are names (``name:X`` or bare, a comma in a name written ``\\,``),
    1-based positions (``3`` or ``#3``) and ranges (``2-4`` or ``#2-4``), in any
    order, sometimes with an empty part.

    Returns (selection or None for all layers, names of the selected MAC layers in file order).
    """
    names = [l.name for l in case.layers]
    if draw(st.booleans()) or any(n != n.strip() or n.endswith("\\") for n in names):
        return None, [l.name for l in case.mac_layers]
    n = len(names)
    picked: set[int] = set()
    tokens: list[str] = []

    def name_token(i):
        esc = names[i].replace(",", "\\,")
        return "name:" + esc if draw(st.booleans()) else esc

    def pos_token(text):
        return "#" + text if draw(st.booleans()) else text

    for _ in range(draw(st.integers(1, 3))):
        f = draw(st.sampled_from(["name", "pos", "range"]))
        if f == "name":
            i = draw(st.integers(0, n - 1))
            tokens.append(name_token(i))
            picked.add(i)
        elif f == "pos":
            i = draw(st.integers(0, n - 1))
            tokens.append(pos_token(str(i + 1)))
            picked.add(i)
        else:
            a = draw(st.integers(0, n - 1))
            b = draw(st.integers(a, n - 1))
            tokens.append(pos_token(f"{a + 1}-{b + 1}"))
            picked.update(range(a, b + 1))
    mac_idx = [i for i, l in enumerate(case.layers) if l.dims]
    if not picked & set(mac_idx):
        i = draw(st.sampled_from(mac_idx))
        tokens.append(pos_token(str(i + 1)) if draw(st.booleans()) else name_token(i))
        picked.add(i)
    if draw(st.integers(0, 5)) == 5:
        tokens.append("")  # an empty part ("a,,b") is skipped
    tokens = draw(st.permutations(tokens))
    sel = ",".join(tokens)  # positions never collide with names: generated names start with a letter
    return sel, [names[i] for i in sorted(picked) if case.layers[i].dims]


@st.composite
def cli_options(draw, case: WorkloadCase, max_budget: int = 40) -> Options:
    """Valid options for ``accelsim run`` on ``case`` (dataflow, objective, budget, layers, format, ...)."""
    df = draw(st.one_of(st.none(), st.sampled_from(sorted(bundled_dataflows()))))
    obj = draw(st.sampled_from([None, "edp", "energy", "cycles"]))
    budget = draw(st.one_of(st.sampled_from([1, 2, 5]), st.integers(1, max_budget)))
    fmt = draw(st.sampled_from([None, "table", "json", "csv"]))
    sel, selected = draw(layer_selections(case))
    # rare flags are drawn so that they shrink to off
    return Options(df, obj, budget, fmt, sel, draw(st.integers(0, 4)) == 4, draw(st.integers(0, 5)) == 5,
                   draw(st.integers(0, 5)) == 5, selected)


def effective_dataflow(opts: Options, arch: dict) -> str:
    """The dataflow a run uses: ``--dataflow`` or the arch's default."""
    return opts.dataflow or arch["default_dataflow"]


# ----------------------------------------------------------------------------- fixed mappings


@st.composite
def layer_mapping(draw, dims: dict[str, int], dataflow: str, rows: int, cols: int) -> dict:
    """A valid mapping of one layer: every prime factor of every bound goes to one level the dataflow allows.

    Spatial factors go only to dims the dataflow unrolls on that axis and keep
    within the array; RF factors only to the dataflow's ``rf_dims``.  Sometimes
    explicit factor-1 entries (also on levels the dataflow forbids) and loop
    orders (permutations of some dims) are added.
    """
    df = bundled_dataflows()[dataflow]
    f: dict[str, dict[str, int]] = {l: {} for l in LEVELS}
    used = {"rows": 1, "cols": 1}
    for d in DIMS:
        for p in prime_factors(dims[d]):
            allowed = ["dram", "glb"]
            if d in df["rf_dims"]:
                allowed.append("rf")
            if d in df["rows"] and used["rows"] * p <= rows:
                allowed.append("rows")
            if d in df["cols"] and used["cols"] * p <= cols:
                allowed.append("cols")
            lvl = draw(st.sampled_from(allowed))
            f[lvl][d] = f[lvl].get(d, 1) * p
            if lvl in used:
                used[lvl] *= p
    for _ in range(draw(st.integers(0, 2))):
        lvl, d = draw(st.sampled_from(LEVELS)), draw(st.sampled_from(DIMS))
        f[lvl].setdefault(d, 1)
    spec: dict[str, Any] = {l: v for l, v in f.items() if v or draw(st.integers(0, 3)) == 3}
    if draw(st.booleans()):
        orders = {}
        for l in TEMPORAL:
            if draw(st.booleans()):
                perm = draw(st.permutations(DIMS))
                orders[l] = list(perm[: draw(st.integers(0, len(DIMS)))])
        spec["orders"] = orders
    return spec


@st.composite
def valid_mappings(draw, case: WorkloadCase, arch: dict, dataflow: str) -> dict:
    """A valid ``--mapping`` file for some MAC layers of ``case`` under ``dataflow`` on ``arch``."""
    macs = case.mac_layers
    chosen = draw(st.lists(st.sampled_from(macs), min_size=1, max_size=len(macs), unique_by=lambda l: l.name))
    rows, cols = pe_array(arch)["rows"], pe_array(arch)["cols"]
    return {"layers": {l.name: draw(layer_mapping(l.dims, dataflow, rows, cols)) for l in chosen}}


BROKEN_MAPPING_KINDS = ("product", "zero", "negative", "forbidden_level", "too_wide", "dup_order", "bad_dim",
                        "unknown_layer", "macless_layer", "bad_level", "string_factor", "float_factor",
                        "bool_factor", "layers_not_dict", "no_layers", "order_bad_dim")


@st.composite
def invalid_mappings(draw, case: WorkloadCase, arch: dict, dataflow: str) -> tuple[dict, str]:
    """A ``--mapping`` file that must be rejected: a valid mapping with one breaking change.

    Returns (file data, kind of breakage from :data:`BROKEN_MAPPING_KINDS`).  The
    breakage is always one the checker must catch whichever MAC layer it hits.
    """
    data = draw(valid_mappings(case, arch, dataflow))
    layers = data["layers"]
    name = draw(st.sampled_from(sorted(layers)))
    spec = layers[name]
    dims = next(l.dims for l in case.layers if l.name == name)
    df = bundled_dataflows()[dataflow]
    rows, cols = pe_array(arch)["rows"], pe_array(arch)["cols"]
    kind = draw(st.sampled_from(BROKEN_MAPPING_KINDS))
    if kind == "macless_layer" and not any(l.dims is None for l in case.layers):
        kind = "unknown_layer"

    def where(level):  # the level's factor dict, created if needed
        return spec.setdefault(level, {})

    if kind in ("forbidden_level", "too_wide"):
        # move a whole bound > 1 to a level where it cannot be
        movable = [d for d in DIMS if dims[d] > 1]
        options = []
        for d in movable:
            for lvl, ok in (("rows", df["rows"]), ("cols", df["cols"]), ("rf", df["rf_dims"])):
                if kind == "forbidden_level" and d not in ok:
                    options.append((d, lvl))
                if kind == "too_wide" and lvl != "rf" and d in ok and dims[d] > (rows if lvl == "rows" else cols):
                    options.append((d, lvl))
        if options:
            d, lvl = draw(st.sampled_from(options))
            for l in LEVELS:
                if l in spec:
                    spec[l].pop(d, None)
            where(lvl)[d] = dims[d]
        else:
            kind = "product"
    if kind == "product":
        d = draw(st.sampled_from(DIMS))
        lvl = draw(st.sampled_from(["dram", "glb"]))
        where(lvl)[d] = where(lvl).get(d, 1) * draw(st.sampled_from([2, 3, 5]))
    elif kind in ("zero", "negative"):
        lvl, d = draw(st.sampled_from(LEVELS)), draw(st.sampled_from(DIMS))
        where(lvl)[d] = 0 if kind == "zero" else -draw(st.sampled_from([1, 2, 7]))
    elif kind == "dup_order":
        d = draw(st.sampled_from(DIMS))
        spec["orders"] = {**spec.get("orders", {}), draw(st.sampled_from(TEMPORAL)): [d, d]}
    elif kind == "bad_dim":
        where(draw(st.sampled_from(LEVELS)))[draw(st.sampled_from(["X", "m", "H", "", "NN"]))] = 1
    elif kind == "order_bad_dim":
        spec["orders"] = {draw(st.sampled_from(TEMPORAL)): [draw(st.sampled_from(["X", "p", "W"]))]}
    elif kind == "unknown_layer":
        layers["no_such_layer_" + draw(st.sampled_from(["x", "1", "ü"]))] = {}
    elif kind == "macless_layer":
        layers[draw(st.sampled_from([l.name for l in case.layers if l.dims is None]))] = {}
    elif kind == "bad_level":
        spec[draw(st.sampled_from(["l2", "dram2", "spatial", "rf2", "GLB.depth"]))] = {"M": 1}  # no slot of any arch
    elif kind in ("string_factor", "float_factor", "bool_factor"):
        lvl, d = draw(st.sampled_from(LEVELS)), draw(st.sampled_from(DIMS))
        where(lvl)[d] = {"string_factor": "2", "float_factor": 1.0, "bool_factor": True}[kind]
    elif kind == "layers_not_dict":
        data["layers"] = draw(st.sampled_from([[], [spec], "conv1", 3]))
    elif kind == "no_layers":
        data = draw(st.sampled_from([{}, {"layer": layers}, {"layers": layers, "extra": 1}]))
    return data, kind


# ----------------------------------------------------------------------------- any input: mutations

#: values that are wrong or extreme almost anywhere in a file
NASTY_VALUES = [
    0, -1, -7, 1, 2, 10**6, 10**9, 2**31, 2**63, 10**30, -(10**30), 10**300,
    0.5, -0.5, 1e-9, 5e-324, 1e308, -1e308, float("inf"), float("-inf"), float("nan"),
    True, False, None, "", "abc", "3", "1.5", "ü\u202e", "\t", [], [1], [1, 2, 3, 4, 5], [[1]], {}, {"a": 1},
    {"rows": 2}, ["conv2d"], "conv2d", "multicast",
]

#: extreme but well-typed numbers, for fields that hold a number (mutation ``number``)
NASTY_NUMBERS = [
    0, -1, 1, 2, 13, 64, 100, 257, 1000, 4096, 10**4, 10**5, 10**6, 10**9, 10**12, 2**63 - 1, 2**64, 10**30,
    0.0, -0.0, 1e-3, 9.99e-4, 1e-6, 1e-300, 5e-324, 0.5, 1e6, 1e15, 1e300, 1.7976931348623157e308,
    float("inf"), float("-inf"), float("nan"),
]

#: YAML spellings that PyYAML resolves to surprising types or values
NASTY_YAML_SCALARS = [
    ".inf", "-.inf", ".NaN", "1.0e+400", "-1.0e+400", "0x7fffffffffffffff", "0o17", "0b1010", "1_000",
    "190:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "yes", "no", "on", "off", "~", "null",
    "!!binary aGVsbG8=", "!!set {a, b}", "!!python/object/apply:os.getcwd []", "!!str 3", "!!int '3'",
    "!!float '1e999'", "!!timestamp 2001-12-14", "&a 3", "*undefined_alias", "'unterminated", "{a: 1",
    "[1, 2", "@reserved", "`reserved", "? complex key", "|\n  block", "!!omap [a: 1]",
    "9" * 5000, "-" + "9" * 5000, "1." + "0" * 5000 + "1", "0x" + "f" * 5000,
]

#: whole-file replacements
NASTY_FILES: list[str | bytes] = [
    "", "# only a comment\n", "---\n", "3\n", "- a\n- b\n", "just text\n", "null\n", "[]\n", "{}\n",
    "a: 1\n---\nb: 2\n", "key: value\n\tindented: tab\n", "a: 1\na: 2\n",
    "\ufeffname: bom\n", b"\xff\xfe\x00\x00garbage", b"name: \xc3\x28\n", "name: \x00\n", "name: \x07bell\n",
]


def _paths(node, prefix=()):
    """All paths (tuples of keys/indices) into a nested dict/list, the root excluded."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _get(node, path):
    for k in path:
        node = node[k]
    return node


def _deep(depth: int, kind: str) -> str:
    """Flow-style YAML nested ``depth`` levels deep."""
    if kind == "list":
        return "[" * depth + "1" + "]" * depth
    return "{a: " * depth + "1" + "}" * depth


def _alias_bomb(levels: int = 9, fanout: int = 9) -> str:
    """A billion-laughs style flow sequence: ``fanout ** levels`` leaves from a few hundred bytes."""
    parts = ["&l0 [" + ", ".join(["lol"] * fanout) + "]"]
    for i in range(1, levels):
        parts.append(f"&l{i} [" + ", ".join([f"*l{i - 1}"] * fanout) + "]")
    return "[" + ", ".join(parts) + f", *l{levels - 1}]"


def _alias_bomb_file(levels: int = 9, fanout: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fanout) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fanout) + "]")
    return "\n".join(lines) + "\n"


MUTATIONS = ("number", "number", "number", "number", "value", "value", "delete", "unknown_key", "rename", "wrap",
             "yaml_scalar", "deep",
             "alias_bomb", "non_string_key", "whole_file")


@st.composite
def mutated_text(draw, data: dict, max_mutations: int = 3) -> tuple[str | bytes, list[str]]:
    """YAML text (or raw bytes) of ``data`` after 0..``max_mutations`` random mutations.

    Mutations: replace a number by an extreme one (:data:`NASTY_NUMBERS`, or
    the old value times one of them), replace any node by a value from :data:`NASTY_VALUES` (wrong
    types, zero/negative/huge numbers, non-finite floats), delete a field, add
    an unknown field, rename a field, wrap a node in a list/dict, splice in a
    tricky YAML scalar (:data:`NASTY_YAML_SCALARS`: tags, dates, octal,
    sexagesimal, 5000-digit numbers, broken syntax), deeply nested flow
    collections, an alias bomb, non-string keys, or replace the whole file
    (:data:`NASTY_FILES`: empty, scalar, multi-document, bad encodings,
    control characters).

    Returns (file content, list of mutation descriptions).  With zero mutations
    the file is the valid input unchanged.
    """
    data = copy.deepcopy(data)
    done: list[str] = []
    splices: dict[str, str] = {}
    n = draw(st.sampled_from([0, 1, 1, 1, 1, 2, 3]))
    for _ in range(min(n, max_mutations)):
        kind = draw(st.sampled_from(MUTATIONS))
        paths = _paths(data) if isinstance(data, (dict, list)) else []
        numeric = [p for p in paths if type(_get(data, p)) in (int, float)]
        if kind == "number" and numeric:
            path = draw(st.sampled_from(numeric))
            old = _get(data, path)
            v = draw(st.one_of(st.sampled_from(NASTY_NUMBERS), st.sampled_from(NASTY_NUMBERS).map(
                lambda x: x if isinstance(x, float) or x != x else old * x if isinstance(old, int) else float(x))))
            _get(data, path[:-1])[path[-1]] = v
            done.append(f"{path} = {v!r}")
            continue
        if kind == "number":
            kind = "value"
        if kind == "whole_file" or not paths:
            deep = _deep(draw(st.sampled_from([100, 5000, 100_000])), "list")
            text = draw(st.sampled_from(NASTY_FILES + [_alias_bomb_file(), deep]))
            done.append(f"whole file -> {text[:40]!r}")
            return text, done
        path = draw(st.sampled_from(paths))
        parent, key = _get(data, path[:-1]), path[-1]
        if kind == "value":
            v = draw(st.sampled_from(NASTY_VALUES))
            parent[key] = copy.deepcopy(v)
            done.append(f"{path} = {v!r}")
        elif kind == "delete":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
            done.append(f"delete {path}")
        elif kind == "unknown_key":
            node = _get(data, path)
            target = node if isinstance(node, dict) else parent if isinstance(parent, dict) else data
            if isinstance(target, dict):
                k = draw(st.sampled_from(["colour", "typo", "Name", "words ", "rows_", "global_"]))
                target[k] = draw(st.sampled_from([1, "x", None]))
                done.append(f"unknown key {k!r} near {path}")
        elif kind == "rename":
            if isinstance(parent, dict):
                new = draw(st.sampled_from([str(key) + "s", str(key)[:-1] or "x", str(key).upper(), " " + str(key)]))
                parent[new] = parent.pop(key)
                done.append(f"rename {path} -> {new!r}")
        elif kind == "wrap":
            w = draw(st.sampled_from(["list", "dict", "list2"]))
            v = parent[key]
            parent[key] = [v] if w == "list" else {"value": v} if w == "dict" else [v, v]
            done.append(f"wrap {path} in {w}")
        elif kind in ("yaml_scalar", "deep", "alias_bomb"):
            if kind == "yaml_scalar":
                s = draw(st.sampled_from(NASTY_YAML_SCALARS))
            elif kind == "deep":
                s = _deep(draw(st.sampled_from([10, 200, 2000, 50_000])), draw(st.sampled_from(["list", "dict"])))
            else:
                s = _alias_bomb(draw(st.sampled_from([3, 6, 9])), draw(st.sampled_from([3, 9])))
            tok = f"__SPLICE_{len(splices)}__"
            splices[tok] = s
            parent[key] = tok
            done.append(f"{path} = <{kind}: {s[:40]!r}{'...' if len(s) > 40 else ''}>")
        elif kind == "non_string_key":
            node = _get(data, path)
            target = node if isinstance(node, dict) else parent if isinstance(parent, dict) else None
            if target is not None:
                k = draw(st.sampled_from([1, None, True, 1.5, (1, 2)]))
                target[k] = draw(st.sampled_from([1, "x", {}]))
                done.append(f"key {k!r} near {path}")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans())) if not _has_tuple_key(data) \
        else yaml.dump(data, sort_keys=False)
    for tok, s in splices.items():
        text = text.replace(tok, s)
    return text, done


def _has_tuple_key(node) -> bool:
    if isinstance(node, dict):
        return any(isinstance(k, tuple) or _has_tuple_key(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_tuple_key(v) for v in node)
    return False
