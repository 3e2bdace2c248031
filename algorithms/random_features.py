"""Random-features regression: feature maps, minimum-norm least squares, (S)GD.

Family ``estimator`` (``algorithms.contracts``). Every function is batched over
leading axes: features F of shape (*batch, n, N) (n samples, N features),
targets Y of shape (*batch, n) or (*batch, n, k), coefficients (*batch, N[, k]).

Tutorial slides "Benign overfitting and double descent", "Double descent curve
in practice (I)" and "From neural networks to random features model"
(Liu, Suykens, Cevher, ICASSP 2023).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre, polynomial

from algorithms.registry import register

EPS = np.finfo(float).eps
_GRAM_COND_LIMIT = 1e10  # cond(F F^T) above this (cond(F) > 1e5): the Gram route loses > 6 digits; use the SVD


# ------------------------------------------------------------------ feature maps
@dataclass(frozen=True, eq=False)
class FeatureMap:
    """phi(x) = scale * activation(V^T x + b), weights fixed at construction.

    V: (*batch, p, N); b: (*batch, N) or None; activation 'cos' or 'relu'."""

    weights: np.ndarray
    phase: np.ndarray | None
    activation: str
    scale: float

    @property
    def num_features(self) -> int:
        return self.weights.shape[-1]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Features of x (n, p) or (*batch, n, p) -> (*batch, n, N)."""
        z = np.asarray(x, dtype=float) @ self.weights
        if self.phase is not None:
            z = z + self.phase[..., None, :]
        if self.activation == "cos":
            return self.scale * np.cos(z)
        if self.activation == "relu":
            return self.scale * np.maximum(z, 0.0)
        raise ValueError(f"unknown activation {self.activation!r}; use 'cos' or 'relu'")


def random_fourier_features(dim, num_features, bandwidth, rng, batch=()):
    """Random Fourier features (Rahimi and Recht, NeurIPS 2007):

        phi(x) = sqrt(2/N) cos(V^T x + b),  V_ij ~ N(0, 1/bandwidth^2),  b_j ~ U[0, 2 pi],

    so that E phi(x)^T phi(x') = exp(-||x - x'||^2 / (2 bandwidth^2)) exactly (Bochner).
    One feature per frequency with a random phase: the interpolation threshold is N = n."""
    batch = tuple(np.atleast_1d(batch)) if batch != () else ()
    v = rng.standard_normal((*batch, dim, num_features)) / float(bandwidth)
    b = rng.uniform(0.0, 2.0 * np.pi, (*batch, num_features))
    return FeatureMap(v, b, "cos", float(np.sqrt(2.0 / num_features)))


def random_relu_features(dim, num_features, bandwidth, rng, batch=()):
    """Random ReLU features (a two-layer ReLU net with a frozen first layer):

        phi(x) = relu(V^T x) / sqrt(N),  V_ij ~ N(0, 1/bandwidth^2)."""
    batch = tuple(np.atleast_1d(batch)) if batch != () else ()
    v = rng.standard_normal((*batch, dim, num_features)) / float(bandwidth)
    return FeatureMap(v, None, "relu", float(1.0 / np.sqrt(num_features)))


def legendre_features(x, degree):
    """Unnormalised Legendre polynomials P_0(x), ..., P_d(x) (|P_k| <= 1 on [-1, 1]);
    x of shape (*batch, n) -> (*batch, n, d + 1)."""
    return legendre.legvander(np.asarray(x, dtype=float), int(degree))


def monomial_features(x, degree):
    """Monomials 1, x, ..., x^d; x of shape (*batch, n) -> (*batch, n, d + 1)."""
    return polynomial.polyvander(np.asarray(x, dtype=float), int(degree))


# ------------------------------------------------------ minimum-norm least squares
def _as_matrix(y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, bool]:
    y = np.asarray(y, dtype=float)
    vector = y.ndim == f.ndim - 1
    return (y[..., None] if vector else y), vector


