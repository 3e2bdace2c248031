"""Descent directions for max-type functions f(x) = max_{δ∈S} Φ(x, δ) (family
``descent_direction``, ``algorithms.contracts``): the Danskin directional derivative,
the DDi direction and the PGD-style direction of adversarial training.

Given the gradients g_k = ∇ₓΦ(x, δ_k) at K maximisers δ_k (e.g. K attacks), stacked as
``gradients`` of shape (B, K, n) for B independent problems:

* Danskin (1966/67):  D_γ f(x) = max_{δ∈S*(x)} ⟨γ, ∇ₓΦ(x, δ)⟩ = max_k ⟨γ, g_k⟩ when the
  δ_k cover S*(x);
* DDi (Latorre, Krawczuk, Dadi, Pethick, Cevher, ICLR 2023):
      g* = argmin { ‖g‖ : g ∈ conv{g_1, …, g_K} },   d = −g*,
  the steepest-descent direction of f when {δ_k} ⊇ S*(x): D_{d/‖d‖} f = −‖g*‖;
* PGD-style / adversarial training (Madry et al., ICLR 2018):  d = −g_1, the gradient
  at *one* maximiser (the one the attack returned).

Tutorial slides "Danskin's theorem" … "DDi vs PGD" (Liu, Suykens, Cevher, ICASSP 2023).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from algorithms.registry import register

Array = np.ndarray


def _as_gradients(gradients) -> Array:
    g = np.asarray(gradients, dtype=float)
    if g.ndim != 3:
        raise ValueError(f"gradients must have shape (B, K, n), got {g.shape}; add a batch axis with g[None]")
    return g


def danskin_directional_derivative(gradients, directions) -> Array:
    """Danskin's formula D_γ f(x) = max_k ⟨γ, g_k⟩ for gradients (B, K, n) at points of
    S*(x) and directions γ (B, n); returns (B,). Positively homogeneous in γ."""
    g = _as_gradients(gradients)
    gamma = np.asarray(directions, dtype=float)
    return np.max(np.einsum("bkn,bn->bk", g, gamma), axis=1)


def min_norm_weights(gradients) -> Array:
    """λ* ∈ Δ_K with Σ_k λ*_k g_k the minimum-norm point of conv{g_k}; shape (B, K).

    Solved exactly by non-negative least squares (Lawson–Hanson active set, scipy):
    min_{u≥0} ‖Σ_k u_k g_k‖² + (Σ_k u_k − 1)². Writing u = sλ, λ ∈ Δ_K, the inner
    minimum over s ≥ 0 is a/(1 + a) with a = ‖Σλ_k g_k‖², increasing in a, so
    λ* = u*/Σu* minimises ‖Σλ_k g_k‖ over the simplex (Σu* = 1/(1 + a*) > 0)."""
    g = _as_gradients(gradients)
    B, K, n = g.shape
    lam = np.empty((B, K))
    # scale each problem to unit max-norm: the NNLS residual tolerance is absolute
    scale = np.maximum(np.linalg.norm(g, axis=2).max(axis=1), np.finfo(float).tiny)
    for b in range(B):
        A = np.vstack([g[b].T / scale[b], np.ones((1, K))])
        rhs = np.zeros(n + 1)
        rhs[-1] = 1.0
        u, _ = nnls(A, rhs, maxiter=50 * K)
        lam[b] = u / u.sum()
    return lam


def ddi_direction(gradients) -> Array:
    """DDi: d = −argmin{‖g‖ : g ∈ conv{g_k}} (Latorre et al., ICLR 2023), the min-norm
    element by the exact NNLS reformulation of :func:`min_norm_weights`; (B, n)."""
    g = _as_gradients(gradients)
    return -np.einsum("bk,bkn->bn", min_norm_weights(g), g)


def project_simplex(v: Array) -> Array:
    """Euclidean projection of each row of v onto the probability simplex
    (sort and threshold; Held, Wolfe, Crowder 1974)."""
    v = np.asarray(v, dtype=float)
    K = v.shape[-1]
    mu = -np.sort(-v, axis=-1)
    css = np.cumsum(mu, axis=-1) - 1.0
    k = np.arange(1, K + 1)
    rho = np.sum(mu - css / k > 0, axis=-1, keepdims=True)
    theta = np.take_along_axis(css, rho - 1, axis=-1) / rho
    return np.maximum(v - theta, 0.0)


def ddi_direction_apg(gradients, iterations: int = 100) -> Array:
    """DDi as the paper's code solves it (ddi_at ``SimplexMin``): accelerated projected
    gradient on F(λ) = ½ λᵀ(MMᵀ)λ over the simplex, M = [g_1; …; g_K],

        λ̃ = λ_k + k/(k+3)·(λ_k − λ_{k−1}),   λ_{k+1} = Π_Δ(λ̃ − ∇F(λ̃)/‖MMᵀ‖₂),

    from λ_0 = uniform, ``iterations`` steps (paper: 100). Nesterov's rate
    F(λ_k) − F* ≤ 2‖MMᵀ‖₂‖λ_0 − λ*‖²/(k+1)² (Su, Boyd, Candès 2016). Returns −Mᵀλ_k."""
    g = _as_gradients(gradients)
    B, K, _ = g.shape
    Q = np.einsum("bkn,bjn->bkj", g, g)
    L = np.maximum(np.linalg.norm(Q, ord=2, axis=(1, 2)), np.finfo(float).tiny)[:, None]
    lam = prev = np.full((B, K), 1.0 / K)
    for k in range(iterations):
        extra = lam + k / (k + 3) * (lam - prev)
        prev, lam = lam, project_simplex(extra - np.einsum("bkj,bj->bk", Q, extra) / L)
    return -np.einsum("bk,bkn->bn", lam, g)


def pgd_direction(gradients) -> Array:
    """PGD-style adversarial training (Madry et al., ICLR 2018): d = −g_1, the negative
    gradient at the first (the attack's) maximiser; (B, n)."""
    return -_as_gradients(gradients)[:, 0, :].copy()


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("danskin_directional_derivative", family="descent_direction")(danskin_directional_derivative)
register("ddi_direction", family="descent_direction")(ddi_direction)
register("ddi_direction_apg", family="descent_direction")(ddi_direction_apg)
register("pgd_direction", family="descent_direction")(pgd_direction)
