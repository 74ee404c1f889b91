"""Buffer fits: the words a tile of each tensor takes, whether a level's tiles fit its partitions
(Timeloop's capacity check, with double buffering, partition word widths and compressed tensors), the
ofmap write buffer's rule, and each tensor's share of a shared partition's banks.

Sizes in words of the partition's width (:func:`partition_ref_bits`); a compressed tensor takes its
expected or worst-case bits per word (:func:`~.sparse.fit_bits`).
"""

from __future__ import annotations

from ..arch.spec import Architecture
from ..mapping.mapping import Mapping
from ..workload.loopnest import LoopNest
from .coordinate import pattern_size
from .sparse import fit_bits


def tile_words(nest: LoopNest, tensor: str, inner: dict[str, int]) -> int:
    """Words of one tile of ``tensor`` spanning ``inner`` iterations per dim (padding not clipped)."""
    if tensor == "filter":
        return inner["G"] * inner["M"] * inner["C"] * inner["R"] * inner["S"]
    if tensor == "ofmap":
        return inner["N"] * inner["G"] * inner["M"] * inner["P"] * inner["Q"]
    return (inner["N"] * inner["G"] * inner["C"]
            * pattern_size((nest.stride[0], nest.dilation[0], 0, 0), (inner["P"], inner["R"]))
            * pattern_size((nest.stride[1], nest.dilation[1], 0, 0), (inner["Q"], inner["S"])))


def bank_shares(nest: LoopNest, ext: dict[str, int], p) -> dict[str, float]:
    """Fraction of partition ``p``'s banks each of its tensors owns: whole banks in proportion to its tile
    spanning ``ext`` (at least one each; largest remainders first, ties in tensor order).  For a
    partition of several tensors with at least as many banks; a read of a tensor goes through its own
    banks only (:mod:`accelsim.sim.ports`, and the model's per-tensor read bounds)."""
    b = p.banks
    size = {t: tile_words(nest, t, ext) * bits for t, bits in zip(p.tensors, p.tensor_bits)}
    total = sum(size.values()) or 1
    raw = {t: (b - len(p.tensors)) * size[t] / total for t in p.tensors}
    banks = {t: 1 + int(raw[t]) for t in p.tensors}
    for t in sorted(p.tensors, key=lambda t: -(raw[t] - int(raw[t])))[: b - sum(banks.values())]:
        banks[t] += 1
    return {t: banks[t] / b for t in p.tensors}


def partition_ref_bits(bits: dict, tensors) -> int:
    """Width of a partition's capacity words: the ifmap's if it holds the ifmap, else its first tensor's.

    ``bits``: the level's word bits per tensor (``StorageLevel.word_bits``).
    """
    return bits["ifmap" if "ifmap" in tensors else tensors[0]]


def level_fits(nest: LoopNest, arch: Architecture, level: int, ext: dict[str, int]) -> str | None:
    """Whether tiles spanning ``ext`` fit every partition of level ``level``; None if so, else why not.

    A partition holds its tensors' tiles (x2 when double-buffered), wider
    tensors taking proportionally more of its words (:func:`partition_ref_bits`).
    """
    if level_fits_ok(nest, arch, level, ext):
        return None
    lv = arch.levels[level]
    for p in lv.partitions:
        if p.words is None:
            continue
        ref = partition_ref_bits(lv.word_bits, p.tensors)
        k = 2 if p.double_buffered else 1
        used = k * sum(tile_words(nest, t, ext) * fit_bits(nest, arch, level, t) for t in p.tensors)
        if used > p.words * ref:
            what = "+".join(p.tensors)
            buf = " (x2 buffers)" if k == 2 else ""
            packed = f" ({arch.compressed_fit} compressed size)" if any(
                lv.formats.get(t, {"type": "dense"})["type"] != "dense" for t in p.tensors) else ""
            return f"{lv.name} {what} tiles of {int(used // ref)} words{buf}{packed} exceed {p.words}"
    return None


