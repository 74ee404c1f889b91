"""Mapping search: tilings, loop orders and spatial unrolling under a dataflow.

The space for one layer (all factorisations are perfect, see mapping.py):

1. spatial unrolling: factors of the dataflow's row dims (product <= rows)
   and column dims (product <= cols);
2. RF tiling: factors of the dataflow's ``rf_dims`` whose tiles fit each RF;
3. GLB tiling: a factor per dim for the GLB level, the rest at DRAM, with
   all three tensors' GLB tiles fitting the GLB;
4. loop orders: the GLB order keeps the dataflow's stationary tensor in the
   RF (or any of the three stationarity orders if it names none); the DRAM
   order is each of the three stationarity orders.

If the whole space has at most ``budget`` mappings it is evaluated
exhaustively.  Otherwise it is pruned, and the report says so: every
unrolling (best PE utilisation first, up to ``PROBES``) is probed with one
representative mapping, so unrollings that starve on NoC or GLB bandwidth
rank low; the best-utilised (within 10 % of the best, at most
``SPATIAL_KEEP`` - 2) and the best by probe score are kept (``SPATIAL_KEEP``
in all),
with only Pareto-maximal GLB tiles (no dim's GLB factor can grow and still
fit) and, for a double-buffered GLB, their one-step shrinks (one dim's
factor down to its next divisor, so a layer that fits whole can still be
split into tiles whose transfers overlap compute); if
that is still too many, an evenly strided subset in a fixed
enumeration order fills the rest of the budget.  The search therefore always
terminates, is deterministic (ties break on the mapping's factors), and
reports how many mappings it evaluated.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from ..arch.spec import Architecture
from ..cost.model import AccessCounts, Latency, access_counts, latency, tile_words
from ..energy.model import Energy, energy
from ..errors import MappingError
from ..workload.loopnest import DIMS, TENSORS, LoopNest
from .dataflow import Dataflow, stationary_order
from .mapping import Mapping

OBJECTIVES = ("edp", "energy", "cycles")
DEFAULT_BUDGET = 600
SPATIAL_KEEP = 6
PROBES = 12
#: Unrollings generated at most, and kept at most, per layer (bounds time and memory on huge arrays).
SPATIAL_SCAN_MAX = 200_000
SPATIAL_KEEP_MAX = 20_000
#: Pruned candidates enumerated at most before the even sample: 20 x budget, capped here.
PRUNED_SCAN_MAX = 400_000


@lru_cache(maxsize=4096)
def divisors(n: int) -> tuple[int, ...]:
    """Divisors of n >= 1, ascending, by trial division up to sqrt(n) (46,341 steps for n = 2**31)."""
    small, large = [], []
    d = 1
    while d * d <= n:
        if n % d == 0:
            small.append(d)
            if d * d != n:
                large.append(n // d)
        d += 1
    return tuple(small + large[::-1])


@dataclass
class Evaluation:
    """One mapping with its access counts, latency, energy (pJ) and objective score."""

    mapping: Mapping
    counts: AccessCounts
    latency: Latency
    energy: Energy
    score: float


@dataclass
class SearchResult:
    """The best mapping found and how the search went.

    Attributes:
        best: the chosen :class:`Evaluation`.
        evaluated: mappings evaluated with the cost model.
        space_size: mappings in the enumerated (possibly pruned) space; a
            lower bound when ``space_capped``.
        exhaustive: True if every mapping of the space was evaluated: every
            unrolling, RF and GLB tiling, with the loop orders drawn from the
            dataflow's stationarity families (see module doc).
        objective: ``edp``, ``energy`` or ``cycles``.
        fixed: True when the mapping came from a user's mapping file.
    """

    best: Evaluation
    evaluated: int
    space_size: int | None
    exhaustive: bool
    objective: str
    fixed: bool = False
    space_capped: bool = False

    def summary(self) -> dict:
        return {"evaluated": self.evaluated, "exhaustive": self.exhaustive, "space_size": self.space_size,
                "space_capped": self.space_capped, "objective": self.objective, "fixed_mapping": self.fixed}


def score(objective: str, energy_pj: float, cycles: int) -> float:
    """Objective value, lower is better: energy (pJ), cycles, or EDP (pJ x cycles)."""
    if objective == "energy":
        return energy_pj
    if objective == "cycles":
        return float(cycles)
    return energy_pj * cycles


def evaluate(nest: LoopNest, arch: Architecture, m: Mapping, objective: str = "edp") -> Evaluation:
    """Cost-model a mapping: counts, first latency model, energy and objective score."""
    c = access_counts(nest, m, {t: arch.noc[t][0] for t in TENSORS})
    lat = latency(nest, arch, m, c)
    e = energy(arch, c)
    return Evaluation(m, c, lat, e, score(objective, e.total_pj, lat.cycles))


def _axis_assignments(dims: tuple[str, ...], rem: dict[str, int], limit: int):
    """Yield every {dim: factor} over ``dims`` with factors dividing ``rem`` and product <= limit."""

    def rec(i, cur, prod):
        if i == len(dims):
            yield dict(cur)
            return
        d = dims[i]
        for f in divisors(rem[d]):
            if prod * f > limit:
                break
            cur[d] = f
            yield from rec(i + 1, cur, prod * f)
        cur.pop(d, None)

    yield from rec(0, {}, 1)


@dataclass(frozen=True)
class SpatialCandidates:
    """Legal (rows, cols) unrollings, best PE utilisation first.

    Attributes:
        pairs: ``[(rows {dim: factor}, cols {dim: factor})]``, at most ``SPATIAL_KEEP_MAX``.
        capped: True when more unrollings existed than were scanned or kept
            (only on very large arrays with highly composite layer dims).
    """

    pairs: list
    capped: bool


def spatial_candidates(nest: LoopNest, arch: Architecture, df: Dataflow) -> SpatialCandidates:
    """Legal (rows, cols) unrollings, best PE utilisation first, ties by the dataflow's dim preference.

    At most ``SPATIAL_SCAN_MAX`` pairs are generated (in a fixed order) and
    the best ``SPATIAL_KEEP_MAX`` kept, so time and memory stay bounded on any
    array (the bundled 256 x 256 array has at most ~3,000 on VGG-16).
    """

    def key(rc):
        rows, cols = rc
        used = _prod(rows.values()) * _prod(cols.values())
        pref = tuple(-rows.get(d, 1) for d in df.rows) + tuple(-cols.get(d, 1) for d in df.cols)
        return (-used, pref)

    def gen():
        for rows in _axis_assignments(df.rows, nest.dims, arch.rows):
            rem = {d: nest.dims[d] // rows.get(d, 1) for d in DIMS}
            for cols in _axis_assignments(df.cols, rem, arch.cols):
                yield (rows, cols)

    scanned = list(islice(gen(), SPATIAL_SCAN_MAX + 1))
    capped = len(scanned) > SPATIAL_SCAN_MAX or len(scanned) > SPATIAL_KEEP_MAX
    pairs = heapq.nsmallest(SPATIAL_KEEP_MAX, scanned[:SPATIAL_SCAN_MAX], key=key)
    if capped:  # the unrolling onto one PE always stays: it needs the least buffer space
        one = ({d: 1 for d in df.rows}, {d: 1 for d in df.cols})
        if one not in pairs:
            pairs.append(one)
    return SpatialCandidates(pairs, capped)


def _prod(xs) -> int:
    n = 1
    for x in xs:
        n *= x
    return n


def _rf_fits(nest, arch, ext) -> bool:
    k = 2 if arch.rf_double_buffered else 1
    words = {t: k * tile_words(nest, t, ext) for t in TENSORS}
    if arch.rf_words is not None:
        return all(words[t] <= arch.rf_words[t] for t in TENSORS)
    b = arch.word_bits
    return sum(words[t] * b[t] for t in TENSORS) <= arch.rf_shared_words * b["ifmap"]


def rf_candidates(nest, arch, df, rem: dict[str, int]) -> list[dict[str, int]]:
    """RF factor choices over the dataflow's rf_dims that fit the RF (tiles grow monotonically)."""
    out = []
    dims = [d for d in df.rf_dims if rem[d] > 1]

    def rec(i, ext):
        if i == len(dims):
            out.append({d: ext[d] for d in dims})
            return
        d = dims[i]
        for f in divisors(rem[d]):
            ext[d] = f
            if not _rf_fits(nest, arch, ext):
                break
            rec(i + 1, ext)
        ext[d] = 1

    rec(0, {d: 1 for d in DIMS})
    return out


