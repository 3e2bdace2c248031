"""Exact oracle: the linear iteration maps of the min-max methods on bilinear games.

On Phi = x^T B y the operator is V(z) = A z with A = [[0, B], [-B^T, 0]] skew, so
A is normal with eigenvalues +-i sigma_j (sigma_j the singular values of B).
Every method of ``algorithms.minimax`` is then a polynomial (or rational)
recursion in A, and along the eigenvector of eigenvalue lambda = i sigma it
reduces to a scalar recursion whose characteristic polynomial in mu is built
here with sympy, as a function of s = alpha * sigma:

    gda              mu - (1 - lambda)
    proximal_point   (1 + lambda) mu - 1
    extragradient    mu - (1 - lambda + lambda^2)
    optimistic_gda   mu^2 - (1 - 2 lambda) mu - lambda       (= reflected FB, = Popov)
    slide formula    mu^2 - (1 - lambda) mu - lambda^2

with lambda = alpha * (i sigma). The spectral radius (max |mu| over roots) says
whether the method converges (< 1) or diverges (> 1) on that singular pair.
The convergence threshold s* is where a root crosses the unit circle: mu and
1/conj(mu) are then common roots of p and of its conjugate-reciprocal p*, so s*
is a positive root of the resultant Res_mu(p, p*), a real polynomial in s.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

S = sp.Symbol("s", positive=True)  # s = alpha * sigma
MU = sp.Symbol("mu")
_LAM = sp.I * S

CHARACTERISTIC = {
    "gradient_descent_ascent": MU - (1 - _LAM),
    "proximal_point": (1 + _LAM) * MU - 1,
    "extragradient": MU - (1 - _LAM + _LAM**2),
    "optimistic_gda": MU**2 - (1 - 2 * _LAM) * MU - _LAM,
    "reflected_forward_backward": MU**2 - (1 - 2 * _LAM) * MU - _LAM,
    "past_extragradient": MU**2 - (1 - 2 * _LAM) * MU - _LAM,
    "slide_third_formula": MU**2 - (1 - _LAM) * MU - _LAM**2,
}
ONE_STEP = ("gradient_descent_ascent", "proximal_point", "extragradient")


def _poly(method: str) -> sp.Poly:
    if method not in CHARACTERISTIC:
        raise KeyError(f"no iteration-map oracle for {method!r}; known: {sorted(CHARACTERISTIC)}")
    return sp.Poly(sp.expand(CHARACTERISTIC[method]), MU)


@lru_cache(maxsize=None)
def modulus_squared(method: str) -> sp.Expr:
    """|mu(s)|^2 in closed form for a one-step method (its map is normal, so the
    norm along each singular pair scales by exactly |mu| per step)."""
    if method not in ONE_STEP:
        raise ValueError(f"{method!r} is a two-step method: use spectral_radius")
    (root,) = sp.solve(CHARACTERISTIC[method], MU)
    return sp.simplify(sp.expand(root * sp.conjugate(root)))


@lru_cache(maxsize=None)
def _modulus_fn(method: str):
    return sp.lambdify(S, modulus_squared(method), "numpy")


def one_step_modulus(method: str, s: np.ndarray) -> np.ndarray:
    """|mu(s)| for a one-step method, vectorised."""
    return np.sqrt(np.asarray(_modulus_fn(method)(np.asarray(s, dtype=float)), dtype=float))


@lru_cache(maxsize=None)
def _coefficient_fns(method: str):
    return [sp.lambdify(S, c, "numpy") for c in _poly(method).all_coeffs()]


def spectral_radius(method: str, s: np.ndarray) -> np.ndarray:
    """max |mu| over the roots of the characteristic polynomial, for each s."""
    s = np.atleast_1d(np.asarray(s, dtype=float))
    coeffs = [np.broadcast_to(np.asarray(f(s), dtype=complex), s.shape) for f in _coefficient_fns(method)]
    out = np.empty(s.shape)
    for idx in np.ndindex(s.shape):
        out[idx] = np.max(np.abs(np.roots([c[idx] for c in coeffs])))
    return out


@lru_cache(maxsize=None)
def threshold_polynomial(method: str) -> sp.Poly:
    """Res_mu(p, p*) as a polynomial in s: its positive roots are where a root
    of p lies on the unit circle."""
    p = _poly(method)
    c = p.all_coeffs()
    n = p.degree()
    p_star = sum(sp.conjugate(c[k]) * MU**k for k in range(n + 1))  # conj-reciprocal: mu^n conj(p(1/conj mu))
    res = sp.resultant(p.as_expr(), sp.expand(p_star), MU)
    return sp.Poly(sp.factor(sp.expand(res)), S)


@lru_cache(maxsize=None)
def convergence_threshold(method: str) -> sp.Expr | None:
    """The exact s* such that the method converges on the pair (spectral radius < 1)
    for 0 < s < s* and diverges just above; None if it never converges for small
    s (GDA) or never diverges (PPM)."""
    candidates = sorted(r for r in threshold_polynomial(method).real_roots() if r.is_positive)
    small = float(spectral_radius(method, 1e-3)[0])
    if small >= 1.0:
        return None
    for r in candidates:
        value = float(r.evalf(30))
        if spectral_radius(method, value * (1 + 1e-6))[0] > 1.0:
            return sp.nsimplify(r) if r.is_algebraic and r.free_symbols == set() else r
    return None
