"""Recurrent layers (LSTM, GRU) unrolled over their time steps into gate matmuls and cell updates.

A workload layer ``{type: lstm, input_size: I, hidden: H, steps: T, rows: B}`` (or ``gru``) becomes,
for each step t = 1..T:

* one ``matmul`` per gate, [B x (I + H)] . [(I + H) x H]: the gate's input and recurrent products on
  the concatenated [x_t, h_{t-1}] (LSTM: gates i, f, g, o; GRU: r, z, n).  The first step's gates hold
  the weights (and, with ``bias``, the two bias vectors b_ih and b_hh of PyTorch's and ONNX's cells);
  later steps name them in ``weights_of``, so parameters count once.  A layer given ``weights_of:
  <an earlier lstm>`` (a decoder run once per manoeuvre class) reuses that one's weights at every step;
* one ``elementwise`` cell update reading the step's gates (c_t = f * c_{t-1} + i * g, h_t = o *
  tanh(c_t); GRU: h_t = (1 - z) * n + z * h_{t-1}), no MACs.

Per step the MACs are B (I + H) H per gate: 4 B (I + H) H for an LSTM, 3 B (I + H) H for a GRU
(Hochreiter & Schmidhuber 1997; Cho et al. 2014; the GRU's reset gate multiplies h_{t-1} R_n, the
same count).  The last step's cell update carries the layer's own name, so later layers read the
final hidden state h_T by that name; step t's is ``<name>.t<t>`` and its gates ``<name>.t<t>.<gate>``.
The gates read no layer (``inputs: []``): x_t and h_{t-1} are not separate layers of the file.
"""

from __future__ import annotations

from typing import Literal

from .layers import Size, Strict

GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


class RecurrentSpec(Strict):
    """An LSTM or GRU layer of a workload file (module doc); sizes in elements."""

    type: Literal["lstm", "gru"]
    name: str | None = None
    input_size: Size
    hidden: Size
    steps: Size
    rows: Size = 1  # sequences run together: the batch (times the vehicles, for a trajectory encoder)
    bias: bool = True
    inputs: list[str] | None = None  # for the graph only: the layers its x_t come from
    weights_of: str | None = None  # an earlier lstm (gru) layer whose weights this one reuses
    density: dict | None = None


def unroll(spec: RecurrentSpec, default_name: str) -> list[dict]:
    """The raw layer dicts of ``spec`` unrolled (module doc), in execution order."""
    name = spec.name or default_name
    out = []
    inner = spec.input_size + spec.hidden
    for t in range(1, spec.steps + 1):
        gates = []
        for g in GATES[spec.type]:
            lname = f"{name}.t{t}.{g}"
            layer = {"name": lname, "type": "matmul", "rows": spec.rows, "inner": inner, "cols": spec.hidden,
                     "inputs": []}
            if t == 1 and spec.weights_of is None:
                layer["bias"] = 2 if spec.bias else False
            else:
                layer["weights_of"] = f"{spec.weights_of or name}.t1.{g}"
            if spec.density is not None:
                layer["density"] = spec.density
            out.append(layer)
            gates.append(lname)
        out.append({"name": name if t == spec.steps else f"{name}.t{t}", "type": "elementwise",
                    "op": f"{spec.type}_cell", "inputs": gates})
    return out


def is_recurrent(raw) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("type"), str) and raw["type"] in GATES

