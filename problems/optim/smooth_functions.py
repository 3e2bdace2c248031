"""Smooth test functions with exactly known constants, and noise models, for the
outer-problem slides (SGD, PSGD, SGLD, Q1-Q3) and the adaptive-methods rate table.

Every function takes a batch x of shape (B, d) (one point per row) and returns
values (B,) and gradients (B, d), float64. Constants (L, minimisers, saddles,
f*) hold by construction; the docstrings say why.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import brentq

from problems.minimax.bilinear import haar_orthogonal


def _rows(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"expected a batch of points of shape (B, d), got shape {x.shape}")
    return x


# ---------------------------------------------------------------- quadratics
@dataclass(frozen=True, eq=False)
class Quadratic:
    """f(x) = 1/2 (x - x*)^T H (x - x*),  H = Q diag(lam) Q^T, Q Haar-orthogonal.

    L = max(lam) and mu = min(lam) exactly (lam >= 0; mu = 0 allowed); f* = 0 at x*."""

    lam: np.ndarray
    Q: np.ndarray
    x_star: np.ndarray

    @classmethod
    def from_spectrum(cls, lam, seed: int = 0, x_star=None) -> "Quadratic":
        lam = np.asarray(lam, dtype=float)
        if lam.ndim != 1 or lam.size == 0 or np.any(lam < 0):
            raise ValueError(f"spectrum must be a non-empty 1-D array of eigenvalues >= 0, got {lam!r}")
        rng = np.random.default_rng(seed)
        Q = haar_orthogonal(lam.size, rng)
        xs = np.zeros(lam.size) if x_star is None else np.asarray(x_star, dtype=float)
        return cls(lam, Q, xs)

    @classmethod
    def diagonal(cls, lam, x_star) -> "Quadratic":
        """H = diag(lam) (Q = I), e.g. a power-law spectrum lam_i = i^-2 whose slow modes
        make gradient methods show their worst-case polynomial rates."""
        lam = np.asarray(lam, dtype=float)
        return cls(lam, np.eye(lam.size), np.asarray(x_star, dtype=float))

    @property
    def dim(self) -> int:
        return self.lam.size

    @property
    def L(self) -> float:
        return float(self.lam.max())

    @property
    def mu(self) -> float:
        return float(self.lam.min())

    @cached_property
    def H(self) -> np.ndarray:
        return (self.Q * self.lam) @ self.Q.T

    @cached_property
    def _is_diagonal(self) -> bool:
        return bool(np.array_equal(self.Q, np.eye(self.dim)))

    def value(self, x) -> np.ndarray:
        u = self.eigen_coordinates(x)
        return 0.5 * np.sum(self.lam * u * u, axis=-1)

    def gradient(self, x) -> np.ndarray:
        if self._is_diagonal:
            return (_rows(x) - self.x_star) * self.lam
        return (_rows(x) - self.x_star) @ self.H

    def eigen_coordinates(self, x) -> np.ndarray:
        """u = Q^T (x - x*): the coordinates in which the dynamics decouple."""
        if self._is_diagonal:
            return _rows(x) - self.x_star
        return (_rows(x) - self.x_star) @ self.Q


@st.composite
def quadratics(draw, max_dim: int = 5, lam_range=(0.1, 5.0), allow_zero: bool = False) -> Quadratic:
    """A quadratic with a drawn spectrum (eigenvalues in ``lam_range``; one may be 0)."""
    d = draw(st.integers(1, max_dim))
    lam = [draw(st.floats(*lam_range)) for _ in range(d)]
    if allow_zero and d > 1 and draw(st.booleans()):
        lam[-1] = 0.0
    seed = draw(st.integers(0, 2**16))
    return Quadratic.from_spectrum(np.array(lam), seed=seed)


# -------------------------------------------------------- nonconvex smooth
@dataclass(frozen=True, eq=False)
class CosineSum:
    """f(x) = sum_j a_j cos(w_j . x + b_j) + mu ||x||^2 / 2.

    grad^2 f = -sum_j a_j cos(.) w_j w_j^T + mu I, so ||grad^2 f|| <= L with
    L = sum_j |a_j| ||w_j||^2 + mu (a valid Lipschitz constant of grad f, attained
    only if the cosines align); f >= f_lower = -sum_j |a_j|; for mu = 0,
    ||grad f|| <= sum_j |a_j| ||w_j|| (bounded gradients)."""

    a: np.ndarray  # (J,)
    W: np.ndarray  # (J, d)
    b: np.ndarray  # (J,)
    mu: float

    @classmethod
    def random(cls, dim: int, terms: int, mu: float, seed: int) -> "CosineSum":
        if dim < 1 or terms < 0 or mu < 0:
            raise ValueError(f"need dim >= 1, terms >= 0, mu >= 0; got {dim=}, {terms=}, {mu=}")
        if terms == 0 and mu == 0:
            raise ValueError("terms = 0 and mu = 0 is the zero function; give one of them")
        rng = np.random.default_rng(seed)
        return cls(rng.uniform(-1, 1, terms), rng.standard_normal((terms, dim)),
                   rng.uniform(0, 2 * np.pi, terms), float(mu))

    @property
    def dim(self) -> int:
        return self.W.shape[1]

    @property
    def L(self) -> float:
        return float(np.sum(np.abs(self.a) * np.sum(self.W**2, axis=1)) + self.mu)

    @property
    def f_lower(self) -> float:
        return -float(np.sum(np.abs(self.a)))

    @property
    def gradient_bound(self) -> float:
        if self.mu:
            raise ValueError("with mu > 0 the gradient is unbounded")
        return float(np.sum(np.abs(self.a) * np.linalg.norm(self.W, axis=1)))

    def value(self, x) -> np.ndarray:
        x = _rows(x)
        return np.cos(x @ self.W.T + self.b) @ self.a + 0.5 * self.mu * np.sum(x * x, axis=-1)

    def gradient(self, x) -> np.ndarray:
        x = _rows(x)
        return -(np.sin(x @ self.W.T + self.b) * self.a) @ self.W + self.mu * x


@st.composite
def cosine_sums(draw, max_dim: int = 4, max_terms: int = 6, mu_range=(0.0, 0.5)) -> CosineSum:
    d = draw(st.integers(1, max_dim))
    terms = draw(st.integers(1, max_terms))
    mu = draw(st.floats(*mu_range))
    return CosineSum.random(d, terms, mu, seed=draw(st.integers(0, 2**16)))


@dataclass(frozen=True)
class StrictSaddle:
    """f(x, y) = x^2/2 + cos(y).

    grad f = (x, -sin y), grad^2 f = diag(1, -cos y): L = 1. Critical points
    (0, k pi): strict saddles (0, 2 pi k) (eigenvalues 1, -1), minimisers
    (0, pi + 2 pi k) (eigenvalues 1, 1), f* = -1. The stable manifold of the
    saddle (0, 2 pi k) under gradient descent is the line y = 2 pi k."""

    L: float = 1.0
    f_star: float = -1.0

    def value(self, x) -> np.ndarray:
        x = _rows(x)
        return 0.5 * x[:, 0] ** 2 + np.cos(x[:, 1])

    def gradient(self, x) -> np.ndarray:
        x = _rows(x)
        return np.stack([x[:, 0], -np.sin(x[:, 1])], axis=1)

    @staticmethod
    def distance_to_saddles(x) -> np.ndarray:
        x = _rows(x)
        dy = x[:, 1] - 2 * np.pi * np.round(x[:, 1] / (2 * np.pi))
        return np.hypot(x[:, 0], dy)

    @staticmethod
    def distance_to_minimisers(x) -> np.ndarray:
        x = _rows(x)
        shifted = x[:, 1] - np.pi
        dy = shifted - 2 * np.pi * np.round(shifted / (2 * np.pi))
        return np.hypot(x[:, 0], dy)


@dataclass(frozen=True)
class DoubleWell:
    """f(x) = sum_i (x_i^2 - 1)^2 / 4: grad_i = x_i^3 - x_i; minimisers x_i = +-1
    with curvature 2, a local max / saddles at x_i = 0. The gradient is not
    globally Lipschitz: Robbins-Monro's bounded-iterates setting."""

    curvature_at_minimum: float = 2.0
    f_star: float = 0.0

    def value(self, x) -> np.ndarray:
        return 0.25 * np.sum((_rows(x) ** 2 - 1) ** 2, axis=-1)

    def gradient(self, x) -> np.ndarray:
        x = _rows(x)
        return x**3 - x

    @staticmethod
    def distance_to_minimisers(x) -> np.ndarray:
        x = _rows(x)
        return np.linalg.norm(np.abs(x) - 1.0, axis=-1)


