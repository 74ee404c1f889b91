"""Run statistics of run-length and relative-index formats (:mod:`.formats`): entries per fiber, exact
for a concrete tile and expected under independent non-zeros.

Padding (run-length and relative indices): a run field of b bits counts up to K - 1 zeros, K = 2**b.
A gap of G zeros before a non-zero is bridged by floor(G / K) padding entries (value 0, run K - 1),
each covering K positions (EIE: "if more than 15 zeros appear before a non-zero entry we add a zero in
vector v", with 4-bit relative indices).  Zeros after a fiber's last non-zero need no entry (the
decoder knows ``fiber_len``).

Expected entries of a run-based fiber, q = 1 - density: the gap G before a non-zero at position p has
P(G >= k) = q**k for k <= p (the fiber starts at 0), so E[floor(G / K)] = sum_{j=1}^{floor(p/K)} q**(jK),
and summing over the n positions, each non-zero with probability d,

    E[E] = n d + d * sum_{j=1}^{floor((n-1)/K)} (n - jK) q**(jK)         (exact for finite fibers).

As n grows this tends to the per-gap form n d (1 + q**K / (1 - q**K)) = n d / (1 - q**K) (an infinite
fiber, every gap geometric; :func:`infinite_fiber_run_entries`), which overestimates short fibers
because it ignores that the gap before a fiber's first non-zero is cut at the fiber start.

Eyeriss RLC packs (run, level) pairs three to a 64-bit word (the spare bit flags the code's last word),
so a fiber takes ceil(E / 3) words; its expectation is :func:`expected_ceil_words`.
"""

from __future__ import annotations

import math

import numpy as np


def expected_run_entries(fiber_len: int, density: float, run_bits: int) -> float:
    """Expected entries (non-zeros + padding zeros) of one fiber with a ``run_bits`` run field.

    Exact for a finite fiber under independent non-zeros (module docstring).  The sum is cut where
    q**(jK) underflows, so its cost is at most min(fiber_len / 2**run_bits, 800 / (2**run_bits * d)).
    """
    n, d = fiber_len, density
    if n == 0 or d == 0.0:
        return 0.0
    if d == 1.0:
        return float(n)
    k = 2 ** run_bits
    j_max = (n - 1) // k
    if j_max == 0:
        return n * d
    log_q = math.log1p(-d)
    cut = 800.0 / (k * -log_q)                        # q**(jK) < 1e-347 beyond: underflows to 0
    if cut < j_max:
        j_max = int(cut) + 1
    j = np.arange(1, j_max + 1, dtype=np.float64)
    return n * d + d * float(np.sum((n - j * k) * np.exp(j * k * log_q)))


def infinite_fiber_run_entries(fiber_len: int, density: float, run_bits: int) -> float:
    """The per-gap approximation n d / (1 - q**K): every gap geometric, as in an infinite fiber.

    Its limit agrees with :func:`expected_run_entries` for long fibers; kept to document the
    approximation's bias on short ones (tests/test_formats.py).
    """
    if fiber_len == 0 or density == 0.0:
        return 0.0
    if density == 1.0:
        return float(fiber_len)
    return fiber_len * density / -math.expm1(2 ** run_bits * math.log1p(-density))


def run_entries(nonzero: np.ndarray, run_bits: int) -> np.ndarray:
    """Exact entries per fiber of a boolean (fibers, fiber_len) array: z + sum over gaps floor(G / K)."""
    rows, cols = np.nonzero(nonzero)
    prev = np.full(cols.shape, -1, dtype=np.int64)
    same = rows[1:] == rows[:-1]                      # np.nonzero lists positions row by row, in order
    prev[1:][same] = cols[:-1][same]
    gaps = cols - prev - 1
    padding = gaps >> run_bits if run_bits < 63 else np.zeros_like(gaps)  # gaps < 2**63
    return np.bincount(rows, weights=1 + padding, minlength=nonzero.shape[0]).astype(np.int64)


def expected_ceil_words(n: int, d: float, entries: float, k: int) -> float:
    """E[ceil(X / k)] for the entries X of one fiber of ``n`` words at density ``d`` (E[X] = ``entries``).

    X is the binomial count B of non-zeros plus padding entries (rare: one per 2**run_bits zeros in a
    row), whose mean ``entries - n d`` adds its share / k.  When B spreads over many values (variance
    > 25) its residues mod k are close to uniform, so ceil adds (k - 1) / 2 entries on average:
    (E[X] + (k - 1) / 2) / k; otherwise the sum over B's binomial distribution is taken exactly.
    """
    if d <= 0.0 or n == 0:
        return 0.0
    if d >= 1.0:
        return float(-(-n // k))
    pad = max(0.0, entries - n * d)
    var = n * d * (1.0 - d)
    if var > 25.0:
        return (entries + (k - 1) / 2) / k
    mean, sd = n * d, var ** 0.5
    lo, hi = max(0, int(mean - 12 * sd) - 2), min(n, int(mean + 12 * sd) + 2)
    b = np.arange(lo, hi + 1)
    logpmf = (math.lgamma(n + 1) - np.array([math.lgamma(x + 1) + math.lgamma(n - x + 1) for x in b])
              + b * math.log(d) + (n - b) * math.log1p(-d))
    pmf = np.exp(logpmf)
    return float((pmf * -(-b // k)).sum() + pad / k)
