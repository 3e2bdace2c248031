"""Exact (sympy) and sampling oracles for critical points and local Nash equilibria.

* :class:`PolynomialOracle`: for a polynomial f in 1–4 variables, the critical
  points where ``sympy.solve`` can solve ∇f = 0 exactly, and the exact Hessian and
  its eigenvalues at a point.
* :class:`TaylorDifference` and :func:`sign_certificate`: f(x̄ + r·u) − f(x̄) over
  many unit directions u, in float64 with a rigorous rounding bound, summarised by
  which signs were seen (a *certificate* independent of the Hessian).
* :func:`lne_conditions`, :func:`lne_certificate`: the second-order conditions of
  a local Nash equilibrium (LNE) and a sampling check of its defining inequalities
  Φ(x*, y) ≤ Φ(x*, y*) ≤ Φ(x, y*) (tutorial, "Definition (Local Nash Equilibrium)").
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.codegen.rewriting import create_expand_pow_optimization

from problems.optim.critical_points import homogeneous_monomials

UNIT_ROUNDOFF = 2.0**-53


def gamma(k: int) -> float:
    """Higham's γ_k = k·u/(1 − k·u): relative error of k chained roundings."""
    return k * UNIT_ROUNDOFF / (1 - k * UNIT_ROUNDOFF)


# ------------------------------------------------------------ float evaluation
@dataclass(frozen=True)
class TaylorDifference:
    """h ↦ f(x̄ + h) − f(x̄) = Σ_α a_α h^α as an exact polynomial in h, evaluated in float64.

    ``value(H)`` and ``magnitude(|H|)`` (= Σ|a_α||h^α|, the same sum of monomials on
    absolute values) take H of shape (N, d). A sum of ``n_terms`` products of at
    most ``degree`` factors and one rounded coefficient is computed with error at most
    γ_{degree + n_terms + 1}·magnitude (Higham, *Accuracy and Stability of
    Numerical Algorithms*, 2nd ed., §3.1, §4.2), so a value beyond that bound has its
    true sign. Subtracting f(x̄) symbolically (not in floats) avoids cancellation.
    """
    value: Callable[[np.ndarray], np.ndarray]
    magnitude: Callable[[np.ndarray], np.ndarray]
    n_terms: int
    degree: int

    def __call__(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.broadcast_to(self.value(h), h.shape[:1])
        bound = gamma(self.degree + self.n_terms + 1) * np.broadcast_to(self.magnitude(np.abs(h)), h.shape[:1])
        return v, bound


# h**3 -> h*h*h: numpy's pow for exponents other than 2 is ~10x slower than products
# (and a product chain is what the rounding count of TaylorDifference assumes).
_EXPAND_POW = create_expand_pow_optimization(4)


def _lambdify(variables, expr):
    return sp.lambdify(variables, _EXPAND_POW(expr), "numpy")


def _lambdify_columns(variables, expr) -> Callable[[np.ndarray], np.ndarray]:
    fn = _lambdify(variables, expr)
    return lambda h: np.asarray(fn(*h.T), dtype=float)


@functools.lru_cache(maxsize=256)
def taylor_difference(expr: sp.Expr, variables: tuple, point: tuple) -> TaylorDifference:
    """The :class:`TaylorDifference` of f = ``expr`` at ``point`` (exact shift by sympy;
    lambdified once per (f, point) and cached)."""
    hs = sp.symbols(f"h1:{len(variables) + 1}", real=True)
    shifted = sp.Poly(sp.expand(expr.subs(dict(zip(variables, [p + h for p, h in zip(point, hs)])))
                                - expr.subs(dict(zip(variables, point)))), *hs)
    terms = shifted.terms()
    absolute = sp.Add(*[abs(c) * sp.Mul(*[h**e for h, e in zip(hs, m)]) for m, c in terms])
    return TaylorDifference(_lambdify_columns(hs, shifted.as_expr()), _lambdify_columns(hs, absolute),
                            max(len(terms), 1), max((sum(m) for m, _ in terms), default=0))


@functools.lru_cache(maxsize=8)
def _family_function(d: int):
    """½hᵀMh + c3·Σ_{|α|=3}h^α + c4·Σ_{|α|=4}h^α with symbolic M/2, c3, c4, lambdified once
    per dimension d (the generated families differ only in these numbers)."""
    hs = sp.symbols(f"h1:{d + 1}", real=True)
    mh = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"mh{i}{j}", real=True))
    c3, c4 = sp.symbols("c3 c4", real=True)
    quad = sp.Add(*[mh[i, j] * hs[i] * hs[j] for i in range(d) for j in range(d)])
    expr = quad + c3 * sp.Add(*homogeneous_monomials(hs, 3)) + c4 * sp.Add(*homogeneous_monomials(hs, 4))
    fn = _lambdify(hs + tuple(mh) + (c3, c4), expr)
    n_terms = d * d + math.comb(d + 2, 3) + math.comb(d + 3, 4)
    return fn, n_terms, (hs, mh, c3, c4, expr)