def _glb_fits(nest, arch, ext) -> bool:
    b = arch.word_bits
    bits = (tile_words(nest, "filter", ext) * b["filter"] + tile_words(nest, "ifmap", ext) * b["ifmap"]
            + tile_words(nest, "ofmap", ext) * b["ofmap"])
    return bits * (2 if arch.glb_double_buffered else 1) <= arch.glb_words * b["ifmap"]


def glb_splits(nest, arch, inner: dict[str, int], rem: dict[str, int], maximal_only: bool):
    """GLB factor choices (the rest goes to DRAM) whose tiles fit the GLB.

    ``inner``: per dim, iterations already below the GLB level (spatial x RF).
    With ``maximal_only``, keep only splits where no dim's factor can take
    its next divisor and still fit.
    """
    dims = [d for d in DIMS if rem[d] > 1]
    ext = dict(inner)

    def rec(i, cur):
        if i == len(dims):
            if maximal_only:
                for d in dims:
                    divs = divisors(rem[d])
                    k = divs.index(cur[d])
                    if k + 1 < len(divs):
                        ext[d] = inner[d] * divs[k + 1]
                        ok = _glb_fits(nest, arch, ext)
                        ext[d] = inner[d] * cur[d]
                        if ok:
                            return
            yield dict(cur)
            return
        d = dims[i]
        fitting = []
        for f in divisors(rem[d]):
            ext[d] = inner[d] * f
            if not _glb_fits(nest, arch, ext):
                break
            fitting.append(f)
        if maximal_only and i == len(dims) - 1:
            fitting = fitting[-1:]  # only the largest fitting factor of the last dim can be maximal
        for f in fitting:
            ext[d] = inner[d] * f
            cur[d] = f
            yield from rec(i + 1, cur)
        ext[d] = inner[d]
        cur.pop(d, None)

    if _glb_fits(nest, arch, ext):
        yield from rec(0, {})


