"""Timeloop problem files -> accelsim workload data (one independent conv layer).

Read forms: ``problem: {shape: ..., instance: {C: 64, M: 128, ...}}`` (Timeloop 0.3+, and the 0.4
format's ``problem.instance``) and the older flat ``problem: {C: 64, M: 128, ...}``.  Dims: N, G, C, M,
R, S, P, Q (absent ones are 1) and the coefficients Wstride, Hstride, Wdilation, Hdilation (default 1).

Conventions (Timeloop's ``cnn-layer`` problem shape): the Inputs' projections are
``R * Wdilation + P * Wstride`` and ``S * Hdilation + Q * Hstride``, so Timeloop's R and P run along the
width and S and Q along the height; accelsim's R and P run along the height (its ``stride: [h, w]``).
So accelsim's (R, S, P, Q) are Timeloop's (S, R, Q, P).  A Timeloop problem has no padding: the input is
exactly the window the outputs need, H = (Q - 1) Hstride + (S - 1) Hdilation + 1 and likewise W.  With G,
the channels and filters named are per group (the grouped-cnn-layer shape).
"""

from __future__ import annotations

from ..errors import InputError

DIMS = ("N", "G", "C", "M", "R", "S", "P", "Q")
COEFFICIENTS = ("Wstride", "Hstride", "Wdilation", "Hdilation")


def is_timeloop_problem(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("problem"), dict)


def timeloop_workload(display: str, data: dict, name: str | None = None) -> dict:
    """The workload data of a Timeloop problem file (module doc).

    Raises:
        InputError: a dim or coefficient that is not a positive integer, an unknown key in the
            instance, or no instance at all; naming the field.
    """
    prob = data["problem"]
    where = "problem.instance" if isinstance(prob.get("instance"), dict) else "problem"
    inst = prob["instance"] if where == "problem.instance" else {k: v for k, v in prob.items() if k != "shape"}
    known = set(DIMS) | set(COEFFICIENTS) | {"densities", "version"}
    for k in inst:
        if k not in known:
            raise InputError(f"unknown key {k!r}; a Timeloop problem instance has {', '.join(DIMS + COEFFICIENTS)}",
                             source=display, field=f"{where}.{k}")
    v = {}
    for k in DIMS + COEFFICIENTS:
        x = inst.get(k, 1)
        if isinstance(x, bool) or not isinstance(x, int) or x < 1:
            raise InputError(f"must be a positive integer, got {x!r}", source=display, field=f"{where}.{k}")
        v[k] = x
    if not any(k in inst for k in DIMS):
        raise InputError("has no dims (N, G, C, M, R, S, P, Q)", source=display, field=where)
    # accelsim (height first) from Timeloop (R, P along the width; S, Q along the height)
    r, s, p, q = v["S"], v["R"], v["Q"], v["P"]
    sh, sw, dh, dw = v["Hstride"], v["Wstride"], v["Hdilation"], v["Wdilation"]
    h, w = (p - 1) * sh + (r - 1) * dh + 1, (q - 1) * sw + (s - 1) * dw + 1
    g = v["G"]
    shape = prob.get("shape")
    sname = shape.get("name") if isinstance(shape, dict) else shape
    layer = {"name": name or "layer", "type": "conv2d",
             "input": {"channels": g * v["C"], "height": h, "width": w}, "out_channels": g * v["M"],
             "kernel": [r, s], "stride": [sh, sw], "dilation": [dh, dw], "groups": g}
    return {"name": name or display, "source": f"imported from the Timeloop problem {display}"
            + (f" (shape {sname})" if sname else ""), "batch": v["N"], "independent": True, "layers": [layer]}
