"""Resolve a validated arch spec: partitions, instances, energies and NoC links with their defaults.

Default energies (pJ per word of the ifmap's width, scaled by the width) come
from :mod:`accelsim.arch.energy_table`: a level inside the PE array (below the
array level) takes the RF figure, the array level and the levels above it the
GLB figure, DRAM the DRAM figure; every default used is listed in
``Architecture.defaults_used`` and so in the report.
"""

from __future__ import annotations

from ..errors import InputError, short
from ..workload.loopnest import TENSORS
from .. import limits as L
from . import energy_table as et
from .schema import ActionEnergySpec, ArchSpec, PerTensorEnergySpec
from .levels import ActionEnergy, CartesianArray, NocLink, Partition, SparseAction, StorageLevel, WriteBuffer
from .precision import PRECISIONS
from .spec import Architecture

RESERVED = ("mac", "noc")


def tensor_name(t: str) -> str:
    """``psum`` is the arch files' other name for the ofmap."""
    return "ofmap" if t == "psum" else t


def _key_tensors(key: str, keeps: tuple[str, ...], src: str, where: str) -> tuple[str, ...]:
    parts = tuple(tensor_name(p.strip()) for p in key.split("+"))
    for p in parts:
        if p not in TENSORS:
            raise InputError(f"{short(p)} is not a tensor (filter, ifmap, ofmap or psum; join several with +)",
                             source=src, field=where)
        if p not in keeps:
            raise InputError(f"{p} is not kept by this level (keeps: {', '.join(keeps)})", source=src, field=where)
    if len(set(parts)) != len(parts):
        raise InputError("a tensor is named twice", source=src, field=where)
    return tuple(t for t in TENSORS if t in parts)


def _per_partition(value, keys: dict, default, src: str, where: str) -> dict:
    """A scalar for every partition, or a dict keyed like ``capacity_words`` (missing keys take ``default``)."""
    if not isinstance(value, dict):
        return {k: value for k in keys.values()}
    out = {k: default for k in keys.values()}
    for k, v in value.items():
        ts = _key_tensors(k, tuple(t for ts in keys.values() for t in ts), src, f"{where}.{k}")
        if ts not in out:
            raise InputError(f"no partition holds exactly {'+'.join(ts)} (partitions: "
                             f"{', '.join('+'.join(p) for p in keys.values())})", source=src, field=f"{where}.{k}")
        out[ts] = v
    return out


def _energy(spec, keeps, default: float, scale: dict, used: list, where: str) -> dict:
    """Per kept tensor, ActionEnergy (pJ per word; defaults scaled by each tensor's width)."""
    out = {}
    for t in keeps:
        if isinstance(spec, PerTensorEnergySpec):
            e = getattr(spec, t) or (getattr(spec, "psum") if t == "ofmap" else None) or ActionEnergySpec()
            name = f"{where}.{t}"
        else:
            e, name = spec, where
        vals = []
        for action in ("read_pj", "fill_pj", "update_pj"):
            v = getattr(e, action)
            if v is None:
                if f"{name}.{action}" not in used:
                    used.append(f"{name}.{action}")
                v = default * scale[t] * e.block
            vals.append(v / e.block)
        out[t] = ActionEnergy(*vals)
    return out


