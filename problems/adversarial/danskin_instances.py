"""Instances for the Danskin oracle (problems.adversarial.danskin): the |x| counterexample, the DDi
toy of Latorre et al. (ICLR 2023), generated max-functions with planted ties over a
finite set, an interval, a box, a ball and a simplex, and the two-maximiser robust
losses on which the Madry et al. corollary fails; with their hypothesis strategies.

Hypothesis draws parameters only (kind, dimensions, profile, integers, seed); the
coefficients come from a numpy Generator seeded by the drawn seed, as exact rationals.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from problems.adversarial.danskin import Ball, Box, FiniteSet, Interval, MaxFunction, Simplex
from problems.adversarial.polynomials import exact

Q_ = sp.Rational


# ------------------------------------------------------------- instances
X1, X2, X3 = sp.symbols("x1 x2 x3", real=True)
XS = (X1, X2, X3)
Y1, Y2, Y3, Y4 = sp.symbols("y1 y2 y3 y4", real=True)
YS = (Y1, Y2, Y3, Y4)
DELTA = sp.Symbol("delta", real=True)


def abs_counterexample() -> MaxFunction:
    """f(x) = max_{δ∈[−1,1]} xδ = |x| (slide "Danskin's theorem": S*(0) = [−1, 1])."""
    return MaxFunction(X1 * DELTA, (X1,), (DELTA,), Interval(Q_(-1), Q_(1)), "max_{δ∈[−1,1]} xδ = |x|", (Q_(0),))


def ddi_toy() -> MaxFunction:
    """The 2-D toy of Latorre et al. (ICLR 2023; ddi_at/acat/toy.py):
    Φ(x, y) = y‖x − (0,−1)‖² + (1−y)‖x − (0,1)‖² − y(1−y), y ∈ [0, 1]; convex in y, so
    f(x) = max(‖x − (0,−1)‖², ‖x − (0,1)‖²); at x₀ = (1, 0), S* = {0, 1}."""
    y = Y1
    phi = y * (X1**2 + (X2 + 1) ** 2) + (1 - y) * (X1**2 + (X2 - 1) ** 2) - y * (1 - y)
    return MaxFunction(phi, (X1, X2), (y,), Interval(Q_(0), Q_(1)), "DDi toy", (Q_(1), Q_(0)))


def _random_poly(rng: np.random.Generator, shifted: list[sp.Poly], degree: int) -> sp.Poly:
    """Σ over monomials of degree 1..degree in the shifted variables (xᵢ − x̄ᵢ), coefficients k/4, |k| ≤ 4."""
    total = shifted[0] * 0
    for deg in range(1, degree + 1):
        for mono in itertools.combinations_with_replacement(range(len(shifted)), deg):
            k = int(rng.integers(-4, 5))
            if k:
                term = shifted[mono[0]]
                for i in mono[1:]:
                    term = term * shifted[i]
                total = total + term * Q_(k, 4)
    return total


def build_instance(kind: str, n: int, m: int, profile: str, s: int, a_num: int, seed: int) -> MaxFunction:
    """A generated instance around a rational point x̄ (kept in ``x_bar``).

    'finite' / 'simplex': m pieces gᵢ(x) (random cubics in x − x̄); profile 'tie' plants the
        first ≥ 2 to tie at x̄ (value 0), the others ≤ −1/2 there; 'unique' ties none.
    'interval' / 'box': Φ = Σⱼ ψ(yⱼ) + Σₖ (xₖ − x̄ₖ) Σⱼ hₖⱼ(yⱼ) + q(x) on [−1, 1]^m, ψ from the
        profile: 'double-well' −s(y² − a²)² (maximisers ±a, a = a_num/4), 'edges' s·y² (±1),
        'interior' −s(y − a)² (unique), 'edge' s·y² + y/2 (unique, +1); hₖⱼ random quadratics.
    'ball': Φ = q(x) + c(x)ᵀy on the ball of radius s/2, c(x) = C(x − x̄) + c₀ + e(x₁ − x̄₁)²,
        c₀ = 0 ('tie': S*(x̄) = the whole ball) or integer ≠ 0 ('unique')."""
    rng = np.random.default_rng(seed)
    xs = XS[:n]
    x_bar = tuple(Q_(int(k), 4) for k in rng.integers(-3, 4, n))
    if kind in ("finite", "simplex"):
        gens = (*xs, Y1) if kind == "finite" else (*xs, *YS[:m])
        shifted = [sp.Poly(xi - xb, *gens) for xi, xb in zip(xs, x_bar)]
        ties = min(m, int(rng.integers(2, m + 1))) if profile == "tie" else 1
        pieces = []
        for i in range(m):
            g = _random_poly(rng, shifted, 3)
            if i >= ties:
                g = g - Q_(int(rng.integers(2, 9)), 4)  # strictly below the max by ≥ 1/2
            pieces.append(g)
        if kind == "finite":  # Φ(x, y) = Σᵢ gᵢ(x) Lᵢ(y), Lᵢ the Lagrange basis on {0, …, m−1}
            y = sp.Poly(Y1, *gens)
            phi = sum((g * sp.prod([(y - j) * Q_(1, i - j) for j in range(m) if j != i])
                       for i, g in enumerate(pieces)), sp.Poly(0, *gens))
            return MaxFunction(phi, xs, (Y1,), FiniteSet(tuple((j,) for j in range(m))),
                               f"finite S = {{0..{m - 1}}}, {ties} tied at x̄", x_bar)
        phi = sum((sp.Poly(yi, *gens) * g for yi, g in zip(YS[:m], pieces)), sp.Poly(0, *gens))
        return MaxFunction(phi, xs, YS[:m], Simplex(m), f"simplex Δ_{m}, {ties} tied vertices", x_bar)
    a = Q_(a_num, 4)
    ys = YS[:1] if kind == "interval" else YS[:m]
    gens = (*xs, *ys)
    shifted = [sp.Poly(xi - xb, *gens) for xi, xb in zip(xs, x_bar)]
    phi = _random_poly(rng, shifted, 3)
    if kind in ("interval", "box"):
        for yj in ys:
            y = sp.Poly(yj, *gens)
            psi = {"double-well": -s * (y**2 - a**2) ** 2, "edges": s * y**2,
                   "interior": -s * (y - a) ** 2, "edge": s * y**2 + y * Q_(1, 2)}[profile]
            phi = phi + psi
            for sk in shifted:
                phi = phi + sk * sum((y**e * Q_(int(rng.integers(-4, 5)), 4) for e in range(3)), sp.Poly(0, *gens))
        dom = Interval(Q_(-1), Q_(1)) if kind == "interval" else Box(tuple((Q_(-1), Q_(1)) for _ in ys))
        return MaxFunction(phi, xs, ys, dom, f"{kind} [−1,1]^{len(ys)}, ψ {profile}", x_bar)
    if kind == "ball":
        C = rng.integers(-3, 4, (m, n))
        c0 = np.zeros(m, dtype=int) if profile == "tie" else rng.integers(1, 4, m) * rng.choice([-1, 1], m)
        e = rng.integers(-2, 3, m)
        for i, yi in enumerate(ys):
            ci = sum((shifted[k] * int(C[i, k]) for k in range(n)), sp.Poly(int(c0[i]), *gens))
            ci = ci + shifted[0] ** 2 * int(e[i])
            phi = phi + ci * sp.Poly(yi, *gens)
        return MaxFunction(phi, xs, ys, Ball(Q_(s, 2), m), f"ball r = {Q_(s, 2)}, c(x̄) {profile}", x_bar)
    raise ValueError(f"unknown instance kind {kind!r}; use finite, simplex, interval, box or ball")


@st.composite
def danskin_instances(draw, kinds=("finite", "simplex", "interval", "box", "ball")) -> MaxFunction:
    """Generated max-functions, about half with non-unique maximisers at x̄."""
    kind = draw(st.sampled_from(kinds))
    n = draw(st.integers(1, 3))
    if kind in ("interval", "box"):
        profile = draw(st.sampled_from(("double-well", "edges", "interior", "edge")))
        m = draw(st.integers(2, 3))
    else:
        profile = draw(st.sampled_from(("tie", "unique")))
        m = draw(st.integers(2, 4))
    s, a_num = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return build_instance(kind, n, m, profile, s, a_num, draw(st.integers(0, 2**32 - 1)))


# ------------------------------------------ Madry corollary: generated instances
@dataclass(frozen=True)
class TwoPointRobustLoss:
    """Adversarial-training toy: model θ ∈ ℝᵈ, perturbation δ ∈ [−ε, ε],
    Φ(θ, δ) = ‖θ − m − δu‖² (convex in δ, so S*(θ) ⊆ {−ε, +ε}), evaluated at θ = m + w
    with w ⊥ u, where both endpoints tie: f(θ) = max ‖θ − p±‖², p± = m ± εu. Exact rationals.
    The DDi toy is m = 0, u = (0, 1), ε = 1, w = (1, 0)."""

    m: tuple
    u: tuple
    w: tuple
    eps: sp.Rational

    @property
    def d(self) -> int:
        return len(self.m)

    @property
    def theta(self) -> np.ndarray:
        return np.array([float(a + b) for a, b in zip(self.m, self.w)])

    def centres(self) -> np.ndarray:
        """p₊ = m + εu (maximiser δ* = +ε) and p₋ = m − εu (δ* = −ε), as rows."""
        m, u = np.array(self.m, float), np.array(self.u, float)
        return np.stack([m + float(self.eps) * u, m - float(self.eps) * u])

    def value(self, thetas) -> np.ndarray:
        P = self.centres()
        return np.max(np.sum((np.asarray(thetas, float)[..., None, :] - P) ** 2, axis=-1), axis=-1)

    def gradients(self) -> np.ndarray:
        """∇θΦ(θ, δ*) at the two maximisers δ* = +ε, −ε (rows); both δ* ≠ 0."""
        return 2 * (self.theta[None, :] - self.centres())

    def exact_increase(self, direction: Sequence, t) -> sp.Expr:
        """f(θ + t·d) − f(θ) in exact arithmetic (d and t made rational)."""
        th = [a + b for a, b in zip(self.m, self.w)]
        d = [exact(v) for v in direction]
        t = exact(t)
        out = []
        for sgn in (1, -1):
            p = [a + sgn * self.eps * b for a, b in zip(self.m, self.u)]
            out.append(sum((ti + t * di - pi) ** 2 for ti, di, pi in zip(th, d, p))
                       - sum((ti - pi) ** 2 for ti, pi in zip(th, p)))
        return sp.Max(*out)


@st.composite
def two_point_robust_losses(draw, max_dim: int = 3) -> TwoPointRobustLoss:
    """:class:`TwoPointRobustLoss` instances with both maximisers active at θ: small
    integer m, u ≠ 0, w ⊥ u (rational projection of an integer vector), ε ∈ {1/2, …, 2}."""
    d = draw(st.integers(1, max_dim))
    ints = st.integers(-3, 3)
    m = tuple(Q_(v) for v in draw(st.lists(ints, min_size=d, max_size=d)))
    u = draw(st.lists(ints, min_size=d, max_size=d).filter(any))
    raw = draw(st.lists(ints, min_size=d, max_size=d))
    proj = Q_(sum(a * b for a, b in zip(raw, u)), sum(v * v for v in u))
    w = tuple(Q_(a) - proj * b for a, b in zip(raw, u))
    eps = Q_(draw(st.integers(1, 4)), 2)
    return TwoPointRobustLoss(m, tuple(Q_(v) for v in u), w, eps)