def _svd(f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD of a batch. numpy's divide-and-conquer driver (gesdd) can fail to converge on
    rank-deficient inputs (duplicated training rows: a fresh-seed rerun hit it); the matrices it
    fails on are redone with the QR-iteration driver (gesvd), slower and more robust."""
    try:
        return np.linalg.svd(f, full_matrices=False)
    except np.linalg.LinAlgError:
        from scipy.linalg import svd

        flat = f.reshape(-1, *f.shape[-2:])
        parts = [svd(m, full_matrices=False, lapack_driver="gesvd") for m in flat]
        u, s, vt = (np.stack([p[i] for p in parts]) for i in range(3))
        return (u.reshape(*f.shape[:-1], -1), s.reshape(*f.shape[:-2], -1), vt.reshape(*f.shape[:-2], -1, f.shape[-1]))


def _svd_solve(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """theta = V S^+ U^T y with singular values below eps * max(n, N) * s_max set to
    zero: LAPACK's default cut-off (numerical rank), backward stable at N = n."""
    u, s, vt = _svd(f)
    cutoff = EPS * max(f.shape[-2:]) * s[..., :1]
    inv = np.where(s > cutoff, 1.0 / np.where(s > 0, s, 1.0), 0.0)
    return np.swapaxes(vt, -1, -2) @ (inv[..., None] * (np.swapaxes(u, -1, -2) @ y))


def min_norm_least_squares(features, targets):
    """The minimum-l2-norm least-squares coefficients

        theta = argmin { ||theta|| : theta minimises ||F theta - y||^2 } = F^+ y,

    i.e. theta = F^T (F F^T)^{-1} y when N > n (the interpolator of least norm) and
    (F^T F)^{-1} F^T y when N < n. Near the interpolation threshold (N within a factor
    2 of n) F is ill-conditioned, so the SVD of F itself is used (never the normal
    equations, which square the condition number); far from it the n x n (or N x N)
    Gram matrix is diagonalised, falling back to the SVD when cond(Gram) > 1e10, and the
    interpolator (N > n) takes one step of iterative refinement on y - F theta."""
    f = np.asarray(features, dtype=float)
    y, vector = _as_matrix(targets, f)
    n, big_n = f.shape[-2:]
    if max(n, big_n) < 2 * min(n, big_n):
        theta = _svd_solve(f, y)
    else:
        wide = big_n > n
        ft = np.swapaxes(f, -1, -2)
        gram = f @ ft if wide else ft @ f
        lam, vec = np.linalg.eigh(gram)
        if np.any(lam[..., :1] <= lam[..., -1:] / _GRAM_COND_LIMIT):
            theta = _svd_solve(f, y)
        else:
            vt = np.swapaxes(vec, -1, -2)
            if wide:  # theta = F^T (F F^T)^{-1} y, plus one step of iterative refinement
                # (the Gram solve alone leaves a residual ~ n eps cond(F) ||F|| ||theta||, 5x above
                # the rounding of a backward-stable solve at cond(F) ~ 5e3; refining on the
                # residual y - F theta brings it down to that rounding)
                theta = ft @ (vec @ ((vt @ y) / lam[..., None]))
                theta = theta + ft @ (vec @ ((vt @ (y - f @ theta)) / lam[..., None]))
            else:  # theta = (F^T F)^{-1} F^T y
                theta = vec @ ((vt @ (ft @ y)) / lam[..., None])
    return theta[..., 0] if vector else theta


def ridge_least_squares(features, targets, ridge):
    """theta = argmin ||F theta - y||^2 + ridge ||theta||^2 = F^T (F F^T + ridge I)^{-1} y."""
    f = np.asarray(features, dtype=float)
    y, vector = _as_matrix(targets, f)
    n = f.shape[-2]
    lam = np.asarray(ridge, dtype=float)[..., None, None]
    alpha = np.linalg.solve(f @ np.swapaxes(f, -1, -2) + lam * np.eye(n), y)
    theta = np.swapaxes(f, -1, -2) @ alpha
    return theta[..., 0] if vector else theta


# ------------------------------------------------------------- first-order methods
def gradient_descent_least_squares(features, targets, step, num_steps, theta0=None):
    """Full-batch GD on 1/2 ||F theta - y||^2:

        theta_{k+1} = theta_k - step * F^T (F theta_k - y),   theta_0 = 0 by default.

    Returns (theta_K, squared residuals ||F theta_k - y||^2 for k = 0..K, shape (K+1, *batch))."""
    f = np.asarray(features, dtype=float)
    y, vector = _as_matrix(targets, f)
    theta = np.zeros((*f.shape[:-2], f.shape[-1], y.shape[-1])) if theta0 is None else \
        np.array(theta0, dtype=float).reshape(*f.shape[:-2], f.shape[-1], y.shape[-1])
    a = np.asarray(step, dtype=float)[..., None, None]
    ft = np.swapaxes(f, -1, -2)
    history = np.empty((num_steps + 1, *f.shape[:-2]))
    r = f @ theta - y
    history[0] = np.sum(r**2, axis=(-2, -1))
    for k in range(num_steps):
        theta = theta - a * (ft @ r)
        r = f @ theta - y
        history[k + 1] = np.sum(r**2, axis=(-2, -1))
    return (theta[..., 0] if vector else theta), history


def sgd_least_squares(features, targets, step, num_epochs, rng, theta0=None, average=False):
    """Constant-step SGD on the least-squares loss, one sample per step, a fresh
    random order every epoch (shared across the batch):

        theta_t = theta_{t-1} + step * (y_i - <theta_{t-1}, phi_i>) phi_i,   theta_0 = 0,

    the update of Liu, Suykens, Cevher (NeurIPS 2022). With ``average`` it returns
    the Polyak-Ruppert average of theta_1..theta_T (their one-pass estimator when
    num_epochs = 1), else the last iterate. Targets (*batch, n)."""
    f = np.asarray(features, dtype=float)
    y = np.asarray(targets, dtype=float)
    n = f.shape[-2]
    theta = np.zeros(f.shape[:-2] + f.shape[-1:]) if theta0 is None else np.array(theta0, dtype=float)
    a = np.asarray(step, dtype=float)[..., None]
    mean = np.zeros_like(theta)
    t = 0
    for _ in range(num_epochs):
        for i in rng.permutation(n):
            phi = f[..., i, :]
            theta = theta + (a * (y[..., i] - np.sum(theta * phi, axis=-1))[..., None]) * phi
            t += 1
            if average:
                mean += (theta - mean) / t
    return mean if average else theta


# Registered by a call, not a decorator, so that mutation testing reaches the bodies (CONTRIBUTING).
register("random_fourier_features", family="estimator")(random_fourier_features)
register("random_relu_features", family="estimator")(random_relu_features)
register("legendre_features", family="estimator")(legendre_features)
register("monomial_features", family="estimator")(monomial_features)
register("min_norm_least_squares", family="estimator")(min_norm_least_squares)
register("ridge_least_squares", family="estimator")(ridge_least_squares)
register("gradient_descent_least_squares", family="estimator")(gradient_descent_least_squares)
register("sgd_least_squares", family="estimator")(sgd_least_squares)
