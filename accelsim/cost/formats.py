"""Compressed sizes of a tensor tile in the storage formats of sparse accelerators (bits, entries).

The design notes ("Sparse operands") let a storage level hold a tensor compressed, which costs
metadata bits in capacity, bandwidth, traffic and energy.  This module sizes one tile.  A tile is
``fibers`` independent fibers of ``fiber_len`` words each (a 2-D array of shape (fibers, fiber_len));
each fiber is compressed on its own (runs restart per fiber, CSR/CSC keeps one pointer per fiber).
``value_bits`` is the width of one value.  Every format gives, as a :class:`FormatSize`:

* ``expected(fibers, fiber_len, density, value_bits)``: the expectation when every word is non-zero
  independently with probability ``density`` (the uniform statistical model of Sparseloop, Wu et al.,
  MICRO 2021), for the statistical mode and the mapper;
* ``worst(fibers, fiber_len, value_bits)``: the largest size over all tiles (the "worst case" buffer-fit
  policy).  For every format here it is the size of an all-non-zero tile: each stored entry covers at
  least one word position of its fiber (a value its own; a padding zero itself and the 2**b - 1 >= 1
  zeros before it; positions are never shared), so a fiber has at most ``fiber_len`` entries, and every
  size below is non-decreasing in the entries of each fiber (metadata that does not depend on the
  entries, bitmask bits and pointers, is fixed);
* ``encode(tile, value_bits)``: the exact bits of a concrete tile (zeros are exact 0 values).

Formats, per fiber of n words with z non-zeros and E stored entries (pointers: (fibers + 1) * pointer_bits
per tile):

* Dense: n * value_bits.
* Bitmask (Eyeriss v2; SparTen): z * value_bits + n flag bits.
* RunLength(b): E * (value_bits + b), E = z + padding zeros.
* CSR/CSC, absolute indices: z * (value_bits + index_bits) + pointers.
* CSR/CSC, relative indices (EIE, Han et al., ISCA 2016, Sec. III-B, Fig. 3): E * (value_bits + index_bits)
  + pointers, E as RunLength(index_bits).
* CoordinateList(c) (SCNN, Parashar et al., ISCA 2017, Sec. IV): z * (value_bits + c), no pointers.
* EyerissRLC (Chen et al., IEEE JSSC 2017, run-length compression): ceil(E / 3) 64-bit words, E as
  RunLength(5); values are the E 16-bit levels, metadata the rest of the words.

Padding and the expected entries of run-based fibers: :mod:`.runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .runs import expected_ceil_words, expected_run_entries, run_entries


@dataclass(frozen=True)
class FormatSize:
    """Bits of one encoded tile: values and metadata (floats for expectations, ints for exact encodings)."""

    value_bits: float               # the stored values (non-zeros and any padding zeros)
    metadata_bits: float            # everything else: flags, runs, indices, pointers, unused word bits
    entries: float                  # stored entries: non-zeros plus any padding zeros (every word for Dense)

    @property
    def bits(self) -> float:
        """Total bits: values + metadata."""
        return self.value_bits + self.metadata_bits


class FormatSpecError(ValueError):
    """A bad format description; ``field`` names the offending field of the spec."""

    def __init__(self, field: str, message: str):
        super().__init__(f"field '{field}': {message}")
        self.field = field


def _check_bits(field: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise FormatSpecError(field, f"must be an integer number of bits in 1..64, got {value!r}")


def _check_count(field: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{field} must be a non-negative integer, got {value!r}")


class Format:
    """A compressed format.  Subclasses give ``name``, ``_size`` and, if run-based, ``_run_bits``."""

    name: ClassVar[str]
    _run_bits: int | None = None                      # None: entries = non-zeros

    def _size(self, fibers: int, fiber_len: int, entries, value_bits: int) -> FormatSize:
        """Size of a tile with ``entries`` stored entries in total."""
        raise NotImplementedError

    def _from_fibers(self, fibers: int, fiber_len: int, entries: np.ndarray, value_bits: int) -> FormatSize:
        """Exact size from the entries of each fiber (a format packing each fiber into words overrides it)."""
        return self._size(fibers, fiber_len, int(entries.sum()), value_bits)

    def check(self, fiber_len: int) -> None:
        """Raise ValueError if the format cannot encode fibers of ``fiber_len`` words."""

    def _check_args(self, fibers, fiber_len, value_bits) -> tuple[int, int]:
        _check_count("fibers", fibers)
        _check_count("fiber_len", fiber_len)
        _check_bits("value_bits", value_bits)
        self.check(int(fiber_len))
        return int(fibers), int(fiber_len)

    def expected(self, fibers: int, fiber_len: int, density: float, value_bits: int) -> FormatSize:
        """Expected size when each word is non-zero independently with probability ``density``."""
        fibers, fiber_len = self._check_args(fibers, fiber_len, value_bits)
        density = float(density)
        if not 0.0 <= density <= 1.0:
            raise ValueError(f"density must be in [0, 1], got {density!r}")
        if self._run_bits is None:
            per_fiber = fiber_len * density
        else:
            per_fiber = expected_run_entries(fiber_len, density, self._run_bits)
        return self._size(fibers, fiber_len, fibers * per_fiber, value_bits)

    def worst(self, fibers: int, fiber_len: int, value_bits: int) -> FormatSize:
        """Largest size over all tiles: that of an all-non-zero tile (module docstring for the proof)."""
        fibers, fiber_len = self._check_args(fibers, fiber_len, value_bits)
        return self._from_fibers(fibers, fiber_len, np.full(fibers, fiber_len, dtype=np.int64), value_bits)

    def encode(self, tile: np.ndarray, value_bits: int) -> FormatSize:
        """Exact size of a concrete 2-D tile (rows are fibers; a word is non-zero iff ``!= 0``)."""
        tile = np.asarray(tile)
        if tile.ndim != 2:
            raise ValueError(f"tile must be a 2-D array (fibers, fiber_len), got shape {tile.shape}")
        fibers, fiber_len = tile.shape
        self._check_args(fibers, fiber_len, value_bits)
        nonzero = tile != 0
        if self._run_bits is None:
            entries = np.count_nonzero(nonzero, axis=1).astype(np.int64)
        else:
            entries = run_entries(nonzero, self._run_bits)
        return self._from_fibers(fibers, fiber_len, entries, value_bits)


@dataclass(frozen=True)
class Dense(Format):
    """Every word stored, no metadata."""

    name: ClassVar[str] = "dense"

    def _size(self, fibers, fiber_len, entries, value_bits):
        n = fibers * fiber_len
        return FormatSize(n * value_bits, 0, n)


@dataclass(frozen=True)
class Bitmask(Format):
    """One flag bit per word and the non-zero values (Eyeriss v2, SparTen)."""

    name: ClassVar[str] = "bitmask"

    def _size(self, fibers, fiber_len, entries, value_bits):
        return FormatSize(entries * value_bits, fibers * fiber_len, entries)


@dataclass(frozen=True)
class RunLength(Format):
    """Entries of a value and a ``run_bits`` count of the zeros before it; padding zeros bridge longer gaps."""

    run_bits: int
    name: ClassVar[str] = "rle"

    def __post_init__(self):
        _check_bits("run_bits", self.run_bits)

    _run_bits = property(lambda self: self.run_bits)

    def _size(self, fibers, fiber_len, entries, value_bits):
        return FormatSize(entries * value_bits, entries * self.run_bits, entries)


@dataclass(frozen=True)
class CompressedSparse(Format):
    """CSR/CSC: (fibers + 1) pointers of ``pointer_bits`` and per entry a value and an ``index_bits`` index.

    Absolute indices store the non-zeros' positions (``index_bits`` >= ceil(log2(fiber_len))).  Relative
    indices (EIE, Han et al., ISCA 2016, Sec. III-B) store the zeros before each entry, with padding
    zeros as :class:`RunLength` (``run_bits = index_bits``).  ``orientation`` ("csr" or "csc") only
    records which axis of the tensor the fibers run along; the sizes do not depend on it.
    """

    pointer_bits: int
    index_bits: int
    relative: bool = False
    orientation: str = "csr"

    def __post_init__(self):
        _check_bits("pointer_bits", self.pointer_bits)
        _check_bits("index_bits", self.index_bits)
        if not isinstance(self.relative, bool):
            raise FormatSpecError("relative", f"must be true or false, got {self.relative!r}")
        if self.orientation not in ("csr", "csc"):
            raise FormatSpecError("orientation", f"must be 'csr' or 'csc', got {self.orientation!r}")

    @property
    def name(self) -> str:
        return self.orientation

    _run_bits = property(lambda self: self.index_bits if self.relative else None)

    def check(self, fiber_len: int) -> None:
        """Absolute indices must address every position of a fiber: ceil(log2(fiber_len)) bits."""
        need = max(fiber_len - 1, 0).bit_length()
        if not self.relative and self.index_bits < need:
            raise FormatSpecError("index_bits", f"{self.index_bits} bits cannot index fibers of {fiber_len} "
                                                f"words: absolute indices need {need} bits")

    def _size(self, fibers, fiber_len, entries, value_bits):
        return FormatSize(entries * value_bits, entries * self.index_bits + (fibers + 1) * self.pointer_bits,
                          entries)


@dataclass(frozen=True)
class CoordinateList(Format):
    """Per non-zero a value and ``coord_bits`` of coordinates, no pointers (SCNN, Parashar et al., ISCA 2017,
    Sec. IV: each PE computes output coordinates from its operands' coordinates)."""

    coord_bits: int
    name: ClassVar[str] = "coo"

    def __post_init__(self):
        _check_bits("coord_bits", self.coord_bits)

    def _size(self, fibers, fiber_len, entries, value_bits):
        return FormatSize(entries * value_bits, entries * self.coord_bits, entries)


@dataclass(frozen=True)
class EyerissRLC(Format):
    """Eyeriss's run-length coding at the DRAM interface (Chen et al., IEEE JSSC 2017, the RLC section):
    (``run_bits`` run, ``level_bits`` level) pairs, ``pairs_per_word`` to a ``word_bits`` word whose
    spare bit flags the last word.  Values are the levels (``value_bits`` <= ``level_bits``, padded up);
    metadata is the rest of the words.  Expected words per fiber: E[ceil(entries / pairs_per_word)]
    (:func:`expected_ceil_words`)."""

    run_bits: int = 5
    level_bits: int = 16
    pairs_per_word: int = 3
    word_bits: int = 64
    name: ClassVar[str] = "eyeriss_rlc"

    def __post_init__(self):
        for f in ("run_bits", "level_bits", "word_bits"):
            _check_bits(f, getattr(self, f))
        p = self.pairs_per_word
        if isinstance(p, bool) or not isinstance(p, int) or p < 1:
            raise FormatSpecError("pairs_per_word", f"must be a positive integer, got {p!r}")
        if p * (self.run_bits + self.level_bits) > self.word_bits - 1:
            raise FormatSpecError("pairs_per_word", f"{p} pairs of {self.run_bits} + {self.level_bits} bits and "
                                                    f"a last-word flag do not fit a {self.word_bits}-bit word")

    _run_bits = property(lambda self: self.run_bits)

    def _check_args(self, fibers, fiber_len, value_bits):
        checked = super()._check_args(fibers, fiber_len, value_bits)
        if value_bits > self.level_bits:
            raise FormatSpecError("value_bits", f"{value_bits}-bit values do not fit "
                                                f"{self.level_bits}-bit RLC levels")
        return checked

    def _words_size(self, entries, words) -> FormatSize:
        values = entries * self.level_bits
        return FormatSize(values, words * self.word_bits - values, entries)

    def _size(self, fibers, fiber_len, entries, value_bits):
        return self._words_size(entries, entries / self.pairs_per_word)

    def expected(self, fibers: int, fiber_len: int, density: float, value_bits: int) -> FormatSize:
        """Expected size: the expected entries, in E[ceil(entries / pairs_per_word)] words per fiber
        (:func:`expected_ceil_words`; a fiber's last word is rarely full)."""
        size = super().expected(fibers, fiber_len, density, value_bits)
        if not fibers:
            return size
        per = size.entries / fibers
        words = fibers * expected_ceil_words(int(fiber_len), float(density), per, self.pairs_per_word)
        return self._words_size(size.entries, words)

    def _from_fibers(self, fibers, fiber_len, entries, value_bits):
        words = -(-entries // self.pairs_per_word)
        return self._words_size(int(entries.sum()), int(words.sum()))


_FIELDS = {
    "dense": (Dense, (), ()),
    "bitmask": (Bitmask, (), ()),
    "rle": (RunLength, ("run_bits",), ()),
    "csr": (CompressedSparse, ("pointer_bits", "index_bits"), ("relative",)),
    "csc": (CompressedSparse, ("pointer_bits", "index_bits"), ("relative",)),
    "coo": (CoordinateList, ("coord_bits",), ()),
    "eyeriss_rlc": (EyerissRLC, (), ("run_bits", "level_bits", "pairs_per_word", "word_bits")),
}


def parse_format(spec: dict) -> Format:
    """Build a format from a plain dict such as ``{"type": "rle", "run_bits": 4}``.

    Types: dense, bitmask, rle (run_bits), csr / csc (pointer_bits, index_bits, relative = false),
    coo (coord_bits), eyeriss_rlc (run_bits = 5, level_bits = 16, pairs_per_word = 3, word_bits = 64).
    Bit widths are integers in 1..64.  Raises :class:`FormatSpecError` (a ValueError) naming the field.
    """
    if not isinstance(spec, dict):
        raise FormatSpecError("type", f"a format is a mapping with a 'type' field, got {spec!r}")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise FormatSpecError("type", f"must be one of {', '.join(sorted(_FIELDS))}, got {kind!r}")
    cls, required, optional = _FIELDS[kind]
    for f in spec:
        if f != "type" and f not in required + optional:
            allowed = ", ".join(required + optional) or "none"
            raise FormatSpecError(str(f), f"unknown field of a '{kind}' format (allowed: {allowed})")
    for f in required:
        if f not in spec:
            raise FormatSpecError(f, f"required by a '{kind}' format")
    kwargs = {f: spec[f] for f in required + optional if f in spec}       # the constructors check them
    if cls is CompressedSparse:
        kwargs["orientation"] = kind
    return cls(**kwargs)
