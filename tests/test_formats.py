"""Compressed tile sizes (accelsim.cost.formats) against independent encoders and Monte Carlo means.

* ``encode`` is checked against the plainest possible encoders written here: Python loops that build the
  actual encoded streams (run-length entries, bitmasks, EIE's v/z vectors, Eyeriss RLC 64-bit words, a
  coordinate list) and scipy.sparse's CSR/CSC arrays, counting bits element by element.  The run-length
  and RLC oracles also decode their own streams back to the tile, so the oracles are checked too.
* ``expected`` is checked against the mean of ``encode`` over 200 seeded Bernoulli tiles, within five
  standard errors of that mean.
* ``worst`` bounds every encoding and equals the encoding of an all-non-zero tile.
"""

import math

import numpy as np
import pytest

from accelsim.cost.formats import (Bitmask, CompressedSparse, CoordinateList, Dense, EyerissRLC, FormatSize,
                                   RunLength, parse_format)
from accelsim.cost.runs import expected_run_entries, infinite_fiber_run_entries

VB = 16  # value bits used by the oracle tests (Eyeriss levels are 16 bits)


# ---------------------------------------------------------------------------------------------------------
# Independent encoders (plain Python loops over the words)
# ---------------------------------------------------------------------------------------------------------

def rle_stream(fiber, run_bits):
    """(run, value) entries of a streaming run-length encoder: a zero arriving when the run counter is full
    becomes a padding entry (run = max, value 0).  Padding left at the end of the fiber is dropped, as the
    decoder knows the fiber length."""
    full = 2 ** run_bits - 1
    out, run = [], 0
    for x in fiber:
        if x != 0:
            out.append((run, x))
            run = 0
        elif run == full:
            out.append((run, 0))
            run = 0
        else:
            run += 1
    while out and out[-1][1] == 0:
        out.pop()
    return out


def rle_decode(entries, n):
    out = []
    for run, value in entries:
        out += [0] * run + [value]
    return out + [0] * (n - len(out))


def eie_column(fiber, index_bits):
    """EIE's v (values) and z (relative indices) of one column: "if more than 15 zeros appear before a
    non-zero entry we add a zero in vector v" (for 4-bit indices); written gap by gap, unlike rle_stream."""
    most = 2 ** index_bits - 1
    v, z, zeros = [], [], 0
    for x in fiber:
        if x == 0:
            zeros += 1
            continue
        while zeros > most:
            v.append(0)
            z.append(most)
            zeros -= most + 1          # the padding zero itself is one of the zeros
        v.append(x)
        z.append(zeros)
        zeros = 0
    return v, z


def eyeriss_words(fiber):
    """Eyeriss RLC: (5-bit run, 16-bit level) pairs, three per 64-bit word, bit 63 set on the last word."""
    pairs = rle_stream(fiber, 5)
    words = []
    for i in range(0, len(pairs), 3):
        word = 0
        for j, (run, level) in enumerate(pairs[i:i + 3]):
            assert 0 <= run < 32 and 0 <= level < 2 ** 16
            word |= (run | int(level) << 5) << (21 * j)
        words.append(word)
    if words:
        words[-1] |= 1 << 63
    return pairs, words


def eyeriss_unpack(words):
    pairs = []
    for w in words:
        for j in range(3):
            run, level = (w >> 21 * j) & 31, (w >> (21 * j + 5)) & 0xFFFF
            if (run, level) != (0, 0):          # an empty slot; a real pair has a level or a full run
                pairs.append((run, level))
    return pairs