def _glb_candidates(nest, arch, inner, rem, maximal_only):
    """GLB splits to enumerate: all of them, or the Pareto-maximal ones (each followed by its
    one-step shrinks when the GLB is double-buffered).

    A shrink lowers one dim's GLB factor to its next smaller divisor, so a
    layer that fits the GLB whole can still be split into a few tiles whose
    DRAM transfers overlap compute (a double-buffered GLB) at the price of
    some refetches.
    """
    if not maximal_only or not arch.glb_double_buffered:
        yield from glb_splits(nest, arch, inner, rem, maximal_only)
        return
    seen = set()
    for glb in glb_splits(nest, arch, inner, rem, True):
        for cand in [glb] + [{**glb, d: divisors(rem[d])[divisors(rem[d]).index(f) - 1]}
                             for d, f in sorted(glb.items()) if f > 1]:
            key = tuple(sorted(cand.items()))
            if key not in seen:
                seen.add(key)
                yield cand


def _orders(df: Dataflow) -> list[dict[str, tuple[str, ...]]]:
    fams = [stationary_order(t) for t in TENSORS]
    glb = [stationary_order(df.stationary)] if df.stationary else fams
    rf = stationary_order(df.stationary)
    return [{"dram": d, "glb": g, "rf": rf} for g in glb for d in fams]


