"""Critical-point and local-Nash instances with their classification known by
construction (tutorial slides "Solving the outer problem: Solution concepts",
"Solving the minimax problem: Solution concepts"; catalogue sections 2.3, 2.6).

All constants are exact rationals (sympy), so the Hessian, its eigenvalues and
the critical point are exact; floats are derived from them. Hypothesis draws
only parameters (dimension, eigenvalue numerators and signs, coefficient,
seed); the arrays come from a numpy Generator seeded by the drawn seed.
"""
from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import strategies as st

Q_ = sp.Rational


def homogeneous_monomials(h, degree: int) -> list:
    """All monomials of exactly ``degree`` in the entries of ``h`` (coefficient 1)."""
    return [sp.Mul(*c) for c in itertools.combinations_with_replacement(h, degree)]


def rational_orthogonal(d: int, rng: np.random.Generator) -> sp.ImmutableMatrix:
    """An exactly orthogonal rational d×d matrix: the product of two Householder
    reflections I − 2vvᵀ/(vᵀv) with small nonzero integer vectors v."""
    q = sp.eye(d)
    for _ in range(2):
        v = np.zeros(d, dtype=int)
        while not v.any():
            v = rng.integers(-3, 4, d)
        v = sp.Matrix([int(k) for k in v])
        q = q * (sp.eye(d) - 2 * v * v.T / (v.T * v)[0])
    return sp.ImmutableMatrix(q)


def eigen_radius(min_abs_eigenvalue, c3, c4, d: int) -> float:
    """A radius r at which the quadratic term of ½hᵀMh + c3·Σ_{|α|=3}h^α + c4·Σ_{|α|=4}h^α
    decides the sign wherever |uᵀMu| > m/2 (m = min |λ(M)|), for every unit u.

    Why: Σ_{|α|=k}|u^α| ≤ (Σ|u_i|)^k ≤ d^{k/2} (multinomial expansion, Cauchy-Schwarz),
    so the higher-order part at h = ru is at most |c3| d^{3/2} r³ + |c4| d² r⁴. With
    r√d ≤ ½ the quartic bound is ≤ ½|c4| d^{3/2} r³, so the total is ≤ (3/2)·c·d^{3/2}·r³
    with c = max(|c3|, |c4|); with r ≤ m/(8 c d^{3/2}) that is ≤ (3/16) m r² < ¼ m r²,
    below the quadratic term ½ r²|uᵀMu| whenever |uᵀMu| > m/2. In particular at a
    nondegenerate min (max) every sample is > 0 (< 0).
    """
    c = max(abs(float(c3)), abs(float(c4)))
    r = 0.5 / math.sqrt(d)
    if c > 0:
        r = min(r, float(min_abs_eigenvalue) / (8.0 * c * d ** 1.5))
    return r


# ------------------------------------------------------------------ critical points
@dataclass(frozen=True)
class QuadraticPlusHigherOrder:
    """f(x) = ½(x−x̄)ᵀQΛQᵀ(x−x̄) + c·Σ_{|α|=3}(x−x̄)^α + c·Σ_{|α|=4}(x−x̄)^α.

    x̄ is a critical point with Hessian M = QΛQᵀ (the cubic and quartic parts have
    zero gradient and Hessian at x̄), Q exactly orthogonal, so eig(M) = Λ exactly.
    Catalogue `crit.hessian-classification`, generated family.
    """
    eigenvalues: tuple  # sympy Rationals, |λ| in [1/10, 3]
    q: sp.ImmutableMatrix
    xbar: tuple
    c: sp.Rational
    seed: int

    @classmethod
    def build(cls, eigenvalues, c, seed: int) -> "QuadraticPlusHigherOrder":
        rng = np.random.default_rng(seed)
        lam = tuple(Q_(v) for v in eigenvalues)
        d = len(lam)
        xbar = tuple(Q_(int(k), 4) for k in rng.integers(-8, 9, d))
        return cls(lam, rational_orthogonal(d, rng), xbar, Q_(c), int(seed))

    @property
    def d(self) -> int:
        return len(self.eigenvalues)

    @functools.cached_property
    def hessian(self) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(self.q * sp.diag(*self.eigenvalues) * self.q.T)

    @property
    def kind(self) -> str:
        """'min' / 'max' / 'saddle' from the signs of Λ (all nonzero by construction)."""
        if all(v > 0 for v in self.eigenvalues):
            return "min"
        if all(v < 0 for v in self.eigenvalues):
            return "max"
        return "saddle"

    @property
    def radius(self) -> float:
        return eigen_radius(min(abs(v) for v in self.eigenvalues), self.c, self.c, self.d)

    @functools.cached_property
    def variables(self) -> tuple:
        return sp.symbols(f"x1:{self.d + 1}", real=True)

    @functools.cached_property
    def expr(self) -> sp.Expr:
        h = [x - b for x, b in zip(self.variables, self.xbar)]
        hv = sp.Matrix(h)
        quad = (hv.T * self.hessian * hv)[0] / 2
        return quad + self.c * (sp.Add(*homogeneous_monomials(h, 3)) + sp.Add(*homogeneous_monomials(h, 4)))