def oracle(fmt, tile, vb):
    """(value bits, metadata bits, entries) of ``tile`` under ``fmt``, by direct encoding."""
    rows = [list(r) for r in tile]
    fibers, n = tile.shape
    if isinstance(fmt, Dense):
        return fibers * n * vb, 0, fibers * n
    if isinstance(fmt, Bitmask):
        mask = [[1 if x != 0 else 0 for x in r] for r in rows]
        values = [x for r in rows for x in r if x != 0]
        return len(values) * vb, sum(len(m) for m in mask), len(values)
    if isinstance(fmt, RunLength):
        streams = [rle_stream(r, fmt.run_bits) for r in rows]
        for r, s in zip(rows, streams):
            assert rle_decode(s, n) == r
        e = sum(len(s) for s in streams)
        return e * vb, e * fmt.run_bits, e
    if isinstance(fmt, CompressedSparse) and fmt.relative:
        v_all, u = [], [0]
        for r in rows:
            v, z = eie_column(r, fmt.index_bits)
            assert len(v) == len(z) and rle_decode(list(zip(z, v)), n) == r
            v_all += v
            u.append(len(v_all))
        return len(v_all) * vb, len(v_all) * fmt.index_bits + len(u) * fmt.pointer_bits, len(v_all)
    if isinstance(fmt, CompressedSparse):
        sp = pytest.importorskip("scipy.sparse")
        m = sp.csr_matrix(tile) if fmt.name == "csr" else sp.csc_matrix(tile.T)  # fibers: rows / columns
        assert len(m.indptr) == fibers + 1
        return m.nnz * vb, m.nnz * fmt.index_bits + len(m.indptr) * fmt.pointer_bits, m.nnz
    if isinstance(fmt, CoordinateList):
        coords = [(i, j) for i, r in enumerate(rows) for j, x in enumerate(r) if x != 0]
        return len(coords) * vb, len(coords) * fmt.coord_bits, len(coords)
    if isinstance(fmt, EyerissRLC):
        if tile.dtype.kind == "f":     # 16-bit levels: a float tile travels as float16 bit patterns
            half = np.where(tile != 0, tile.astype(np.float16).view(np.uint16), 0)
            assert ((half != 0) == (tile != 0)).all()
            rows = [list(r) for r in half]
        n_pairs = n_words = 0
        for r in rows:
            pairs, words = eyeriss_words(r)
            assert eyeriss_unpack(words) == pairs and rle_decode(pairs, n) == r
            n_pairs += len(pairs)
            n_words += len(words)
        return n_pairs * 16, n_words * 64 - n_pairs * 16, n_pairs
    raise AssertionError(fmt)


# ---------------------------------------------------------------------------------------------------------
# Tiles
# ---------------------------------------------------------------------------------------------------------

def gap_row(gaps, n):
    """A fiber of ``n`` words with non-zeros separated by the given zero gaps (the first before the first)."""
    row, pos = np.zeros(n, dtype=np.int64), -1
    for i, g in enumerate(gaps):
        pos += g + 1
        row[pos] = 1000 + i
    return row


def tiles():
    rng = np.random.default_rng(2024)
    out = []
    for shape in [(1, 1), (2, 5), (3, 17), (5, 64), (4, 257), (1, 600)]:
        for d in [0.0, 0.003, 0.05, 0.5, 1.0]:
            values = rng.integers(1, 2 ** 16, size=shape)
            out.append(np.where(rng.random(shape) < d, values, 0))
    # long zero runs around every padding boundary of 1-, 2-, 4- and 5-bit runs, leading and trailing zeros
    gaps = [0, 1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 0, 47, 48, 49]
    n = sum(gaps) + len(gaps) + 70
    out.append(np.stack([gap_row(gaps, n), gap_row(gaps[::-1], n), np.zeros(n, dtype=np.int64),
                         gap_row([n - 1], n), gap_row([40], n)]))
    out.append(np.zeros((0, 5)))
    out.append(np.zeros((3, 0)))
    f = rng.standard_normal((3, 50)) * (rng.random((3, 50)) < 0.2)   # float tile, exact zeros
    out.append(f)
    return out


TILES = tiles()

FORMATS = [Dense(), Bitmask(), RunLength(1), RunLength(2), RunLength(4), RunLength(5),
           CompressedSparse(16, 10), CompressedSparse(20, 12, orientation="csc"),
           CompressedSparse(16, 4, relative=True), CompressedSparse(16, 2, relative=True, orientation="csc"),
           CoordinateList(12), EyerissRLC()]


def fid(fmt):
    return repr(fmt)


# ---------------------------------------------------------------------------------------------------------
# encode = independent encoding
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_encode_equals_direct_encoding(fmt):
    for tile in TILES:
        got = fmt.encode(tile, VB)
        assert (got.value_bits, got.metadata_bits, got.entries) == oracle(fmt, tile, VB), (fmt, tile.shape)
        assert got.bits == got.value_bits + got.metadata_bits


