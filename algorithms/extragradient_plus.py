"""Extragradient+ methods for weak Minty variational inequalities (slides 38-39).

Same contract as family ``minimax`` (``algorithms.contracts``):
``method(operator, z0, alpha, num_steps, *, z_prev=None, **keywords)`` returns
z_0, ..., z_K as an array (K + 1, B, d), batched over B rows. Here ``alpha`` is
the extrapolation step gamma (a float or one per row); the second step is
``damping`` * gamma. Keyword-only extras have defaults, so a plain
``method(operator, z0, gamma, K)`` call is EG+ with the theory's damping 1/2.

Weak MVI: <V(z), z - z*> >= rho ||V(z)||^2 with rho possibly negative; V is
L-Lipschitz.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from algorithms.registry import register
from problems.linalg import spectral_norm

Array = np.ndarray


def _per_row(value: Any) -> Array:
    """A scalar, or one value per batch row as a column (B, 1)."""
    v = np.asarray(value, dtype=float)
    return v[:, None] if v.ndim == 1 else v


def _identity_prox(z: Array, _gamma: Any) -> Array:
    return z


def extragradient_plus(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """EG+ (Diakonikolas, Daskalakis, Jordan, AISTATS 2021), as on the tutorial's slide:

        zbar_k  = z_k - gamma V(z_k),
        z_{k+1} = z_k - alpha gamma V(zbar_k),      gamma = ``alpha`` argument, alpha = ``damping``.

    DDJ: gamma = 1/L, damping 1/2 converges (best iterate ||V(zbar_k)||^2 = O(1/k))
    when rho > -1/(8L) in the tutorial's sign convention."""
    gamma, damp = _per_row(alpha), _per_row(damping)
    z = np.array(z0, dtype=float, copy=True)
    out = np.empty((num_steps + 1, *z.shape))
    out[0] = z
    for k in range(num_steps):
        z_bar = z - gamma * operator(z)
        z = z - damp * gamma * operator(z_bar)
        out[k + 1] = z
    return out


def constrained_extragradient_plus(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5,
                                   prox: Callable[[Array, Any], Array] | None = None):
    """CEG+ (Pethick, Latafat, Patrinos, Fercoq, Cevher, ICLR 2022, Alg. 1) for
    0 in F z + A z, F = ``operator`` (L-Lipschitz), A maximally monotone:

        zbar_k  = (I + gamma A)^{-1}(z_k - gamma F z_k),
        z_{k+1} = z_k + alpha (H zbar_k - H z_k),   H = I - gamma F,

    gamma = ``alpha`` argument, alpha = ``damping``, ``prox(z, gamma)`` =
    (I + gamma A)^{-1} z (a projection for a constraint set; default A = 0, then
    CEG+ is EG+). Theory: gamma in (max(0, -2 rho), 1/L), damping in
    (0, 1 + 2 rho / gamma); needs rho > -1/(2L)."""
    gamma, damp = _per_row(alpha), _per_row(damping)
    resolvent = _identity_prox if prox is None else prox
    z = np.array(z0, dtype=float, copy=True)
    out = np.empty((num_steps + 1, *z.shape))
    out[0] = z
    for k in range(num_steps):
        h_z = z - gamma * operator(z)
        z_bar = resolvent(h_z, gamma)
        h_bar = z_bar - gamma * operator(z_bar)
        z = z + damp * (h_bar - h_z)
        out[k + 1] = z
    return out


def backtracked_step(operator, z: Array, v: Array, gamma: Array, prox, nu: float, tau: float,
                     max_backtracks: int = 80) -> Array:
    """Per row, the largest gamma in {gamma0 tau^i} with
    gamma ||V(zbar) - V(z)|| <= nu ||zbar - z||,  zbar = prox(z - gamma V(z))
    (a local Lipschitz test along the step). The operator is always evaluated on
    the whole batch (it may hold one instance per row)."""
    gamma = np.array(gamma, dtype=float, copy=True)
    for _ in range(max_backtracks):
        z_bar = prox(z - gamma[:, None] * v, gamma[:, None])
        lhs = gamma * np.linalg.norm(operator(z_bar) - v, axis=-1)
        bad = lhs > nu * np.linalg.norm(z_bar - z, axis=-1)
        if not bad.any():
            return gamma
        gamma = np.where(bad, gamma * tau, gamma)
    raise ArithmeticError(f"CurvatureEG+ line search: no step passed after {max_backtracks} backtracks "
                          f"(gamma = {gamma.min():.3g}); is the operator locally Lipschitz?")


def curvature_extragradient_plus(operator, z0, alpha, num_steps, *, z_prev=None, nu=0.99, tau=0.5, relaxation=1.0,
                                 sigma_fraction=-0.99 / 2, prox: Callable[[Array, Any], Array] | None = None):
    """CurvatureEG+ (Pethick et al. ICLR 2022, Sec. 6; ``Experiments.nb`` of
    LIONS-EPFL/weak-minty-code), per row and per iteration:

        gamma_0 = min(nu / ||DV(z_k)||_2, ``alpha``)            (curvature guess; alpha caps it),
        gamma   = gamma_0 tau^i, the first with gamma ||V(zbar) - V(z_k)|| <= nu ||zbar - z_k||,
        zbar    = prox(z_k - gamma V(z_k)),   dH = (zbar - gamma V(zbar)) - (z_k - gamma V(z_k)),
        sigma   = sigma_fraction * gamma                          (= -0.99 gamma / 2),
        a_k     = sigma / gamma + <zbar - z_k, dH> / ||dH||^2,
        z_{k+1} = z_k + relaxation * a_k * dH                      (relaxation lambda = 1).

    Recommended nu = 0.99, tau = 0.5 (the repository's README). A row with
    dH = 0 is at a fixed point and stays."""
    resolvent = _identity_prox if prox is None else prox
    cap = np.broadcast_to(np.asarray(alpha, dtype=float), (np.shape(z0)[0],))
    z = np.array(z0, dtype=float, copy=True)
    out = np.empty((num_steps + 1, *z.shape))
    out[0] = z
    for k in range(num_steps):
        v = operator(z)
        curvature = spectral_norm(operator.jacobian(z))
        gamma0 = np.minimum(cap, nu / np.maximum(curvature, 1e-300))
        gamma = backtracked_step(operator, z, v, gamma0, resolvent, nu, tau)
        g = gamma[:, None]
        h_z = z - g * v
        z_bar = resolvent(h_z, g)
        dh = (z_bar - g * operator(z_bar)) - h_z
        dh2 = np.sum(dh * dh, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_k = np.where(dh2 > 0, sigma_fraction + np.sum((z_bar - z) * dh, axis=-1) / dh2, 0.0)
        z = z + relaxation * a_k[:, None] * dh
        out[k + 1] = z
    return out


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("extragradient_plus", family="minimax")(extragradient_plus)
register("constrained_extragradient_plus", family="minimax")(constrained_extragradient_plus)
register("curvature_extragradient_plus", family="minimax")(curvature_extragradient_plus)
