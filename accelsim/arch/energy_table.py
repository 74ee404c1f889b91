"""Default energy per action, in pJ per 16-bit word (scaled linearly for other widths).

Relative costs are Eyeriss's normalised figures (Chen, Emer, Sze, ISCA 2016,
Fig. 1 / Table IV in the JSSC 2017 paper): ALU (MAC) 1x, RF 1x, NoC (inter-PE,
array) 2x, GLB 6x, DRAM 200x.  The absolute unit, one 16-bit MAC, is taken
from Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm: 16-bit float
add 0.4 pJ + multiply 1.1 pJ = 1.5 pJ.  Cross-checks against the same source:
GLB 6 x 1.5 = 9 pJ per 16-bit word vs. 20 pJ per 64-bit read of a 32 KB SRAM
(5 pJ/word) to 100 pJ for 1 MB (25 pJ/word); DRAM 200 x 1.5 = 300 pJ per 16-bit
word vs. 1.3-2.6 nJ per 64 bits (325-650 pJ/word).
"""

MAC_UNIT_PJ = 0.4 + 1.1  # Horowitz ISSCC 2014: 16-bit FP add + mult, 45 nm
MAC_PJ = 1.0 * MAC_UNIT_PJ  # Eyeriss ISCA 2016 Fig. 1: ALU 1x
RF_PJ = 1.0 * MAC_UNIT_PJ  # RF 1x
NOC_PJ = 2.0 * MAC_UNIT_PJ  # NoC (inter-PE) 2x
GLB_PJ = 6.0 * MAC_UNIT_PJ  # GLB 6x
DRAM_PJ = 200.0 * MAC_UNIT_PJ  # DRAM 200x

#: One spatial-reduction add of two 16-bit psums: Horowitz ISSCC 2014, FP16 add, 45 nm.
REDUCE_ADD_PJ = 0.4

#: DRAM bandwidth when an arch file gives none: 16 bytes per cycle, i.e. one
#: 64-bit DDR channel at twice the core clock.  Never infinite; the report lists
#: it under ``defaults_used`` so a user sees it was assumed.
DEFAULT_DRAM_BYTES_PER_CYCLE = 16.0
