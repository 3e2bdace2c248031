"""Oracles for weak-Minty games: the weak-MVI constant rho, the Lipschitz
constant L on a domain, the EG+ iteration map of the linear family, and the
limit sets of flows and of discrete trajectories.

* :func:`weak_minty_rho` (registered as the measurement ``"weak_minty_rho"`` by algorithms.weak_minty):
  rho(D) = inf_{z in D, V(z) != 0} <V(z), z - z*> / ||V(z)||^2.
  Affine V = A z + b: exact, rho = lambda_min(sym(A^-1)) (the ratio is constant
  along rays from z*, so the domain does not matter). Polynomial V in 2-D: the
  minimum over a grid (>= 801^2 points), then L-BFGS-B from *every* discrete
  local minimum of the grid; the smallest refined value and its argmin are
  returned, with all the local minima found. A single local search is not enough
  (Forsaken: a local minimum -0.4778 vs the global -1.5206; catalogue, item 13).
* :func:`lipschitz_on_domain`: sup_D ||DV||_2 by grid plus refinement (a lower
  bound on the true sup; compare with the instances' closed forms).
* :func:`eg_plus_modulus_squared`: |lambda|^2 of EG+ on the linear game, derived
  symbolically here (sympy) and returned with its factorisation.
* :func:`flow_limit_cycle`, :func:`tail_summary`: omega-limit sets (does the
  limit set contain a critical point? distance and ||V|| along a cycle).
* :class:`NoisyOperator`, :func:`robbins_monro`: the stochastic oracle
  V(z, zeta) = V(z) + sigma xi and the template z+ = z - a_k V(z, zeta) run with a
  deterministic method of the registry, one step per call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.optimize import minimize

from problems.linalg import spectral_norm
from problems.minimax.minty_games import Ball, Box
from problems.runtime import blas_threads

Array = np.ndarray


# ------------------------------------------------------------------- rho
@dataclass(frozen=True)
class WeakMintyEstimate:
    value: Any  # float, or array (B,) for a batch of affine operators
    argmin: Array
    method: str
    grid_value: float = float("nan")
    local_minima: Array = field(default_factory=lambda: np.empty((0, 3)))  # rows (ratio, x, y), ascending


def weak_minty_ratio(operator, z: Array, solution: Array) -> tuple[Array, Array]:
    """(<V(z), z - z*> / ||V(z)||^2, ||V(z)||^2) at the rows of z."""
    v = operator(z)
    num = np.sum(v * (z - solution), axis=-1)
    den = np.sum(v * v, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.inf), den


def _affine_rho(A: Array) -> tuple[Array, Array]:
    """rho = lambda_min((A^-1 + A^-T)/2) with its eigenvector w; argmin z - z* = A^-1 w."""
    inv = np.linalg.inv(A)
    lam, vec = np.linalg.eigh((inv + np.swapaxes(inv, -1, -2)) / 2)
    w = vec[..., :, 0]
    return lam[..., 0], np.einsum("...ij,...j->...i", inv, w)


def weak_minty_rho_symbolic(A: sp.Matrix) -> sp.Expr:
    """Exact rho of V = A z (symbolic entries allowed): the smallest eigenvalue of sym(A^-1)."""
    inv = sp.simplify(A.inv())
    sym = sp.simplify((inv + inv.T) / 2)
    eigs = [sp.simplify(e) for e in sym.eigenvals()]
    return eigs[0] if len(eigs) == 1 else sp.Min(*eigs)


def _grid(domain: Box | Ball, n: int) -> Array:
    h = domain.half_width
    g = np.linspace(-h, h, n)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    return np.stack([xx, yy], axis=-1)


def _discrete_local_minima(values: Array) -> Array:
    """Indices (i, j) of grid points not larger than any of their 8 neighbours."""
    padded = np.pad(values, 1, constant_values=np.inf)
    centre = padded[1:-1, 1:-1]
    is_min = np.isfinite(centre)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= centre <= padded[1 + di: padded.shape[0] - 1 + di, 1 + dj: padded.shape[1] - 1 + dj]
    return np.argwhere(is_min)


def refine_ratio_minimum(operator, domain: Box | Ball, solution: Array, start: Array) -> tuple[float, Array]:
    """One bounded local minimisation of the ratio from ``start`` (L-BFGS-B; a
    ball is parametrised as z = r (cos t, sin t), r in [0, R])."""
    solution = np.asarray(solution, float)

    def ratio(z):
        return float(weak_minty_ratio(operator, np.asarray(z, float)[None, :], solution)[0][0])

    opts = {"ftol": 1e-15, "gtol": 1e-11, "maxiter": 500}
    if isinstance(domain, Ball):
        r0, t0 = float(np.linalg.norm(start)), float(np.arctan2(start[1], start[0]))

        def polar(p):
            return ratio([p[0] * np.cos(p[1]), p[0] * np.sin(p[1])])

        res = minimize(polar, [min(r0, domain.radius), t0], method="L-BFGS-B",
                       bounds=[(0.0, domain.radius), (None, None)], options=opts)
        z = np.array([res.x[0] * np.cos(res.x[1]), res.x[0] * np.sin(res.x[1])])
    else:
        h = domain.half_width
        res = minimize(ratio, np.asarray(start, float), method="L-BFGS-B", bounds=[(-h, h)] * len(start), options=opts)
        z = res.x
    return ratio(z), z


def weak_minty_rho(operator, domain: Box | Ball, solution: Array, *, grid: int = 801,
                   max_refinements: int = 64) -> WeakMintyEstimate:
    """The weak-MVI constant rho of ``operator`` on ``domain`` around ``solution``.

    Measurement contract: ``weak_minty_rho(operator, domain, solution, *, grid=801,
    max_refinements=64) -> WeakMintyEstimate`` with ``.value`` (the infimum found) and
    ``.argmin``. ``grid`` (points per axis of the search grid) and ``max_refinements`` (local
    searches) are the resolution a check asks for; an implementation that does not search a
    grid accepts and ignores them."""
    if hasattr(operator, "A"):  # affine V(z) = A z + b = A (z - z*)
        residual = np.abs(operator(np.broadcast_to(solution, np.shape(operator.A)[:-1]))).max()
        if residual > 1e-8 * (1 + np.abs(operator.A).max() * (1 + np.abs(solution).max())):
            raise ValueError(f"weak_minty_rho: V(solution) = {residual:.3g} != 0; pass the zero of the operator")
        value, direction = _affine_rho(np.asarray(operator.A, float))
        # scale the direction into the domain (the ratio is constant along rays)
        scale = 0.5 * domain.half_width / np.maximum(np.abs(direction).max(axis=-1, keepdims=True), 1e-300)
        return WeakMintyEstimate(value, solution + scale * direction, "exact: lambda_min(sym(A^-1))")
    pts = _grid(domain, grid)
    ratio, den = weak_minty_ratio(operator, pts, np.asarray(solution, float))
    if isinstance(domain, Ball):
        ratio = np.where(domain.contains(pts), ratio, np.inf)
    ratio = np.where(den > 1e-24, ratio, np.inf)  # V(z) = 0 (the solution) is excluded by definition
    idx = _discrete_local_minima(ratio)
    order = np.argsort(ratio[idx[:, 0], idx[:, 1]])[:max_refinements]
    found = []
    with blas_threads(1):
        for i, j in idx[order]:
            value, z = refine_ratio_minimum(operator, domain, solution, pts[i, j])
            found.append((min(value, ratio[i, j]), *(z if value <= ratio[i, j] else pts[i, j])))
    found = np.array(sorted(found))
    # merge duplicates (several grid minima in one basin)
    keep = [0] + [k for k in range(1, len(found))
                  if np.min(np.linalg.norm(found[:k, 1:] - found[k, 1:], axis=1)) > 1e-4]
    found = found[keep]
    return WeakMintyEstimate(float(found[0, 0]), found[0, 1:],
                             f"grid {grid}^2 + L-BFGS-B from {len(order)} grid minima",
                             grid_value=float(np.min(ratio)), local_minima=found)


# ------------------------------------------------------------- Lipschitz
def lipschitz_on_domain(operator, domain: Box | Ball, *, grid: int = 401) -> tuple[float, Array]:
    """sup_D ||DV(z)||_2: grid maximum refined by L-BFGS-B (a lower bound on the sup)."""
    pts = _grid(domain, grid)
    norms = spectral_norm(operator.jacobian(pts))
    if isinstance(domain, Ball):
        norms = np.where(domain.contains(pts), norms, -np.inf)
    i = np.unravel_index(np.argmax(norms), norms.shape)
    start = pts[i]

    def neg_norm(z):
        z = np.asarray(z, float)
        if isinstance(domain, Ball) and np.linalg.norm(z) > domain.radius:
            z = domain.project(z)
        return -float(spectral_norm(operator.jacobian(z[None, :]))[0])

    h = domain.half_width
    with blas_threads(1):
        res = minimize(neg_norm, start, method="L-BFGS-B", bounds=[(-h, h)] * 2, options={"ftol": 1e-15})
    best = max(-res.fun, float(norms[i]))
    return best, (domain.project(res.x[None, :])[0] if -res.fun >= norms[i] else start)


# ------------------------------------------------------ EG+ linear map
@lru_cache(maxsize=1)
def eg_plus_modulus_squared() -> tuple[sp.Expr, sp.Expr, tuple[sp.Symbol, sp.Symbol]]:
    """|lambda|^2 of EG+ (gamma = 1/L, damping alpha) on the linear game, as a
    function of c = -rho L and alpha, derived from scratch:

    V = A z with eigenvalues L mu, mu = -c +- i sqrt(1 - c^2) (|mu| = 1); EG+ maps
    z -> z - alpha gamma A (z - gamma A z), so each eigenvalue becomes
    lambda = 1 - alpha mu + alpha mu^2 (both conjugates give the same modulus).
    Returns (|lambda|^2 - 1 expanded, its factorisation, (c, alpha))."""
    c, alpha = sp.symbols("c alpha", real=True)
    s = sp.sqrt(1 - c**2)
    mu_re, mu_im = -c, s
    # mu^2 = (mu_re^2 - mu_im^2) + 2 i mu_re mu_im
    lam_re = 1 - alpha * mu_re + alpha * (mu_re**2 - mu_im**2)
    lam_im = -alpha * mu_im + alpha * 2 * mu_re * mu_im
    excess = sp.expand(sp.simplify(lam_re**2 + lam_im**2 - 1))
    return excess, sp.factor(excess), (c, alpha)


def eg_plus_spectral_radius(c: Any, alpha: Any) -> Array:
    """Numeric spectral radius of the EG+ map on the linear game (gamma = 1/L)."""
    c, alpha = np.broadcast_arrays(np.asarray(c, float), np.asarray(alpha, float))
    mu = -c + 1j * np.sqrt(1 - c**2)
    return np.abs(1 - alpha * mu + alpha * mu**2)


# ----------------------------------------------------------- limit sets
@dataclass(frozen=True)
class OrbitSummary:
    """Statistics of an orbit over its recorded (late) window."""

    points: Array  # (T, 2)
    distance_range: tuple[float, float]  # to the solution
    radius_range: tuple[float, float]  # |z|
    min_operator_norm: float
    window_agreement: float  # max change of the distance range between the two halves (0 for a cycle)


def _summary(points: Array, operator, solution: Array) -> OrbitSummary:
    dist = np.linalg.norm(points - solution, axis=1)
    half = len(points) // 2
    agreement = max(abs(dist[:half].min() - dist[half:].min()), abs(dist[:half].max() - dist[half:].max()))
    rad = np.linalg.norm(points, axis=1)
    return OrbitSummary(points, (float(dist.min()), float(dist.max())), (float(rad.min()), float(rad.max())),
                        float(np.linalg.norm(operator(points), axis=1).min()), float(agreement))


def flow_limit_cycle(operator, start: Array, solution: Array, *, backward: bool = False, t_transient: float = 300.0,
                     t_record: float = 60.0, samples: int = 4000, rtol: float = 1e-10,
                     atol: float = 1e-12) -> OrbitSummary:
    """Integrate dz/dt = -V(z) (``backward``: +V, whose attractors are the forward
    flow's repellers) from ``start`` for ``t_transient``, then record
    ``t_record`` more; the recorded window approximates the omega-limit set."""
    sign = 1.0 if backward else -1.0

    def rhs(_t, z):
        return sign * operator(z[None, :])[0]

    t_end = t_transient + t_record
    sol = solve_ivp(rhs, (0.0, t_end), np.asarray(start, float), method="DOP853", rtol=rtol, atol=atol,
                    t_eval=np.linspace(t_transient, t_end, samples))
    if not sol.success:
        raise ArithmeticError(f"flow integration failed: {sol.message}")
    return _summary(sol.y.T, operator, np.asarray(solution, float))


def tail_summary(trajectory: Array, operator, solution: Array, tail: float = 0.1) -> dict[str, Array]:
    """Per batch row, over the last ``tail`` fraction of a trajectory (K+1, B, d):
    min ||V|| (does the empirical limit set contain a critical point?), and the
    min / max distance to the solution."""
    k0 = int(round(len(trajectory) * (1 - tail)))
    part = trajectory[k0:]
    flat = part.reshape(-1, part.shape[-1])
    vnorm = np.linalg.norm(operator(flat), axis=-1).reshape(part.shape[:2])
    dist = np.linalg.norm(part - solution, axis=-1)
    return {"min_operator_norm": vnorm.min(axis=0), "final_operator_norm": vnorm[-1],
            "min_distance": dist.min(axis=0), "max_distance": dist.max(axis=0), "final_distance": dist[-1]}


# ------------------------------------------------------ stochastic oracle
class NoisyOperator:
    """V(z, zeta) = V(z) + sigma xi, xi ~ N(0, I) drawn afresh at every call (so the two
    calls of an extragradient step see independent samples), batched over rows."""

    def __init__(self, operator, sigma: float, rng: np.random.Generator):
        self.operator, self.sigma, self.rng = operator, sigma, rng
        self.dim_x = operator.dim_x

    def __call__(self, z: Array) -> Array:
        return self.operator(z) + self.sigma * self.rng.standard_normal(np.shape(z))

    def jacobian(self, z: Array) -> Array:
        return self.operator.jacobian(z)

    def resolvent(self, z: Array, alpha: Any) -> Array:
        raise NotImplementedError("a stochastic oracle has no resolvent")


def robbins_monro(method, operator, z0: Array, step_sizes: Array, **keywords) -> Array:
    """The template z_{k+1} = z_k - alpha_k V(z_k, zeta_k) run with a deterministic
    ``method`` of the minimax family, one step per call with step alpha_k; returns
    the final iterates (B, d)."""
    z = np.array(z0, dtype=float, copy=True)
    for alpha in step_sizes:
        z = method(operator, z, float(alpha), 1, **keywords)[-1]
    return z

