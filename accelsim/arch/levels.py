"""The resolved parts of an architecture: storage levels, their partitions, write buffers, NoC links,
energies per action and sparse actions (what :mod:`.resolve` builds from an arch file and
:class:`~accelsim.arch.spec.Architecture` holds; sizes in words, bandwidth in words per cycle, energy
in pJ per word).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ActionEnergy:
    """Energy per word of one tensor at one level, in pJ (vector entries already divided by ``block``).

    ``read_pj``: a word handed to the children (or the MAC), a psum read for
    read-modify-write, or a drained word; ``fill_pj``: a word written from
    the parent; ``update_pj``: a psum written from the children.
    """

    read_pj: float
    fill_pj: float
    update_pj: float


@dataclass(frozen=True)
class Partition:
    """Part of a level shared by ``tensors``.

    Attributes:
        tensors: the tensors it holds.
        words: capacity in words of the ifmap's width (wider tensors take
            proportionally more); ``None`` for DRAM (unbounded).
        banks: banks of this partition.
        double_buffered: ping-pong: the next tile loads while the current one
            is used, so tiles must fit in half the words.
        read_bw, write_bw: words per cycle per instance; ``None`` = not a limit.
        tensor_bits: word bits of each of ``tensors``; cap_bits: capacity in bits
            (``words`` x the partition's word width; see ``cost.fits.partition_ref_bits``).
    """

    tensors: tuple[str, ...]
    words: int | None
    banks: int = 1
    double_buffered: bool = False
    read_bw: float | None = None
    write_bw: float | None = None
    tensor_bits: tuple[int, ...] = ()
    cap_bits: int | None = None


@dataclass(frozen=True)
class WriteBuffer:
    """An ofmap write buffer: outputs stream through the level to its parent (the level does not keep the ofmap).

    Attributes:
        words: capacity in ofmap words.
        double_buffered: one half fills while the other drains, so a step's output must fit in half.
        read_bw, write_bw: words per cycle per instance (drain side, array side); ``None`` = not a limit.
        bits: word bits of the ofmap at this level.
    """

    words: int
    double_buffered: bool = False
    read_bw: float | None = None
    write_bw: float | None = None
    bits: int = 16

    @property
    def step_words(self) -> int:
        """The most ofmap words one step may emit: the capacity, halved when double-buffered."""
        return self.words // 2 if self.double_buffered else self.words


@dataclass(frozen=True)
class SparseAction:
    """Gating or skipping when an operand in ``condition_on`` is zero (Sparseloop, Wu et al., MICRO 2021, Sec. IV).

    Attributes:
        action: ``gate`` (no energy on the zero case, no cycle saved) or ``skip`` (neither spent).
        condition_on: the operands whose zeros trigger it: one (leader-follower) or both (their intersection).
    """

    action: str
    condition_on: tuple[str, ...]


@dataclass(frozen=True)
class NocLink:
    """The network carrying one tensor from a level to its children.

    Attributes:
        type: ``multicast`` (one parent read serves every child that needs the
            word in a step), ``unicast`` (one read per child) or ``systolic``
            (neighbour to neighbour).
        bw_words: words per cycle on the parent's side (per direction for psums); ``None`` = not a limit.
        energy_pj: per word delivered to or collected from one child.
        reduce_add_pj: per psum add of spatial reduction (ofmap only).
    """

    type: str
    bw_words: float | None
    energy_pj: float
    reduce_add_pj: float = 0.0


@dataclass(frozen=True)
class CartesianArray:
    """Each MAC unit of the array is an F x I multiplier array forming Cartesian products (SCNN:
    Parashar et al., "SCNN: An Accelerator for Compressed-sparse Convolutional Neural Networks",
    ISCA 2017, Sec. III-IV; timing in :mod:`accelsim.cost.cartesian`).

    Per cycle the unit multiplies F filter words by I ifmap words, every pair (all F x I products),
    from the operands of its pass that share the contracted coordinates (g, c); with ``mac.sparse``
    skipping, only the non-zero words.  The products scatter through a crossbar to the accumulator
    banks, one product per bank per cycle.

    Attributes:
        filter_lanes: F, filter words per cycle.
        ifmap_lanes: I, ifmap words per cycle.
        accumulator_banks: banks behind the scatter crossbar (None: no bank limit).
    """

    filter_lanes: int
    ifmap_lanes: int
    accumulator_banks: int | None = None

    @property
    def multipliers(self) -> int:
        return self.filter_lanes * self.ifmap_lanes

    def to_dict(self) -> dict:
        return {"filter_lanes": self.filter_lanes, "ifmap_lanes": self.ifmap_lanes,
                "accumulator_banks": self.accumulator_banks}


@dataclass(frozen=True)
class StorageLevel:
    """One storage level, resolved.

    Attributes:
        name: as the arch file names it.
        index: position, innermost (0) first; DRAM is last.
        keeps: tensors stored here (the others bypass the level).
        partitions: how its capacity is split (one partition = shared).
        instances: copies of the level (product of the fan-outs above it).
        rows, cols: fan-out beneath each instance (children or MAC units).
        fifo: operand FIFOs before the level (no capacity cost).
        energy: per kept tensor, :class:`ActionEnergy`.
        noc: per tensor, the network from this level to its children (a level
            with a fan-out, or a stated 1 x 1 one, has one for every tensor).
        is_dram: the outermost level.
        read_bw, write_bw: words per cycle per instance of one port the
            partitions share (``None``: per-partition ports, or no limit).
        word_bits: bits per word of each tensor at this level (the arch's, unless the
            level states its own, e.g. 16-bit psums in a scratchpad of 8-bit operands).
        write_buffer: the ofmap write buffer (:class:`WriteBuffer`) of a level that
            does not keep the ofmap; ``None`` if it has none.
        formats: per tensor stored compressed, its format as given (``{"type": "rle", "run_bits": 5}``;
            sizes in :mod:`accelsim.cost.formats`); a tensor not listed is dense.
        sparse_reads: per tensor, the :class:`SparseAction` on its reads to the MACs (Eyeriss gates
            filter-scratchpad reads on zero ifmaps).
        queue_depth: operand queue entries per child of this level's fan-out (0: children synchronise
            at every pass; EIE's activation queue; :mod:`accelsim.sim.actual`).
    """

    name: str
    index: int
    keeps: tuple[str, ...]
    partitions: tuple[Partition, ...]
    instances: int
    rows: int
    cols: int
    fifo: bool
    energy: dict
    noc: dict = field(default_factory=dict)
    is_dram: bool = False
    read_bw: float | None = None
    write_bw: float | None = None
    word_bits: dict = field(default_factory=dict)
    write_buffer: WriteBuffer | None = None
    formats: dict = field(default_factory=dict)
    sparse_reads: dict = field(default_factory=dict)
    queue_depth: int = 0

    @property
    def fanout(self) -> int:
        return self.rows * self.cols

    def partition(self, tensor: str) -> Partition:
        """The partition holding ``tensor`` (KeyError if the level does not keep it)."""
        for p in self.partitions:
            if tensor in p.tensors:
                return p
        raise KeyError(tensor)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "keeps": list(self.keeps), "instances": self.instances,
            "fanout": {"rows": self.rows, "cols": self.cols}, "fifo": self.fifo, "word_bits": self.word_bits,
            "read_bw_words_per_cycle": self.read_bw, "write_bw_words_per_cycle": self.write_bw,
            "partitions": [{"tensors": list(p.tensors), "words": p.words, "banks": p.banks,
                            "double_buffered": p.double_buffered, "read_bw_words_per_cycle": p.read_bw,
                            "write_bw_words_per_cycle": p.write_bw} for p in self.partitions],
            "energy_pj_per_word": {t: {"read": e.read_pj, "fill": e.fill_pj, "update": e.update_pj}
                                   for t, e in self.energy.items()},
            "noc": {t: {"type": n.type, "bw_words_per_cycle": n.bw_words, "energy_pj_per_word": n.energy_pj,
                        "reduce_add_pj": n.reduce_add_pj} for t, n in self.noc.items()},
            "write_buffer": None if self.write_buffer is None else {
                "words": self.write_buffer.words, "double_buffered": self.write_buffer.double_buffered,
                "read_bw_words_per_cycle": self.write_buffer.read_bw,
                "write_bw_words_per_cycle": self.write_buffer.write_bw},
            "formats": {t: dict(f) for t, f in self.formats.items()},
            "sparse_reads": {t: {"action": a.action, "condition_on": list(a.condition_on)} for t, a in self.sparse_reads.items()},
            "queue_depth": self.queue_depth,
        }