def resolve(s: ArchSpec, src: str, resolved_path: str | None, bundled: bool, form: str) -> Architecture:
    """Build the :class:`Architecture` of a validated spec.

    Raises:
        InputError: duplicate or reserved level names, partitions that do not
            cover the kept tensors, a tensor named twice, too many MAC units.
    """
    used: list[str] = []
    wb = s.word_bits
    bits = {t: wb for t in TENSORS} if isinstance(wb, int) else wb.model_dump()
    scale = {t: bits[t] / 16.0 for t in TENSORS}  # defaults are per 16-bit word; see energy_table
    names = [lv.name for lv in s.levels] + [s.dram.name]
    for i, n in enumerate(names):
        where = f"levels.{i}.name" if i < len(s.levels) else "dram.name"
        if n.lower() in RESERVED:
            raise InputError(f"{short(n)} is reserved for the energy report (MAC, NoC); choose another name",
                             source=src, field=where)
        if n in names[:i]:
            raise InputError(f"level name {short(n)} is used twice", source=src, field=where)
    # instances: product of the fan-outs above (outermost on-chip level has 1)
    inst = [1] * len(s.levels)
    for i in range(len(s.levels) - 2, -1, -1):
        up = s.levels[i + 1].fanout
        inst[i] = inst[i + 1] * up.rows * up.cols
        if inst[i] > L.MAX_MACS_UNITS:
            raise InputError(f"{inst[i]} instances of this level (fan-outs multiplied) exceed "
                             f"{L.MAX_MACS_UNITS} (an input limit; see 'Input limits' in the README)",
                             source=src, field=f"levels.{i}")
    if inst[0] * s.levels[0].fanout.rows * s.levels[0].fanout.cols > L.MAX_MACS_UNITS:
        raise InputError(f"more than {L.MAX_MACS_UNITS} MAC units (an input limit; see 'Input limits' in the README)",
                         source=src, field="levels.0.fanout")
    # a level with a fan-out: more than one child, or a fan-out stated (a 1 x 1 array keeps its NoC)
    declared = [lv.fanout.rows * lv.fanout.cols > 1 or "fanout" in lv.model_fields_set for lv in s.levels]
    with_fanout = [i for i, d in enumerate(declared) if d]
    array = with_fanout[-1] if with_fanout else 0
    levels = []
    for i, lv in enumerate(s.levels):
        where = f"levels.{i}"
        wb = lv.write_buffer
        default_keeps = TENSORS if wb is None else ("filter", "ifmap")
        keeps_raw = [tensor_name(t) for t in (lv.keeps if lv.keeps is not None else default_keeps)]
        if wb is not None and "ofmap" in keeps_raw:
            raise InputError("a level with a write_buffer does not keep the ofmap (its outputs stream through "
                             "the buffer); drop ofmap from keeps, or drop the write_buffer", source=src,
                             field=f"{where}.keeps")
        if len(set(keeps_raw)) != len(keeps_raw):
            raise InputError("a tensor is listed twice", source=src, field=f"{where}.keeps")
        if not keeps_raw:
            raise InputError("keeps no tensor; list at least one, or leave the level out", source=src,
                             field=f"{where}.keeps")
        keeps = tuple(t for t in TENSORS if t in keeps_raw)
        lbits = level_bits(lv.word_bits, bits, src, f"{where}.word_bits")
        if isinstance(lv.capacity_words, dict):
            keys, covered = {}, []
            for k in lv.capacity_words:
                if wb is not None and "ofmap" in [tensor_name(x) for x in k.split("+")]:
                    raise InputError("the ofmap streams through this level's write_buffer; give its space as "
                                     "write_buffer.capacity_words", source=src, field=f"{where}.capacity_words.{k}")
                ts = _key_tensors(k, keeps, src, f"{where}.capacity_words.{k}")
                keys[k] = ts
                covered += ts
            if len(set(covered)) != len(covered):
                raise InputError("a tensor is in two partitions", source=src, field=f"{where}.capacity_words")
            missing = [t for t in keeps if t not in covered]
            if missing:
                raise InputError(f"no partition holds {', '.join(missing)} (kept by this level)", source=src,
                                 field=f"{where}.capacity_words")
            words = {keys[k]: v for k, v in lv.capacity_words.items()}
        else:
            keys = {"+".join(keeps): keeps}
            words = {keeps: lv.capacity_words}
        banks = _per_partition(lv.banks, keys, 1, src, f"{where}.banks")
        db = _per_partition(lv.double_buffered, keys, False, src, f"{where}.double_buffered")
        shared_rd = lv.read_bw_words if not isinstance(lv.read_bw_words, dict) else None
        shared_wr = lv.write_bw_words if not isinstance(lv.write_bw_words, dict) else None
        rd = _per_partition(lv.read_bw_words, keys, None, src, f"{where}.read_bw_words") \
            if isinstance(lv.read_bw_words, dict) else {k: None for k in keys.values()}
        wr = _per_partition(lv.write_bw_words, keys, None, src, f"{where}.write_bw_words") \
            if isinstance(lv.write_bw_words, dict) else {k: None for k in keys.values()}
        parts = tuple(Partition(ts, words[ts], banks[ts], db[ts], rd[ts], wr[ts], tuple(lbits[t] for t in ts),
                                words[ts] * lbits["ifmap" if "ifmap" in ts else ts[0]])
                      for ts in sorted(keys.values(), key=lambda ts: TENSORS.index(ts[0])))
        default_pj = et.RF_PJ if i < array else et.GLB_PJ
        energy = _energy(lv.energy, keeps + (("ofmap",) if wb is not None else ()), default_pj,
                         {t: lbits[t] / 16.0 for t in TENSORS}, used, f"{where}.energy")
        wbuf = None if wb is None else WriteBuffer(wb.capacity_words, wb.double_buffered, wb.read_bw_words,
                                                   wb.write_bw_words, lbits["ofmap"])
        if wbuf is not None and wbuf.step_words < 1:
            raise InputError("a double-buffered write buffer needs at least 2 words", source=src,
                             field=f"{where}.write_buffer.capacity_words")
        noc = _noc(lv, bits, scale, used, src, where) if declared[i] else {}
        if lv.noc is not None and not declared[i]:
            raise InputError("a NoC is stated, but the level has no fan-out (set fanout: {rows, cols})",
                             source=src, field=f"{where}.noc")
        if lv.queue_depth and i != array:
            raise InputError(f"operand queues sit between the PE array's level (levels.{array}) and its PEs; "
                             "give queue_depth there", source=src, field=f"{where}.queue_depth")
        formats = _formats(lv.formats, keeps, src, f"{where}.formats", lbits)
        sparse_reads = {}
        if lv.sparse_reads is not None:
            for t in ("filter", "ifmap"):
                a = getattr(lv.sparse_reads, t)
                if a is None:
                    continue
                if t not in keeps:
                    raise InputError(f"{t} is not kept by this level (keeps: {', '.join(keeps)})", source=src,
                                     field=f"{where}.sparse_reads.{t}")
                sparse_reads[t] = SparseAction(a.action, tuple(dict.fromkeys(a.condition_on)))
        levels.append(StorageLevel(lv.name, i, keeps, parts, inst[i], lv.fanout.rows, lv.fanout.cols, lv.fifo,
                                   energy, noc, False, shared_rd, shared_wr, lbits, wbuf, formats, sparse_reads,
                                   lv.queue_depth))
    d = s.dram
    if d.bw_bytes_per_cycle is not None:
        dram_bw = d.bw_bytes_per_cycle
    elif d.bw_gb_s is not None:
        dram_bw = d.bw_gb_s * 1e9 / (s.clock_mhz * 1e6)
        if dram_bw < 1e-3:
            raise InputError(f"{d.bw_gb_s} GB/s at {s.clock_mhz} MHz is {dram_bw:.3g} bytes/cycle; "
                             "at least 0.001 is needed", source=src, field="dram.bw_gb_s")
    else:
        dram_bw = et.DEFAULT_DRAM_BYTES_PER_CYCLE
        used.append("dram.bw_bytes_per_cycle")
    levels.append(StorageLevel(d.name, len(levels), TENSORS, (Partition(TENSORS, None),), 1, 1, 1, False,
                               _energy(d.energy, TENSORS, et.DRAM_PJ, scale, used, "dram.energy"), {}, True,
                               None, None, dict(bits), None, _formats(d.formats, TENSORS, src, "dram.formats", bits)))
    if s.precision is not None:
        p = PRECISIONS[s.precision]
        off = [t for t in ("filter", "ifmap") if bits[t] != p.bits]
        if off:
            raise InputError(f"precision {p.name} has {p.bits}-bit operands, but word_bits gives the {off[0]} "
                             f"{bits[off[0]]} bits", source=src, field="precision")
    mac_pj = s.mac.energy_pj
    if mac_pj is None and s.precision is not None:
        mac_pj = PRECISIONS[s.precision].mac_pj
        used.append(f"mac.energy_pj ({s.precision}: Horowitz ISSCC 2014)")
    elif mac_pj is None:
        mac_pj = et.MAC_PJ * scale["ifmap"]
        used.append("mac.energy_pj")
    ms = s.mac.sparse
    return Architecture(
        name=s.name or src, source=s.source, path=src, clock_mhz=s.clock_mhz, default_dataflow=s.default_dataflow,
        levels=tuple(levels), word_bits=bits, mac_pj=mac_pj, dram_bw_bytes_per_cycle=dram_bw,
        dram_latency_cycles=d.latency_cycles, defaults_used=tuple(used), form=form,
        resolved_path=resolved_path, bundled=bundled, precision=s.precision,
        mac_sparse=None if ms is None else SparseAction(ms.action, tuple(dict.fromkeys(ms.condition_on))),
        mac_check_pj=s.mac.check_pj, compressed_fit=s.compressed_fit,
        mac_cartesian=None if s.mac.cartesian is None else CartesianArray(**s.mac.cartesian.model_dump()),
    )


