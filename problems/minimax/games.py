"""Min-max games as operators V(z) = (grad_x Phi, -grad_y Phi), batched over rows.

Two kinds, both honouring the operator part of the ``minimax`` contract
(``__call__``, ``jacobian``, ``resolvent``, ``dim_x``):

* :class:`AffineOperator` V(z) = A z + b, one matrix or one per batch row;
  the resolvent (I + alpha A)^{-1}(z - alpha b) is solved exactly.
* :class:`SympyGame` Phi given symbolically; V and DV are lambdified once and
  the resolvent is solved by Newton's method to machine precision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

import numpy as np
import sympy as sp


def _column(alpha: Any) -> np.ndarray:
    a = np.asarray(alpha, dtype=float)
    return a[:, None] if a.ndim == 1 else a


@dataclass(frozen=True, eq=False)
class AffineOperator:
    """V(z) = A z + b with A of shape (d, d) or (B, d, d) (one instance per row)."""

    A: np.ndarray
    dim_x: int
    b: np.ndarray | None = None

    @property
    def dim(self) -> int:
        return self.A.shape[-1]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        out = np.einsum("...ij,...j->...i", self.A, z)
        return out if self.b is None else out + self.b

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.A, (*np.shape(z), self.dim)).copy()

    def resolvent(self, z: np.ndarray, alpha: Any) -> np.ndarray:
        """w with w + alpha V(w) = z, i.e. (I + alpha A) w = z - alpha b."""
        a = _column(alpha)
        rhs = z if self.b is None else z - a * self.b
        m = np.eye(self.dim) + a[..., None] * self.A if np.ndim(a) else np.eye(self.dim) + a * self.A
        return np.linalg.solve(m, rhs[..., None])[..., 0]


@dataclass(eq=False)
class SympyGame:
    """Phi(x, y) given as a sympy expression; x minimises, y maximises."""

    phi: sp.Expr
    x: Sequence[sp.Symbol]
    y: Sequence[sp.Symbol]
    name: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def dim_x(self) -> int:
        return len(self.x)

    @property
    def symbols(self) -> list[sp.Symbol]:
        return [*self.x, *self.y]

    @cached_property
    def operator_expr(self) -> sp.Matrix:
        return sp.Matrix([sp.diff(self.phi, s) for s in self.x] + [-sp.diff(self.phi, s) for s in self.y])

    @cached_property
    def _v(self):
        return sp.lambdify(self.symbols, list(self.operator_expr), "numpy")

    @cached_property
    def _dv(self):
        return sp.lambdify(self.symbols, self.operator_expr.jacobian(self.symbols).tolist(), "numpy")

    def __call__(self, z: np.ndarray) -> np.ndarray:
        cols = self._v(*np.moveaxis(z, -1, 0))
        return np.stack([np.broadcast_to(c, z.shape[:-1]) for c in cols], axis=-1).astype(float)

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        rows = self._dv(*np.moveaxis(z, -1, 0))
        return np.stack([np.stack([np.broadcast_to(c, z.shape[:-1]) for c in r], -1) for r in rows], -2).astype(float)

    def resolvent(self, z: np.ndarray, alpha: Any, *, tol: float = 1e-14, max_iter: int = 50) -> np.ndarray:
        """w with w + alpha V(w) = z, by Newton's method from w = z.

        Raises if Newton does not reach ``tol`` (alpha too large for the implicit
        step to be well posed near z)."""
        a = _column(alpha)
        w = np.array(z, dtype=float, copy=True)
        eye = np.eye(z.shape[-1])
        for _ in range(max_iter):
            residual = w + a * self(w) - z
            if np.max(np.abs(residual)) <= tol * max(1.0, float(np.max(np.abs(z)))):
                return w
            jac = eye + (a[..., None] if np.ndim(a) else a) * self.jacobian(w)
            w = w - np.linalg.solve(jac, residual[..., None])[..., 0]
        raise ArithmeticError(f"resolvent of {self.name or self.phi}: Newton did not converge "
                              f"(alpha={alpha!r}); use a smaller step")


def weird_saddle() -> SympyGame:
    """Phi = -x^2 y^2 + x y (Hsieh, Mertikopoulos, Cevher 2021): stationary set {0} U {xy = 1/2}."""
    x, y = sp.symbols("x y", real=True)
    return SympyGame(-(x**2) * y**2 + x * y, [x], [y], name="weird saddle")