def _enumerate(nest, arch, df, spatial, maximal_only, cap):
    """Yield mapping builders (call one to get its Mapping) in a fixed order; at most ``cap``."""
    orders = _orders(df)
    n = 0
    for rows, cols in spatial:
        rem = {d: nest.dims[d] // (rows.get(d, 1) * cols.get(d, 1)) for d in DIMS}
        for rf in rf_candidates(nest, arch, df, rem):
            rem2 = {d: rem[d] // rf.get(d, 1) for d in DIMS}
            inner = {d: rows.get(d, 1) * cols.get(d, 1) * rf.get(d, 1) for d in DIMS}
            for glb in _glb_candidates(nest, arch, inner, rem2, maximal_only):
                for od in orders:
                    n += 1
                    if n > cap:
                        return
                    yield _builder(rows, cols, rf, glb, rem2, od)


def _builder(rows, cols, rf, glb, rem2, od):
    def build() -> Mapping:
        factors = {
            "rows": {d: rows.get(d, 1) for d in DIMS},
            "cols": {d: cols.get(d, 1) for d in DIMS},
            "rf": {d: rf.get(d, 1) for d in DIMS},
            "glb": {d: glb.get(d, 1) for d in DIMS},
            "dram": {d: rem2[d] // glb.get(d, 1) for d in DIMS},
        }
        return Mapping(factors, od)
    return build


def _used(spatial) -> int:
    return _prod(spatial[0].values()) * _prod(spatial[1].values())


def _feasible(nest, arch, spatial) -> bool:
    """Whether some RF and GLB tiling fits under this unrolling (1-iteration tiles are the smallest)."""
    rows, cols = spatial
    inner = {d: rows.get(d, 1) * cols.get(d, 1) for d in DIMS}
    return _rf_fits(nest, arch, {d: 1 for d in DIMS}) and _glb_fits(nest, arch, inner)


def _probe(nest, arch, df, spatial, objective):
    """Evaluate one representative mapping of an unrolling: the largest RF tile, the first maximal GLB tile."""
    rows, cols = spatial
    rem = {d: nest.dims[d] // (rows.get(d, 1) * cols.get(d, 1)) for d in DIMS}
    rfs = rf_candidates(nest, arch, df, rem)
    if not rfs:
        return None
    rf = max(rfs, key=lambda r: _prod(r.values()))
    rem2 = {d: rem[d] // rf.get(d, 1) for d in DIMS}
    inner = {d: rows.get(d, 1) * cols.get(d, 1) * rf.get(d, 1) for d in DIMS}
    glb = next(glb_splits(nest, arch, inner, rem2, True), None)
    if glb is None:
        return None
    return evaluate(nest, arch, _builder(rows, cols, rf, glb, rem2, _orders(df)[0])(), objective)


def search(nest: LoopNest, arch: Architecture, df: Dataflow, objective: str = "edp",
           budget: int = DEFAULT_BUDGET) -> SearchResult:
    """Find the best mapping of ``nest`` on ``arch`` under ``df`` for ``objective``.

    At most ``budget`` mappings are evaluated.  Exhaustive when the whole
    space (every unrolling, RF tiling, GLB tiling, and the dataflow's loop
    order families) has at most ``budget`` mappings.  Otherwise the
    unrollings are probed and pruned as the module doc describes, and their
    Pareto-maximal GLB tilings are sampled evenly with the rest of the budget.

    Candidates are generated lazily (the space is walked twice, once to count
    and once to evaluate) and only the best evaluation is kept, so memory does
    not grow with ``budget``.

    Raises:
        MappingError: no legal mapping exists, with the smallest tiles
            against the capacities and the fields that could be raised.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}")
    sc = spatial_candidates(nest, arch, df)
    spatial = [s for s in sc.pairs if _feasible(nest, arch, s)]
    if not spatial:
        raise MappingError(why_unmappable(nest, arch))
    best = _Best()
    space = _count(_enumerate(nest, arch, df, spatial, False, budget + 1))
    if space <= budget:
        exhaustive, capped = not sc.capped, sc.capped
        for b in _enumerate(nest, arch, df, spatial, False, budget):
            best.offer(evaluate(nest, arch, b(), objective))
    else:
        exhaustive = False
        probed = []
        for i, s in enumerate(spatial[: min(PROBES, budget // 4)]):
            ev = _probe(nest, arch, df, s, objective)
            if ev is not None:
                best.offer(ev)
                probed.append((ev.score, i, s))
        probed.sort(key=lambda x: (x[0], x[1]))
        # the best-utilised unrollings (within 10 % of the best) stay in; the probes add the rest
        top = _used(spatial[0])
        keep = [s for s in spatial[:SPATIAL_KEEP - 2] if _used(s) >= 0.9 * top]
        keep += [s for _, _, s in probed if s not in keep][: SPATIAL_KEEP - len(keep)]
        keep = keep or spatial[:1]
        cap = max(budget, min(20 * budget, PRUNED_SCAN_MAX))
        space = _count(_enumerate(nest, arch, df, keep, True, cap + 1))
        capped = space > cap or sc.capped
        space = min(space, cap)
        room = budget - best.evaluated  # >= 1: probes take at most a quarter of the budget
        step = space / room if space > room else 1.0
        nxt, taken = 0, 0
        for idx, b in enumerate(_enumerate(nest, arch, df, keep, True, space)):
            if taken >= room:
                break
            if idx == nxt:
                best.offer(evaluate(nest, arch, b(), objective))
                taken += 1
                nxt = int(taken * step)
    if best.ev is None:
        raise MappingError(why_unmappable(nest, arch))
    return SearchResult(best.ev, best.evaluated, space, exhaustive, objective, space_capped=capped)


class _Best:
    """Streaming minimum of evaluations by (score, mapping key): deterministic ties, O(1) memory."""

    def __init__(self):
        self.ev: Evaluation | None = None
        self.evaluated = 0

    def offer(self, ev: Evaluation) -> None:
        self.evaluated += 1
        if self.ev is None or (ev.score, ev.mapping.key) < (self.ev.score, self.ev.mapping.key):
            self.ev = ev


def _count(it) -> int:
    n = 0
    for _ in it:
        n += 1
    return n


def why_unmappable(nest: LoopNest, arch: Architecture) -> str:
    """Why no mapping fits: the smallest tile of each tensor at the level that overflows, against its capacity.

    The smallest tiles are one word of each tensor (one iteration of every
    loop), doubled when the level is double-buffered; widths come from
    ``word_bits`` (a 32-bit psum takes two 16-bit words of a shared buffer).
    The message names the arch fields that could be raised.
    """
    b = arch.word_bits
    if not _rf_fits(nest, arch, {d: 1 for d in DIMS}):
        k = 2 if arch.rf_double_buffered else 1
        db = " (1 word, x2 for rf.double_buffered)" if k == 2 else ""
        fix_db = ", or set rf.double_buffered: false" if k == 2 else ""
        if arch.rf_words is not None:
            field = {"filter": "rf.filter", "ifmap": "rf.ifmap", "ofmap": "rf.psum"}
            short = [t for t in TENSORS if k > arch.rf_words[t]]
            parts = [f"{t} needs {k} word{'s' if k > 1 else ''}{db} but {field[t]} is {arch.rf_words[t]}"
                     for t in short]
            return (f"the smallest RF tiles do not fit: {'; '.join(parts)}; raise "
                    f"{' and '.join(field[t] for t in short)}{fix_db}")
        return _shared_msg("RF", "rf.shared", arch.rf_shared_words, k, b, fix_db)
    k = 2 if arch.glb_double_buffered else 1
    fix_db = ", or set glb.double_buffered: false" if k == 2 else ""
    return _shared_msg("GLB", "glb.words", arch.glb_words, k, b, fix_db)


def _shared_msg(level, field, capacity, k, b, fix_db) -> str:
    """Smallest tiles of a buffer shared by the three tensors, in bits and in words of the ifmap's width."""
    bits = sum(b[t] for t in TENSORS) * k
    need = -(-bits // b["ifmap"])
    each = ", ".join(f"{t} {b[t]} bits" for t in TENSORS)
    db = f", x2 double-buffered = {bits} bits" if k == 2 else ""
    return (f"the smallest {level} tiles do not fit: one word each of {each} = {bits // k} bits{db}, "
            f"i.e. {need} words of {b['ifmap']} bits, but {field} is {capacity}; raise {field} to at least "
            f"{need}{fix_db}")