@functools.lru_cache(maxsize=8)
def family_identity(d: int) -> bool:
    """sympy, for all parameters at once: the family polynomial has zero gradient at
    h = 0 and Hessian M there (the cubic and quartic parts contribute nothing)."""
    _, _, (hs, mh, _c3, _c4, expr) = _family_function(d)
    poly = sp.Poly(expr, *hs)  # coefficients are polynomials in M/2, c3, c4
    grad = [poly.diff(h).eval(dict.fromkeys(hs, 0)) for h in hs]
    hess = sp.Matrix(d, d, lambda i, j: poly.diff(hs[i]).diff(hs[j]).eval(dict.fromkeys(hs, 0)))
    return all(sp.expand(g) == 0 for g in grad) and (hess - (mh + mh.T)).expand().is_zero_matrix


def family_difference(m: sp.MatrixBase, c3, c4) -> TaylorDifference:
    """The :class:`TaylorDifference` of ½hᵀMh + c3·Σ_{|α|=3}h^α + c4·Σ_{|α|=4}h^α."""
    d = m.shape[0]
    fn, n_terms, _ = _family_function(d)
    mh = np.array(m.tolist(), dtype=float).ravel() / 2  # halving is exact in binary
    c = (float(c3), float(c4))
    value = lambda h: np.asarray(fn(*h.T, *mh, *c), dtype=float)  # noqa: E731
    magnitude = lambda a: np.asarray(fn(*a.T, *np.abs(mh), *np.abs(c)), dtype=float)  # noqa: E731
    return TaylorDifference(value, magnitude, n_terms, 4)


# ------------------------------------------------------------- sign certificate
@dataclass(frozen=True)
class SignCertificate:
    """Which signs f(x̄ + r·u) − f(x̄) took over the sampled directions and radii.

    Samples come in antipodal pairs (u, −u); ``min_line`` / ``max_line``: some pair
    had both values > 0 / < 0 (x̄ is then a local min / max along that line).
    Values within the rounding bound are ``undetermined`` and count for no sign.
    """
    positive: int
    negative: int
    undetermined: int
    min_line: bool
    max_line: bool
    smallest: float
    largest: float
    max_bound: float  # the largest rounding bound met: the absolute uncertainty of any value

    @property
    def kind(self) -> str:
        """'min' (no sample below f(x̄)), 'max', 'saddle' (both signs, with lines of
        min and of max), 'neither' (both signs without both kinds of line), or
        'undetermined' (no sample left the rounding band)."""
        if self.positive and not self.negative:
            return "min"
        if self.negative and not self.positive:
            return "max"
        if self.positive and self.negative:
            return "saddle" if self.min_line and self.max_line else "neither"
        return "undetermined"

    @property
    def strict(self) -> bool:
        """Every sample had a definite sign, all the same (a strict extremum on the samples)."""
        return self.undetermined == 0 and self.kind in ("min", "max")


