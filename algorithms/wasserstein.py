"""Wasserstein-1 distances and Lipschitz control of WGAN critics (family
``measurement``; tutorial slides "Wasserstein GANs", catalogue 2.5).

* ``wasserstein_1(x, y, a=None, b=None)`` — exact W₁ between the discrete measures
  μ = Σᵢ aᵢ δ_{xᵢ} and ν = Σⱼ bⱼ δ_{yⱼ} (x: (n, p), y: (m, p); uniform weights when
  None), ground cost ‖xᵢ − yⱼ‖₂:

      W₁(μ, ν) = min_{π ≥ 0, π1 = a, πᵀ1 = b} Σᵢⱼ πᵢⱼ ‖xᵢ − yⱼ‖₂

  solved as an assignment (scipy ``linear_sum_assignment``) for two uniform measures
  of equal size — an extreme point of the Birkhoff polytope is a permutation
  (Birkhoff–von Neumann) — and by the network simplex of POT (``ot.emd2``) otherwise.
* ``spectral_norm_estimate(weight, iterations=None, u=None)`` — σ_max(W) by power
  iteration on WᵀW, as spectral normalisation does it (Miyato, Kataoka, Koyama,
  Yoshida, ICLR 2018): v ← Wᵀu/‖Wᵀu‖, u ← Wv/‖Wv‖, σ̂ = ‖Wv‖. ``iterations=None``
  iterates until σ̂ grows by < 1e-14 relative (at most 10⁴ steps); ``u`` warm-starts.
  σ̂ ≤ σ_max always (a Rayleigh quotient), so W/σ̂ has ‖·‖₂ ≥ 1: only a converged
  estimate makes the normalised layer 1-Lipschitz.

POT is imported on first use, with its torch backend disabled
(POT_BACKEND_DISABLE_PYTORCH=1) when torch tensors are not needed.
"""
from __future__ import annotations

import os

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from algorithms.registry import register


def _ot():
    os.environ.setdefault("POT_BACKEND_DISABLE_PYTORCH", "1")
    import ot

    return ot


def _weights(w, size: int) -> np.ndarray:
    if w is None:
        return np.full(size, 1.0 / size)
    w = np.asarray(w, dtype=float)
    if w.shape != (size,) or np.any(w < 0):
        raise ValueError(f"weights must be non-negative with shape ({size},), got {w.shape}")
    return w


def wasserstein_1(x, y, a=None, b=None) -> float:
    """Exact W₁ between Σ aᵢ δ_{xᵢ} and Σ bⱼ δ_{yⱼ} with Euclidean ground cost (see module)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"supports live in different dimensions: {x.shape} vs {y.shape}")
    cost = cdist(x, y)
    if a is None and b is None and len(x) == len(y):
        rows, cols = linear_sum_assignment(cost)
        return float(cost[rows, cols].mean())
    a, b = _weights(a, len(x)), _weights(b, len(y))
    if abs(a.sum() - b.sum()) > 1e-12 * max(1.0, a.sum()):
        raise ValueError(f"the measures have different masses {a.sum()} and {b.sum()}")
    return float(_ot().emd2(a, b, cost, numItermax=10_000_000))


def spectral_norm_estimate(weight, iterations: int | None = None, u=None) -> float:
    """σ̂ ≈ σ_max(W) by power iteration (see module); weight: a 2-D array or tensor."""
    W = weight.detach().cpu().numpy() if hasattr(weight, "detach") else np.asarray(weight, dtype=float)
    W = np.asarray(W, dtype=float)
    if u is None:
        u = np.random.default_rng(0).standard_normal(W.shape[0])
    u = np.asarray(u, dtype=float) / np.linalg.norm(u)
    sigma = 0.0
    for _ in range(iterations if iterations is not None else 10_000):
        v = W.T @ u
        v /= np.linalg.norm(v)
        Wv = W @ v
        new = float(np.linalg.norm(Wv))  # = uᵀWv after the update below; ≤ σ_max (v is a unit vector)
        u = Wv / new
        converged = new - sigma <= 1e-14 * new  # ‖Wv_k‖ is non-decreasing; stop when it stalls
        sigma = new
        if iterations is None and converged:
            break
    return sigma


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("wasserstein_1", family="measurement")(wasserstein_1)
register("spectral_norm_estimate", family="measurement")(spectral_norm_estimate)
