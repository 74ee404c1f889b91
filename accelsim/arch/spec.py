"""Architecture: a hierarchy of storage levels between the MACs and DRAM (Timeloop's model).

Arch file (sizes in words; word widths in bits; on-chip bandwidth in words
per cycle per instance; DRAM in bytes per cycle or GB/s; energy in pJ)::

    name: eyeriss
    source: "where the numbers come from"
    clock_mhz: 200
    default_dataflow: rs
    word_bits: 16                   # or {filter: 8, ifmap: 8, ofmap: 32}
    mac: {energy_pj: 1.5}
    levels:                         # innermost first
      - name: spad                  # one per PE
        keeps: [filter, ifmap, ofmap]   # default: all three; the others bypass this level
        capacity_words: {filter: 224, ifmap: 12, ofmap: 24}   # partitioned; an int = shared
        fifo: true                  # operand FIFOs: the next pass's operands arrive during compute
        # word_bits: {ofmap: 32}    # this level's own widths (default: the arch's word_bits)
        energy:                     # per tensor (or one block for all): per word, or per entry of `block` words
          filter: {read_pj: 1.5, fill_pj: 1.5}
          ifmap:  {read_pj: 1.5, fill_pj: 1.5}
          ofmap:  {read_pj: 1.5, fill_pj: 1.5, update_pj: 1.5}
      - name: GLB
        keeps: [filter, ifmap, ofmap]
        capacity_words: {ifmap+ofmap: 51200, filter: 4096}   # partition keys join tensors with +
        banks: {ifmap+ofmap: 25, filter: 2}
        double_buffered: {filter: true}
        # write_buffer: {capacity_words: 4096, double_buffered: true}   # instead of keeping the ofmap:
        #   outputs drain through it to the next level out (SCALE-Sim's ofmap SRAM)
        read_bw_words: 16           # per instance, or per partition key
        write_bw_words: 16
        fanout: {rows: 12, cols: 14}    # children (instances of the level below) beneath each instance
        energy: {read_pj: 9.0, fill_pj: 9.0, update_pj: 9.0, block: 1}
        noc:                        # per tensor, between this level and its children
          filter: {type: multicast, bw_words: 4, energy_pj: 3.0}
          ifmap:  {type: multicast, bw_words: 1, energy_pj: 3.0}
          ofmap:  {type: multicast, bw_words: 4, energy_pj: 3.0, reduce_add_pj: 0.4}
    dram:
      name: DRAM
      bw_bytes_per_cycle: 8         # or bw_gb_s: 1.6 (with clock_mhz)
      latency_cycles: 0
      energy: {read_pj: 300, fill_pj: 300, update_pj: 300}

A tensor a level does not keep bypasses it to the next level out that keeps
it; DRAM keeps everything.  A level with a ``write_buffer`` does not keep the
ofmap: the psums and outputs its children send out pass through the buffer on
their way to the next level out (SCALE-Sim's ofmap SRAM), so they need no
whole-tile space; the buffer need only hold what the array emits in one step
of the level's loops (x2 when double-buffered), and each word passing
through costs a write (``update_pj``) and a read (``read_pj``) of the
level's ofmap energy.  Psums fetched back from the parent bypass it.  The instances of a level are the product of the
fan-outs above it; the MAC units are the innermost level's instances times
its own fan-out.  The *array level* is the outermost on-chip level with a
fan-out: its loops step the passes of the PE array (the simulator's pass
level) and its fan-out is the PE array (rows x cols).  Any ``energy`` or NoC
entry may be left out; the defaults come from :mod:`accelsim.arch.energy_table`
and the report lists every default used.  A file in the earlier fixed form
(``pe_array``, ``rf``, ``glb``, ``noc``) is translated (:mod:`.legacy`).
"""

from __future__ import annotations

import os
from functools import cached_property
from dataclasses import dataclass

from ..errors import InputError
from ..files import load_yaml
from ..validation import validate
from ..workload.loopnest import TENSORS
from .levels import CartesianArray, NocLink, SparseAction, StorageLevel