def _formats(spec, keeps, src: str, where: str, bits: dict) -> dict:
    """Per tensor a level stores compressed, its format as a plain dict (the fields given, with ``type``)."""
    out = {}
    if spec is None:
        return out
    if spec.ofmap is not None and spec.psum is not None:
        raise InputError("give ofmap or psum, not both", source=src, field=where)
    for t in TENSORS:
        f = getattr(spec, t) or (spec.psum if t == "ofmap" else None)
        if f is None:
            continue
        if t not in keeps:
            raise InputError(f"{t} is not kept by this level (keeps: {', '.join(keeps)})", source=src,
                             field=f"{where}.{t}")
        if f.type == "eyeriss_rlc" and bits[t] > 16:
            raise InputError(f"Eyeriss's run-length code stores 16-bit levels; the {t} is {bits[t]} bits here",
                             source=src, field=f"{where}.{t}.type")
        out[t] = f.model_dump(exclude_none=True)
    return out


def level_bits(spec, bits: dict, src: str, where: str) -> dict:
    """A level's word bits per tensor: the arch's, overridden by the level's own ``word_bits``."""
    if spec is None:
        return dict(bits)
    if isinstance(spec, int):
        return {t: spec for t in TENSORS}
    if spec.ofmap is not None and spec.psum is not None:
        raise InputError("give ofmap or psum, not both", source=src, field=where)
    own = {"filter": spec.filter, "ifmap": spec.ifmap, "ofmap": spec.ofmap if spec.ofmap is not None else spec.psum}
    return {t: own[t] if own[t] is not None else bits[t] for t in TENSORS}


