"""The arch file schema (pydantic): a storage hierarchy of any depth, innermost level first.

Sizes in words, word widths in bits, on-chip bandwidth in words per cycle per
instance, DRAM bandwidth in bytes per cycle or GB/s with the clock, energy in
pJ.  Tensor names are ``filter``, ``ifmap`` and ``ofmap`` (``psum`` is
accepted for ``ofmap``: a psum is an ofmap value not yet complete).  A
*partition key* is a tensor name or several joined by ``+``
(``ifmap+ofmap``): the tensors that share that part of a level.  See
:mod:`accelsim.arch.spec` for the whole file with an example.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import limits as L


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


Energy = Annotated[float, Field(ge=0, le=L.MAX_ENERGY_PJ)]
Words = Annotated[int, Field(ge=1, le=L.MAX_WORDS)]
BwWords = Annotated[float, Field(ge=1e-3, le=L.MAX_BW_WORDS)]
Banks = Annotated[int, Field(ge=1, le=L.MAX_BANKS)]
Bits = Annotated[int, Field(gt=0, le=L.MAX_WORD_BITS)]
TensorName = Literal["filter", "ifmap", "ofmap", "psum"]


class ActionEnergySpec(Strict):
    """Energy per action of one tensor at one level (pJ per entry of ``block`` words)."""

    read_pj: Energy | None = None
    fill_pj: Energy | None = None
    update_pj: Energy | None = None
    block: int = Field(default=1, ge=1, le=L.MAX_BLOCK)


class PerTensorEnergySpec(Strict):
    filter: ActionEnergySpec | None = None
    ifmap: ActionEnergySpec | None = None
    ofmap: ActionEnergySpec | None = None
    psum: ActionEnergySpec | None = None


class NocLinkSpec(Strict):
    """The network carrying one tensor between a level and its children."""

    type: Literal["multicast", "unicast", "systolic"] = "multicast"
    bw_words: BwWords | None = None
    energy_pj: Energy | None = None
    reduce_add_pj: Energy | None = None


class NocSpec(Strict):
    filter: NocLinkSpec | None = None
    ifmap: NocLinkSpec | None = None
    ofmap: NocLinkSpec | None = None
    psum: NocLinkSpec | None = None


class LevelBitsSpec(Strict):
    """Word bits of some tensors at one level (the rest take the arch's ``word_bits``)."""

    filter: Bits | None = None
    ifmap: Bits | None = None
    ofmap: Bits | None = None
    psum: Bits | None = None


#: A metadata field width (bits).
MetaBits = Annotated[int, Field(ge=1, le=64)]
#: Which parameters each format type takes (required, optional).
FORMAT_FIELDS = {
    "dense": ((), ()), "bitmask": ((), ()), "rle": (("run_bits",), ()),
    "csr": (("index_bits", "pointer_bits"), ("relative",)), "csc": (("index_bits", "pointer_bits"), ("relative",)),
    "coo": (("coord_bits",), ()), "eyeriss_rlc": ((), ("run_bits",)),
}


class FormatSpec(Strict):
    """How a level stores one tensor (the project's design notes, "Sparse operands"): ``dense``,
    ``bitmask``, ``rle`` (``run_bits``), ``csr``/``csc`` (``index_bits``, ``pointer_bits``,
    ``relative``: EIE's relative indices with padding zeros), ``coo`` (``coord_bits`` per non-zero,
    SCNN), ``eyeriss_rlc`` (Eyeriss's run-length code at the DRAM interface: 5-bit runs, 16-bit
    levels, three pairs per 64-bit word)."""

    type: Literal["dense", "bitmask", "rle", "csr", "csc", "coo", "eyeriss_rlc"]
    run_bits: MetaBits | None = None
    index_bits: MetaBits | None = None
    pointer_bits: MetaBits | None = None
    coord_bits: MetaBits | None = None
    relative: bool | None = None

    @model_validator(mode="after")
    def _fields_of_type(self):
        need, may = FORMAT_FIELDS[self.type]
        for f in need:
            if getattr(self, f) is None:
                raise ValueError(f"a {self.type} format needs {f}")
        for f in ("run_bits", "index_bits", "pointer_bits", "coord_bits", "relative"):
            if getattr(self, f) is not None and f not in need + may:
                raise ValueError(f"a {self.type} format has no {f}")
        return self


class PerTensorFormatSpec(Strict):
    filter: FormatSpec | None = None
    ifmap: FormatSpec | None = None
    ofmap: FormatSpec | None = None
    psum: FormatSpec | None = None  # the ofmap's other name


class SparseActionSpec(Strict):
    """Gating or skipping on zero operands (Sparseloop's compute and storage optimisations).

    ``gate``: no energy is spent when an operand in ``condition_on`` is zero, no cycle is saved; ``skip``: neither.
    ``condition_on`` (Sparseloop's name): one operand (leader-follower) or both (the intersection).
    """

    action: Literal["gate", "skip"]
    condition_on: list[Literal["filter", "ifmap"]] = Field(min_length=1, max_length=2)


class PerTensorSparseSpec(Strict):
    filter: SparseActionSpec | None = None
    ifmap: SparseActionSpec | None = None


class FanoutSpec(Strict):
    rows: int = Field(default=1, ge=1, le=L.MAX_PE_SIDE)
    cols: int = Field(default=1, ge=1, le=L.MAX_PE_SIDE)


#: A value that is either one for the whole level or given per partition key.
def _per(t):
    return Union[t, dict[str, t]]


def _level_name(v: str) -> str:
    if not NAME.fullmatch(v):
        raise ValueError(f"{v!r} is not a level name: use letters, digits, _ and -, starting with a letter or _ "
                         "(it names mapping slots such as GLB.rows)")
    return v


#: Level names: they name the mapping's slots (``<level>.rows``) and the report's entries.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


class WriteBufferSpec(Strict):
    """An ofmap write buffer (see :class:`accelsim.arch.levels.WriteBuffer`): words of the ofmap's width."""

    capacity_words: Words
    double_buffered: bool = False
    read_bw_words: BwWords | None = None
    write_bw_words: BwWords | None = None


class LevelSpec(Strict):
    """One on-chip storage level (see :mod:`accelsim.arch.spec`)."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        return _level_name(v)

    name: str = Field(min_length=1, max_length=64)
    keeps: list[TensorName] | None = None
    capacity_words: _per(Words)
    banks: _per(Banks) = 1
    read_bw_words: _per(BwWords) | None = None
    write_bw_words: _per(BwWords) | None = None
    double_buffered: _per(bool) = False
    fifo: bool = False
    write_buffer: WriteBufferSpec | None = None
    formats: PerTensorFormatSpec | None = None
    sparse_reads: PerTensorSparseSpec | None = None
    queue_depth: int = Field(default=0, ge=0, le=4096)  # operand queue per child (EIE's activation queue)
    word_bits: Union[Bits, LevelBitsSpec, None] = None
    fanout: FanoutSpec = FanoutSpec()
    energy: Union[ActionEnergySpec, PerTensorEnergySpec] = ActionEnergySpec()
    noc: NocSpec | None = None
    source: str | None = None


class DRAMSpec(Strict):
    name: str = Field(default="DRAM", min_length=1, max_length=64)
    bw_bytes_per_cycle: float | None = Field(default=None, ge=1e-3, le=L.MAX_DRAM_BYTES_PER_CYCLE)
    bw_gb_s: float | None = Field(default=None, ge=1e-6, le=L.MAX_DRAM_GB_S)
    latency_cycles: int = Field(default=0, ge=0, le=L.MAX_LATENCY_CYCLES)
    energy: Union[ActionEnergySpec, PerTensorEnergySpec] = ActionEnergySpec()
    formats: PerTensorFormatSpec | None = None
    source: str | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        return _level_name(v)

    @model_validator(mode="after")
    def _one_bw(self):
        if self.bw_bytes_per_cycle is not None and self.bw_gb_s is not None:
            raise ValueError("give either bw_bytes_per_cycle or bw_gb_s, not both")
        return self


class WordBits(Strict):
    filter: Bits
    ifmap: Bits
    ofmap: Bits


class CartesianSpec(Strict):
    """A MAC unit that is an F x I multiplier array forming Cartesian products (SCNN; see
    :class:`accelsim.arch.levels.CartesianArray`)."""

    filter_lanes: int = Field(ge=1, le=4096)
    ifmap_lanes: int = Field(ge=1, le=4096)
    accumulator_banks: int | None = Field(default=None, ge=1, le=65536)


class MacSpec(Strict):
    energy_pj: Energy | None = None
    sparse: SparseActionSpec | None = None
    check_pj: Energy = 0.0  # per MAC considered: the zero check, or the intersection when skipping
    cartesian: CartesianSpec | None = None


class ArchHeader(Strict):
    """The fields every arch file has, in either form."""

    name: str | None = None
    source: str | None = None
    description: str | None = None
    clock_mhz: float = Field(ge=1e-3, le=L.MAX_CLOCK_MHZ)
    default_dataflow: str = Field(min_length=1)


class ArchSpec(ArchHeader):
    """An arch file in the hierarchy form (``levels:``)."""

    word_bits: Union[Bits, WordBits] = 16
    precision: Literal["int8", "fp16", "fp32"] | None = None  # the word bits' precision (accelsim.arch.precision)
    mac: MacSpec = MacSpec()
    compressed_fit: Literal["expected", "worst"] = "expected"
    levels: list[LevelSpec] = Field(min_length=1, max_length=L.MAX_LEVELS)
    dram: DRAMSpec = DRAMSpec()
