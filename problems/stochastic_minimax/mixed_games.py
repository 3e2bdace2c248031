"""Finite and continuous zero-sum games for the mixed-Nash slides (40-42) and their exact oracles.

Convention: the row / x player *minimises* p^T G q (resp. E Phi), the column / y player maximises.

* :func:`random_matrix_games` - G uniform in [-1, 1]^(m x n), a batch; :func:`matching_pennies`.
* :func:`game_value` - the exact value v* = min_p max_q p^T G q by a linear program (scipy HiGHS).
* :func:`duality_gap` - max_j (G^T p)_j - min_i (G q)_i >= 0, zero exactly at a Nash equilibrium.
* the weird saddle Phi(x, y) = -x^2 y^2 + x y on [-2, 2]^2 (theta = x min, omega = y max; slide
  "Escaping traps", Parameswaran et al. NeurIPS 2020): its features (x^2, x) (-y^2, y) make
  E_{p x q} Phi = -m2(p) m2'(q)... depend on the first two moments only, so the duality gap of
  any pair of mixed strategies has a closed form (:func:`weird_saddle_mixed_gap`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize

Array = np.ndarray
BOX = 2.0  # the weird saddle's domain [-2, 2]^2


def random_matrix_games(batch: int, m: int, n: int, seed: int) -> Array:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (batch, m, n))


def matching_pennies() -> Array:
    return np.array([[1.0, -1.0], [-1.0, 1.0]])


def game_value(G: Array) -> float:
    """v* = min_p max_j (G^T p)_j: minimise v s.t. G^T p <= v 1, sum p = 1, p >= 0 (HiGHS)."""
    m, n = G.shape
    c = np.zeros(m + 1)
    c[-1] = 1.0
    res = optimize.linprog(c, A_ub=np.hstack([G.T, -np.ones((n, 1))]), b_ub=np.zeros(n),
                           A_eq=np.hstack([np.ones((1, m)), np.zeros((1, 1))]), b_eq=[1.0],
                           bounds=[(0, None)] * m + [(None, None)], method="highs")
    if res.status != 0:
        raise ArithmeticError(f"game_value: linprog failed: {res.message}")
    return float(res.fun)


def duality_gap(G: Array, p: Array, q: Array) -> Array:
    """max_j (G^T p)_j - min_i (G q)_i, batched over leading axes of p, q (G (..., m, n))."""
    return np.max(np.einsum("...ij,...i->...j", G, p), -1) - np.min(np.einsum("...ij,...j->...i", G, q), -1)


# ------------------------------------------------------------------ weird saddle
def weird_saddle_phi(x: Array, y: Array) -> Array:
    return -(x**2) * y**2 + x * y


def weird_saddle_operator(z: Array) -> Array:
    """V(z) = (d Phi/dx, -d Phi/dy) = (y - 2 x y^2, 2 x^2 y - x) for rows z = (x, y) (hand-coded twin of
    problems.minimax.games.weird_saddle(), which the checks compare it with)."""
    x, y = z[..., 0], z[..., 1]
    return np.stack([y - 2 * x * y * y, 2 * x * x * y - x], axis=-1)


def _max_concave(a2: Array, a1: Array) -> Array:
    """max over w in [-2, 2] of -a2 w^2 + a1 w, a2 >= 0 (vertex w = a1/(2 a2) if inside, else an end)."""
    a2, a1 = np.broadcast_arrays(np.asarray(a2, float), np.asarray(a1, float))
    ends = np.maximum(-a2 * BOX**2 + a1 * BOX, -a2 * BOX**2 - a1 * BOX)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(a2 > 0, a1 / (2 * np.where(a2 > 0, a2, 1.0)), np.inf)
    inside = np.abs(w) <= BOX
    return np.where(inside, np.where(a2 > 0, a1**2 / (4 * np.where(a2 > 0, a2, 1.0)), 0.0), ends)


def _min_concave(a2: Array, a1: Array) -> Array:
    """min over w in [-2, 2] of -a2 w^2 + a1 w, a2 >= 0: a concave function, so at an end."""
    return np.minimum(-a2 * BOX**2 + a1 * BOX, -a2 * BOX**2 - a1 * BOX)


def weird_saddle_mixed_gap(x_moments: tuple[Array, Array], y_moments: tuple[Array, Array]) -> Array:
    """Duality gap of mixed strategies p (of x, the minimiser) and q (of y) from their moments
    (E x, E x^2), (E y, E y^2): max_y E_p Phi(., y) - min_x E_q Phi(x, .), both in closed form:
    E_p Phi(x, y) = -E[x^2] y^2 + E[x] y (concave in y), E_q Phi(x, y) = -E[y^2] x^2 + E[y] x."""
    (mx1, mx2), (my1, my2) = x_moments, y_moments
    return _max_concave(mx2, mx1) - _min_concave(my2, my1)


def weird_saddle_pure_gap(x: Array, y: Array) -> Array:
    """The duality gap of the pure pair (x, y): the mixed gap of two point masses."""
    return weird_saddle_mixed_gap((x, x * x), (y, y * y))


def weird_saddle_gap_on_grid(x: Array, y: Array, points: int = 4001) -> Array:
    """The same gap by brute force on a grid of [-2, 2] (the catalogue's oracle): a check of the closed form."""
    g = np.linspace(-BOX, BOX, points)
    return (np.max(weird_saddle_phi(np.asarray(x)[..., None], g), -1)
            - np.min(weird_saddle_phi(g, np.asarray(y)[..., None]), -1))


def trap_gap(y: Array) -> Array:
    """Exact gap on the trap xy = 1/2 inside the box (|y| in [1/4, 2]): 1/4 + 4 y^2 + 2|y|, minimum 1 at |y| = 1/4."""
    return 0.25 + 4 * y**2 + 2 * np.abs(y)


@dataclass(frozen=True)
class SeparablePayoff:
    """Phi(x, y) = sum_r f_r(x) g_r(y) with features and their gradients (particles of shape (K, dim)).

    E_{y ~ q} Phi(x, y) = f(x) . E_q g - only the feature means of the opponent's measure are needed,
    so mirror descent on measures keeps an exact running sum of past opponents."""

    f: Callable[[Array], Array]  # (K, dx) -> (K, R)
    grad_f: Callable[[Array], Array]  # (K, dx) -> (K, R, dx)
    g: Callable[[Array], Array]
    grad_g: Callable[[Array], Array]
    low: float = -BOX
    high: float = BOX


def weird_saddle_payoff() -> SeparablePayoff:
    """-x^2 y^2 + x y = f(x) . g(y) with f = (x^2, x), g = (-y^2, y)."""
    return SeparablePayoff(
        f=lambda x: np.concatenate([x**2, x], -1),
        grad_f=lambda x: np.stack([2 * x, np.ones_like(x)], -2),
        g=lambda y: np.concatenate([-(y**2), y], -1),
        grad_g=lambda y: np.stack([-2 * y, np.ones_like(y)], -2),
    )
