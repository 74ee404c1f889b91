"""Regenerate the figures in plots/: MobileNet-v1 on every bundled arch (energy by level and tensor), and on
eyeriss.yaml its cycles and stalls, utilization, roofline and the dataflow comparison; the sparse designs'
per-PE utilization (SCNN, AlexNet with drawn tensors) and speedup against density (SCNN and EIE).

    python plots/regenerate.py            # about a minute on 2 cores

It uses the Python API, as a notebook would (``accelsim.run`` then ``accelsim.plot``).
"""

from __future__ import annotations

from pathlib import Path

import accelsim

HERE = Path(__file__).parent
ARCHS = ["eyeriss", "tpu", "shidiannao", "eyeriss_like", "simple_weight_stationary", "simple_output_stationary",
         "simba_like", "eie", "scnn", "dcnn"]


def main() -> None:
    runs = {}
    for arch in ARCHS:
        runs[arch] = accelsim.run(f"{arch}.yaml", "mobilenet.yaml")
        accelsim.plot(runs[arch], "energy", HERE, formats=("png",), stem=f"mobilenet_{arch}_energy")
        t = runs[arch].totals
        print(f"{arch:26s} {t['latency_s'] * 1e3:9.3f} ms {t['energy_pj'] / 1e6:10.1f} uJ")
    ey = runs["eyeriss"]
    for kind in ("cycles", "utilization", "roofline"):
        accelsim.plot(ey, kind, HERE, formats=("png",), stem=f"mobilenet_eyeriss_{kind}")
    flows = [accelsim.run("eyeriss.yaml", "mobilenet.yaml", dataflow=d) for d in ("ws", "os", "is", "nlr")]
    accelsim.plot(flows[:3] + [ey] + flows[3:], "dataflows", HERE, formats=("png",),
                  stem="mobilenet_eyeriss_dataflows")
    scnn = accelsim.run("scnn.yaml", "alexnet_sparse.yaml", sparse_mode="actual")
    eie = accelsim.run("eie.yaml", "alexnet_fc_sparse.yaml", sparse_mode="actual")
    accelsim.plot(scnn, "pe-busy", HERE, formats=("png",), stem="alexnet_scnn_pe_busy")
    accelsim.plot([scnn, eie], "speedup", HERE, formats=("png",), stem="alexnet_sparse_speedup")


if __name__ == "__main__":
    main()
