"""Numeric precision: INT8, FP16 and FP32 operands with a wider psum, and ``--precision`` overrides.

MAC energy per precision (Horowitz, "Computing's energy problem (and what we can do about it)",
ISSCC 2014, Fig. 1.1.9, 45 nm): 8-bit integer multiply 0.2 pJ and add 0.03 pJ; 16-bit floating-point
multiply 1.1 pJ and add 0.4 pJ; 32-bit floating-point multiply 3.7 pJ and add 0.9 pJ.  A MAC is one
multiply and one add of that precision.  (An INT8 MAC accumulating in 32 bits would add Horowitz's
32-bit integer add, 0.1 pJ, rather than the 8-bit one; the table follows the issue's figures.)

The psum (the ofmap tensor while it is being accumulated on chip) is 32 bits for every precision:
INT8 accumulates in INT32 (TensorRT, TPU v1), and FP16 in FP32 (mixed precision; NVDLA, tensor
cores).  Finished ofmaps leave for DRAM at the operand width.

``--precision P`` rewrites an arch as if it were built for P with the same silicon:

* word bits: filter and ifmap P's width at every level; the ofmap P's psum width on chip and P's
  width in DRAM;
* each partition's capacity keeps its bits, so its words scale by old / new width of the tensor its
  words are counted in (the ifmap's if it holds the ifmap, else its first tensor's); likewise a write
  buffer (ofmap width) and every bandwidth given in words (read/write ports, NoC links);
* energies given per access keep their energy per bit, so they scale by new / old width; defaults
  already scale with the width (:mod:`.energy_table`);
* the MAC energy: P's from the table when the arch gives none; a given one scales by the table's ratio
  of P to the arch's own precision (its ``precision`` field, else the table's entry of its ifmap width,
  else the width ratio).

The arch field ``precision`` names the precision the file's word bits are in (filter and ifmap must
have that width); it sets the default MAC energy and what the report states.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from ..workload.loopnest import TENSORS


@dataclass(frozen=True)
class Precision:
    """One numeric precision: operand bits, psum bits, multiply and add energy (pJ, 45 nm)."""

    name: str
    bits: int
    psum_bits: int
    mult_pj: float
    add_pj: float

    @property
    def mac_pj(self) -> float:
        """Energy of one MAC (pJ): a multiply and an add of this precision (module doc)."""
        return self.mult_pj + self.add_pj


PRECISIONS = {
    "int8": Precision("int8", 8, 32, 0.2, 0.03),
    "fp16": Precision("fp16", 16, 32, 1.1, 0.4),
    "fp32": Precision("fp32", 32, 32, 3.7, 0.9),
}


def get(name: str, src: str | None = None, field: str = "--precision") -> Precision:
    """The :class:`Precision` named ``name``.  Raises InputError naming ``field``."""
    p = PRECISIONS.get(str(name).lower())
    if p is None:
        raise InputError(f"unknown precision {name!r}; use {', '.join(PRECISIONS)}", source=src, field=field)
    return p


def own_mac_pj(precision: str | None, ifmap_bits: int) -> float | None:
    """The table's MAC energy of an arch's own precision (its field, else its ifmap width's entry)."""
    if precision is not None:
        return PRECISIONS[precision].mac_pj
    return next((p.mac_pj for p in PRECISIONS.values() if p.bits == ifmap_bits), None)


def override(spec, p: Precision, src: str):
    """``spec`` (a validated :class:`~.schema.ArchSpec`) rewritten for precision ``p`` (module doc)."""
    from .resolve import level_bits

    d = spec.model_dump(exclude_unset=True, by_alias=True)
    wb = spec.word_bits
    old = {t: wb for t in TENSORS} if isinstance(wb, int) else wb.model_dump()
    new_dram = {t: p.bits for t in TENSORS}
    new_chip = {"filter": p.bits, "ifmap": p.bits, "ofmap": p.psum_bits}
    d["word_bits"] = dict(new_dram)
    d["precision"] = p.name
    for i, lv in enumerate(spec.levels):
        ld = d["levels"][i]
        ob = level_bits(lv.word_bits, old, src, f"levels.{i}.word_bits")
        ld["word_bits"] = dict(new_chip)
        keeps = _keeps(lv)

        def ref(ts):
            return "ifmap" if "ifmap" in ts else next(t for t in TENSORS if t in ts)

        def words(v, ts, floor=True):
            r = ref(ts)
            x = v * ob[r] / new_chip[r]
            return max(1, int(x)) if floor else x

        if isinstance(lv.capacity_words, dict):
            ld["capacity_words"] = {k: words(v, _tensors(k)) for k, v in lv.capacity_words.items()}
        else:
            ld["capacity_words"] = words(lv.capacity_words, keeps)
        for f in ("read_bw_words", "write_bw_words"):
            v = getattr(lv, f)
            if isinstance(v, dict):
                ld[f] = {k: words(x, _tensors(k), False) for k, x in v.items()}
            elif v is not None:
                ld[f] = words(v, keeps, False)
        if lv.write_buffer is not None:
            w = ld["write_buffer"]
            k = ob["ofmap"] / new_chip["ofmap"]
            w["capacity_words"] = max(1, int(lv.write_buffer.capacity_words * k))
            for f in ("read_bw_words", "write_bw_words"):
                if getattr(lv.write_buffer, f) is not None:
                    w[f] = getattr(lv.write_buffer, f) * k
        ld["energy"] = _energy(lv.energy, ob, new_chip)
        if lv.noc is not None:
            for t in ("filter", "ifmap", "ofmap", "psum"):
                link = getattr(lv.noc, t)
                if link is None:
                    continue
                tt = "ofmap" if t == "psum" else t
                ln = ld["noc"][t]
                if link.bw_words is not None:
                    ln["bw_words"] = link.bw_words * ob[tt] / new_chip[tt]
                for f in ("energy_pj", "reduce_add_pj"):
                    if getattr(link, f) is not None:
                        ln[f] = getattr(link, f) * new_chip[tt] / ob[tt]
    d.setdefault("dram", {})["energy"] = _energy(spec.dram.energy, old, new_dram)
    if spec.mac.energy_pj is not None:
        base = own_mac_pj(spec.precision, old["ifmap"])
        ratio = p.mac_pj / base if base else p.bits / old["ifmap"]
        d.setdefault("mac", {})["energy_pj"] = spec.mac.energy_pj * ratio
    return type(spec).model_validate(d)


def _keeps(lv) -> tuple[str, ...]:
    from .resolve import tensor_name

    default = TENSORS if lv.write_buffer is None else ("filter", "ifmap")
    raw = [tensor_name(t) for t in (lv.keeps if lv.keeps is not None else default)]
    return tuple(t for t in TENSORS if t in raw)


def _tensors(key: str) -> tuple[str, ...]:
    from .resolve import tensor_name

    raw = [tensor_name(x) for x in key.split("+")]
    return tuple(t for t in TENSORS if t in raw)


def _energy(e, old: dict, new: dict) -> dict:
    """An energy spec as a per-tensor dict with each given value scaled by new / old bits."""
    from .schema import ActionEnergySpec

    if isinstance(e, ActionEnergySpec):
        per = {t: e for t in TENSORS}
    else:
        per = {t: getattr(e, t) or (e.psum if t == "ofmap" else None) for t in TENSORS}
    out = {}
    for t, a in per.items():
        if a is None:
            continue
        k = new[t] / old[t]
        out[t] = {"block": a.block, **{f: getattr(a, f) * k for f in ("read_pj", "fill_pj", "update_pj")
                                       if getattr(a, f) is not None}}
    return out