@dataclass(frozen=True)
class NamedCriticalPoint:
    """A hand-made instance: f, the point, and what the point is (by hand, in ``why``).

    ``truth``: 'min' / 'max' / 'saddle' (both signs, and lines through x̄ along which
    x̄ is a strict local max and others a strict local min: the min-max structure of
    the tutorial's figure 5(b)) / 'neither' (not an extremum, no such pair of lines).
    """
    name: str
    expr: sp.Expr
    variables: tuple
    point: tuple
    truth: str
    radius: float
    why: str = ""


X, Y = sp.symbols("x y", real=True)

# The three share Hess(0) = diag(2, 0); radius 1e-1 (any radius works: each
# statement below holds on every punctured ball, the axis ±e_y shows it exactly).
DEGENERATE = (
    NamedCriticalPoint("x^2+y^4", X**2 + Y**4, (X, Y), (0, 0), "min", 1e-1,
                       "sum of an even square and an even quartic: > 0 off 0"),
    NamedCriticalPoint("x^2-y^4", X**2 - Y**4, (X, Y), (0, 0), "saddle", 1e-1,
                       "strict min along the x-axis, strict max along the y-axis"),
    NamedCriticalPoint("x^2+y^3", X**2 + Y**3, (X, Y), (0, 0), "neither", 1e-1,
                       "f(0,y) = y³ changes sign, but no line through 0 carries a max"),
)

MONKEY_SADDLE = NamedCriticalPoint(
    "monkey saddle x^3-3xy^2", X**3 - 3 * X * Y**2, (X, Y), (0, 0), "neither", 1e-2,
    "f = r³cos3θ: three valleys and three ridges, odd along every line")

GUTTER_EXPR = (X**2 + Y**2 - 1) ** 2


def gutter_circle_point(t) -> tuple:
    """((1−t²)/(1+t²), 2t/(1+t²)): every point of the unit circle but (−1, 0), rational
    for rational t (exact arithmetic); t may be a sympy symbol."""
    t = sp.sympify(t)
    return ((1 - t**2) / (1 + t**2), 2 * t / (1 + t**2))


GUTTER_CIRCLE_TS = (0, Q_(1, 2), 1, 2, Q_(-1, 3), Q_(-7, 4))
# Radius 1e-2 at the gutter's points: on the circle f(p + ru) = (2r·p·u + r²)² ≥ 0 at
# every radius; at the origin the statement holds for every r < √2.
GUTTER_CIRCLE = tuple(
    NamedCriticalPoint(f"gutter at {p}", GUTTER_EXPR, (X, Y), p, "min", 1e-2,
                       "f = (x²+y²−1)² ≥ 0 = f on the circle: global, non-strict min")
    for p in [gutter_circle_point(t) for t in GUTTER_CIRCLE_TS] + [(-1, 0)])
GUTTER_ORIGIN = NamedCriticalPoint("gutter at origin", GUTTER_EXPR, (X, Y), (0, 0), "max", 1e-2,
                                   "f(ru) − f(0) = r⁴ − 2r² < 0 for 0 < r < √2")


