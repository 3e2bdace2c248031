"""Exact oracles for the stochastic min-max checks, independent of algorithms/.

* :func:`affine_law` - on an affine game V(z) = A z + c with additive noise of covariance
  sigma^2 I, every method of slide 39 is a linear recursion in an augmented state driven by
  white noise, so the mean and covariance of z_k follow exactly (and for Gaussian noise the
  law of z_k is exactly N(mean, cov)). Written from the update formulas, not by running code.
* :func:`mean_direction` - the alpha -> 0 mean dynamics z' = -D z of SEG+-type methods on
  an affine game, D = A M(gamma) with zbar = M(gamma) z (simultaneous or alternating).
* :func:`clipped_gaussian_mean` and :func:`p1segplus_limit` - the expected projection of a
  Gaussian in closed form, and the zero of P1SEG+'s mean field on the constrained bilinear
  game: the biased point SEG+ settles at.
* :func:`weak_minty_rho`, :func:`lipschitz_constant` - grid + local refinement oracles.
* statistics: the binomial count a median test needs, chi-square law-conformance bounds.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import numpy as np
from scipy import optimize, special, stats

Array = np.ndarray


# -------------------------------------------------------------- exact laws
def _step_maps(method: str, A: Array, c: Array, gamma: float, alpha: float, beta: float):
    """(T, t, N): s_{k+1} = T s_k + t + N w_k, w_k white with covariance sigma^2 I.

    States: z for SEG/SEG+; (z_k, h_{k-1}, z_{k-1}) for BC-SEG+."""
    d = len(c)
    eye = np.eye(d)
    if method in ("seg", "seg_plus"):
        e = beta * gamma if method == "seg" else gamma  # extrapolation step
        u = alpha * gamma  # update step
        # zbar = (I - eA) z - e c - e xi ;  z+ = z - u(A zbar + c + xibar)
        T = eye - u * A @ (eye - e * A)
        t = -u * (A @ (-e * c) + c)
        N = np.hstack([u * e * A, -u * eye])
        return T, t, N
    if method in ("bc_seg_plus", "bc_seg_plus_independent"):
        G = eye - gamma * A
        zero = np.zeros((d, d))
        # h_k = G z_k + (1-a) h_{k-1} - (1-a) G z_{k-1} - a gamma c + noise_h
        Th = np.hstack([G, (1 - alpha) * eye, -(1 - alpha) * G])
        th = -alpha * gamma * c
        if method == "bc_seg_plus":  # same zeta at z_k and z_{k-1}: -gamma xi + (1-a) gamma xi
            Nh = np.hstack([-alpha * gamma * eye, zero, zero])
        else:  # an independent zeta' at z_{k-1}: -gamma xi + (1-a) gamma xi'
            Nh = np.hstack([-gamma * eye, (1 - alpha) * gamma * eye, zero])
        # z_{k+1} = z_k - a gamma (A h_k + c + xibar)
        u = alpha * gamma
        Tz = np.hstack([eye, zero, zero]) - u * A @ Th
        tz = -u * (A @ th + c)
        Nz = -u * A @ Nh + np.hstack([zero, zero, -u * eye])
        T = np.vstack([Tz, Th, np.hstack([eye, zero, zero])])
        t = np.concatenate([tz, th, np.zeros(d)])
        N = np.vstack([Nz, Nh, np.zeros((d, 3 * d))])
        return T, t, N
    raise ValueError(f"no exact law for method {method!r}; known: seg, seg_plus, bc_seg_plus, "
                     "bc_seg_plus_independent")


def affine_law(method: str, A: Array, c: Array, gamma: float, schedule: Callable, num_steps: int,
               sigma: float, z0: Array, record: list[int]) -> tuple[Array, Array]:
    """Mean (R, d) and covariance (R, d, d) of z_k at the recorded k, exactly."""
    A, c, z0 = np.asarray(A, float), np.asarray(c, float), np.asarray(z0, float)
    d = len(c)
    state = np.concatenate([z0, z0, z0]) if method.startswith("bc_") else z0.copy()
    cov = np.zeros((len(state), len(state)))
    want = {int(k): i for i, k in enumerate(record)}
    means, covs = np.empty((len(record), d)), np.empty((len(record), d, d))
    for k in range(num_steps + 1):
        if k in want:
            means[want[k]], covs[want[k]] = state[:d], cov[:d, :d]
        if k == num_steps:
            break
        alpha, beta = schedule(k)
        T, t, N = _step_maps(method, A, c, gamma, float(alpha), float(beta))
        state = T @ state + t
        cov = T @ cov @ T.T + sigma**2 * (N @ N.T)
    return means, covs


def plane_law(method: str, b: float, a: float, gamma: float, schedule: Callable, num_steps: int,
              sigma: float, z0: Array, record: list[int]) -> tuple[Array, Array]:
    """SEG / SEG+ on V(z) = [[b, a], [-a, b]] z (a complex multiplication by lambda = b - i a on
    z = x + i y), additive noise of covariance sigma^2 I: mean (R, 2) and the per-coordinate
    variance (R,) of z_k (the covariance stays sigma_k^2 I), vectorised over k.

    z_{k+1} = mu_k z_k + u e lambda xi - u xibar,  mu_k = 1 - u lambda + u e lambda^2,
    u = alpha_k gamma, e = beta_k gamma (SEG) or gamma (SEG+)."""
    if method not in ("seg", "seg_plus"):
        raise ValueError(f"plane_law covers seg and seg_plus, not {method!r}")
    k = np.arange(num_steps, dtype=float)
    alpha, beta = (np.broadcast_to(np.asarray(v, float), k.shape) for v in schedule(k))
    lam = complex(b, -a)
    u = alpha * gamma
    e = beta * gamma if method == "seg" else np.full_like(u, gamma)
    mu = 1 - u * lam + u * e * lam**2
    q = sigma**2 * (u**2 * e**2 * abs(lam) ** 2 + u**2)
    log_p = np.concatenate([[0.0], np.cumsum(np.log(np.abs(mu) ** 2))])  # log prod_{i<k} |mu_i|^2
    phase = np.concatenate([[1.0 + 0j], np.cumprod(mu / np.abs(mu))])
    var = np.exp(log_p) * np.concatenate([[0.0], np.cumsum(q * np.exp(-log_p[1:]))])
    idx = np.asarray(record, int)
    mean_c = complex(z0[0], z0[1]) * np.exp(0.5 * log_p[idx]) * phase[idx]
    return np.stack([mean_c.real, mean_c.imag], -1), var[idx]


def rice_median(mean: Array, var: Array) -> Array:
    """Median of |z| for z ~ N(mean, var I_2) (Rice distribution), elementwise over rows."""
    norm = np.linalg.norm(mean, axis=-1)
    scale = np.sqrt(np.asarray(var, float))
    safe = np.where(scale > 0, scale, 1.0)
    return np.where(scale > 0, stats.rice.median(norm / safe, scale=safe), norm)


def gaussian_norm_quantile(mean: Array, cov: Array, q: float = 0.5, draws: int = 400_000) -> float:
    """The q-quantile of |z| for z ~ N(mean, cov), from a fixed quasi-exhaustive sample
    (relative error ~ 1/sqrt(draws) ~ 2e-3, far below the tolerances it is used with)."""
    rng = np.random.default_rng(20230201)
    chol = np.linalg.cholesky(cov + 1e-300 * np.eye(len(mean)))
    z = mean + rng.standard_normal((draws, len(mean))) @ chol.T
    return float(np.quantile(np.linalg.norm(z, axis=1), q))


# ------------------------------------------------------- mean dynamics
def extrapolation_matrix(A: Array, gamma: float, dim_x: int, alternating: bool = False) -> Array:
    """zbar = M z: simultaneous M = I - gamma A; alternating (Gauss-Seidel) applies the
    x-half first and evaluates the y-half at (xbar, y)."""
    d = A.shape[0]
    eye = np.eye(d)
    if not alternating:
        return eye - gamma * A
    Mx = eye.copy()
    Mx[:dim_x] -= gamma * A[:dim_x]  # (xbar, y) = Mx z
    M = Mx.copy()
    M[dim_x:] = eye[dim_x:] - gamma * (A @ Mx)[dim_x:]
    return M


def mean_direction(A: Array, gamma: float, dim_x: int, alternating: bool = False) -> Array:
    """D with E[z_{k+1}] = (I - alpha_k gamma D) E[z_k] for SEG+-type methods on V = A z."""
    return A @ extrapolation_matrix(A, gamma, dim_x, alternating)


def segplus_affine_stable(A: Array, gamma: float, alpha: float, dim_x: int, alternating: bool = False) -> bool:
    """Spectral radius of the expected SEG+ map I - alpha gamma D below 1."""
    T = np.eye(len(A)) - alpha * gamma * mean_direction(A, gamma, dim_x, alternating)
    return bool(np.max(np.abs(np.linalg.eigvals(T))) < 1.0)


# ------------------------------------------------- projected Gaussians
def clipped_gaussian_mean(mu: Array, s: float, lo: float, hi: float) -> Array:
    """E[clip(mu + s Z, lo, hi)], Z ~ N(0, 1), elementwise, in closed form."""
    a, b = (lo - mu) / s, (hi - mu) / s
    Pa, Pb = special.ndtr(a), special.ndtr(b)
    pdf = lambda x: np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)  # noqa: E731
    return lo * Pa + hi * (1 - Pb) + mu * (Pb - Pa) + s * (pdf(a) - pdf(b))


def p1segplus_limit(A: Array, c: Array, gamma: float, sigma: float, radius: float, guess: Array) -> Array:
    """Zero of P1SEG+'s mean field on V = A z + c, additive N(0, sigma^2 I) noise, box radius r:
    E[z+ - z]/alpha = (I - gamma A) E[P(h)] - gamma c - H(z), h ~ N(H(z), gamma^2 sigma^2 I),
    H(z) = z - gamma V(z). (V affine, so E V(P(h)) = V(E P(h)).)"""
    eye = np.eye(len(c))

    def field(z):
        Hz = z - gamma * (A @ z + c)
        return (eye - gamma * A) @ clipped_gaussian_mean(Hz, gamma * sigma, -radius, radius) - gamma * c - Hz

    sol = optimize.root(field, guess, tol=1e-14)
    if not sol.success:
        raise ArithmeticError(f"p1segplus_limit: root finding failed ({sol.message})")
    return sol.x


# ------------------------------------------------- constants on a domain
def _domain_grid(domain: str, half_width: float, n: int) -> Array:
    u = np.linspace(-half_width, half_width, n)
    z = np.stack(np.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    return z[np.linalg.norm(z, axis=1) <= half_width] if domain == "ball" else z


def weak_minty_rho(game: Any, domain: str, half_width: float, n: int = 801) -> tuple[float, Array]:
    """inf over the domain of <V z, z - z*>/|V z|^2, by the shared oracle
    (problems.minimax.minty_oracles: grid + L-BFGS-B from every discrete local minimum, since a
    single local minimum is not enough); returns (value, argmin)."""
    from problems.minimax.minty_games import Ball, Box
    from problems.minimax.minty_oracles import weak_minty_rho as shared_oracle

    region = Ball(half_width) if domain == "ball" else Box(half_width)
    est = shared_oracle(game, region, np.asarray(game.z_star, float), grid=n)
    return float(est.value), np.asarray(est.argmin, float)


def _spectral_norm_2x2(J: Array) -> Array:
    fro2 = np.sum(J * J, axis=(-2, -1))
    det = J[..., 0, 0] * J[..., 1, 1] - J[..., 0, 1] * J[..., 1, 0]
    # s_max^2 = (|J|_F^2 + sqrt(|J|_F^4 - 4 det^2)) / 2
    return np.sqrt(0.5 * (fro2 + np.sqrt(np.maximum(fro2**2 - 4 * det**2, 0.0))))


def lipschitz_constant(game: Any, domain: str, half_width: float, n: int = 801) -> float:
    """sup over the domain of the spectral norm of DV (2-D games): maximum over an n x n grid plus the
    boundary sampled at 40001 points per edge (or on the circle), where the sup of these polynomial
    games sits (it reproduces the notebooks' closed forms to 1e-9)."""
    z = _domain_grid(domain, half_width, n)
    if domain == "ball":  # the boundary, densely: for these polynomial games the sup sits there
        t = np.linspace(0, 2 * np.pi, 40001)
        z = np.vstack([z, half_width * np.stack([np.cos(t), np.sin(t)], -1)])
    else:
        u = np.linspace(-half_width, half_width, 40001)
        w = np.full_like(u, half_width)
        z = np.vstack([z, *(np.stack(p, -1) for p in [(u, w), (u, -w), (w, u), (-w, u)])])
    return float(np.max(_spectral_norm_2x2(game.jacobian(z))))


# ----------------------------------------------------------- statistics
@lru_cache(maxsize=None)
def binomial_count_threshold(trials: int, delta: float, p: float = 0.5) -> int:
    """The largest n with P(Bin(trials, p) < n) <= delta: if each of `trials` independent
    events has probability >= p, at least n of them happen except with probability <= delta."""
    n = int(stats.binom.ppf(delta, trials, p))
    while n > 0 and stats.binom.cdf(n - 1, trials, p) > delta:
        n -= 1
    while stats.binom.cdf(n, trials, p) <= delta:
        n += 1
    return n


def chi2_bounds(dof: int, delta: float) -> tuple[float, float]:
    """Two-sided (delta/2 each side) chi-square bounds."""
    return float(stats.chi2.ppf(delta / 2, dof)), float(stats.chi2.ppf(1 - delta / 2, dof))