def directions(d: int, n_pairs: int, seed: int) -> np.ndarray:
    """(2(d + n_pairs), d) unit vectors: ±e_i, then n_pairs uniform u, then the −u.

    The axes are included because the degenerate instances' telling directions
    lie on them (x² − y⁴ is below 0 only within |x| < y² of the y-axis)."""
    u = np.random.default_rng(seed).standard_normal((n_pairs, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    half = np.vstack([np.eye(d), u])
    return np.vstack([half, -half])


def sign_certificate(diff: TaylorDifference, d: int, radii, n_pairs: int = 10_000,
                     seed: int = 0) -> SignCertificate:
    """Evaluate ``diff`` at r·u for every r in ``radii`` and the :func:`directions` u."""
    u = directions(d, n_pairs, seed)
    half = u.shape[0] // 2
    pos = neg = und = 0
    min_line = max_line = False
    lo, hi, worst = math.inf, -math.inf, 0.0
    for r in np.atleast_1d(np.asarray(radii, dtype=float)):
        v, bound = diff(r * u)
        p, n = v > bound, v < -bound
        pos, neg, und = pos + int(p.sum()), neg + int(n.sum()), und + int((~p & ~n).sum())
        min_line |= bool((p[:half] & p[half:]).any())
        max_line |= bool((n[:half] & n[half:]).any())
        lo, hi, worst = min(lo, float(v.min())), max(hi, float(v.max())), max(worst, float(bound.max()))
    return SignCertificate(pos, neg, und, min_line, max_line, lo, hi, worst)


def slide_rule(eigenvalues) -> str:
    """The slide's classification applied to *exact* eigenvalues (signs decided by
    sympy, no tolerance): the specification a float implementation must meet."""
    signs = [int(sp.sign(e)) for e in eigenvalues]
    if all(s > 0 for s in signs):
        return "min"
    if all(s < 0 for s in signs):
        return "max"
    if 1 in signs and -1 in signs and 0 not in signs:
        return "saddle"
    return "inconclusive"


# -------------------------------------------------------------- exact oracle
class PolynomialOracle:
    """Exact calculus on a polynomial f in a few variables (sympy, rational arithmetic)."""

    def __init__(self, expr: sp.Expr, variables: tuple):
        self.expr, self.variables = expr, tuple(variables)
        self.poly = sp.Poly(expr, *self.variables)
        self.gradient = [self.poly.diff(v) for v in self.variables]
        self.hessian = [[g.diff(v) for v in self.variables] for g in self.gradient]

    @functools.cached_property
    def critical_points(self) -> list[dict]:
        """All solutions of ∇f = 0 from ``sympy.solve`` (real symbols), as dicts; a
        curve of critical points comes back parametrised (e.g. {y: √(1 − x²)})."""
        return sp.solve([g.as_expr() for g in self.gradient], self.variables, dict=True)

    def _at(self, point) -> dict:
        return dict(zip(self.variables, (sp.sympify(p) for p in point)))  # exact points expected

    def gradient_at(self, point) -> tuple:
        at = self._at(point)
        return tuple(g.as_expr().subs(at) for g in self.gradient)

    def hessian_at(self, point) -> sp.ImmutableMatrix:
        at = self._at(point)
        return sp.ImmutableMatrix([[h.as_expr().subs(at) for h in row] for row in self.hessian])

    def eigenvalues_at(self, point) -> tuple[list, np.ndarray]:
        """Exact eigenvalues of ∇²f(point) (with multiplicity, sorted) and their floats."""
        exact = sorted((ev for ev, k in self.hessian_at(point).eigenvals().items() for _ in range(k)),
                       key=lambda e: float(sp.re(sp.N(e))))
        return exact, np.array([float(sp.re(sp.N(e, 30))) for e in exact])


@functools.lru_cache(maxsize=64)
def polynomial_oracle(expr: sp.Expr, variables: tuple) -> PolynomialOracle:
    return PolynomialOracle(expr, variables)


def eigenvalue_tolerance(m: np.ndarray) -> float:
    """Zero threshold for float eigenvalues of a symmetric matrix ``m`` (n × n) whose
    entries were rounded from exact values: rounding perturbs M by ≤ u‖M‖_F, and
    LAPACK's symmetric eigensolvers are backward stable with error p(n)·u·‖M‖₂
    (LAPACK Users' Guide §4.7, p(n) "a modestly growing function of n"; we take
    p(n) = 8n). By Weyl the eigenvalues move by at most the sum, so an exact zero
    eigenvalue lands within the tolerance and any |λ| above twice it keeps its sign."""
    n = m.shape[-1]
    return (8 * n + 1) * UNIT_ROUNDOFF * float(np.linalg.norm(m))  # 0 for M = 0: computed exactly


# ------------------------------------------------------------------- local Nash
@dataclass(frozen=True)
class LNEConditions:
    """Second-order conditions of an LNE at z* (exact): necessary ∇Φ = 0, ∇ₓₓΦ ⪰ 0,
    ∇ᵧᵧΦ ⪯ 0; sufficient ∇Φ = 0, ∇ₓₓΦ ≻ 0, ∇ᵧᵧΦ ≺ 0 (strict LNE)."""
    gradient_zero: bool
    hxx: sp.ImmutableMatrix
    hyy: sp.ImmutableMatrix
    necessary: bool
    sufficient: bool


def lne_necessary(gradient_zero: bool, hxx: sp.MatrixBase, hyy: sp.MatrixBase) -> bool:
    """The slide's necessary conditions: ∇ₓΦ, −∇ᵧΦ = 0; ∇ₓₓΦ, −∇ᵧᵧΦ ⪰ 0 (exact)."""
    return bool(gradient_zero and hxx.is_positive_semidefinite and (-hyy).is_positive_semidefinite)


def lne_conditions(phi: sp.Expr, x_vars: tuple, y_vars: tuple, point: tuple,
                   necessary: Callable = lne_necessary) -> LNEConditions:
    """Exact gradient and player Hessians of Φ at ``point`` = (x*, y*) and the
    conditions; ``necessary`` is the rule applied (a parameter so that a planted
    wrong rule can be tested against the same property)."""
    oracle = polynomial_oracle(phi, tuple(x_vars) + tuple(y_vars))
    grad_zero = all(g == 0 for g in oracle.gradient_at(point))
    h = oracle.hessian_at(point)
    dx = len(x_vars)
    hxx, hyy = h[:dx, :dx], h[dx:, dx:]
    sufficient = grad_zero and bool(hxx.is_positive_definite) and bool((-hyy).is_positive_definite)
    return LNEConditions(grad_zero, hxx, hyy, bool(necessary(grad_zero, hxx, hyy)), sufficient)


@dataclass(frozen=True)
class LNECertificate:
    """Sampling check of Φ(x*, y) ≤ Φ(x*, y*) ≤ Φ(x, y*) on spheres of the given radii:
    ``x_side`` certifies Φ(x* + h, y*) − Φ*, ``y_side`` Φ(x*, y* + k) − Φ*."""
    x_side: SignCertificate
    y_side: SignCertificate

    @property
    def x_violation(self) -> bool:
        """The min player found a deviation lowering Φ."""
        return self.x_side.negative > 0

    @property
    def y_violation(self) -> bool:
        """The max player found a deviation raising Φ."""
        return self.y_side.positive > 0

    @property
    def confirms_lne(self) -> bool:
        return not (self.x_violation or self.y_violation)

    @property
    def confirms_strict_lne(self) -> bool:
        return self.x_side.strict and self.x_side.kind == "min" and self.y_side.strict and self.y_side.kind == "max"


def lne_certificate(x_diff: TaylorDifference, dx: int, y_diff: TaylorDifference, dy: int, radius: float,
                    n_pairs: int = 10_000, seed: int = 0, shells: int = 4) -> LNECertificate:
    """Both players' :func:`sign_certificate` on the spheres radius·2^-k, k < ``shells``
    (the radius arguments hold on every smaller sphere, so this samples the ball)."""
    radii = radius * 2.0 ** -np.arange(shells)
    return LNECertificate(sign_certificate(x_diff, dx, radii, n_pairs, seed),
                          sign_certificate(y_diff, dy, radii, n_pairs, seed + 1))
