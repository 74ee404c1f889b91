"""An ONNX graph's input sizes: ``--input-shape`` parsed and applied to dynamic graph inputs."""

from __future__ import annotations

import re

from ..errors import InputError, short


def parse_input_shape(text: str | None) -> list[int] | None:
    """``--input-shape 1x3x224x224`` (or ``1,3,224,224``) as a list of ints; None if not given."""
    if text is None:
        return None
    parts = re.split(r"[x,]", text.strip())
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        dims = []
    if not dims or any(d < 1 for d in dims):
        raise InputError(f"expected sizes like 1x3x224x224, got {short(text)}", field="--input-shape")
    return dims


def fix_inputs(display, inputs, given):
    """Set the dynamic sizes of the graph inputs from ``given`` (``--input-shape``), in place.

    Raises:
        InputError: dynamic sizes and nothing given, or ``given`` of another rank or disagreeing with
            a fixed size.
    """
    for k, inp in enumerate(inputs):
        dims = inp.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") and d.dim_value > 0 for d in dims):
            continue
        if given is None or k > 0:
            shown = "x".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in dims)
            raise InputError(f"graph input {short(inp.name)} has dynamic sizes ({shown}); give them with "
                             "--input-shape, e.g. --input-shape 1x3x224x224", source=display)
        if len(given) != len(dims):
            raise InputError(f"--input-shape has {len(given)} sizes, but graph input {short(inp.name)} has "
                             f"{len(dims)} dims", source=display, field="--input-shape")
        for d, v in zip(dims, given):
            if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != v:
                raise InputError(f"--input-shape gives {v} where graph input {short(inp.name)} fixes "
                                 f"{d.dim_value}", source=display, field="--input-shape")
            d.dim_value = v


def dims_of(v) -> list[int] | None:
    """A value's static sizes, or None when any is unknown."""
    t = v.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = [d.dim_value if d.HasField("dim_value") else 0 for d in t.shape.dim]
    return out if all(x > 0 for x in out) else None