@dataclass(frozen=True)
class Architecture:
    """Resolved architecture: every default filled in, units normalised.

    Attributes:
        levels: storage levels innermost first; the last is DRAM.
        word_bits: bits per word of each tensor.
        mac_pj: energy of one MAC (pJ).
        dram_bw_bytes_per_cycle: always finite; dram_latency_cycles per transfer.
        form: ``hierarchy`` or ``fixed (translated)`` for a file in the earlier form.
        defaults_used: names of fields that took a documented default.
        mac_sparse: the MAC's :class:`SparseAction` on zero operands, or None (dense compute).
        mac_check_pj: energy per MAC considered of the zero check (or the intersection when skipping), pJ.
        compressed_fit: buffer-fit policy for compressed tiles: ``expected`` (the expected compressed
            size) or ``worst`` (the largest: every word non-zero, metadata included).
        mac_cartesian: the :class:`CartesianArray` each MAC unit is (SCNN), or None (one MAC per cycle).
        precision: ``int8``, ``fp16`` or ``fp32`` when the file (or ``--precision``) names one
            (:mod:`.precision`), else None (its word bits alone).
    """

    name: str
    source: str | None
    path: str
    clock_mhz: float
    default_dataflow: str
    levels: tuple[StorageLevel, ...]
    word_bits: dict[str, int]
    mac_pj: float
    dram_bw_bytes_per_cycle: float
    dram_latency_cycles: int
    defaults_used: tuple[str, ...]
    form: str = "hierarchy"
    resolved_path: str | None = None
    bundled: bool = False
    mac_sparse: SparseAction | None = None
    mac_check_pj: float = 0.0
    compressed_fit: str = "expected"
    mac_cartesian: CartesianArray | None = None
    precision: str | None = None

    @property
    def precision_text(self) -> str:
        """What the report states: the named precision with its psum width, or the word bits."""
        chip = self.levels[0].word_bits if len(self.levels) > 1 else self.word_bits
        if self.precision is not None:
            return f"{self.precision} (psum {chip['ofmap']}-bit)"
        b = self.word_bits
        if len(set(b.values())) == 1 and chip["ofmap"] == b["ofmap"]:
            return f"{b['ifmap']}-bit words"
        return f"filter {b['filter']}, ifmap {b['ifmap']}, ofmap {b['ofmap']} (psum {chip['ofmap']}) bits"

    @cached_property
    def sparse(self) -> bool:
        """Whether any level stores a tensor compressed, gates or skips reads, the MAC gates or skips, or
        the MAC units are Cartesian-product arrays (their timing goes through the sparse accounting)."""
        return self.mac_sparse is not None or self.mac_cartesian is not None or any(
            any(f["type"] != "dense" for f in lv.formats.values()) or lv.sparse_reads for lv in self.levels)

    @property
    def folder(self) -> str | None:
        """Folder that relative paths written in this arch file start from (``None`` for a bundled file)."""
        return None if self.bundled or not self.resolved_path else os.path.dirname(self.resolved_path)

    @property
    def dram(self) -> StorageLevel:
        return self.levels[-1]

    @property
    def onchip(self) -> tuple[StorageLevel, ...]:
        return self.levels[:-1]

    @cached_property
    def array_level(self) -> int:
        """Index of the outermost on-chip level with a fan-out (a stated one, even 1 x 1, has a NoC); 0 if none."""
        for lv in reversed(self.onchip):
            if lv.fanout > 1 or lv.noc:
                return lv.index
        return 0

    @property
    def rows(self) -> int:
        """PE array rows: the array level's fan-out."""
        return self.levels[self.array_level].rows

    @property
    def cols(self) -> int:
        return self.levels[self.array_level].cols

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    @property
    def mac_units(self) -> int:
        """MAC units: the innermost level's instances times its fan-out."""
        return self.levels[0].instances * self.levels[0].fanout

    @property
    def peak_macs_per_cycle(self) -> int:
        """MACs the array can do per cycle: the MAC units, times each one's multipliers for a
        Cartesian-product array (the denominator of utilization)."""
        return self.mac_units * (self.mac_cartesian.multipliers if self.mac_cartesian is not None else 1)

    def keepers(self, tensor: str) -> tuple[int, ...]:
        """Indices of the levels that keep ``tensor``, innermost first (DRAM always last)."""
        return self._keepers[tensor]

    @cached_property
    def _keepers(self) -> dict:
        return {t: tuple(lv.index for lv in self.levels if t in lv.keeps) for t in TENSORS}

    def parent(self, index: int, tensor: str) -> int | None:
        """The next level out of ``index`` that keeps ``tensor`` (None above DRAM)."""
        for lv in self.levels[index + 1:]:
            if tensor in lv.keeps:
                return lv.index
        return None

    def child(self, index: int, tensor: str) -> int | None:
        """The next level in from ``index`` that keeps ``tensor`` (None: the MACs)."""
        for lv in reversed(self.levels[:index]):
            if tensor in lv.keeps:
                return lv.index
        return None

    def write_buffers(self, child: int, parent: int) -> tuple[int, ...]:
        """Indices of the levels strictly between ``child`` and ``parent`` whose ofmap write buffer the
        words going up from ``child`` (-1: the MACs) to ``parent`` pass through."""
        return tuple(lv.index for lv in self.levels[child + 1:parent] if lv.write_buffer is not None)

    def level_index(self, name: str) -> int:
        for lv in self.levels:
            if lv.name == name:
                return lv.index
        raise KeyError(name)

    def noc_link(self, parent: int, tensor: str) -> NocLink | None:
        """The network that carries ``tensor`` down from level ``parent`` (None if no fan-out crosses)."""
        return self.levels[parent].noc.get(tensor)

    def capacity_field(self, level: int, tensors: tuple[str, ...]) -> str:
        """The arch-file field that sets a partition's capacity, as the user wrote the file."""
        lv = self.levels[level]
        if self.form != "hierarchy":  # the earlier fixed form: RF and GLB
            if level == 0:
                return "rf.shared" if len(lv.partitions) == 1 else f"rf.{'psum' if tensors[0] == 'ofmap' else tensors[0]}"
            return "glb.words"
        return f"levels.{level}.capacity_words" + (f".{'+'.join(tensors)}" if len(lv.partitions) > 1 else "")

    def double_buffered_field(self, level: int) -> str:
        """The arch-file field that sets a level's double buffering, as the user wrote the file."""
        if self.form != "hierarchy":
            return "rf.double_buffered" if level == 0 else "glb.double_buffered"
        return f"levels.{level}.double_buffered"

    def tensors_located(self) -> dict[str, list[str]]:
        """Per tensor, the names of the levels that keep it, innermost first."""
        return {t: [self.levels[i].name for i in self.keepers(t)] for t in TENSORS}

    def to_dict(self) -> dict:
        """The resolved architecture as JSON-able data (for the report)."""
        return {
            "name": self.name,
            "file": self.path,
            "path": self.resolved_path,
            "source": self.source,
            "form": self.form,
            "clock_mhz": self.clock_mhz,
            "default_dataflow": self.default_dataflow,
            "pe_array": {"rows": self.rows, "cols": self.cols},
            "mac_units": self.mac_units,
            "peak_macs_per_cycle": self.peak_macs_per_cycle,
            "word_bits": self.word_bits,
            "precision": self.precision,
            "precision_text": self.precision_text,
            "mac_energy_pj": self.mac_pj,
            "levels": [lv.to_dict() for lv in self.levels],
            "dram_bw_bytes_per_cycle": self.dram_bw_bytes_per_cycle,
            "dram_latency_cycles": self.dram_latency_cycles,
            "mac_sparse": None if self.mac_sparse is None else {"action": self.mac_sparse.action,
                                                                "condition_on": list(self.mac_sparse.condition_on)},
            "mac_check_pj": self.mac_check_pj,
            "mac_cartesian": None if self.mac_cartesian is None else self.mac_cartesian.to_dict(),
            "compressed_fit": self.compressed_fit,
            "defaults_used": list(self.defaults_used),
        }


