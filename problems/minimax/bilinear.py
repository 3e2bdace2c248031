"""Bilinear games Phi(x, y) = x^T B y built from a chosen singular spectrum.

B = U diag(sigma) W^T with Haar-random orthogonal U (n x n), W (m x m), so the
singular values are known exactly. V(z) = A z, A = [[0, B], [-B^T, 0]] (skew).
In the coordinates p_j = u_j^T x, q_j = w_j^T y of the j-th singular pair, the
dynamics of every method decouple into 2-D blocks [[0, sigma_j], [-sigma_j, 0]];
directions in the kernels of B and B^T do not move.

Tutorial slide "Basic algorithms for minimax", game min_x max_y x^T A y.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from problems.minimax.games import AffineOperator


def haar_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal matrix (QR of a Gaussian with sign fix, Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@dataclass(frozen=True, eq=False)
class BilinearGame:
    """Phi(x, y) = x^T B y with B = U[:, :r] diag(sigma) W[:, :r]^T, r = len(sigma)."""

    sigma: np.ndarray  # singular values, shape (r,), r <= min(n, m)
    U: np.ndarray  # (n, n) orthogonal
    W: np.ndarray  # (m, m) orthogonal

    @classmethod
    def from_spectrum(cls, sigma, n: int, m: int, seed: int) -> "BilinearGame":
        sigma = np.asarray(sigma, dtype=float)
        if sigma.ndim != 1 or len(sigma) > min(n, m):
            raise ValueError(f"need at most min(n, m) = {min(n, m)} singular values, got {sigma.shape}")
        if np.any(sigma <= 0):
            raise ValueError("singular values must be positive (kernel directions come from n, m > r)")
        rng = np.random.default_rng(seed)
        return cls(sigma, haar_orthogonal(n, rng), haar_orthogonal(m, rng))

    @property
    def n(self) -> int:
        return self.U.shape[0]

    @property
    def m(self) -> int:
        return self.W.shape[0]

    @property
    def B(self) -> np.ndarray:
        r = len(self.sigma)
        return (self.U[:, :r] * self.sigma) @ self.W[:, :r].T

    @property
    def A(self) -> np.ndarray:
        B = self.B
        return np.block([[np.zeros((self.n, self.n)), B], [-B.T, np.zeros((self.m, self.m))]])

    @property
    def operator(self) -> AffineOperator:
        return AffineOperator(self.A, dim_x=self.n)

    def block_energies(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(e, e0): e[..., j] = p_j^2 + q_j^2 for each singular pair, e0 = energy in
        the kernel directions (constant under every method)."""
        r = len(self.sigma)
        p = z[..., : self.n] @ self.U[:, :r]
        q = z[..., self.n:] @ self.W[:, :r]
        e = p**2 + q**2
        # projected, not total minus blocks: that difference cancels catastrophically once GDA has grown
        kernel = np.sum((z[..., : self.n] @ self.U[:, r:]) ** 2, -1) + np.sum((z[..., self.n:] @ self.W[:, r:]) ** 2, -1)
        return e, kernel

    def unit_sphere_points(self, count: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((count, self.n + self.m))
        return z / np.linalg.norm(z, axis=1, keepdims=True)


@st.composite
def bilinear_games(draw, max_dim: int = 6, sigma_range=(0.1, 2.0)):
    """Parameters only: dimensions n, m in [1, max_dim], rank r <= min(n, m),
    singular values in ``sigma_range``, and the seed of the orthogonal factors."""
    n = draw(st.integers(1, max_dim))
    m = draw(st.integers(1, max_dim))
    r = draw(st.integers(1, min(n, m)))
    sigma = draw(st.lists(st.floats(*sigma_range, allow_nan=False), min_size=r, max_size=r))
    seed = draw(st.integers(0, 2**32 - 1))
    return BilinearGame.from_spectrum(sorted(sigma, reverse=True), n, m, seed)