# ---------------------------------------------------------------- local Nash
@dataclass(frozen=True)
class QuadraticGame:
    """Φ(x, y) = ½xᵀAx − ½yᵀBy + xᵀCy + ε·Σ_{|α|=3} z^α, z = (x, y); min over x, max over y.

    At z* = 0: ∇Φ = 0, ∇ₓₓΦ = A, ∇ᵧᵧΦ = −B (the cubic part has zero gradient and
    Hessian at 0). A = Q_AΛ_AQ_Aᵀ, B = Q_BΛ_BQ_Bᵀ exactly, with each eigenvalue
    drawn positive, negative or zero: A ≻ 0 and B ≻ 0 make 0 a strict LNE.
    Catalogue `lne.necessary-conditions`.
    """
    eig_a: tuple
    eig_b: tuple
    qa: sp.ImmutableMatrix
    qb: sp.ImmutableMatrix
    coupling: sp.ImmutableMatrix  # C, dx × dy
    eps: sp.Rational
    seed: int

    @classmethod
    def build(cls, eig_a, eig_b, eps, seed: int) -> "QuadraticGame":
        rng = np.random.default_rng(seed)
        ea, eb = tuple(Q_(v) for v in eig_a), tuple(Q_(v) for v in eig_b)
        qa, qb = rational_orthogonal(len(ea), rng), rational_orthogonal(len(eb), rng)
        cpl = sp.ImmutableMatrix(len(ea), len(eb), [Q_(int(k), 4) for k in rng.integers(-8, 9, len(ea) * len(eb))])
        return cls(ea, eb, qa, qb, cpl, Q_(eps), int(seed))

    @property
    def dx(self) -> int:
        return len(self.eig_a)

    @property
    def dy(self) -> int:
        return len(self.eig_b)

    @functools.cached_property
    def a(self) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(self.qa * sp.diag(*self.eig_a) * self.qa.T)

    @functools.cached_property
    def b(self) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(self.qb * sp.diag(*self.eig_b) * self.qb.T)

    @functools.cached_property
    def x_vars(self) -> tuple:
        return sp.symbols(f"x1:{self.dx + 1}", real=True)

    @functools.cached_property
    def y_vars(self) -> tuple:
        return sp.symbols(f"y1:{self.dy + 1}", real=True)

    @functools.cached_property
    def expr(self) -> sp.Expr:
        x, y = sp.Matrix(self.x_vars), sp.Matrix(self.y_vars)
        quad = (x.T * self.a * x)[0] / 2 - (y.T * self.b * y)[0] / 2 + (x.T * self.coupling * y)[0]
        return quad + self.eps * sp.Add(*homogeneous_monomials(self.x_vars + self.y_vars, 3))

    @property
    def radius(self) -> float:
        """The smaller of the two players' :func:`eigen_radius` (nonzero eigenvalues only;
        along a zero eigenvalue nothing is guaranteed and the certificate just observes)."""
        def side(eigs, d):
            nz = [abs(v) for v in eigs if v != 0]
            return eigen_radius(min(nz), self.eps, 0, d) if nz else eigen_radius(1, self.eps, 0, d)
        return min(side(self.eig_a, self.dx), side(self.eig_b, self.dy))


MONKEY_GAME_PHI = X**3 - 3 * X * Y**2  # min over x, max over y (slide "local Nash")


# -------------------------------------------------------------- strategies
@st.composite
def eigenvalue_lists(draw, d: int, signs=(1, -1)) -> list:
    """d eigenvalues ±k/10, k in [1, 30] (|λ| in [0.1, 3]); sign 0 gives λ = 0."""
    ks = draw(st.lists(st.integers(1, 30), min_size=d, max_size=d))
    ss = draw(st.lists(st.sampled_from(signs), min_size=d, max_size=d))
    return [Q_(s * k, 10) for s, k in zip(ss, ks)]


@st.composite
def quadratic_plus_higher_order(draw) -> QuadraticPlusHigherOrder:
    # sampled_from, not integers(1, 4): the latter's derandomised (ci) draws are mostly d = 1
    d = draw(st.sampled_from((4, 3, 2, 1)))
    lam = draw(eigenvalue_lists(d))
    c = Q_(draw(st.integers(-10, 10)), 10)
    return QuadraticPlusHigherOrder.build(lam, c, draw(st.integers(0, 2**32 - 1)))


@st.composite
def quadratic_games(draw) -> QuadraticGame:
    dx, dy = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ea = draw(eigenvalue_lists(dx, signs=(1, -1, 0)))
    eb = draw(eigenvalue_lists(dy, signs=(1, -1, 0)))
    eps = Q_(draw(st.integers(-10, 10)), 10)
    return QuadraticGame.build(ea, eb, eps, draw(st.integers(0, 2**32 - 1)))