def test_eie_worked_example():
    """Han et al., ISCA 2016, Sec. III-B: 18 zeros before a non-zero need one padding zero (z = 15)."""
    col = [0, 0, 1, 2] + [0] * 18 + [3]
    assert eie_column(col, 4) == ([1, 2, 0, 3], [2, 0, 15, 2])
    size = CompressedSparse(8, 4, relative=True).encode(np.array([col]), 4)
    assert size == FormatSize(4 * 4, 4 * 4 + 2 * 8, 4)


def test_padding_boundaries():
    """A gap of K - 1 zeros fits the run field; K zeros need one padding entry; 2K need two."""
    for b in (1, 2, 4):
        k = 2 ** b
        for gap, pad in [(k - 1, 0), (k, 1), (2 * k - 1, 1), (2 * k, 2)]:
            tile = gap_row([gap], gap + 1 + 7)[None, :]            # 7 trailing zeros cost nothing
            assert RunLength(b).encode(tile, 8).entries == 1 + pad


# ---------------------------------------------------------------------------------------------------------
# expected = mean of encode over Bernoulli tiles
# ---------------------------------------------------------------------------------------------------------

MC_FORMATS = [Bitmask(), RunLength(2), RunLength(4), CompressedSparse(16, 4, relative=True),
              CompressedSparse(16, 12), CoordinateList(12), EyerissRLC()]
DRAWS = 200


def draw_sizes(fmt, fibers, fiber_len, density, seed):
    rng = np.random.default_rng(seed)
    sizes = [fmt.encode(rng.random((fibers, fiber_len)) < density, 8) for _ in range(DRAWS)]
    return np.array([[s.bits, s.value_bits, s.entries] for s in sizes], dtype=float)


def five_se(x):
    """Five standard errors of the mean of ``x``: for 200 independent draws the mean is close to normal,
    and |mean - E| > 5 SE has probability about 6e-7 under a correct formula (seeds are fixed, so the
    test is deterministic).  At densities 0 and 1 the encoding is deterministic and this is 0."""
    return 5 * x.std(ddof=1) / math.sqrt(len(x)) + 1e-9 * (1 + abs(x.mean()))


@pytest.mark.parametrize("fmt", MC_FORMATS, ids=fid)
@pytest.mark.parametrize("fiber_len, density", [(2048, 0.0), (2048, 0.004), (2048, 0.05), (2048, 0.3),
                                                (1024, 0.9), (2048, 1.0), (16, 0.1), (40, 0.03)])
def test_expected_is_mean_of_encode(fmt, fiber_len, density):
    fibers = 4
    seed = [fiber_len, int(density * 1000), MC_FORMATS.index(fmt)]
    bits, value_bits, entries = draw_sizes(fmt, fibers, fiber_len, density, seed).T
    exp = fmt.expected(fibers, fiber_len, density, 8)
    assert abs(entries.mean() - exp.entries) <= five_se(entries)
    assert abs(value_bits.mean() - exp.value_bits) <= five_se(value_bits)
    if not isinstance(fmt, EyerissRLC):
        assert abs(bits.mean() - exp.bits) <= five_se(bits)
    else:   # fluid words: E[entries] / 3 per fiber is low by less than 2/3 of a 64-bit word per fiber
        gap = bits.mean() - exp.bits
        assert -five_se(bits) <= gap <= fibers * 2 / 3 * 64 + five_se(bits)
    if density in (0.0, 1.0):
        assert exp.entries == entries[0] == fibers * fiber_len * density


def test_infinite_fiber_approximation_bias():
    """The per-gap formula n d / (1 - q**K) treats every gap as geometric, as in an infinite fiber.  On
    short fibers it overestimates (the gap before a fiber's first non-zero is cut at the fiber start);
    the finite-fiber formula the module uses matches the Monte Carlo mean there too.  On long fibers the
    two agree to a fraction of a percent."""
    fmt, fibers, n, d = RunLength(2), 4, 16, 0.1
    entries = draw_sizes(fmt, fibers, n, d, seed=7)[:, 2]
    exact, infinite = expected_run_entries(n, d, 2) * fibers, infinite_fiber_run_entries(n, d, 2) * fibers
    assert abs(entries.mean() - exact) <= five_se(entries)
    assert infinite - entries.mean() > 20 * five_se(entries) / 5      # 20 standard errors too high
    assert infinite > 1.3 * exact
    # ... and the no-padding count n d is rejected as well, so the tolerance does discriminate
    assert abs(entries.mean() - n * d * fibers) > five_se(entries)
    for b, d in [(2, 0.1), (4, 0.05), (5, 0.01)]:
        e, i = expected_run_entries(65536, d, b), infinite_fiber_run_entries(65536, d, b)
        assert e < i < e * 1.005


