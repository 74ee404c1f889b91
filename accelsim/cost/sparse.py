"""Statistical sparse accounting: what compressed formats, gating and skipping do to a mapped layer.

Sparseloop's method (Wu et al., "Sparseloop: An Analytical Approach to Sparse
Tensor Accelerator Modeling", MICRO 2021, Sec. IV-V): the dense data movement
of a mapping (:func:`~.model.access_counts`) is the skeleton, and the sparse
features scale it by expectations from the operand densities (each word
non-zero independently with the tensor's density):

* **Formats.** A level holding a tensor in a compressed format
  (:mod:`.formats`) moves and stores, per dense word of the tensor, the
  expected values plus metadata of one tile: ``ratio`` = (value bits +
  metadata bits) / (words x word bits) of the level's tile of the tensor, its
  fibers running along the tensor's innermost coordinate with more than one
  word in the tile.  Every access of that tensor at that level (reads, fills,
  updates, drains) carries ``ratio`` words' worth of bits: energy, port and
  DRAM bytes scale by it (metadata bits cost as much per bit as data bits).
  Psums are dense: at a level storing the ofmap compressed, only the final
  outputs (one write per output word, the ofmap's density) are compressed.
  The network's input is in DRAM as the host wrote it, uncompressed (Eyeriss
  encodes every fmap in DRAM but the first layer's input, JSSC 2017, Sec. IV-B).
* **Storage gating/skipping** (``sparse_reads``): reads of a tensor handed to
  the MACs happen only when every operand in ``condition_on`` is non-zero, a share of
  the product of their densities (not counting again the zeros of the tensor
  itself when the level already stores it compressed).  Gating saves the
  energy; skipping saves the port time too.
* **Compute.** A MAC with gating or skipping spends energy only when its
  ``condition_on`` operands are non-zero (share = product of their densities), plus
  ``check_pj`` per MAC considered; skipping also removes the cycles, so the
  compute time scales by the same share (ideal balance: load imbalance is
  the actual mode's business).  Effective MACs are the expected non-zero
  (filter, ifmap) pairs: MACs off the padding x d_filter x d_ifmap.  A skipped
  MAC neither reads nor updates its psum at the innermost ofmap keeper.  On a
  Cartesian-product array (``mac.cartesian``, SCNN) the compute time and the
  products come from :mod:`.cartesian` instead.
* **Buffer fits** use the compressed tile: its expected size, or with
  ``compressed_fit: worst`` its largest (every word non-zero, with metadata).

With dense operands and no sparse feature in the arch, :func:`sparsity`
returns None and every figure stays the dense model's, bit for bit.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from math import prod

from ..arch.spec import Architecture
from ..errors import InputError
from ..mapping.mapping import Mapping
from ..workload.loopnest import COORDS, TENSORS, LoopNest
from .cartesian import cartesian_pass
from .coordinate import pattern_size
from .formats import FormatSize, FormatSpecError, parse_format


@dataclass(frozen=True)
class TensorSparsity:
    """One tensor at one level: bits moved per dense word, as a ratio of the dense word's bits.

    Attributes:
        ratio: (expected value + metadata bits) / dense bits of the level's tile (1.0 when dense).
        final_ratio: the same for final outputs (the ofmap's density; equal to ``ratio`` for inputs).
        metadata_share: metadata bits per dense bit (part of ``ratio``).
        read_share: share of the reads handed to the MACs that happen (storage gating or skipping).
        read_skip: whether those not happening also take no port time (skipping).
    """

    ratio: float = 1.0
    final_ratio: float = 1.0
    metadata_share: float = 0.0
    read_share: float = 1.0
    read_skip: bool = False


DENSE = TensorSparsity()


@dataclass(frozen=True)
class Sparsity:
    """The sparse accounting of one mapped layer (module doc).

    Attributes:
        levels: ``{level name: {tensor: TensorSparsity}}`` for every level and tensor it keeps.
        effective_macs: expected non-zero (filter, ifmap) pairs.
        mac_energy_share: MACs (multiplications) performed per MAC of the layer: the share that spends
            energy under gating or skipping, 1.0 if neither; for a Cartesian-product array
            (:mod:`.cartesian`) its products, which may exceed the MACs (products no output needs).
        compute_share: compute cycles per MAC step of the mapping: the share left by skipping, 1.0
            otherwise; for a Cartesian-product array its cycles per pass / the pass's MAC steps.
        mac_skip: whether the MACs not performed also leave the psum at the innermost ofmap keeper
            untouched (skipping; gating still clocks the accumulate).
        check_pj: energy of the zero checks (or intersections) over the layer, pJ.
        fit: the buffer-fit policy, ``expected`` or ``worst``.
    """

    levels: dict = field(default_factory=dict)
    effective_macs: float = 0.0
    mac_energy_share: float = 1.0
    compute_share: float = 1.0
    check_pj: float = 0.0
    fit: str = "expected"
    mac_skip: bool = False

    def of(self, level: str, tensor: str) -> TensorSparsity:
        return self.levels.get(level, {}).get(tensor, DENSE)


def fibers_of(nest: LoopNest, tensor: str, ext: dict[str, int]) -> tuple[int, int]:
    """A tile of ``tensor`` spanning ``ext`` as ``(fibers, fiber_len)``: fibers run along its innermost
    coordinate with more than one word (:data:`~accelsim.workload.loopnest.COORDS` order)."""
    sizes = [_coord_size(nest, tensor, name, dims, ext) for name, dims in COORDS[tensor]]
    words = prod(sizes)
    fiber = next((s for s in reversed(sizes) if s > 1), 1)
    return words // fiber, fiber


def _coord_size(nest, tensor, name, dims, ext) -> int:
    if len(dims) == 1:
        return ext[dims[0]]
    i = 0 if name == "h" else 1
    size = nest.H if i == 0 else nest.W
    return min(size, pattern_size((nest.stride[i], nest.dilation[i], 0, 0), (ext[dims[0]], ext[dims[1]])))


@lru_cache(maxsize=1 << 14)
def format_ratio(spec: tuple, fibers: int, fiber_len: int, density: float, bits: int,
                 worst: bool = False) -> tuple[float, float]:
    """``(bits per dense bit, metadata bits per dense bit)`` of a tile in format ``spec``
    (``tuple(sorted(format dict items))``); ``worst``: the largest size instead of the expected one."""
    fmt = parse_format(dict(spec))
    size: FormatSize = fmt.worst(fibers, fiber_len, bits) if worst else fmt.expected(fibers, fiber_len, density, bits)
    dense = fibers * fiber_len * bits
    return size.bits / dense, size.metadata_bits / dense


def sparsity(nest: LoopNest, arch: Architecture, m: Mapping | None) -> Sparsity | None:
    """The statistical sparse accounting of ``m`` (None: dense operands on an arch without sparse features).

    ``m`` None: the tiles are the whole tensors (for a figure that does not depend on a mapping).
    """
    if nest.dense and not arch.sparse:
        return None
    d = dict(zip(TENSORS, nest.density))
    levels = {}
    for lv in arch.levels:
        if lv.is_dram and m is not None:  # whole-tensor tiles: the same for every mapping of the layer
            levels[lv.name] = _dram_entry(nest, arch)
            continue
        per = {}
        for t in lv.keeps:
            ratio, final, meta = 1.0, 1.0, 0.0
            f = lv.formats.get(t)
            if lv.is_dram and t == "ifmap" and nest.host_ifmap:
                f = None  # the network input is in DRAM as the host wrote it
            if f is not None and f["type"] != "dense":
                ext = nest.dims if (m is None or lv.is_dram) else m.tile_extent(lv.index)
                fibers, flen = fibers_of(nest, t, ext)
                key = tuple(sorted(f.items()))
                bits = lv.word_bits[t]
                dens = 1.0 if t == "ofmap" else d[t]  # psums are dense; the ofmap's density is its final outputs'
                with _named(arch, lv, t):
                    ratio, meta = format_ratio(key, fibers, flen, dens, bits)
                    final = format_ratio(key, fibers, flen, d[t], bits)[0] if t == "ofmap" else ratio
            share, skip = 1.0, False
            act = lv.sparse_reads.get(t)
            if act is not None:
                on = [o for o in act.condition_on if not (o == t and t in lv.formats and lv.formats[t]["type"] != "dense")]
                share, skip = prod(d[o] for o in on), act.action == "skip"
            per[t] = TensorSparsity(ratio, final, meta, share, skip)
        levels[lv.name] = per
    ms = arch.mac_sparse
    share = prod(d[o] for o in ms.condition_on) if ms is not None else 1.0
    compute = share if ms is not None and ms.action == "skip" else 1.0
    if arch.mac_cartesian is not None and m is not None:
        cp = cartesian_pass(nest, arch, m)
        compute = cp.cycles / cp.pass_steps
        share = cp.products * (m.temporal_steps // cp.pass_steps) * m.active_macs / nest.macs
    from .model import valid_macs  # (model imports this module)

    return Sparsity(levels=levels, effective_macs=valid_macs(nest) * d["filter"] * d["ifmap"],
                    mac_energy_share=share, compute_share=compute,
                    check_pj=nest.macs * arch.mac_check_pj if ms is not None else 0.0, fit=arch.compressed_fit,
                    mac_skip=ms is not None and ms.action == "skip" or arch.mac_cartesian is not None)


_DRAM_CACHE: dict = {}


def _dram_entry(nest: LoopNest, arch: Architecture) -> dict:
    """The DRAM level's ``{tensor: TensorSparsity}`` of ``nest`` (mapping-independent), memoised per
    (arch, layer) for the mapper's many evaluations of one layer."""
    key = (id(arch), tuple(nest.dims.items()), nest.H, nest.W, nest.stride, nest.dilation, nest.padding,
           nest.density, nest.host_ifmap)
    hit = _DRAM_CACHE.get(key)
    if hit is None or hit[0] is not arch:
        if len(_DRAM_CACHE) > 4096:
            _DRAM_CACHE.clear()
        hit = (arch, sparsity(nest, arch, None).levels[arch.dram.name])
        _DRAM_CACHE[key] = hit
    return hit[1]


def fit_bits(nest: LoopNest, arch: Architecture, level: int, tensor: str) -> float:
    """Bits a word of ``tensor`` takes in level ``level``'s capacity: its width, or for a compressed
    tensor the expected (or, with ``compressed_fit: worst``, the largest) bits per word of the whole
    tensor in the level's format (module doc; the tile's fibers are taken as the whole tensor's)."""
    lv = arch.levels[level]
    bits = lv.word_bits[tensor]
    f = lv.formats.get(tensor)
    if f is None or f["type"] == "dense":
        return bits
    fibers, flen = fibers_of(nest, tensor, nest.dims)
    dens = nest.density_of(tensor)
    with _named(arch, lv, tensor):
        return bits * format_ratio(tuple(sorted(f.items())), fibers, flen, dens, bits,
                                   arch.compressed_fit == "worst")[0]


@contextmanager
def _named(arch: Architecture, lv, tensor: str):
    """Turn a format that cannot encode a tile (an absolute index too narrow for its fibers) into the
    arch file's InputError naming the field."""
    try:
        yield
    except FormatSpecError as e:
        where = "dram" if lv.is_dram else f"levels.{lv.index}"
        raise InputError(str(e).split(": ", 1)[-1], source=arch.path,
                         field=f"{where}.formats.{tensor}.{e.field}") from None


def scaled_counts(arch: Architecture, nest: LoopNest, counts, sp: Sparsity | None, timing: bool = False) -> dict:
    """``{level name: {tensor: {action: dense-word equivalents}}}``: each access count times the bits it
    carries per dense word (module doc); the counts as they are when ``sp`` is None.

    The reads handed to the MACs (at a tensor's innermost keeper) take the storage gating share (for
    ``timing``, only when they are skipped: a gated read still takes its port slot); at DRAM the final
    outputs (one write per ofmap word) take the ofmap's compressed ratio.
    """
    out = {}
    inner = {t: arch.keepers(t)[0] for t in TENSORS}
    for lv in arch.levels:
        per = {}
        for t, c in counts.levels[lv.name].items():
            a = c.as_dict()
            if sp is not None:
                ts = sp.of(lv.name, t)
                if ts == DENSE and not (t == "ofmap" and sp.mac_skip):
                    per[t] = a
                    continue
                r = ts.ratio
                a = {k: v * r for k, v in a.items()}
                if t != "ofmap" and inner[t] == lv.index and (ts.read_skip or not timing):
                    a["reads"] *= ts.read_share
                if t == "ofmap" and inner[t] == lv.index and sp.mac_skip and not lv.is_dram:  # skipped MACs
                    for k in ("reads", "rmw_reads", "updates"):
                        a[k] *= sp.mac_energy_share
                if t == "ofmap" and lv.is_dram:
                    final = min(c.updates, nest.tensor_words("ofmap"))
                    a["updates"] = (c.updates - final) * r + final * ts.final_ratio
            per[t] = a
        out[lv.name] = per
    return out
