"""Fast numpy operators for the weak-Minty games of ``problems.minimax.minty_games``.

Each class keeps the symbolic game of :class:`problems.minimax.games.SympyGame` (so the
symbolic V, DV and the Newton resolvent stay available, e.g. as
``SympyGame.__call__(game, z)`` for cross-checks) but evaluates V and DV from
closed forms: the lambdified expressions cost 5-10x more per call, and the
checks iterate these maps for thousands of steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import sympy as sp

from problems.minimax.games import SympyGame

Array = np.ndarray


@dataclass(eq=False)
class SympyVectorField(SympyGame):
    """An operator V given directly as a symbolic vector field (the polar game is
    not the gradient field of any Phi); same interface as :class:`SympyGame`."""

    field_expr: tuple = ()

    @cached_property
    def operator_expr(self) -> sp.Matrix:
        return sp.Matrix(self.field_expr)


@dataclass(eq=False)
class PolynomialPairGame(SympyGame):
    """Phi(x, y) = x y + f(x) - g(y) (+ terms linear in x or y), x, y scalars, so that

        V(x, y) = (y + p(x), -x + q(y)),   DV = [[p'(x), 1], [-1, q'(y)]],

    with p, q one-variable polynomials read off the symbolic Phi. V and DV are
    evaluated by Horner's rule (5x faster than the lambdified expressions); the
    symbolic route stays available as ``SympyGame.__call__(game, z)`` for
    cross-checks, and the resolvent is inherited (Newton). ``coefficients`` (p, q
    in ascending order) may be given to skip the symbolic extraction (tens of ms)
    when many games of a family are built; the checks compare both routes."""

    coefficients: tuple | None = None

    @cached_property
    def _coefficients(self) -> tuple[Array, Array]:
        if self.coefficients is not None:
            return tuple(np.asarray(c, dtype=float) for c in self.coefficients)
        (x,), (y,) = self.x, self.y
        p = sp.expand(sp.diff(self.phi, x) - y)
        q = sp.expand(-sp.diff(self.phi, y) + x)
        if y in p.free_symbols or x in q.free_symbols:
            raise ValueError(f"{self.name}: Phi is not of the form x y + f(x) - g(y) + const")
        as_array = lambda e, s: np.array([float(c) for c in reversed(sp.Poly(e, s).all_coeffs())])  # noqa: E731
        return as_array(p, x), as_array(q, y)

    @cached_property
    def _split(self) -> tuple:
        """Each polynomial as even and odd parts in u^2, p(u) = E(u^2) + u O(u^2),
        trailing zeros trimmed: the games' polynomials are odd plus a constant."""
        def split(c):
            even, odd = np.trim_zeros(c[0::2], "b"), np.trim_zeros(c[1::2], "b")
            return tuple(even), tuple(odd)
        p, q = self._coefficients
        dp, dq = np.polynomial.polynomial.polyder(p), np.polynomial.polynomial.polyder(q)
        return split(p), split(q), split(dp), split(dq)

    @staticmethod
    def _horner(u: Array, parts: tuple) -> Array:
        """E(u^2) + u O(u^2) by Horner's rule (starting from Python floats: no array allocations
        beyond the products themselves)."""
        even, odd = parts
        u2 = u * u
        out: Any = 0.0
        if odd:
            acc: Any = odd[-1]
            for c in odd[-2::-1]:
                acc = acc * u2 + c
            out = acc * u
        if even:
            acc = even[-1]
            for c in even[-2::-1]:
                acc = acc * u2 + c
            out = out + acc
        return out

    def __call__(self, z: Array) -> Array:
        p, q, _, _ = self._split
        out = np.empty(np.shape(z))
        out[..., 0] = z[..., 1] + self._horner(z[..., 0], p)
        out[..., 1] = self._horner(z[..., 1], q) - z[..., 0]
        return out

    def jacobian(self, z: Array) -> Array:
        _, _, dp, dq = self._split
        out = np.empty((*np.shape(z), 2))
        out[..., 0, 0] = self._horner(z[..., 0], dp)
        out[..., 0, 1] = 1.0
        out[..., 1, 0] = -1.0
        out[..., 1, 1] = self._horner(z[..., 1], dq)
        return out


