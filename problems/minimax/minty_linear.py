"""Affine weak-Minty problems beyond the normal 2x2 blocks of ``linear_minty_game``:
non-normal matrices in any dimension, and a constrained problem whose solution has an
active constraint (tutorial slide 38: "constrained and regularised settings with
rho > -1/(2L)", Pethick, Latafat, Patrinos, Fercoq, Cevher, ICLR 2022).

* :func:`non_normal_minty_matrix`  V(z) = A z with A non-normal (||A A^T - A^T A|| > 0),
  ||A|| = 1 and rho = lambda_min(sym(A^-1)) = -c, built as A = B^-1, B = S + K with S
  symmetric (lambda_min(S) = rho / ||A||) and K skew. :func:`exact_affine_constants` gives
  rho and L of the float matrix exactly (sympy, on the binary rationals it stores).
* :class:`HalfPlaneProblem`  0 in F(z) + N_H(z), F(z) = M (z - z*) - tau n, H = {<n, z - z*> <= 0}:
  z* is on the boundary line with multiplier tau > 0 (the zero of F lies outside H), so the
  projection in CEG+ is active at the solution. The weak-MVI constant of F + N_H (the one
  the theorem needs, over the graph of the set-valued operator) is computed in exact
  rational arithmetic (:func:`half_plane_rho`). It can be far below that of F alone: if F
  is anti-monotone along the boundary (M22 < 0 in the frame where n = e1), rho_T <= 1/M22.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from problems.minimax.games import AffineOperator

Array = np.ndarray


# ------------------------------------------------------------ non-normal
def non_normal_minty_matrix(d: int, c: float, seed: int, skew: float = 2.0) -> Array:
    """A (d x d, d even) with ||A||_2 = 1 and rho(A) = -c (to float rounding), non-normal."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    s = rng.uniform(0.5, 2.0, d)
    g = rng.standard_normal((d, d))
    K = skew * (g - g.T) / 2
    u = q[:, 0]

    def matrix(theta):
        return q @ np.diag(s) @ q.T - theta * np.outer(u, u) + K

    def rho_l(theta):  # rho(A) L(A) = lambda_min(sym B) / sigma_min(B), B = A^-1
        B = matrix(theta)
        return np.linalg.eigvalsh((B + B.T) / 2)[0] / np.linalg.svd(B, compute_uv=False)[-1]

    hi = s[0] + 1.0
    while rho_l(hi) > -c:
        hi = s[0] + 2 * (hi - s[0])
        if hi > 1e6:
            raise ValueError(f"cannot reach rho L = {-c} with this draw (seed {seed})")
    theta = s[0] if c == 0 else brentq(lambda t: rho_l(t) + c, s[0] - 1e-12, hi, xtol=1e-14)
    A = np.linalg.inv(matrix(theta))
    return A / np.linalg.norm(A, 2)


def float_constants(A: Array) -> tuple[float, float]:
    """(rho, L) of V = A z in float64: lambda_min(sym(A^-1)), ||A||_2."""
    inv = np.linalg.inv(A)
    return float(np.linalg.eigvalsh((inv + inv.T) / 2)[0]), float(np.linalg.norm(A, 2))


def exact_affine_constants(A: Array) -> tuple[sp.Expr, sp.Expr]:
    """(rho, L) of V = A z exactly: the float entries are binary rationals; rho is the smallest
    real root of the characteristic polynomial of sym(A^-1), L^2 the largest of A^T A."""
    Aq = sp.Matrix(A.shape[0], A.shape[1], lambda i, j: sp.Rational(float(A[i, j])))
    inv = Aq.inv()
    lam = sp.Symbol("lam")
    sym = (inv + inv.T) / 2
    rho = sp.Poly(sym.charpoly(lam).as_expr(), lam).real_roots()[0]
    top = sp.Poly((Aq.T * Aq).charpoly(lam).as_expr(), lam).real_roots()[-1]
    return rho, sp.sqrt(top)


def departure_from_normality(A: Array) -> float:
    return float(np.linalg.norm(A @ A.T - A.T @ A) / np.linalg.norm(A) ** 2)


# ------------------------------------------------------------- half-plane
def _frac_matrix(m) -> list[list[Fraction]]:
    return [[Fraction(float(v)) for v in row] for row in np.asarray(m, float)]


def _quadratic_min_on_half_plane(P, g, const) -> tuple[Fraction, tuple[Fraction, Fraction]]:
    """min of h^T P h + g.h + const over {h_1 <= 0} (P symmetric positive definite, exact)."""
    det = P[0][0] * P[1][1] - P[0][1] * P[1][0]
    # unconstrained minimiser -P^-1 g / 2
    h = (-(P[1][1] * g[0] - P[0][1] * g[1]) / (2 * det), -(-P[1][0] * g[0] + P[0][0] * g[1]) / (2 * det))
    if h[0] > 0:  # the minimum lies on the boundary line h_1 = 0: 1-D quadratic P22 y^2 + g2 y
        h = (Fraction(0), -g[1] / (2 * P[1][1]))
    value = (P[0][0] * h[0] ** 2 + 2 * P[0][1] * h[0] * h[1] + P[1][1] * h[1] ** 2 + g[0] * h[0] + g[1] * h[1]
             + const)
    return value, h