def _noc(lv, bits, scale, used, src, where) -> dict:
    """Per tensor, the NoC beneath a level with a fan-out (every tensor crosses it on its way to the MACs)."""
    spec = lv.noc
    out = {}
    for t in TENSORS:
        link = None
        if spec is not None:
            link = getattr(spec, t) or (spec.psum if t == "ofmap" else None)
            if t == "ofmap" and spec.ofmap is not None and spec.psum is not None:
                raise InputError("give ofmap or psum, not both", source=src, field=f"{where}.noc")
        name = f"{where}.noc.{'ofmap' if t == 'ofmap' else t}"
        typ = link.type if link else "multicast"
        bw = link.bw_words if link and link.bw_words is not None else None
        if bw is None:
            used.append(f"{name}.bw_words (unbounded)")
        e = link.energy_pj if link and link.energy_pj is not None else None
        if e is None:
            used.append(f"{name}.energy_pj")
            e = et.NOC_PJ * scale[t]
        add = 0.0
        if t == "ofmap":
            add = link.reduce_add_pj if link and link.reduce_add_pj is not None else None
            if add is None:
                used.append(f"{name}.reduce_add_pj")
                add = et.REDUCE_ADD_PJ * bits["ofmap"] / 16
        elif link and link.reduce_add_pj is not None:
            raise InputError("only the ofmap (psum) network reduces", source=src, field=f"{name}.reduce_add_pj")
        out[t] = NocLink(typ, bw, e, add)
    return out
