"""A mapping: how one layer's loop nest is tiled, ordered and unrolled.

The mapped nest has five loop levels, outermost first::

    DRAM   temporal loops (order ``dram_order``)   -- tiles of the GLB
    GLB    temporal loops (order ``glb_order``)    -- tiles of each PE's RF
    rows   spatial loops across PE-array rows      -- "spatial_for" in the printout
    cols   spatial loops across PE-array columns
    RF     temporal loops inside a PE (order ``rf_order``), one MAC per cycle

For every dimension the factors multiply to the layer's bound exactly
(perfect factorisation, as Timeloop's default), so every iteration point is
visited exactly once.  An index in dimension d is the mixed-radix number
``((((dram*glb_f + glb)*row_f + row)*col_f + col)*rf_f + rf)``; inner levels
are the less significant digits, so the tile a level holds is a contiguous
range in each dimension (Timeloop's "tiling", Parashar et al., ISPASS 2019,
section III).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..workload.loopnest import DIMS, LoopNest

LEVELS: tuple[str, ...] = ("dram", "glb", "rows", "cols", "rf")
TEMPORAL: tuple[str, ...] = ("dram", "glb", "rf")


@dataclass(frozen=True)
class Mapping:
    """Factors per level and dimension, plus a loop order per temporal level.

    Attributes:
        factors: ``{level: {dim: factor}}`` for every level in LEVELS and
            every dim in DIMS (factor 1 = no loop).
        orders: ``{level: tuple of dims}`` outermost first, for each temporal level.
    """

    factors: dict[str, dict[str, int]]
    orders: dict[str, tuple[str, ...]]
    key: tuple = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        k = tuple(tuple(self.factors[l][d] for d in DIMS) for l in LEVELS) + tuple(
            self.nonunit_order(l) for l in TEMPORAL
        )
        object.__setattr__(self, "key", k)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and self.key == other.key

    def nonunit_order(self, level: str) -> tuple[str, ...]:
        """Loop order at a temporal level, loops with factor 1 dropped."""
        return tuple(d for d in self.orders[level] if self.factors[level][d] > 1)

    def extent(self, dim: str, levels: tuple[str, ...]) -> int:
        """Product of the factors of ``dim`` over ``levels``."""
        n = 1
        for l in levels:
            n *= self.factors[l][dim]
        return n

    @property
    def active_pes(self) -> int:
        """PEs that receive work: product of all spatial factors."""
        n = 1
        for l in ("rows", "cols"):
            for d in DIMS:
                n *= self.factors[l][d]
        return n

    def spatial(self, axis: str) -> int:
        """PEs used along one axis (``rows`` or ``cols``)."""
        n = 1
        for d in DIMS:
            n *= self.factors[axis][d]
        return n

    @property
    def temporal_steps(self) -> int:
        """Compute cycles if every PE does one MAC per cycle: product of temporal factors."""
        n = 1
        for l in TEMPORAL:
            for d in DIMS:
                n *= self.factors[l][d]
        return n

    def check(self, nest: LoopNest) -> None:
        """Raise ValueError unless the factors of each dim multiply to its bound."""
        for d in DIMS:
            if self.extent(d, LEVELS) != nest.dims[d]:
                got = " x ".join(str(self.factors[l][d]) for l in LEVELS)
                raise ValueError(f"factors of {d} ({got}) multiply to {self.extent(d, LEVELS)}, not {nest.dims[d]}")

    def loops(self) -> list[tuple[str, str, int]]:
        """The nest as (level, dim, factor) outermost first, factor-1 loops dropped."""
        out = []
        for l in LEVELS:
            order = self.orders[l] if l in self.orders else DIMS
            for d in order:
                if self.factors[l][d] > 1:
                    out.append((l, d, self.factors[l][d]))
        return out

    def to_text(self) -> str:
        """Timeloop-style printable loop nest, one line per loop, level by level."""
        names = {"dram": "DRAM", "glb": "GLB", "rows": "PE rows", "cols": "PE cols", "rf": "RF"}
        lines, indent = [], 0
        for l in LEVELS:
            if l in ("dram", "glb", "rf"):
                lines.append("  " * indent + f"{names[l]} " + "-" * 8)
            order = self.orders[l] if l in self.orders else DIMS
            for d in order:
                f = self.factors[l][d]
                if f > 1:
                    kw = "spatial_for" if l in ("rows", "cols") else "for"
                    tag = f"  ({names[l]})" if l in ("rows", "cols") else ""
                    lines.append("  " * indent + f"| {kw} {d.lower()}_{l} in [0:{f}){tag}")
                    indent += 1
        lines.append("  " * indent + "|   MAC")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-able form: factors per level (only non-1) and loop orders."""
        return {
            "factors": {l: {d: f for d, f in self.factors[l].items() if f > 1} for l in LEVELS},
            "orders": {l: list(self.nonunit_order(l)) for l in TEMPORAL},
        }


def make_mapping(factors: dict[str, dict[str, int]], orders: dict[str, tuple[str, ...]] | None = None) -> Mapping:
    """Build a Mapping, filling absent levels/dims with 1 and absent orders with DIMS order.

    An order may list only some dims; the unlisted ones are placed outside
    them (they are typically factor-1 loops).
    """
    full = {l: {d: int(factors.get(l, {}).get(d, 1)) for d in DIMS} for l in LEVELS}
    ords = {}
    for l in TEMPORAL:
        given = tuple(orders.get(l, ())) if orders else ()
        ords[l] = tuple(d for d in DIMS if d not in given) + given
    return Mapping(full, ords)
