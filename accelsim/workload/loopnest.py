"""The canonical convolution loop nest and its tensor projections.

Notation follows Eyeriss (Chen et al., ISCA 2016) and Timeloop (Parashar et
al., ISPASS 2019): N batch, G groups, M output channels per group, C input
channels per group, P x Q output height x width, R x S filter height x width.

Tensors and projections (one iteration point (n, g, m, c, p, q, r, s)):

* filter  [G, M, C, R, S]       -> (g, m, c, r, s)
* ifmap   [N, G*C, H, W]        -> (n, g*C + c, p*Hstride + r*Hdil - pad_top,
                                                 q*Wstride + s*Wdil - pad_left)
* ofmap   [N, G*M, P, Q]        -> (n, g*M + m, p, q)

Padding is not stored: an ifmap index outside [0, H) x [0, W) is a padding
zero that is never fetched (the project's design notes, "Padding").
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIMS: tuple[str, ...] = ("N", "G", "M", "C", "P", "Q", "R", "S")
TENSORS: tuple[str, ...] = ("filter", "ifmap", "ofmap")

#: Problem dimensions that index each tensor (its "relevant" dims).
RELEVANT: dict[str, frozenset[str]] = {
    "filter": frozenset("GMCRS"),
    "ifmap": frozenset("NGCPQRS"),
    "ofmap": frozenset("NGMPQ"),
}

#: Tensor dimensions (coordinates) and the problem dims that feed each.  Every
#: problem dim feeds at most one coordinate of a tensor, which is what lets the
#: cost model factorise its counts per coordinate.
COORDS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "filter": (("g", ("G",)), ("m", ("M",)), ("c", ("C",)), ("r", ("R",)), ("s", ("S",))),
    "ifmap": (("n", ("N",)), ("ch", ("G", "C")), ("h", ("P", "R")), ("w", ("Q", "S"))),
    "ofmap": (("n", ("N",)), ("ch", ("G", "M")), ("p", ("P",)), ("q", ("Q",))),
}


def out_size(in_size: int, kernel: int, stride: int, pad_lo: int, pad_hi: int, dilation: int) -> int:
    """Output extent by the PyTorch/ONNX floor rule.

    P = floor((H + pad_lo + pad_hi - dilation*(R-1) - 1) / stride) + 1
    (PyTorch ``Conv2d`` documentation, "Shape"; ONNX ``Conv`` operator).
    May be <= 0 for an impossible layer; callers check.
    """
    return (in_size + pad_lo + pad_hi - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True)
class LoopNest:
    """One layer as the 8-deep loop nest N, G, M, C, P, Q, R, S.

    Attributes:
        dims: loop bounds per dimension (all >= 1).
        H, W: real ifmap height and width in words (without padding).
        stride: (Hstride, Wstride).
        dilation: (Hdil, Wdil).
        padding: (top, bottom, left, right) zero padding, not stored.
        density: (filter, ifmap, ofmap) fraction of non-zero words, 1.0 = dense
            (:mod:`accelsim.workload.density`); part of the key, so layers of one shape
            but other densities are evaluated apart.
        host_ifmap: the ifmap is the network's input, in DRAM as the host wrote it (uncompressed:
            a DRAM format, which encodes what the accelerator writes, does not apply to it).
    """

    dims: dict[str, int]
    H: int
    W: int
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    density: tuple[float, float, float] = (1.0, 1.0, 1.0)
    host_ifmap: bool = False
    key: tuple = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "key",
            (tuple(self.dims[d] for d in DIMS), self.H, self.W, self.stride, self.dilation, self.padding,
             self.density, self.host_ifmap),
        )

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LoopNest) and self.key == other.key

    @property
    def dense(self) -> bool:
        """Every operand dense (density 1)."""
        return self.density == (1.0, 1.0, 1.0)

    def density_of(self, tensor: str) -> float:
        """Fraction of non-zero words of ``tensor``."""
        return self.density[TENSORS.index(tensor)]

    @property
    def macs(self) -> int:
        """Multiply-accumulates: N*G*M*C*P*Q*R*S."""
        n = 1
        for d in DIMS:
            n *= self.dims[d]
        return n

    def tensor_words(self, tensor: str) -> int:
        """Distinct words of a whole tensor (ifmap: the real H x W, no padding)."""
        d = self.dims
        if tensor == "filter":
            return d["G"] * d["M"] * d["C"] * d["R"] * d["S"]
        if tensor == "ifmap":
            return d["N"] * d["G"] * d["C"] * self.rows_used() * self.cols_used()
        if tensor == "ofmap":
            return d["N"] * d["G"] * d["M"] * d["P"] * d["Q"]
        raise KeyError(tensor)

    def rows_used(self) -> int:
        """Ifmap rows (of H) that some output actually reads (strides may skip rows)."""
        return len(self.h_index_set(0, self.dims["P"], 0, self.dims["R"]))

    def cols_used(self) -> int:
        """Ifmap columns (of W) that some output actually reads."""
        return len(self.w_index_set(0, self.dims["Q"], 0, self.dims["S"]))

    def h_index_set(self, p0: int, pn: int, r0: int, rn: int) -> frozenset[int]:
        """Real ifmap rows read by outputs p in [p0, p0+pn) and filter rows r in [r0, r0+rn)."""
        return _window(p0, pn, r0, rn, self.stride[0], self.dilation[0], self.padding[0], self.H)

    def w_index_set(self, q0: int, qn: int, s0: int, sn: int) -> frozenset[int]:
        """Real ifmap columns read by outputs q in [q0, q0+qn) and filter cols s in [s0, s0+sn)."""
        return _window(q0, qn, s0, sn, self.stride[1], self.dilation[1], self.padding[2], self.W)

    def project(self, tensor: str, pt: dict[str, int]) -> tuple[int, ...] | None:
        """Tensor coordinate of one iteration point; ``None`` for a padding zero of the ifmap."""
        if tensor == "filter":
            return (pt["G"], pt["M"], pt["C"], pt["R"], pt["S"])
        if tensor == "ofmap":
            return (pt["N"], pt["G"] * self.dims["M"] + pt["M"], pt["P"], pt["Q"])
        h = pt["P"] * self.stride[0] + pt["R"] * self.dilation[0] - self.padding[0]
        w = pt["Q"] * self.stride[1] + pt["S"] * self.dilation[1] - self.padding[2]
        if 0 <= h < self.H and 0 <= w < self.W:
            return (pt["N"], pt["G"] * self.dims["C"] + pt["C"], h, w)
        return None

    def describe(self) -> str:
        """Short shape string, e.g. ``N1 G1 M32 C3 P112 Q112 R3 S3 /2``."""
        s = " ".join(f"{d}{self.dims[d]}" for d in DIMS)
        if self.stride != (1, 1):
            s += f" /{self.stride[0]}" if self.stride[0] == self.stride[1] else f" /{self.stride}"
        return s


def _window(o0: int, on: int, k0: int, kn: int, stride: int, dil: int, pad: int, size: int) -> frozenset[int]:
    return frozenset(
        x
        for o in range(o0, o0 + on)
        for k in range(k0, k0 + kn)
        if 0 <= (x := o * stride + k * dil - pad) < size
    )