@dataclass(frozen=True)
class CoerciveWell:
    """f(x) = sum_i sqrt(1 + x_i^2) + 2 exp(-x_i^2): coercive (f >= |x|_1), nonconvex.

    f'(u) = u/sqrt(1+u^2) - 4u exp(-u^2),  f''(u) = (1+u^2)^(-3/2) - 4 exp(-u^2)(1 - 2u^2):
    |f''| <= 1 + 4 = 5 = L (both terms peak at u = 0); |f'| <= 1 + 4/sqrt(2e) = G.
    Critical points per coordinate: u = 0 (local max, f'' = -3) and +-u_m with
    exp(-u_m^2) sqrt(1 + u_m^2) = 1/4 (minimisers). The setting of Theorem 1 of
    Mertikopoulos et al. (NeurIPS 2020): Lipschitz, Lipschitz gradient, regular
    sublevel sets, no boundedness assumed."""

    L: float = 5.0
    G: float = 1.0 + 4.0 / np.sqrt(2.0 * np.e)

    @cached_property
    def u_min(self) -> float:
        return float(brentq(lambda u: np.exp(-u * u) * np.sqrt(1 + u * u) - 0.25, 0.5, 3.0, xtol=1e-15))

    @cached_property
    def curvature_at_minimum(self) -> float:
        u = self.u_min
        return float((1 + u * u) ** -1.5 - 4 * np.exp(-u * u) * (1 - 2 * u * u))

    def value(self, x) -> np.ndarray:
        x = _rows(x)
        return np.sum(np.sqrt(1 + x * x) + 2 * np.exp(-x * x), axis=-1)

    def gradient(self, x) -> np.ndarray:
        x = _rows(x)
        return x / np.sqrt(1 + x * x) - 4 * x * np.exp(-x * x)

    def distance_to_minimisers(self, x) -> np.ndarray:
        return np.linalg.norm(np.abs(_rows(x)) - self.u_min, axis=-1)