def load_arch(name: str, precision: str | None = None) -> Architecture:
    """Load and resolve an arch file (bundled name or path); ``precision`` (``--precision``: int8, fp16,
    fp32) rewrites it for that precision on the same silicon (:mod:`.precision`).

    Raises:
        InputError: malformed YAML, unknown or missing fields, bad values, an unknown precision.
    """
    f, data = load_yaml(name, "arch")
    return build_arch(data, f.display, f.path, f.bundled, precision)


def build_arch(data, src: str = "<arch>", resolved_path: str | None = None, bundled: bool = False,
               precision: str | None = None) -> Architecture:
    """Resolve already-parsed arch data (either form); see :func:`load_arch` and :mod:`.resolve`."""
    from .legacy import is_fixed_form, translate
    from .resolve import resolve
    from .schema import ArchSpec

    form = "hierarchy"
    if isinstance(data, dict) and is_fixed_form(data):
        data = translate(data, src)
        form = "fixed (translated)"
    spec: ArchSpec = validate(ArchSpec, data, src)
    if not isinstance(data, dict) or "levels" not in data:
        raise InputError("required field is missing", source=src, field="levels")
    if precision is not None:
        from .precision import get, override

        spec = override(spec, get(precision), src)
        try:
            return resolve(spec, src, resolved_path, bundled, form)
        except InputError as e:
            raise InputError(f"{e.message} (with --precision {precision})", e.source, e.field) from None
    return resolve(spec, src, resolved_path, bundled, form)
