"""Synthetic regression problems with known risk, and their hypothesis strategies.

* ``GaussianLinear``: x ~ N(0, diag(spectrum)), y = <beta, x> + sigma * eps.
  The population risk of any w is exact: R(w) = sigma^2 + (w - beta)^T Sigma (w - beta).
  Special cases: isotropic (Hastie, Montanari, Rosset, Tibshirani, Ann. Stat.
  2022), the "junk feature" spectrum of Koehler, Zhou, Sutherland, Srebro
  (NeurIPS 2021), power laws (Bartlett, Long, Lugosi, Tsigler, PNAS 2020).
* ``SmoothTeacher``: x ~ N(0, I_p), y = f*(x) + sigma * eps with f* a fixed random
  sum of cosines (a smooth non-linear target for random-features sweeps).
* ``OneDimensional``: x ~ U[0, 1], y = sin(2 pi x) + sigma * eps (Mallinar et al.,
  NeurIPS 2022), and ``curve_fitting_sample``: x ~ U[-1, 1], y = sin(pi x) + sigma eps.

Seeds are derived from (claim, instance, repetition) by ``derived_seed``.
Hypothesis draws parameters only (n, p, spectrum, noise level, seed).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from problems.runtime import shifted


def derived_seed(*parts) -> int:
    """A 63-bit seed from (claim id, instance, repetition, ...), stable across runs
    and platforms (unlike ``hash``); shifted by ``--gbu-seed`` (``problems.runtime``)."""
    digest = hashlib.sha256(shifted("\x1f".join(map(str, parts))).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


# ------------------------------------------------------------- linear Gaussian
@dataclass(frozen=True, eq=False)
class GaussianLinear:
    """y = <beta, x> + sigma * eps, x ~ N(0, diag(spectrum)), eps ~ N(0, 1)."""

    spectrum: np.ndarray  # (D,) eigenvalues of Sigma (diagonal)
    beta: np.ndarray  # (D,)
    sigma: float

    @classmethod
    def isotropic(cls, p: int, sigma: float, beta_norm: float, seed: int) -> "GaussianLinear":
        b = np.random.default_rng(seed).standard_normal(p)
        return cls(np.ones(p), beta_norm * b / np.linalg.norm(b), float(sigma))

    @classmethod
    def junk_features(cls, n: int, signal_dims: int = 5, junk_per_sample: int = 20,
                      sigma: float = 0.5) -> "GaussianLinear":
        """Koehler et al.'s benign instance: ``signal_dims`` coordinates of variance 1
        carrying beta (||beta|| = 1), then D = junk_per_sample * n junk coordinates
        of equal variance with Tr Sigma_2 = sqrt(n)."""
        d = junk_per_sample * n
        spectrum = np.concatenate([np.ones(signal_dims), np.full(d, np.sqrt(n) / d)])
        beta = np.zeros(signal_dims + d)
        beta[:signal_dims] = 1.0 / np.sqrt(signal_dims)
        return cls(spectrum, beta, float(sigma))

    @classmethod
    def power_law(cls, dim: int, exponent: float, sigma: float) -> "GaussianLinear":
        """lambda_i = i^(-exponent), beta = e_1 (signal in the top direction)."""
        spectrum = np.arange(1, dim + 1, dtype=float) ** (-exponent)
        beta = np.zeros(dim)
        beta[0] = 1.0
        return cls(spectrum, beta, float(sigma))

    @property
    def dim(self) -> int:
        return len(self.spectrum)

    def sample(self, n: int, rng: np.random.Generator, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) of shapes (batch, n, D), (batch, n)."""
        x = rng.standard_normal((batch, n, self.dim)) * np.sqrt(self.spectrum)
        y = x @ self.beta + self.sigma * rng.standard_normal((batch, n))
        return x, y

    def risk(self, w: np.ndarray) -> np.ndarray:
        """Exact population risk sigma^2 + (w - beta)^T Sigma (w - beta), batched over w (..., D)."""
        return self.sigma**2 + np.sum(self.spectrum * (np.asarray(w) - self.beta) ** 2, axis=-1)