# ------------------------------------------------------ lower-bound instances
@dataclass(frozen=True)
class NesterovChain:
    """Nesterov's worst function (Introductory Lectures, 2004, Thm 2.1.7), one
    instance per iteration count k: dimension n = 2k + 1,

        f(x) = (L/4) (1/2 x^T A x - x_1),   A = tridiag(-1, 2, -1) (n x n),

    L-smooth (||A|| < 4), x*_i = 1 - i/(n+1), f* = (L/8)(-1 + 1/(n+1)). From
    x_0 = 0 every method whose iterates lie in the Krylov spaces of the gradients
    has f(x_k) - f* >= 3 L ||x_0 - x*||^2 / (32 (k+1)^2)."""

    k: int
    L: float = 1.0

    @property
    def n(self) -> int:
        return 2 * self.k + 1

    @cached_property
    def A(self) -> np.ndarray:
        n = self.n
        return 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)

    @cached_property
    def x_star(self) -> np.ndarray:
        i = np.arange(1, self.n + 1)
        return 1 - i / (self.n + 1)

    @property
    def f_star(self) -> float:
        return self.L / 8 * (-1 + 1 / (self.n + 1))

    @staticmethod
    def _apply_A(x: np.ndarray) -> np.ndarray:
        """A x for the tridiagonal A, in O(n) per row."""
        ax = 2 * x
        ax[:, 1:] -= x[:, :-1]
        ax[:, :-1] -= x[:, 1:]
        return ax

    def value(self, x) -> np.ndarray:
        x = _rows(x)
        return self.L / 4 * (0.5 * np.sum(x * self._apply_A(x), axis=-1) - x[:, 0])

    def gradient(self, x) -> np.ndarray:
        g = self._apply_A(_rows(x))
        g[:, 0] -= 1
        return self.L / 4 * g

    def lower_bound(self) -> float:
        """3 L ||x_0 - x*||^2 / (32 (k+1)^2) with x_0 = 0."""
        return 3 * self.L * float(self.x_star @ self.x_star) / (32 * (self.k + 1) ** 2)