def level_fits_ok(nest: LoopNest, arch: Architecture, level: int, ext: dict[str, int]) -> bool:
    """:func:`level_fits` as a bool, without the message."""
    return fit_checker(nest, arch, level)(ext)


def fit_checker(nest: LoopNest, arch: Architecture, level: int):
    """A fast ``ext -> bool`` form of :func:`level_fits` for one level (the mapper's inner loop).

    Each partition's bound is pre-divided: bits per word of each tensor (a compressed
    tensor's expected or worst-case bits per word, :func:`~.sparse.fit_bits`), and
    the capacity in bits halved for a double-buffered partition.
    """
    hs, hd = nest.stride[0], nest.dilation[0]
    ws, wd = nest.stride[1], nest.dilation[1]
    parts = fit_parts(nest, arch, level)

    def ok(e) -> bool:
        n, g, m, c = e["N"], e["G"], e["M"], e["C"]
        for fb, ib, ob, cap in parts:
            used = 0
            if fb:
                used += g * m * c * e["R"] * e["S"] * fb
            if ib:
                used += (n * g * c * pattern_size((hs, hd, 0, 0), (e["P"], e["R"]))
                         * pattern_size((ws, wd, 0, 0), (e["Q"], e["S"])) * ib)
            if ob:
                used += n * g * m * e["P"] * e["Q"] * ob
            if used > cap:
                return False
        return True

    return ok


def fit_parts(nest: LoopNest, arch: Architecture, level: int) -> list[tuple]:
    """Level ``level``'s bounded partitions as ``(filter bits, ifmap bits, ofmap bits, bound bits)``: the
    bits per word each tensor takes there (0: not held; :func:`~.sparse.fit_bits`) and the capacity in
    bits, halved for a double-buffered partition (``2u > c  <=>  u > c // 2``).  A tile set fits when
    every partition's ``sum(tile words x bits) <= bound``, summed filter, ifmap, ofmap in that order."""
    parts = []
    for p in arch.levels[level].partitions:
        if p.cap_bits is None:
            continue
        b = {t: fit_bits(nest, arch, level, t) for t in p.tensors}
        parts.append((b.get("filter", 0), b.get("ifmap", 0), b.get("ofmap", 0),
                      p.cap_bits // 2 if p.double_buffered else p.cap_bits))
    return parts


def fits(nest: LoopNest, arch: Architecture, m: Mapping) -> str | None:
    """Check every fan-out and every level's capacity; ``None`` if the mapping fits, else why not."""
    for s in m.slots:
        if s.spatial:
            lv = arch.levels[s.level]
            cap = lv.rows if s.kind == "rows" else lv.cols
            if m.spatial(s.name) > cap:
                return f"uses {m.spatial(s.name)} of the {cap} {s.kind} of {lv.name}'s fan-out"
    for lv in arch.onchip:
        why = level_fits(nest, arch, lv.index, m.tile_extent(lv.index))
        if why:
            return why
        why = write_buffer_fits(nest, arch, lv.index, m.inner_extent(lv.index))
        if why:
            return why
    return None


def write_buffer_fits(nest: LoopNest, arch: Architecture, level: int, inner: dict[str, int]) -> str | None:
    """Whether level ``level``'s write buffer holds what its children emit in one step; None if so (or no buffer).

    ``inner``: per dim, the iterations below the level's temporal loops (its
    fan-outs included), so one step emits at most the ofmap tile of ``inner``
    (words), which must fit the buffer (half of it when double-buffered).
    """
    wb = arch.levels[level].write_buffer
    if wb is None:
        return None
    need = tile_words(nest, "ofmap", inner)
    if need <= wb.step_words:
        return None
    half = " (half of a double-buffered one)" if wb.double_buffered else ""
    return (f"{arch.levels[level].name}'s write buffer holds {wb.step_words} words{half}, but one step "
            f"emits {need} ofmap words")