@dataclass(eq=False)
class PolarField(SympyVectorField):
    """The polar game's field V = (-b y + x g, b x + y g), g = a (r^2 - 1)(16 r^2 - 9)/16,
    evaluated directly in numpy (the symbolic field stays the reference)."""

    a: float = 1.0
    b: float = 1.0

    def _g(self, r2: Array) -> tuple[Array, Array]:
        g = self.a * (r2 - 1) * (16 * r2 - 9) / 16
        dg = self.a * (32 * r2 - 25) / 16  # dg/d(r^2)
        return g, dg

    def __call__(self, z: Array) -> Array:
        x, y = z[..., 0], z[..., 1]
        g, _ = self._g(x * x + y * y)
        return np.stack([-self.b * y + x * g, self.b * x + y * g], axis=-1)

    def jacobian(self, z: Array) -> Array:
        x, y = z[..., 0], z[..., 1]
        g, dg = self._g(x * x + y * y)
        out = np.empty((*np.shape(z), 2))
        out[..., 0, 0] = g + 2 * x * x * dg
        out[..., 0, 1] = -self.b + 2 * x * y * dg
        out[..., 1, 0] = self.b + 2 * x * y * dg
        out[..., 1, 1] = g + 2 * y * y * dg
        return out


@dataclass(eq=False)
class WeirdSaddle(SympyGame):
    """Phi = -x^2 y^2 + x y (problems.minimax.games.weird_saddle) with V = (y - 2xy^2, 2x^2 y - x)
    and DV in closed form (numpy), the symbolic game kept for cross-checks."""

    def __call__(self, z: Array) -> Array:
        x, y = z[..., 0], z[..., 1]
        out = np.empty(np.shape(z))
        out[..., 0] = y * (1 - 2 * x * y)
        out[..., 1] = x * (2 * x * y - 1)
        return out

    def jacobian(self, z: Array) -> Array:
        x, y = z[..., 0], z[..., 1]
        out = np.empty((*np.shape(z), 2))
        out[..., 0, 0] = -2 * y * y
        out[..., 0, 1] = 1 - 4 * x * y
        out[..., 1, 0] = 4 * x * y - 1
        out[..., 1, 1] = 2 * x * x
        return out


@dataclass(frozen=True, eq=False)
class CosSumGradient:
    """V = grad f for f(x) = sum_j a_j cos(w_j . x + b_j) + mu |x|^2 / 2 (a
    minimisation problem written as an operator: dim_x = d, no max player).
    L = sum_j |a_j| |w_j|^2 + mu exactly bounds the Hessian norm."""

    a: Array
    w: Array
    b: Array
    mu: float

    @property
    def dim_x(self) -> int:
        return self.w.shape[1]

    @property
    def lipschitz(self) -> float:
        return float(np.sum(np.abs(self.a) * np.sum(self.w**2, axis=1)) + self.mu)

    def value(self, z: Array) -> Array:
        return np.cos(z @ self.w.T + self.b) @ self.a + 0.5 * self.mu * np.sum(z**2, axis=-1)

    def __call__(self, z: Array) -> Array:
        return -(np.sin(z @ self.w.T + self.b) * self.a) @ self.w + self.mu * z

    def jacobian(self, z: Array) -> Array:
        c = np.cos(z @ self.w.T + self.b) * self.a
        return -np.einsum("...j,jk,jl->...kl", c, self.w, self.w) + self.mu * np.eye(self.dim_x)

    def resolvent(self, z: Array, alpha: Any) -> Array:
        raise NotImplementedError("CosSumGradient has no closed-form resolvent; use explicit methods")


def cos_sum_potential(seed: int, d: int = 2, terms: int = 6, mu: float = 0.1) -> CosSumGradient:
    rng = np.random.default_rng(seed)
    return CosSumGradient(rng.uniform(-1, 1, terms), rng.normal(0, 1.5, (terms, d)),
                          rng.uniform(0, 2 * np.pi, terms), mu)
