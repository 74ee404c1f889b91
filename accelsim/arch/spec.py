"""Architecture description: PE array, per-PE RFs, GLB, NoC, DRAM, energy per action.

Arch file schema (sizes in words; word widths in bits; bandwidth on chip in
words/cycle, DRAM in bytes/cycle or GB/s with the clock; energy in pJ)::

    name: eyeriss
    source: "where the numbers come from"
    clock_mhz: 200
    default_dataflow: rs
    word_bits: 16                 # or {filter: 8, ifmap: 8, ofmap: 32}
    pe_array: {rows: 12, cols: 14}
    mac: {energy_pj: 1.5}
    rf:                           # per PE; either per operand or shared
      filter: 224                 # words
      ifmap: 12
      psum: 24
      # shared: 512               # instead of the three above
      double_buffered: false      # ping-pong: prefetch the next pass's operands during compute
      fifo: false                 # operand FIFOs before the RF: the same overlap, no capacity cost
      energy: {read_pj: 1.5, write_pj: 1.5}
    glb:
      words: 55296               # in words of the ifmap's width
      banks: 27                  # >= 3: tensors own banks in proportion to their tiles (bank conflicts)
      read_bw_words: 16           # words per cycle
      write_bw_words: 16
      double_buffered: false      # ping-pong: load the next tile from DRAM during compute
      energy: {read_pj: 9.0, write_pj: 9.0, block: 1}
    noc:                          # per operand: multicast | unicast | systolic
      filter: {type: multicast, bw_words: 4}
      ifmap:  {type: multicast, bw_words: 4}
      psum:   {type: multicast, bw_words: 4}
      energy: {word_pj: 3.0, reduce_add_pj: 0.4}   # per word to/from one PE; per spatial-reduction add
    dram:
      bw_bytes_per_cycle: 8       # or bw_gb_s: 1.6 (with clock_mhz)
      latency_cycles: 0           # fixed latency per transfer
      energy: {read_pj: 300, write_pj: 300}   # per word

Any ``energy`` block may be left out; the defaults come from
:mod:`accelsim.arch.energy_table` and the resolved values appear in every report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import InputError
from ..files import load_yaml, validate
from .. import limits as L
from ..workload.loopnest import TENSORS
from . import energy_table as et


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


Energy = Annotated[float, Field(ge=0, le=L.MAX_ENERGY_PJ)]
Words = Annotated[int, Field(ge=1, le=L.MAX_WORDS)]
BwWords = Annotated[float, Field(ge=1e-3, le=L.MAX_BW_WORDS)]


class EnergySpec(_Strict):
    read_pj: Energy | None = None
    write_pj: Energy | None = None
    block: int = Field(default=1, ge=1, le=L.MAX_BLOCK)


class PEArraySpec(_Strict):
    rows: int = Field(gt=0, le=L.MAX_PE_SIDE)
    cols: int = Field(gt=0, le=L.MAX_PE_SIDE)


class MacSpec(_Strict):
    energy_pj: Energy | None = None


class RFSpec(_Strict):
    filter: Words | None = None
    ifmap: Words | None = None
    psum: Words | None = None
    shared: Words | None = None
    double_buffered: bool = False
    fifo: bool = False
    energy: EnergySpec = EnergySpec()

    @model_validator(mode="after")
    def _one_style(self):
        per = [self.filter, self.ifmap, self.psum]
        if self.shared is not None and any(x is not None for x in per):
            raise ValueError("give either 'shared' or per-operand sizes (filter, ifmap, psum), not both")
        if self.shared is None and any(x is None for x in per):
            missing = [n for n, x in zip(("filter", "ifmap", "psum"), per) if x is None]
            raise ValueError(f"per-operand RF sizes need filter, ifmap and psum; missing {', '.join(missing)}")
        return self


class GLBSpec(_Strict):
    words: Words
    banks: int = Field(default=1, ge=1, le=L.MAX_BANKS)
    read_bw_words: BwWords
    write_bw_words: BwWords
    double_buffered: bool = False
    energy: EnergySpec = EnergySpec()


class NoCLinkSpec(_Strict):
    type: Literal["multicast", "unicast", "systolic"] = "multicast"
    bw_words: BwWords


class NoCEnergySpec(_Strict):
    word_pj: Energy | None = None
    reduce_add_pj: Energy | None = None


class NoCSpec(_Strict):
    filter: NoCLinkSpec
    ifmap: NoCLinkSpec
    psum: NoCLinkSpec
    energy: NoCEnergySpec = NoCEnergySpec()


class DRAMSpec(_Strict):
    bw_bytes_per_cycle: float | None = Field(default=None, ge=1e-3, le=L.MAX_DRAM_BYTES_PER_CYCLE)
    bw_gb_s: float | None = Field(default=None, ge=1e-6, le=L.MAX_DRAM_GB_S)
    latency_cycles: int = Field(default=0, ge=0, le=L.MAX_LATENCY_CYCLES)
    energy: EnergySpec = EnergySpec()

    @model_validator(mode="after")
    def _one_bw(self):
        if self.bw_bytes_per_cycle is not None and self.bw_gb_s is not None:
            raise ValueError("give either bw_bytes_per_cycle or bw_gb_s, not both")
        return self


class WordBits(_Strict):
    filter: int = Field(gt=0, le=L.MAX_WORD_BITS)
    ifmap: int = Field(gt=0, le=L.MAX_WORD_BITS)
    ofmap: int = Field(gt=0, le=L.MAX_WORD_BITS)


class ArchSpec(_Strict):
    name: str | None = None
    source: str | None = None
    description: str | None = None
    clock_mhz: float = Field(ge=1e-3, le=L.MAX_CLOCK_MHZ)
    default_dataflow: str = Field(min_length=1)
    word_bits: Union[Annotated[int, Field(gt=0, le=L.MAX_WORD_BITS)], WordBits] = 16
    pe_array: PEArraySpec
    mac: MacSpec = MacSpec()
    rf: RFSpec
    glb: GLBSpec
    noc: NoCSpec
    dram: DRAMSpec = DRAMSpec()


@dataclass(frozen=True)
class NocLink:
    """The network between the GLB and the PEs for one tensor.

    Attributes:
        type: ``multicast`` (one GLB read serves every PE that needs the word in a step),
            ``unicast`` (one read per PE) or ``systolic`` (neighbour to neighbour).
        bw_words: words per cycle on the GLB side (per direction for psums).
    """

    type: str
    bw_words: float


@dataclass(frozen=True)
class LevelEnergy:
    """Energy per word of one storage level, in pJ (vector entries already divided by block)."""

    read_pj: float
    write_pj: float


@dataclass(frozen=True)
class Architecture:
    """Resolved architecture: every default filled in, units normalised.

    Attributes:
        rows, cols: PE array size.
        glb_double_buffered, rf_double_buffered: a double-buffered (ping-pong)
            level prefetches the next tile while the current one is used, and
            its tiles must fit in half its capacity.
        rf_fifo: the PEs have operand FIFOs in front of the RF (Eyeriss, JSSC
            2017, sec. V), so the next pass's operands arrive while the current
            pass computes, without taking RF capacity.
        dram_latency_cycles: fixed latency added to every DRAM transfer (burst).
        rf_words: per-operand RF capacity per PE, ``{"filter", "ifmap", "ofmap"}``
            in words, or ``None`` when the RF is shared (see ``rf_shared_words``).
        glb_words: GLB capacity in words of the ifmap's width (wider tensors take proportionally more).
        glb_read_bw, glb_write_bw: words per cycle.
        noc: per tensor (filter/ifmap/ofmap) a :class:`NocLink`.
        dram_bw_bytes_per_cycle: always finite (default in energy_table).
        word_bits: per tensor.
        mac_pj, rf, glb, dram: energy per action (pJ); noc_word_pj per word per
            PE; reduce_add_pj per psum add of spatial reduction.
        defaults_used: names of fields that took a documented default.
    """

    name: str
    source: str | None
    path: str
    clock_mhz: float
    default_dataflow: str
    rows: int
    cols: int
    rf_words: dict[str, int] | None
    rf_shared_words: int | None
    glb_words: int
    glb_banks: int
    glb_read_bw: float
    glb_write_bw: float
    glb_double_buffered: bool
    rf_double_buffered: bool
    rf_fifo: bool
    dram_latency_cycles: int
    noc: dict[str, NocLink]
    dram_bw_bytes_per_cycle: float
    word_bits: dict[str, int]
    mac_pj: float
    rf: LevelEnergy
    noc_word_pj: float
    reduce_add_pj: float
    glb: LevelEnergy
    dram: LevelEnergy
    defaults_used: tuple[str, ...]
    resolved_path: str | None = None
    bundled: bool = False

    @property
    def folder(self) -> str | None:
        """Folder that relative paths written in this arch file start from (``None`` for a bundled file)."""
        return None if self.bundled or not self.resolved_path else os.path.dirname(self.resolved_path)

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def to_dict(self) -> dict:
        """The resolved architecture as JSON-able data (for the report)."""
        return {
            "name": self.name,
            "file": self.path,
            "path": self.resolved_path,
            "source": self.source,
            "clock_mhz": self.clock_mhz,
            "default_dataflow": self.default_dataflow,
            "pe_array": {"rows": self.rows, "cols": self.cols},
            "rf_words": self.rf_words if self.rf_words else {"shared": self.rf_shared_words},
            "glb": {"words": self.glb_words, "banks": self.glb_banks, "double_buffered": self.glb_double_buffered,
                    "read_bw_words_per_cycle": self.glb_read_bw, "write_bw_words_per_cycle": self.glb_write_bw},
            "rf_double_buffered": self.rf_double_buffered,
            "rf_fifo": self.rf_fifo,
            "dram_latency_cycles": self.dram_latency_cycles,
            "noc": {t: {"type": n.type, "bw_words_per_cycle": n.bw_words} for t, n in self.noc.items()},
            "dram_bw_bytes_per_cycle": self.dram_bw_bytes_per_cycle,
            "word_bits": self.word_bits,
            "energy_pj": {
                "mac": self.mac_pj,
                "rf_read": self.rf.read_pj, "rf_write": self.rf.write_pj,
                "noc_word": self.noc_word_pj,
                "noc_reduce_add": self.reduce_add_pj,
                "glb_read": self.glb.read_pj, "glb_write": self.glb.write_pj,
                "dram_read": self.dram.read_pj, "dram_write": self.dram.write_pj,
            },
            "defaults_used": list(self.defaults_used),
        }


def load_arch(name: str) -> Architecture:
    """Load and resolve an arch file (bundled name or path).

    Raises:
        InputError: malformed YAML, unknown or missing fields, bad values.
    """
    f, data = load_yaml(name, "arch")
    return build_arch(data, f.display, f.path, f.bundled)


def build_arch(data, src: str = "<arch>", resolved_path: str | None = None, bundled: bool = False) -> Architecture:
    """Resolve already-parsed arch data; see :func:`load_arch`."""
    s: ArchSpec = validate(ArchSpec, data, src)
    used: list[str] = []
    wb = s.word_bits
    bits = {t: wb for t in TENSORS} if isinstance(wb, int) else wb.model_dump()
    if isinstance(wb, int) and wb <= 0:
        raise InputError("must be > 0", source=src, field="word_bits")
    ref_bits = bits["ifmap"]

    def pick(value, default, name):
        if value is None:
            used.append(name)
            return default
        return value

    def level(e: EnergySpec, default: float, name: str) -> LevelEnergy:
        r = pick(e.read_pj, default, f"{name}.energy.read_pj")
        w = pick(e.write_pj, default, f"{name}.energy.write_pj")
        return LevelEnergy(r / e.block, w / e.block)

    scale = ref_bits / 16.0  # defaults are per 16-bit word; see energy_table
    if s.dram.bw_bytes_per_cycle is not None:
        dram_bw = s.dram.bw_bytes_per_cycle
    elif s.dram.bw_gb_s is not None:
        dram_bw = s.dram.bw_gb_s * 1e9 / (s.clock_mhz * 1e6)
        if dram_bw < 1e-3:
            raise InputError(f"{s.dram.bw_gb_s} GB/s at {s.clock_mhz} MHz is {dram_bw:.3g} bytes/cycle; "
                             "at least 0.001 is needed", source=src, field="dram.bw_gb_s")
    else:
        dram_bw = et.DEFAULT_DRAM_BYTES_PER_CYCLE
        used.append("dram.bw_bytes_per_cycle")
    rf_words = None
    if s.rf.shared is None:
        rf_words = {"filter": s.rf.filter, "ifmap": s.rf.ifmap, "ofmap": s.rf.psum}
    return Architecture(
        name=s.name or src,
        source=s.source,
        path=src,
        clock_mhz=s.clock_mhz,
        default_dataflow=s.default_dataflow,
        rows=s.pe_array.rows,
        cols=s.pe_array.cols,
        rf_words=rf_words,
        rf_shared_words=s.rf.shared,
        glb_words=s.glb.words,
        glb_banks=s.glb.banks,
        glb_read_bw=s.glb.read_bw_words,
        glb_write_bw=s.glb.write_bw_words,
        glb_double_buffered=s.glb.double_buffered,
        rf_double_buffered=s.rf.double_buffered,
        rf_fifo=s.rf.fifo,
        dram_latency_cycles=s.dram.latency_cycles,
        noc={"filter": NocLink(s.noc.filter.type, s.noc.filter.bw_words),
             "ifmap": NocLink(s.noc.ifmap.type, s.noc.ifmap.bw_words),
             "ofmap": NocLink(s.noc.psum.type, s.noc.psum.bw_words)},
        dram_bw_bytes_per_cycle=dram_bw,
        word_bits=bits,
        mac_pj=pick(s.mac.energy_pj, et.MAC_PJ * scale, "mac.energy_pj"),
        rf=level(s.rf.energy, et.RF_PJ * scale, "rf"),
        noc_word_pj=pick(s.noc.energy.word_pj, et.NOC_PJ * scale, "noc.energy.word_pj"),
        reduce_add_pj=pick(s.noc.energy.reduce_add_pj, et.REDUCE_ADD_PJ * bits["ofmap"] / 16,
                           "noc.energy.reduce_add_pj"),
        glb=level(s.glb.energy, et.GLB_PJ * scale, "glb"),
        dram=level(s.dram.energy, et.DRAM_PJ * scale, "dram"),
        defaults_used=tuple(used),
        resolved_path=resolved_path,
        bundled=bundled,
    )
