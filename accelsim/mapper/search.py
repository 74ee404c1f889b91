"""Mapping search: the best mapping of one layer for an objective, within a budget.

The space (spatial unrollings, RF and GLB tilings, loop orders) is defined
and walked in :mod:`accelsim.mapper.space`.

If the whole space has at most ``budget`` mappings it is evaluated
exhaustively.  Otherwise it is pruned, and the report says so: the
unrollings, perfect and imperfect ones taking turns (best average PE
utilisation first, up to ``PROBES``), are probed with one representative
mapping each, so unrollings that starve on NoC or GLB bandwidth rank low;
the best-utilised of each family (within 10 % of the best, at most
``SPATIAL_KEEP`` - 2) and the best by probe score are kept (``SPATIAL_KEEP``
in all),
with only Pareto-maximal GLB tiles (no dim's GLB factor can grow and still
fit) and, for a double-buffered GLB, their one-step shrinks (one dim's
factor down to its next divisor, so a layer that fits whole can still be
split into tiles whose transfers overlap compute); if
that is still too many, an evenly strided subset in a fixed
enumeration order fills the rest of the budget.  The search therefore always
terminates, is deterministic (ties break on the mapping's factors), and
reports how many mappings it evaluated.  With ``confirm_k`` it keeps that
many best candidates and chooses among them by simulation (:mod:`.confirm`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..arch.spec import Architecture
from ..cost.latency import Latency, latency
from ..cost.fits import tile_words
from ..cost.model import AccessCounts, access_counts
from ..energy.model import Energy, energy
from ..errors import MappingError
from ..sim.engine import SimResult
from ..workload.loopnest import DIMS, RELEVANT, LoopNest
from ..mapping.dataflow import Dataflow
from ..mapping.mapping import Mapping
from .confirm import Confirmation, Shortlist, confirm
from .space import (builder, enumerate_space, feasibility, loop_orders, prod, spatial_candidates, spatial_rem,
                    split_rest, used_pes)
from .tilings import WORK_MAX, OutOfWork, Work, glb_candidates, greedy_maximal, rf_candidates

OBJECTIVES = ("edp", "energy", "cycles")
DEFAULT_BUDGET = 600
SPATIAL_KEEP = 6
PROBES = 12
#: Fit checks per walk of a probe (a probe needs one RF tile and one maximal GLB tile).
PROBE_WORK = WORK_MAX // 100
#: Pruned candidates enumerated at most before the even sample: 20 x budget, capped here.
PRUNED_SCAN_MAX = 400_000


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
        sim: the chosen mapping's simulation when the search confirmed its
            shortlist by simulation (:mod:`.confirm`), else None.
        confirmation: how the simulation re-ranked the shortlist, or None.
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
    sim: SimResult | None = None
    confirmation: Confirmation | None = None

    def summary(self) -> dict:
        return {"evaluated": self.evaluated, "exhaustive": self.exhaustive, "space_size": self.space_size,
                "space_capped": self.space_capped, "objective": self.objective, "fixed_mapping": self.fixed,
                "confirmation": self.confirmation.as_dict() if self.confirmation else None}


def score(objective: str, energy_pj: float, cycles: int) -> float:
    """Objective value, lower is better: energy (pJ), cycles, or EDP (pJ x cycles)."""
    if objective == "energy":
        return energy_pj
    if objective == "cycles":
        return float(cycles)
    return energy_pj * cycles


def evaluate(nest: LoopNest, arch: Architecture, m: Mapping, objective: str = "edp",
             stationary: str | None = None) -> Evaluation:
    """Cost-model a mapping: counts, analytical latency, energy and objective score (``stationary``: the
    dataflow's stationary tensor, for a systolic array's folds)."""
    c = access_counts(nest, arch, m)
    lat = latency(nest, arch, m, c, stationary)
    e = energy(arch, c)
    return Evaluation(m, c, lat, e, score(objective, e.total_pj, lat.cycles))


def _probe(nest, arch, df, spatial, objective, whole=()):
    """Evaluate one representative mapping of an unrolling: the largest inner tiling, the first maximal outer one.

    Each walk has its own work allowance; past it, the largest tiling seen
    and a greedily maximal array-level tile stand in, so a probe always answers.
    """
    rows, cols = spatial[0], spatial[1]
    extra = spatial[2] if len(spatial) > 2 else {}
    rem = spatial_rem(nest, rows, cols, extra)
    rf, size = None, 0
    try:
        for r in rf_candidates(nest, arch, df, rem, Work(PROBE_WORK), extra):
            n = prod(prod(f.values()) for f in r.values())
            if rf is None or n > size:
                rf, size = r, n
    except OutOfWork:
        pass
    if rf is None:
        return None
    rem2, inner = split_rest(nest, rows, cols, extra, rf, rem)
    try:
        glb = next(glb_candidates(nest, arch, inner, rem2, True, Work(PROBE_WORK), whole=whole), None)
    except OutOfWork:
        fixed = {d: rem2[d] for d in whole}
        g = greedy_maximal(nest, arch, {d: inner[d] * fixed.get(d, 1) for d in DIMS},
                           {d: 1 if d in fixed else rem2[d] for d in DIMS})
        glb = None if g is None else {arch.array_level: {**g, **{d: f for d, f in fixed.items() if f > 1}}}
    if glb is None:
        return None
    m = builder(arch, rows, cols, rf, glb, rem2, loop_orders(df)[0], extra)()
    return evaluate(nest, arch, m, objective, df.stationary) if m.valid(nest) else None


def search(nest: LoopNest, arch: Architecture, df: Dataflow, objective: str = "edp",
           budget: int = DEFAULT_BUDGET, confirm_k: int = 0, resident: tuple[str, ...] = ()) -> SearchResult:
    """Find the best mapping of ``nest`` on ``arch`` under ``df`` for ``objective``.

    ``confirm_k`` > 0: keep the best ``confirm_k`` candidates by the model and
    choose among them by simulated cycles (:mod:`.confirm`); the result then
    carries the chosen mapping's simulation.  0: the model's best, unsimulated.

    At most ``budget`` mappings are evaluated.  Exhaustive when the whole
    space (every unrolling, RF tiling, GLB tiling, and the dataflow's loop
    order families) has at most ``budget`` mappings.  Otherwise the
    unrollings are probed and pruned as the module doc describes, and their
    Pareto-maximal GLB tilings are sampled evenly with the rest of the budget.

    The space is walked once (at most 20 x ``budget`` candidates are kept as
    cheap builders, then counted and sampled) and only the shortlist of
    evaluations is kept, so memory grows with ``budget``, not with the space.

    ``resident``: tensors that stay whole at the array level (a fused layer's on-chip ifmap or ofmap,
    :mod:`accelsim.fusion`): the array level takes every iteration of the dims they depend on, so
    DRAM loops over none of them.

    Raises:
        MappingError: no legal mapping exists, with the smallest tiles
            against the capacities and the fields that could be raised.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}")
    whole = tuple(d for d in DIMS if any(d in RELEVANT[t] for t in resident))
    sc = spatial_candidates(nest, arch, df)
    feasible = feasibility(nest, arch)
    spatial = [s for s in sc.pairs if feasible(s)]
    if not spatial:
        raise MappingError(why_unmappable(nest, arch))
    best = Shortlist(max(1, confirm_k))
    work = Work()
    walked = list(enumerate_space(nest, arch, df, spatial, False, budget + 1, work, whole))
    space = len(walked)
    if space <= budget and not work.exhausted:
        exhaustive, capped = not sc.capped, sc.capped
        for b in walked:
            best.offer(evaluate(nest, arch, b(), objective, df.stationary))
    else:
        exhaustive = False
        # perfect and imperfect unrollings take turns, so neither family crowds out the other
        fams = _families(nest, spatial)
        probed = []
        for i, s in enumerate(_interleave(fams)[: min(PROBES, budget // 4)]):
            ev = _probe(nest, arch, df, s, objective, whole)
            if ev is not None:
                best.offer(ev)
                probed.append((ev.score, i, s))
        probed.sort(key=lambda x: (x[0], x[1]))
        # the best-utilised unrollings of each family (within 10 % of the best) stay in; the probes add the rest
        top = used_pes(spatial[0], nest)
        keep = [s for s in _interleave([f[:(SPATIAL_KEEP - 2) // 2] for f in fams]) if used_pes(s, nest) >= 0.9 * top]
        keep += [s for _, _, s in probed if s not in keep][: SPATIAL_KEEP - len(keep)]
        keep = keep or spatial[:1]
        cap = max(budget, min(20 * budget, PRUNED_SCAN_MAX))
        work = Work()
        walked = list(enumerate_space(nest, arch, df, keep, True, cap + 1, work, whole))  # walked once, sampled below
        capped = len(walked) > cap or sc.capped or work.exhausted
        space = min(len(walked), cap)
        room = budget - best.evaluated  # >= 1: probes take at most a quarter of the budget
        step = space / room if space > room else 1.0
        nxt, taken = 0, 0
        for idx, b in enumerate(walked[:space]):
            if taken >= room:
                break
            if idx == nxt:
                best.offer(evaluate(nest, arch, b(), objective, df.stationary))
                taken += 1
                nxt = int(taken * step)
        if best.best is None:  # the walk ran out of work before any tiling: a probe always answers
            ev = next((e for e in (_probe(nest, arch, df, s, objective, whole) for s in keep) if e is not None), None)
            if ev is not None:
                best.offer(ev)
    if best.best is None:
        raise MappingError(why_unmappable(nest, arch))
    if confirm_k <= 0:
        return SearchResult(best.best, best.evaluated, space, exhaustive, objective, space_capped=capped)
    ev, sim, conf = confirm(nest, arch, best.items, df.stationary, objective, score)
    return SearchResult(ev, best.evaluated, space, exhaustive, objective, space_capped=capped, sim=sim,
                        confirmation=conf)


def _families(nest, spatial) -> list[list]:
    """The unrollings split into perfect ones and those with a partial last tile, each in the given order."""
    perfect, partial = [], []
    for s in spatial:
        f = {d: s[0].get(d, 1) * s[1].get(d, 1) for d in DIMS}
        (perfect if all(nest.dims[d] % f[d] == 0 for d in DIMS) else partial).append(s)
    return [perfect, partial]


def _interleave(lists) -> list:
    """Items of the lists taken in turn (a, b, a, b, ...), the longer list's tail at the end."""
    out = []
    for i in range(max(map(len, lists), default=0)):
        out.extend(l[i] for l in lists if i < len(l))
    return out


def why_unmappable(nest: LoopNest, arch: Architecture) -> str:
    """Why no mapping fits: the smallest tiles at the first level that overflows, against its capacity.

    The smallest tiles are one word of each kept tensor (one iteration of
    every loop), doubled in a double-buffered partition; widths come from
    ``word_bits`` (a 32-bit psum takes two 16-bit words of a shared
    partition).  The message names the arch fields that could be raised.
    """
    one = {d: 1 for d in DIMS}
    for lv in arch.onchip:
        b = lv.word_bits
        for p in lv.partitions:
            k = 2 if p.double_buffered else 1
            ref = b["ifmap" if "ifmap" in p.tensors else p.tensors[0]]
            bits = k * sum(tile_words(nest, t, one) * b[t] for t in p.tensors)
            need = -(-bits // ref)
            if need <= p.words:
                continue
            field = arch.capacity_field(lv.index, p.tensors)
            each = ", ".join(f"{t} {b[t]} bits" for t in p.tensors)
            db = f", x2 double-buffered = {bits} bits" if k == 2 else ""
            fix_db = f", or set {arch.double_buffered_field(lv.index)}: false" if k == 2 else ""
            return (f"the smallest {lv.name} tiles do not fit: one word each of {each} = {bits // k} bits{db}, "
                    f"i.e. {need} words of {ref} bits, but {field} is {p.words}; raise {field} to at least "
                    f"{need}{fix_db}")
    return f"no tiling fits the capacities of {arch.name}'s levels"