def half_plane_rho(M, tau: float, *, iterations: int = 60) -> tuple[Fraction, Fraction, str]:
    """Exact enclosure [lower, upper] of the weak-MVI constant of T = F + N_H in the canonical
    frame H = {h_1 <= 0}, F(h) = M h - tau e1 (z* = 0, multiplier tau >= 0):

    rho_T = inf { <u, h>/|u|^2 : h in H, u in F(h) + N_H(h), u != 0 }.
    * Boundary h = (0, y), u = F(h) + t e1 (t >= 0): <u, h> = M22 y^2 whatever t; if M22 < 0,
      t = tau - M12 y makes |u| = |M22 y| and the ratio 1/M22 (so rho_T <= 1/M22).
    * t = 0, h in H: ratio >= l iff Q_l(h) = h^T (S - l M^T M) h + (2 l tau M^T e1 - tau e1).h
      - l tau^2 >= 0 on H (S = sym M). Q_l decreases in l (its l-derivative is -|F|^2), so the
      feasible l form an interval; for l < lambda_min(sym M^-1) the quadratic part is positive
      definite and min_H Q_l is exact (above). Bisection in rationals; the upper end is
      certified by the point where Q_upper < 0."""
    Mq = _frac_matrix(M)
    t = Fraction(float(tau))
    S = [[Mq[0][0], (Mq[0][1] + Mq[1][0]) / 2], [(Mq[0][1] + Mq[1][0]) / 2, Mq[1][1]]]
    MtM = [[sum(Mq[k][i] * Mq[k][j] for k in range(2)) for j in range(2)] for i in range(2)]
    rho_m = float(np.linalg.eigvalsh(np.array((np.linalg.inv(np.asarray(M, float)) + np.linalg.inv(
        np.asarray(M, float)).T) / 2))[0])
    boundary = Fraction(1) / Mq[1][1] if Mq[1][1] < 0 else None

    def feasible(level: Fraction) -> tuple[bool, tuple]:
        P = [[S[i][j] - level * MtM[i][j] for j in range(2)] for i in range(2)]
        if P[0][0] <= 0 or P[0][0] * P[1][1] - P[0][1] * P[1][0] <= 0:
            return False, ()
        g = (2 * level * t * Mq[0][0] - t, 2 * level * t * Mq[0][1])
        value, h = _quadratic_min_on_half_plane(P, g, -level * t * t)
        return value >= 0 and (boundary is None or level <= boundary), h

    lo = Fraction(-2**20)
    if not feasible(lo)[0]:  # e.g. two solutions (det M <= 0) or anti-monotone along the boundary
        return Fraction(-10**300), lo, "rho_T < -2^20 (a point with ratio below it, exact)"
    hi = Fraction(min(0.0, rho_m)) + Fraction(1, 10**9)
    if boundary is not None:
        hi = min(hi, boundary + Fraction(1, 10**12))
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if feasible(mid)[0] else (lo, mid)
    return lo, hi, f"bisection in exact rationals ({iterations} steps); M22 = {float(Mq[1][1]):.4g}"


@dataclass(frozen=True, eq=False)
class HalfPlaneProblem:
    """0 in F(z) + N_H(z), F(z) = M (z - z*) - tau n, H = {z : <n, z - z*> <= 0}, with M = R M0 R^T,
    n = R e1 (R the rotation by ``angle``): the canonical problem (M0, e1) turned, so the
    weak-MVI constant is that of the canonical frame (exact, :func:`half_plane_rho`)."""

    M0: Array  # canonical 2x2 (binary-rational floats)
    tau: float
    angle: float
    z_star: Array

    @cached_property
    def rotation(self) -> Array:
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    @property
    def normal(self) -> Array:
        return self.rotation[:, 0]

    @property
    def M(self) -> Array:
        return self.rotation @ self.M0 @ self.rotation.T

    @property
    def operator(self) -> AffineOperator:
        return AffineOperator(self.M[None], dim_x=1, b=(-self.M @ self.z_star - self.tau * self.normal)[None])

    @property
    def solution(self) -> Array:
        return self.z_star

    @property
    def zero_of_F(self) -> Array:
        return self.z_star + self.tau * np.linalg.solve(self.M, self.normal)

    @property
    def lipschitz(self) -> float:
        return float(np.linalg.norm(self.M0, 2))

    @cached_property
    def rho(self) -> tuple[float, float]:
        """[lower, upper] of the weak-MVI constant of F + N_H (exact rationals, rounded outward)."""
        lo, hi, _ = half_plane_rho(self.M0, self.tau)
        return (-np.inf if lo <= -2**20 else float(np.nextafter(float(lo), -np.inf)),
                float(np.nextafter(float(hi), np.inf)))

    def prox(self, z: Array, gamma=None) -> Array:
        """Projection onto H (the resolvent of N_H for every step)."""
        excess = np.maximum((z - self.z_star) @ self.normal, 0.0)
        return z - excess[..., None] * self.normal