def test_expected_edge_densities():
    for fmt in FORMATS:
        zero = fmt.expected(3, 100, 0.0, 8)
        assert zero.entries == (300 if isinstance(fmt, Dense) else 0)
    assert expected_run_entries(10 ** 6, 5e-324, 1) >= 0                 # denormal density: no overflow
    assert expected_run_entries(100, 0.5, 64) == 50                      # run field never fills


# ---------------------------------------------------------------------------------------------------------
# worst
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS, ids=fid)
def test_worst_bounds_every_tile_and_is_the_full_tile(fmt):
    for tile in TILES:
        fibers, n = tile.shape
        worst = fmt.worst(fibers, n, VB)
        assert fmt.encode(tile, VB).bits <= worst.bits
        assert worst == fmt.encode(np.ones((fibers, n)), VB)
        if not isinstance(fmt, EyerissRLC):           # RLC's expectation counts fractional words
            assert fmt.expected(fibers, n, 1.0, VB) == worst


# ---------------------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------------------

def test_parse_format_builds_each_type():
    assert parse_format({"type": "dense"}) == Dense()
    assert parse_format({"type": "bitmask"}) == Bitmask()
    assert parse_format({"type": "rle", "run_bits": 4}) == RunLength(4)
    csc = parse_format({"type": "csc", "index_bits": 4, "pointer_bits": 16, "relative": True})
    assert csc == CompressedSparse(16, 4, True, "csc") and csc.name == "csc"
    assert parse_format({"type": "csr", "index_bits": 8, "pointer_bits": 20}).name == "csr"
    assert parse_format({"type": "coo", "coord_bits": 12}) == CoordinateList(12)
    assert parse_format({"type": "eyeriss_rlc"}) == EyerissRLC()


@pytest.mark.parametrize("spec, field", [
    ({"type": "rle"}, "run_bits"),
    ({"type": "rle", "run_bits": 0}, "run_bits"),
    ({"type": "rle", "run_bits": 65}, "run_bits"),
    ({"type": "rle", "run_bits": "4"}, "run_bits"),
    ({"type": "rle", "run_bits": True}, "run_bits"),
    ({"type": "rle", "run_bits": 4.0}, "run_bits"),
    ({"type": "csr", "index_bits": 4}, "pointer_bits"),
    ({"type": "csc", "index_bits": 4, "pointer_bits": 16, "relative": "yes"}, "relative"),
    ({"type": "coo", "coord_bits": 12, "pointer_bits": 3}, "pointer_bits"),
    ({"type": "eyeriss_rlc", "pairs_per_word": 4}, "pairs_per_word"),
    ({"type": "eyeriss_rlc", "word_bits": 65}, "word_bits"),
    ({"type": "zip"}, "type"),
    ({"type": ["rle"]}, "type"),
    ({}, "type"),
    (["rle"], "type"),
])
def test_parse_format_errors_name_the_field(spec, field):
    with pytest.raises(ValueError) as err:
        parse_format(spec)
    assert err.value.field == field and f"'{field}'" in str(err.value)


def test_absolute_indices_must_address_the_fiber():
    fmt = CompressedSparse(16, 3)
    fmt.check(8)
    for call in (lambda: fmt.check(9), lambda: fmt.encode(np.ones((2, 9)), 8), lambda: fmt.worst(1, 9, 8),
                 lambda: fmt.expected(1, 9, 0.5, 8)):
        with pytest.raises(ValueError, match="index_bits.*need 4 bits"):
            call()
    CompressedSparse(16, 1).check(1)
    CompressedSparse(16, 3, relative=True).check(10 ** 6)      # relative indices pad instead


def test_bad_arguments():
    with pytest.raises(ValueError, match="value_bits"):
        EyerissRLC().expected(1, 10, 0.5, 17)
    with pytest.raises(ValueError, match="2-D"):
        Bitmask().encode(np.ones(4), 8)
    with pytest.raises(ValueError, match="density"):
        Bitmask().expected(1, 4, 1.5, 8)
    with pytest.raises(ValueError, match="value_bits"):
        Dense().worst(1, 4, 0)