@dataclass(frozen=True)
class Huber1D:
    """f(x) = lam * h_tau(x), h_tau(x) = x^2/2 (|x| <= tau), tau|x| - tau^2/2 otherwise:
    convex, lam-smooth, f* = 0 at 0. With lam = L and tau = |x_0|/(2n+1), n steps of
    gradient descent with step 1/L end at f(x_n) = L x_0^2/(4n+2): the worst case
    of Drori & Teboulle (Math. Prog. 2014)."""

    lam: float
    tau: float

    def value(self, x) -> np.ndarray:
        a = np.abs(_rows(x)[:, 0])
        return self.lam * np.where(a <= self.tau, 0.5 * a * a, self.tau * a - 0.5 * self.tau**2)

    def gradient(self, x) -> np.ndarray:
        x = _rows(x)
        return self.lam * np.clip(x, -self.tau, self.tau)


# ------------------------------------------------------- online problems
@dataclass(frozen=True)
class ReddiOnline:
    """The online convex problem of Reddi, Kale, Kumar (ICLR 2018, Thm 1) on
    F = [-1, 1]: f_t(x) = C x for t = 1 (mod 3), f_t(x) = -x otherwise, C > 2.

    Each period of three rounds costs C - 2 at x; the best fixed point is x* = -1
    (period cost 2 - C). A method that sits at x = +1 has average regret
    2(C - 2)/3. The theorem's Adam: beta1 = 0, beta2 = 1/(1 + C^2), alpha_t = alpha/sqrt(t)."""

    C: float = 3.0
    period: int = 3

    def __post_init__(self):
        if not self.C > self.period - 1:
            raise ValueError(f"need C > period - 1 = {self.period - 1} (else x* = +1), got C = {self.C}")

    @property
    def beta2(self) -> float:
        return 1.0 / (1.0 + self.C**2)

    @property
    def x_star(self) -> float:
        return -1.0

    @property
    def limit_average_regret(self) -> float:
        """Average regret of x = +1: 2(C - (period - 1))/period (= 2(C - 2)/3)."""
        return 2 * (self.C - (self.period - 1)) / self.period

    def gradients(self, T: int) -> np.ndarray:
        """g_1, ..., g_T (rounds numbered from 1)."""
        t = np.arange(1, T + 1)
        return np.where(t % self.period == 1 % self.period, self.C, -1.0)

    def regret(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Cumulative regret sum_{s<=t} g_s (x_s - x*) for iterates x (T, B), gradients g (T,)."""
        return np.cumsum(g[:, None] * (x - self.x_star), axis=0)


# ----------------------------------------------------------- noise models
def gaussian_noise(rng: np.random.Generator, shape, sigma: float = 1.0) -> np.ndarray:
    """U ~ N(0, sigma^2 I): all moments finite."""
    return sigma * rng.standard_normal(shape)


def student_t_noise(rng: np.random.Generator, shape, nu: float = 5.0) -> np.ndarray:
    """Student-t with nu degrees of freedom scaled to unit variance: E U = 0,
    E U^2 = 1, E|U|^q < inf exactly for q < nu (heavy tails; q = 4 for nu = 5)."""
    if not nu > 2:
        raise ValueError(f"unit variance needs nu > 2, got {nu}")
    return rng.standard_t(nu, size=shape) / np.sqrt(nu / (nu - 2))


def sphere_noise(rng: np.random.Generator, shape) -> np.ndarray:
    """U uniform on the unit sphere of the last axis: bounded (||U|| = 1), and
    uniformly exciting: E<U, u>^+ = c_d > 0 for every unit u."""
    z = rng.standard_normal(shape)
    return z / np.linalg.norm(z, axis=-1, keepdims=True)
