"""Optimal-transport references for the Wasserstein claims (tutorial slides
"Wasserstein GANs", catalogue 2.5): the quantisation lower bound on W₁(μ, ν_n), the
Kantorovich–Rubinstein dual LP, the 1-D CDF formula, and generators of discrete
measures. The W₁ solver under test is the registered ``wasserstein_1``.

* Quantisation bound. μ = U[0,1]^p, ν any measure on n points x₁…x_n. Every coupling
  moves a ~ μ to some xᵢ, so W₁(μ, ν) ≥ E_{a∼μ} minᵢ‖a − xᵢ‖. By the union bound
  P(minᵢ‖a − xᵢ‖ ≤ r) ≤ n ω_p r^p (ω_p = π^{p/2}/Γ(p/2 + 1), μ has density ≤ 1), so with
  r₀ = (n ω_p)^{−1/p}:  E minᵢ‖a − xᵢ‖ ≥ ∫₀^{r₀}(1 − n ω_p r^p) dr = (p/(p+1)) r₀.
  Two-sample: by convexity of W₁ in one argument and E ν̂′_n = μ,
  E W₁(μ̂_n, ν̂′_n) ≥ E W₁(μ̂_n, μ) ≥ (p/(p+1)) (n ω_p)^{−1/p}.
* Kantorovich–Rubinstein. W₁(μ, ν) = sup{Σ φ(z)(μ(z) − ν(z)) : |φ(z) − φ(z′)| ≤ ‖z − z′‖}
  over functions on the union support (a finite LP, solved here with scipy HiGHS).
* 1-D. W₁(μ, ν) = ∫|F_μ(t) − F_ν(t)| dt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist


def unit_ball_volume(p: int) -> float:
    """ω_p = π^{p/2} / Γ(p/2 + 1)."""
    return math.pi ** (p / 2) / math.gamma(p / 2 + 1)


def quantisation_lower_bound(n, p: int):
    """(p/(p+1))·(n ω_p)^{−1/p}: a lower bound on W₁(U[0,1]^p, ν) for every ν on n points."""
    return p / (p + 1) * (np.asarray(n, dtype=float) * unit_ball_volume(p)) ** (-1.0 / p)


def nearest_neighbour_mean(points: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    """(mean, max) over the queries of minᵢ‖q − xᵢ‖ (KD-tree): Monte-Carlo for E_{a∼μ} minᵢ‖a − xᵢ‖."""
    dist, _ = cKDTree(points).query(queries)
    return float(dist.mean()), float(dist.max())


def kr_dual(support: np.ndarray, mu: np.ndarray, nu: np.ndarray, lipschitz: float = 1.0,
            keep: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """max_φ Σ φ(z)(μ(z) − ν(z)) s.t. φ(z) − φ(z′) ≤ L‖z − z′‖ for all ordered pairs
    (only those flagged in ``keep``, a boolean (N, N) mask, when given), φ(z₀) = 0.
    Returns (value, φ); value = inf when the LP is unbounded (constraints dropped)."""
    N = len(support)
    D = cdist(support, support)
    i, j = np.nonzero(~np.eye(N, dtype=bool) if keep is None else keep & ~np.eye(N, dtype=bool))
    A = np.zeros((len(i), N))
    A[np.arange(len(i)), i] = 1.0
    A[np.arange(len(i)), j] = -1.0
    bounds = [(0.0, 0.0)] + [(None, None)] * (N - 1)  # φ is defined up to a constant
    res = linprog(-(mu - nu), A_ub=A, b_ub=lipschitz * D[i, j], bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status == 3:
        return math.inf, np.full(N, np.nan)
    if res.status != 0:
        raise RuntimeError(f"dual LP failed: {res.message}")
    return float(-res.fun), res.x


def w1_cdf_1d(x: np.ndarray, a: np.ndarray, y: np.ndarray, b: np.ndarray) -> float:
    """∫|F_μ − F_ν| for μ = Σ aᵢ δ_{xᵢ}, ν = Σ bⱼ δ_{yⱼ} on the line (exact, piecewise constant)."""
    t = np.concatenate([np.ravel(x), np.ravel(y)])
    w = np.concatenate([a, -np.asarray(b)])
    order = np.argsort(t, kind="stable")
    t, w = t[order], w[order]
    return float(np.sum(np.abs(np.cumsum(w)[:-1]) * np.diff(t)))


@dataclass(frozen=True)
class DiscreteMeasure:
    support: np.ndarray  # (n, p)
    weights: np.ndarray  # (n,), sums to 1


def discrete_measure(rng: np.random.Generator, n: int, p: int, spread: float = 1.0,
                     shift: float = 0.0) -> DiscreteMeasure:
    """n atoms ~ N(shift, spread²) in ℝ^p with Dirichlet(1) weights."""
    w = rng.dirichlet(np.ones(n))
    return DiscreteMeasure(shift + spread * rng.standard_normal((n, p)), w)


@st.composite
def measure_triples(draw, max_atoms: int = 30, max_dim: int = 3):
    """Three discrete measures in ℝ^p (p ≤ 3, ≤ 30 atoms each, random weights, random
    offsets), drawn from the parameters (sizes, dimension, spread, offsets, seed)."""
    p = draw(st.integers(1, max_dim))
    sizes = [draw(st.integers(1, max_atoms)) for _ in range(3)]
    shifts = [draw(st.floats(-3, 3)) for _ in range(3)]
    spread = draw(st.floats(0.05, 2.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return tuple(discrete_measure(rng, n, p, spread, s) for n, s in zip(sizes, shifts))


@st.composite
def measure_pairs(draw, max_atoms: int = 30, max_dim: int = 3):
    """Two discrete measures in ℝ^p, p ≤ 3, ≤ 30 atoms each, random weights."""
    p = draw(st.integers(1, max_dim))
    n, m = draw(st.integers(1, max_atoms)), draw(st.integers(1, max_atoms))
    spread = draw(st.floats(0.05, 2.0))
    shift = draw(st.floats(-2, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return discrete_measure(rng, n, p, spread), discrete_measure(rng, m, p, spread, shift)