def minnorm_expected_excess_risk(n, p, sigma2, beta_norm2):
    """Hastie et al. (2022), isotropic design, exact finite-sample:
    E[R - sigma^2] = sigma^2 p/(n-p-1) for p <= n-2,
                     ||beta||^2 (1 - n/p) + sigma^2 n/(p-n-1) for p >= n+2, infinite otherwise."""
    n, p = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(p, dtype=float))
    out = np.full(n.shape, np.inf)
    under, over = p <= n - 2, p >= n + 2
    out[under] = sigma2 * p[under] / (n[under] - p[under] - 1)
    out[over] = beta_norm2 * (1 - n[over] / p[over]) + sigma2 * n[over] / (p[over] - n[over] - 1)
    return out


def minnorm_asymptotic_excess_risk(gamma, sigma2, beta_norm2):
    """Proportional limit p/n -> gamma: sigma^2 gamma/(1-gamma) (gamma < 1),
    ||beta||^2 (1 - 1/gamma) + sigma^2/(gamma - 1) (gamma > 1)."""
    g = np.asarray(gamma, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(g < 1, sigma2 * g / (1 - g), beta_norm2 * (1 - 1 / g) + sigma2 / (g - 1))


def effective_ranks(spectrum: np.ndarray, k: int) -> tuple[float, float]:
    """Bartlett et al. (2020): r_k = sum_{i>k} lambda_i / lambda_{k+1},
    R_k = (sum_{i>k} lambda_i)^2 / sum_{i>k} lambda_i^2 (spectrum sorted decreasing)."""
    tail = np.sort(np.asarray(spectrum, dtype=float))[::-1][k:]
    return float(tail.sum() / tail[0]), float(tail.sum() ** 2 / np.sum(tail**2))


# ------------------------------------------------------------- smooth teacher
@dataclass(frozen=True, eq=False)
class SmoothTeacher:
    """y = f*(x) + sigma eps, f*(x) = sum_j a_j cos(<w_j, x>/sqrt(p) + c_j), x ~ N(0, I_p)."""

    p: int
    sigma: float
    seed: int
    terms: int = 8

    def _params(self):
        rng = np.random.default_rng(self.seed)
        w = rng.standard_normal((self.p, self.terms))
        c = rng.uniform(0, 2 * np.pi, self.terms)
        a = rng.standard_normal(self.terms) / np.sqrt(self.terms)
        return w, c, a

    def target(self, x: np.ndarray) -> np.ndarray:
        w, c, a = self._params()
        return np.cos(x @ w / np.sqrt(self.p) + c) @ a

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, f*(x)) for n fresh points."""
        x = rng.standard_normal((n, self.p))
        f = self.target(x)
        return x, f + self.sigma * rng.standard_normal(n), f


@st.composite
def smooth_teachers(draw, p_range=(2, 20), sigma_range=(0.1, 0.5)):
    """Parameters only: input dimension, noise level, teacher seed."""
    return SmoothTeacher(draw(st.integers(*p_range)), draw(st.floats(*sigma_range)),
                         draw(st.integers(0, 2**31 - 1)))


# ------------------------------------------------------------- one-dimensional
def sine_regression(n: int, sigma: float, rng: np.random.Generator, batch: int = 1):
    """x ~ U[0, 1] (batch, n), y = sin(2 pi x) + sigma eps (Mallinar et al.'s 1-D instance)."""
    x = rng.uniform(0.0, 1.0, (batch, n))
    return x, np.sin(2 * np.pi * x) + sigma * rng.standard_normal((batch, n))


def curve_fitting_sample(n: int, sigma: float, rng: np.random.Generator, batch: int = 1):
    """x ~ U[-1, 1] (batch, n), y = sin(pi x) + sigma eps (the curve-fitting toy)."""
    x = rng.uniform(-1.0, 1.0, (batch, n))
    return x, np.sin(np.pi * x) + sigma * rng.standard_normal((batch, n))


@st.composite
def isotropic_linear_instances(draw, n_range=(20, 60), max_ratio=3.0, gap=4):
    """(n, p, sigma, ||beta||) with p kept at least ``gap`` away from n, where the
    exact expected risk is finite with finite variance."""
    n = draw(st.integers(*n_range))
    over = draw(st.booleans())
    p = draw(st.integers(n + gap, int(max_ratio * n))) if over else draw(st.integers(1, n - gap))
    return n, p, draw(st.floats(0.1, 1.0)), draw(st.floats(0.0, 2.0))
