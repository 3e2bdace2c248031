"""Polynomials for the Danskin oracle (problems.adversarial.danskin): :class:`NumPoly`
(float64 evaluation of a sympy polynomial on a batch of points, no lambdify) and the exact and
numeric univariate maximisation the oracle is built on."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import sympy as sp

PRECISION = 50  # digits for evaluating algebraic maximisers
TIE = sp.Float("1e-40", PRECISION)  # values closer than this at 50 digits are ties (exact ties: 0)


# -------------------------------------------------------- numeric polynomials
class NumPoly:
    """Σₜ cₜ Πᵢ vᵢ^{eₜᵢ} with float coefficients, evaluated on a batch V (..., k)."""

    def __init__(self, monoms: np.ndarray, coeffs: np.ndarray, nvars: int):
        self.coeffs = np.asarray(coeffs, dtype=float)
        self.monoms = np.asarray(monoms, dtype=int).reshape(len(self.coeffs), nvars)

    @classmethod
    def of(cls, P: sp.Poly) -> "NumPoly":
        terms = P.terms()
        terms = [(m, c) for m, c in terms if c != 0]
        return cls(np.array([m for m, _ in terms], dtype=int), np.array([float(c) for _, c in terms]), len(P.gens))

    def __call__(self, V) -> np.ndarray:
        V = np.asarray(V, dtype=float)
        if len(self.coeffs) == 0:
            return np.zeros(V.shape[:-1])
        return np.prod(V[..., None, :] ** self.monoms, axis=-1) @ self.coeffs

    def diff(self, i: int) -> "NumPoly":
        e = self.monoms[:, i]
        keep = e > 0
        m = self.monoms[keep].copy()
        m[:, i] -= 1
        return NumPoly(m, self.coeffs[keep] * e[keep], self.monoms.shape[1])


# ------------------------------------------------------------ exact and numeric helpers
def exact(v):
    """Integers and sympy numbers as they are; a float as its exact binary value."""
    if isinstance(v, (float, np.floating)):
        return sp.Rational(float(v))
    return sp.S(v)


def rows_xy(xf: np.ndarray, ys) -> np.ndarray:
    """Rows (x̄, y) for each y in ys."""
    ys = np.atleast_1d(np.asarray(ys, float))
    return np.concatenate([np.broadcast_to(xf, (len(ys), len(xf))), ys[:, None]], axis=1)


def univariate_at(P: sp.Poly, xb: Sequence) -> sp.Poly:
    """The univariate polynomial y ↦ φ(x̄, y) (exact)."""
    Q = P
    for v in xb:
        Q = Q.eval(Q.gens[0], v) if len(Q.gens) > 1 else Q
    return sp.Poly(Q.as_expr(), P.gens[-1])


def interval_maximisers(P: sp.Poly, lo, hi):
    """(points, value, whole): the maximisers of the univariate exact polynomial P on
    [lo, hi] (sympy real-root isolation of P′); whole = P is constant."""
    if P.degree() <= 0:
        return [], sp.N(P.as_expr(), PRECISION), True
    roots = [r for r in P.diff().real_roots() if lo < r < hi]
    cands = [sp.S(lo), sp.S(hi), *roots]
    vals = [sp.N(P.eval(c), PRECISION) for c in cands]
    top = max(vals)
    return sorted({c for c, v in zip(cands, vals) if top - v < TIE}, key=float), top, False


def maximise_numeric(fn, lo: float, hi: float) -> list[float]:
    """Candidates for max of a smooth univariate fn on [lo, hi]: endpoints, and the
    local maxima of a 2001-point grid refined by golden-section search."""
    grid = np.linspace(lo, hi, 2001)
    v = fn(grid)
    out = [lo, hi]
    for k in np.flatnonzero((v[1:-1] >= v[:-2]) & (v[1:-1] >= v[2:])) + 1:
        a, b = grid[k - 1], grid[k + 1]
        for _ in range(80):
            m1, m2 = b - 0.618033988749895 * (b - a), a + 0.618033988749895 * (b - a)
            if fn(np.array([m1]))[0] < fn(np.array([m2]))[0]:
                a = m1
            else:
                b = m2
        out.append(0.5 * (a + b))
    return out


def polynomial_max(p: NumPoly, X: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """max_{y∈[lo,hi]} p(x, y) for each row x of X: the critical points of each row's
    polynomial in y are the eigenvalues of its companion matrix (one batched call)."""
    n = X.shape[1]
    deg = int(p.monoms[:, n].max()) if len(p.coeffs) else 0
    # coefficient of y^k as a function of x, for k = deg..0
    C = np.stack([NumPoly(p.monoms[p.monoms[:, n] == k][:, :n], p.coeffs[p.monoms[:, n] == k], n)(X)
                  for k in range(deg, -1, -1)], axis=1)
    cands = [np.full((len(X), 1), lo), np.full((len(X), 1), hi)]
    if deg >= 2:
        D = C[:, :-1] * np.arange(deg, 0, -1)  # derivative, highest degree first
        lead = D[:, 0]
        ok = lead != 0
        comp = np.zeros((len(X), deg - 1, deg - 1))
        comp[ok, 0, :] = -D[ok, 1:] / lead[ok, None]
        if deg > 2:
            comp[:, np.arange(1, deg - 1), np.arange(deg - 2)] = 1.0
        roots = np.linalg.eigvals(comp)
        cands.append(np.where((np.abs(roots.imag) < 1e-7) & ok[:, None], np.clip(roots.real, lo, hi), lo))
    T = np.concatenate(cands, axis=1)
    val = np.zeros_like(T)
    for k in range(C.shape[1]):
        val = val * T + C[:, k:k + 1]
    return val.max(axis=1)
