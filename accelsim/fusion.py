"""Layer fusion (``--fuse``): a chain of layers keeps each intermediate ofmap on chip when it fits.

Fused-layer accelerators keep the data passed between consecutive layers on chip instead of writing
it to DRAM and reading it back (Alwani, Chen, Ferdman, Milder, "Fused-layer CNN accelerators",
MICRO 2016; TensorRT's vertical layer fusion).  accelsim models the whole-intermediate form:

* An edge A -> B can fuse when B reads A alone, A feeds B alone, both are searched MAC layers, and the
  outermost on-chip level L keeps both the ofmap and the ifmap.
* Fused, A's ofmap stays whole in L (A is mapped again with the ofmap resident: L takes every
  iteration of N, G, M, P, Q, so DRAM loops only over C, R, S and psums never spill) and B's ifmap
  is that same data (B is mapped again with its ifmap resident in L).  Both tiles must fit L's
  partitions by the usual capacity rule.
* Both are mapped, costed and simulated on the arch as the fused layer sees it
  (:func:`resident_arch`): DRAM does not keep the resident tensor, so A's write-back and B's load
  disappear from the counts, the energy and the simulated cycles alike.
* Edges are decided greedily in network order. An edge fuses only when the two layers' DRAM bytes,
  re-mapped and without the removed transfers, are below their DRAM bytes now, and the run's objective
  over the two layers (their energy and cycles summed) is no worse; a layer inside a chain carries both
  constraints. So fusion never increases DRAM traffic.
* The layers still run one after the other (no pipelining of A and B, as Alwani's pyramids would).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .cost.fits import fit_checker
from .cost.model import dram_bytes
from .errors import MappingError
from .mapper.search import Evaluation, score, search
from .sim.engine import simulate
from .workload.loopnest import DIMS, RELEVANT


@dataclass(frozen=True)
class FusedEdge:
    """One fused edge: producer and consumer layers, the level the intermediate stays in, its words,
    and what fusion saved on the two layers (DRAM bytes, energy in pJ; after their re-mapping)."""

    producer: str
    consumer: str
    level: str
    words: int
    dram_bytes_saved: float
    energy_saved_pj: float

    def as_dict(self) -> dict:
        return {"producer": self.producer, "consumer": self.consumer, "level": self.level, "words": self.words,
                "dram_bytes_saved": self.dram_bytes_saved, "energy_saved_pj": self.energy_saved_pj}


def fusable_level(arch):
    """The outermost on-chip level if it keeps both the ofmap and the ifmap, else None."""
    top = arch.onchip[-1] if arch.onchip else None
    return top if top is not None and {"ifmap", "ofmap"} <= set(top.keeps) else None


def resident_arch(arch, resident: tuple[str, ...]):
    """``arch`` as a fused layer sees it: DRAM does not keep the ``resident`` tensors, which live whole
    in the outermost on-chip level, so the counts, the energy and the simulation have no DRAM transfer
    of them (nothing to load or write back) and the cycles are those of the fused layer."""
    if not resident:
        return arch
    d = arch.dram
    parts = tuple(replace(p, tensors=tuple(t for t in p.tensors if t not in resident),
                          tensor_bits=tuple(b for t, b in zip(p.tensors, p.tensor_bits) if t not in resident)
                          if p.tensor_bits else p.tensor_bits)
                  for p in d.partitions)
    dram = replace(d, keeps=tuple(t for t in d.keeps if t not in resident), partitions=parts,
                   formats={t: f for t, f in d.formats.items() if t not in resident},
                   sparse_reads={t: a for t, a in d.sparse_reads.items() if t not in resident})
    return replace(arch, levels=arch.levels[:-1] + (dram,))


@dataclass
class _State:
    lr: object  # the LayerResult
    resident: tuple[str, ...] = ()
    ev: Evaluation | None = None  # the fused evaluation (on the resident arch)
    sim: object = None


def fuse(res, confirm: int) -> list[FusedEdge]:
    """Fuse the eligible edges of ``res`` (a :class:`~accelsim.pipeline.NetworkResult`, changed in
    place: fused layers get their re-mapped, reduced results) and return what was fused."""
    arch, df, objective, budget = res.arch, res.dataflow, res.objective, res.budget
    top = fusable_level(arch)
    if top is None:
        return []
    states = {lr.layer.name: _State(lr) for lr in res.layers}
    readers: dict = {}
    for lr in res.workload.layers:
        for i in lr.inputs:
            readers.setdefault(i, []).append(lr.name)
    fused, memo = [], {}
    for lr in res.layers:
        b = lr.layer
        if len(b.inputs) != 1 or b.inputs[0] not in states or readers.get(b.inputs[0]) != [b.name]:
            continue
        sa, sb = states[b.inputs[0]], states[b.name]
        a = sa.lr.layer
        if a.out_shape != b.in_shape or sa.lr.result.fixed or sb.lr.result.fixed or b.nest.host_ifmap:
            continue
        if not (_may_fit(arch, top, a.nest, "ofmap") and _may_fit(arch, top, b.nest, "ifmap")):
            continue
        new = []
        for st, t in ((sa, "ofmap"), (sb, "ifmap")):
            cand = _candidate(memo, st, t, arch, df, objective, budget, confirm)
            if cand is None:
                break
            new.append(cand)
        if len(new) < 2:
            continue
        before = [(_bytes(arch, st), _energy(st), st.lr.sim.cycles) for st in (sa, sb)]
        after = [(dram_bytes(arch, c.ev.counts), c.ev.energy.total_pj, c.sim.cycles) for c in new]
        b0, e0, c0 = (sum(x) for x in zip(*before))
        b1, e1, c1 = (sum(x) for x in zip(*after))
        if b1 >= b0 or score(objective, e1, c1) > score(objective, e0, c0):
            continue  # fusion must lower DRAM traffic and not worsen the objective
        for st, c in zip((sa, sb), new):
            st.resident, st.ev, st.sim = c.resident, c.ev, c.sim
            st.lr = replace(st.lr, result=c.sr, sim=c.sim, reused_from=None, resident=c.resident)
        fused.append(FusedEdge(a.name, b.name, top.name, a.out_shape.n * a.out_shape.features, b0 - b1, e0 - e1))
    res.layers[:] = [states[lr.layer.name].lr for lr in res.layers]
    return fused


@dataclass
class _Candidate:
    resident: tuple[str, ...]
    sr: object  # SearchResult
    ev: Evaluation
    sim: object


def _candidate(memo, st: _State, t: str, arch, df, objective, budget, confirm) -> _Candidate | None:
    """The layer of ``st`` mapped again with ``t`` also resident (on :func:`resident_arch`), memoised per
    loop nest and resident set (MobileNet's five identical blocks are searched once)."""
    resident = tuple(sorted(set(st.resident) | {t}))
    nest = st.lr.layer.nest
    key = (nest, resident)
    if key not in memo:
        ra = resident_arch(arch, resident)
        try:
            sr = search(nest, ra, df, objective, budget, confirm, resident)
        except MappingError:
            memo[key] = None
        else:
            sim = sr.sim or simulate(nest, ra, sr.best.mapping, df.stationary)
            memo[key] = _Candidate(resident, sr, sr.best, sim)
    return memo[key]


def _may_fit(arch, top, nest, tensor: str) -> bool:
    """Whether ``tensor`` whole (with one word of everything else) fits level ``top``: a necessary
    condition, checked before searching."""
    whole = {d: nest.dims[d] if d in RELEVANT[tensor] else 1 for d in DIMS}
    return fit_checker(nest, arch, top.index)(whole)


def _bytes(arch, st: _State) -> float:
    return dram_bytes(arch, (st.ev or st.lr.result.best).counts)


def _energy(st: _State) -> float:
    return (st.ev or st.lr.result.best).energy.total_pj
