"""Kernels and kernel ridge(less) regression.

Family ``estimator`` (``algorithms.contracts``). Kernels take X (n, p), Z (m, p)
and return the (n, m) Gram block; ``kernel_ridge_regression(K, Y, ridge)``
returns the dual coefficients alpha = (K + ridge I)^{-1} Y, predictions are
K_test alpha. ``ridge = 0`` is ridgeless interpolation.

Tutorial slides "Kernel methods vs neural networks", "Benign, tempered,
catastrophic overfitting" (Mallinar et al., NeurIPS 2022).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from algorithms.registry import register


def _sq_distances(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    x, z = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(z, float))
    d2 = np.sum(x**2, 1)[:, None] + np.sum(z**2, 1)[None, :] - 2.0 * x @ z.T
    return np.maximum(d2, 0.0)  # the expansion can round a zero distance to -1e-16


def gaussian_kernel(x, z, bandwidth):
    """k(x, z) = exp(-||x - z||^2 / (2 h^2))."""
    return np.exp(-_sq_distances(x, z) / (2.0 * float(bandwidth) ** 2))


def laplace_kernel(x, z, bandwidth):
    """k(x, z) = exp(-||x - z|| / h)."""
    return np.exp(-np.sqrt(_sq_distances(x, z)) / float(bandwidth))


def relu_ntk_kernel(x, z):
    """The infinite-width NTK of f(a) = m^{-1/2} sum_j v_j relu(w_j^T a), w_j ~ N(0, I),
    v_j ~ N(0, 1), both layers trained (Jacot, Gabriel, Hongler, NeurIPS 2018):

        Theta(a, a') = ||a|| ||a'|| (sin t + (pi - t) cos t) / (2 pi)   [read-out layer]
                       + a^T a' (pi - t) / (2 pi),                       [first layer]

    t the angle between a and a' (Cho and Saul's arc-cosine kernels of degree 1 and 0)."""
    x, z = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(z, float))
    nx, nz = np.linalg.norm(x, axis=1)[:, None], np.linalg.norm(z, axis=1)[None, :]
    dot = x @ z.T
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(np.where(nx * nz > 0, dot / (nx * nz), 1.0), -1.0, 1.0)
    t = np.arccos(cos)
    return nx * nz * (np.sin(t) + (np.pi - t) * cos) / (2 * np.pi) + dot * (np.pi - t) / (2 * np.pi)


def kernel_ridge_regression(gram, targets, ridge=0.0):
    """Dual coefficients alpha = (K + ridge I)^{-1} Y (LU with partial pivoting, so
    the ridgeless interpolant is computed without any added jitter)."""
    k = np.asarray(gram, dtype=float)
    return scipy.linalg.solve(k + float(ridge) * np.eye(len(k)), np.asarray(targets, float), assume_a="gen")


def kernel_interpolation_high_precision(x, y, x_test, kernel, bandwidth, digits=80):
    """Ridgeless kernel interpolation f(x) = k(x, X) K^{-1} y for 1-D inputs, with K, the
    solve and the predictions all in ``digits``-digit arithmetic (mpmath); kernel in
    {'gaussian', 'laplace'}. Needed where cond(K) exceeds 1/eps_float64: there float64
    round-off acts as a hidden ridge (Gaussian kernel at fixed bandwidth), and the
    coefficients are so large that a float64 sum k(x, X) alpha cancels catastrophically.
    Returns the predictions at x_test as float64."""
    import mpmath

    with mpmath.workdps(int(digits)):
        h = mpmath.mpf(float(bandwidth))
        if kernel == "gaussian":
            entry = lambda a, b: mpmath.exp(-((a - b) ** 2) / (2 * h**2))  # noqa: E731
        elif kernel == "laplace":
            entry = lambda a, b: mpmath.exp(-abs(a - b) / h)  # noqa: E731
        else:
            raise ValueError(f"kernel {kernel!r}: use 'gaussian' or 'laplace'")
        xs = [mpmath.mpf(float(v)) for v in np.ravel(x)]
        gram = mpmath.matrix([[entry(a, b) for b in xs] for a in xs])
        alpha = mpmath.lu_solve(gram, mpmath.matrix([mpmath.mpf(float(v)) for v in np.ravel(y)]))
        out = []
        for t in np.ravel(x_test):
            tt = mpmath.mpf(float(t))
            out.append(float(mpmath.fsum(entry(tt, a) * alpha[i] for i, a in enumerate(xs))))
        return np.array(out)


# Registered by a call, not a decorator, so that mutation testing reaches the bodies (CONTRIBUTING).
register("gaussian_kernel", family="estimator")(gaussian_kernel)
register("laplace_kernel", family="estimator")(laplace_kernel)
register("relu_ntk_kernel", family="estimator")(relu_ntk_kernel)
register("kernel_ridge_regression", family="estimator")(kernel_ridge_regression)
register("kernel_interpolation_high_precision", family="estimator")(kernel_interpolation_high_precision)
