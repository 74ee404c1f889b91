"""Documented upper bounds on every input, with the reason for each.

A value over a bound is an :class:`~accelsim.errors.InputError` naming the
field and the bound (exit code 2), never a hang, a traceback or an
overflow.  The bounds are far above any real accelerator or network (the
largest bundled figures are given for scale); they exist so that time,
memory and every reported figure stay finite and bounded.  README section
"Input limits" lists them for users.
"""

from __future__ import annotations

# ---- files
#: Largest input file read, in bytes (the bundled files are under 20 kB).
MAX_FILE_BYTES = 16 * 2**20
#: Largest ONNX model read, in bytes (protobuf's own limit on one message is 2 GiB).
MAX_ONNX_BYTES = 2**31 - 1
#: Deepest YAML nesting (bundled files nest 4 deep); PyYAML's composer recurses per level.
MAX_YAML_DEPTH = 64
#: YAML nodes once aliases are expanded (billion-laughs guard); a 10,000-layer network needs ~200,000.
MAX_YAML_NODES = 1_000_000

# ---- workload
#: Any loop bound (N, G, M, C, P, Q, R, S), channel count, input extent, kernel, stride, dilation,
#: padding or batch: 2**31, the int32 range that every peer tool (Timeloop, SCALE-Sim) assumes.
MAX_DIM = 2**31
#: ``--batch``: the same bound as any loop bound.
MAX_BATCH = MAX_DIM
#: MACs of one layer, and of a whole network: 1e18 (GPT-3 training is ~3e23 FLOP over many steps;
#: the largest bundled network, VGG-16, has 1.5e10).  Keeps every count exact in 64-bit integers.
MAX_MACS = 10**18
#: Layers in one workload (ResNet-152 has ~500 with its adds).
MAX_LAYERS = 10_000

# ---- architecture
#: PE rows and columns each (the TPU-v1-like bundled array is 256 x 256).
MAX_PE_SIDE = 4096
#: Storage levels on chip (between the MACs and DRAM); the nest grows with each level.
MAX_LEVELS = 8
#: MAC units in all: instances x fan-outs (a 4096 x 4096 array is 2**24).
MAX_MACS_UNITS = 2**24
#: Words of any buffer (2**40 words = 2 TB of 16-bit words).
MAX_WORDS = 2**40
#: GLB banks.
MAX_BANKS = 2**16
#: Bits of one word of a tensor (FP64 is the widest scalar type in use).
MAX_WORD_BITS = 64
#: Words of one vector access in an energy table (Accelergy's block size).
MAX_BLOCK = 2**16
#: On-chip bandwidth, words per cycle (per link or port).
MAX_BW_WORDS = 2.0**20
#: DRAM bandwidth: bytes per cycle, and GB/s (1 PB/s; HBM3 stacks give ~1 TB/s).
MAX_DRAM_BYTES_PER_CYCLE = 2.0**20
MAX_DRAM_GB_S = 1e6
#: Clock in MHz (100 GHz).
MAX_CLOCK_MHZ = 1e5
#: DRAM latency per transfer, cycles.
MAX_LATENCY_CYCLES = 10**6
#: Energy of one action (MAC, word read/write, NoC word, add), pJ: 1 uJ, ~1,000x a DRAM word.
MAX_ENERGY_PJ = 1e6

# ---- search and run
#: Mappings evaluated per layer (``--budget``): at ~4,000 mappings/s this is under half a minute per
#: distinct layer, and the search keeps only the best evaluation, so memory does not grow with it.
MAX_BUDGET = 100_000
#: Worker processes (``--jobs``); more only costs memory.
MAX_JOBS = 64
#: Candidates per layer ``--confirm`` may re-rank by simulation (each one is a simulation).
MAX_CONFIRM = 1_000
