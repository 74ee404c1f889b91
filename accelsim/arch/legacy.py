"""The earlier fixed arch form (``pe_array``, ``rf``, ``glb``, ``noc``), translated to the hierarchy form.

Files written before storage hierarchies (accelsim 0.1) describe one
template, RF -> GLB -> DRAM, with every level holding all three tensors.
They still load: :func:`translate` validates the old fields (so errors name
them as the user wrote them) and rewrites the file as ``levels:``

* ``rf`` -> level ``RF`` (per PE: partitioned ``{filter, ifmap, ofmap}`` or
  ``shared``; ``double_buffered``, ``fifo``; ``write_pj`` -> ``fill_pj`` and
  ``update_pj``);
* ``glb`` -> level ``GLB`` with ``fanout`` = ``pe_array`` and ``noc`` = the old
  ``noc`` block (``word_pj`` -> each link's ``energy_pj``);
* ``dram`` -> ``dram`` (``write_pj`` -> ``fill_pj`` and ``update_pj``).

The CLI prints a warning naming the new fields once per run.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from .. import limits as L
from ..errors import InputWarning
from ..validation import validate
from .schema import ArchHeader, BwWords, Energy, Strict, Words

FIXED_KEYS = ("pe_array", "rf", "glb", "noc")


class _EnergySpec(Strict):
    read_pj: Energy | None = None
    write_pj: Energy | None = None
    block: int = Field(default=1, ge=1, le=L.MAX_BLOCK)


class _PEArray(Strict):
    rows: int = Field(gt=0, le=L.MAX_PE_SIDE)
    cols: int = Field(gt=0, le=L.MAX_PE_SIDE)


class _RF(Strict):
    filter: Words | None = None
    ifmap: Words | None = None
    psum: Words | None = None
    shared: Words | None = None
    double_buffered: bool = False
    fifo: bool = False
    energy: _EnergySpec = _EnergySpec()

    @model_validator(mode="after")
    def _one_style(self):
        per = [self.filter, self.ifmap, self.psum]
        if self.shared is not None and any(x is not None for x in per):
            raise ValueError("give either 'shared' or per-operand sizes (filter, ifmap, psum), not both")
        if self.shared is None and any(x is None for x in per):
            missing = [n for n, x in zip(("filter", "ifmap", "psum"), per) if x is None]
            raise ValueError(f"per-operand RF sizes need filter, ifmap and psum; missing {', '.join(missing)}")
        return self


class _GLB(Strict):
    words: Words
    banks: int = Field(default=1, ge=1, le=L.MAX_BANKS)
    read_bw_words: BwWords
    write_bw_words: BwWords
    double_buffered: bool = False
    energy: _EnergySpec = _EnergySpec()


class _Link(Strict):
    type: Literal["multicast", "unicast", "systolic"] = "multicast"
    bw_words: BwWords


class _NocEnergy(Strict):
    word_pj: Energy | None = None
    reduce_add_pj: Energy | None = None


class _Noc(Strict):
    filter: _Link
    ifmap: _Link
    psum: _Link
    energy: _NocEnergy = _NocEnergy()


class _Dram(Strict):
    bw_bytes_per_cycle: float | None = Field(default=None, ge=1e-3, le=L.MAX_DRAM_BYTES_PER_CYCLE)
    bw_gb_s: float | None = Field(default=None, ge=1e-6, le=L.MAX_DRAM_GB_S)
    latency_cycles: int = Field(default=0, ge=0, le=L.MAX_LATENCY_CYCLES)
    energy: _EnergySpec = _EnergySpec()


class _Fixed(ArchHeader):
    word_bits: Union[Annotated[int, Field(gt=0, le=L.MAX_WORD_BITS)], dict] = 16
    pe_array: _PEArray
    mac: dict = Field(default_factory=dict)
    rf: _RF
    glb: _GLB
    noc: _Noc
    dram: _Dram = _Dram()


def is_fixed_form(data: dict) -> bool:
    """Whether an arch file is in the earlier fixed form (it names pe_array, rf, glb or noc, and no levels)."""
    return "levels" not in data and any(k in data for k in FIXED_KEYS)


def _energy(e: _EnergySpec, w: dict) -> dict:
    """Old energies were per word of the ifmap's width (``w``: each tensor's width over it): per tensor if they differ."""

    def one(k):
        out = {"block": e.block}
        if e.read_pj is not None:
            out["read_pj"] = e.read_pj * k
        if e.write_pj is not None:
            out["fill_pj"] = out["update_pj"] = e.write_pj * k
        return out

    if all(v == 1 for v in w.values()):
        return one(1)
    return {t: one(k) for t, k in w.items()}


def translate(data: dict, src: str) -> dict:
    """The hierarchy form of a fixed-form arch file (see module doc); warns once with the new field names.

    Raises:
        InputError: the fixed-form file is invalid (fields named as written).
    """
    s: _Fixed = validate(_Fixed, data, src)
    wb = data.get("word_bits", 16)
    w = {t: (wb[t] / wb["ifmap"] if isinstance(wb, dict) and all(
        isinstance(wb.get(x), int) and wb.get(x) > 0 for x in ("filter", "ifmap", "ofmap")) else 1.0)
        for t in ("filter", "ifmap", "ofmap")}
    rf = s.rf
    cap = rf.shared if rf.shared is not None else {"filter": rf.filter, "ifmap": rf.ifmap, "ofmap": rf.psum}
    noc_e = s.noc.energy
    links = {}
    for t, link in (("filter", s.noc.filter), ("ifmap", s.noc.ifmap), ("ofmap", s.noc.psum)):
        d = {"type": link.type, "bw_words": link.bw_words}
        if noc_e.word_pj is not None:
            d["energy_pj"] = noc_e.word_pj * w[t]
        if t == "ofmap" and noc_e.reduce_add_pj is not None:
            d["reduce_add_pj"] = noc_e.reduce_add_pj
        links[t] = d
    out = {k: v for k, v in data.items() if k in ("name", "source", "description", "clock_mhz", "default_dataflow",
                                                  "word_bits", "mac")}
    out["levels"] = [
        {"name": "RF", "capacity_words": cap, "double_buffered": rf.double_buffered, "fifo": rf.fifo,
         "energy": _energy(rf.energy, w)},
        {"name": "GLB", "capacity_words": s.glb.words, "banks": s.glb.banks, "read_bw_words": s.glb.read_bw_words,
         "write_bw_words": s.glb.write_bw_words, "double_buffered": s.glb.double_buffered,
         "fanout": {"rows": s.pe_array.rows, "cols": s.pe_array.cols}, "energy": _energy(s.glb.energy, w),
         "noc": links},
    ]
    d = s.dram
    dram = {"latency_cycles": d.latency_cycles, "energy": _energy(d.energy, w)}
    if d.bw_bytes_per_cycle is not None:
        dram["bw_bytes_per_cycle"] = d.bw_bytes_per_cycle
    if d.bw_gb_s is not None:
        dram["bw_gb_s"] = d.bw_gb_s
    out["dram"] = dram
    warnings.warn(InputWarning(
        f"{src}: written in the earlier fixed form (pe_array, rf, glb, noc); read as a hierarchy: levels "
        "RF -> GLB (fanout = pe_array, noc) -> dram, write_pj -> fill_pj and update_pj. "
        "See 'Storage hierarchies' in the README for the levels: form"), stacklevel=2)
    return out
