"""Statistics of the deep double-descent checks (checks/test_15_deep_double_descent.py): the
bump a double descent makes in an error curve, a detector with fixed margins, its
false-positive rate on valley-shaped ("U") null curves carrying the run's own seed-to-seed
noise, and parametric-bootstrap intervals.

A curve is an array E (S, K): S seeds (rows) at K ordered positions (widths or epochs).
Its mean m and per-position standard error come from the rows. The noise model is the
run's own: Gaussian, per-position standard deviation σ_k (seed-to-seed variance, pooled over
5 neighbouring positions, since S is small), and AR(1) correlation φ along the positions
(φ = 0 for model-wise sweeps, whose positions are different networks; estimated from the
residuals for epoch-wise curves, whose positions are one network over time).

Everything here is numpy, seeded by the caller; nothing imports ``algorithms``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# ------------------------------------------------------------------ curve shapes
def _isotonic(y: np.ndarray, increasing: bool) -> np.ndarray:
    """Least-squares monotone fit (pool adjacent violators)."""
    v = np.asarray(y, float) if increasing else -np.asarray(y, float)
    if v.size == 0:
        return v
    blocks: list[list[float]] = []  # [sum, count]
    for value in v:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    out = np.concatenate([np.full(int(c), s / c) for s, c in blocks])
    return out if increasing else -out


def valley_fit(m: np.ndarray) -> np.ndarray:
    """The least-squares closest curve that is non-increasing up to some position and
    non-decreasing after it (a valley / classical U; monotone curves included): the null
    curve with no second descent that is closest to the data."""
    m = np.asarray(m, float)
    best, best_err = None, np.inf
    for split in range(len(m) + 1):
        fit = np.concatenate([_isotonic(m[:split], increasing=False), _isotonic(m[split:], increasing=True)])
        if split and split < len(m) and fit[split] < fit[split - 1]:
            continue  # the two halves must join into one valley
        err = float(np.sum((fit - m) ** 2))
        if err < best_err:
            best, best_err = fit, err
    return best


# ------------------------------------------------------------------ the bump
@dataclass(frozen=True)
class BumpRule:
    """A double-descent bump at position j: rise_j = m_j − (left reference) >= rise and
    fall_j = m_j − (right reference) >= fall, both at least z standard errors.

    references  "minima": left = min over i < j, right = min over l > j (epoch-wise);
                "threshold": left = min over positions < window[0], right = the last
                position, j restricted to window (model-wise, the catalogue's criterion)."""

    rise: float
    fall: float
    z: float = 2.0
    references: str = "minima"


@dataclass(frozen=True)
class Bump:
    margin: float       # max_j min(rise_j − rule.rise, fall_j − rule.fall): >= 0 iff a bump of the rule's size
    height: float       # max_j min(rise_j, fall_j): the bump's height (0 for a valley)
    peak: int           # position of the margin's maximiser
    rise: float
    fall: float
    z_rise: float
    z_fall: float

    def fires(self, rule: BumpRule) -> bool:
        return self.margin >= 0 and self.z_rise >= rule.z and self.z_fall >= rule.z


def bump(E: np.ndarray, rule: BumpRule, window: tuple[int, int] | None = None) -> Bump:
    """The bump statistics of the curve E (S, K)."""
    E = np.asarray(E, float)
    S, K = E.shape
    m = E.mean(0)
    var = E.var(0, ddof=1) / S if S > 1 else np.zeros(K)
    best, height = None, -np.inf
    for j in range(K):
        if rule.references == "threshold":
            lo, hi = window
            if not lo <= j <= hi or lo == 0:
                continue
            i, l = int(np.argmin(m[:lo])), K - 1
        else:
            if j == 0 or j == K - 1:
                continue
            i, l = int(np.argmin(m[:j])), j + 1 + int(np.argmin(m[j + 1:]))
        rise, fall = m[j] - m[i], m[j] - m[l]
        height = max(height, min(rise, fall))
        margin = min(rise - rule.rise, fall - rule.fall)
        if best is None or margin > best[0]:
            z_r = rise / np.sqrt(var[j] + var[i]) if var[j] + var[i] > 0 else np.copysign(np.inf, rise)
            z_f = fall / np.sqrt(var[j] + var[l]) if var[j] + var[l] > 0 else np.copysign(np.inf, fall)
            best = (margin, j, rise, fall, z_r, z_f)
    if best is None:
        raise ValueError(f"no admissible peak position (window {window}, {K} positions): the grid must reach "
                         "below the window and beyond it")
    return Bump(best[0], max(0.0, height), best[1], best[2], best[3], best[4], best[5])


# ------------------------------------------------------------------ noise model
@dataclass(frozen=True)
class Noise:
    """Per-position seed-to-seed standard deviation σ (K,) and AR(1) coefficient φ."""

    sigma: np.ndarray
    phi: float


def noise_of(E: np.ndarray, correlated: bool) -> Noise:
    """The run's own noise: residuals from the seed mean; σ_k² pooled over positions k−2..k+2;
    φ = pooled lag-1 autocorrelation of the residuals (clipped to [0, 0.95]) if correlated."""
    E = np.asarray(E, float)
    S, K = E.shape
    if S < 2:
        raise ValueError("the noise model needs at least 2 seeds")
    r = E - E.mean(0)
    var = r.var(0, ddof=1) if S > 1 else np.zeros(K)
    pooled = np.array([var[max(0, k - 2):k + 3].mean() for k in range(K)])
    phi = 0.0
    if correlated and K > 2:
        z = r / np.sqrt(np.maximum(pooled, 1e-300))
        phi = float(np.clip(np.sum(z[:, 1:] * z[:, :-1]) / max(np.sum(z[:, :-1] ** 2), 1e-300), 0.0, 0.95))
    return Noise(np.sqrt(pooled), phi)


def simulate(curve: np.ndarray, noise: Noise, seeds: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """reps replicates of a run: curve + AR(1) Gaussian noise with marginal sd σ_k, (reps, seeds, K)."""
    K = len(curve)
    eps = rng.standard_normal((reps, seeds, K))
    z = np.empty_like(eps)
    z[..., 0] = eps[..., 0]
    c = np.sqrt(1 - noise.phi ** 2)
    for k in range(1, K):
        z[..., k] = noise.phi * z[..., k - 1] + c * eps[..., k]
    return np.asarray(curve, float) + noise.sigma * z


# ------------------------------------------------------------------ calibration
@dataclass(frozen=True)
class Calibration:
    false_positive_rate: float   # the detector's firing rate on the valley null with the run's noise
    margin_interval: tuple[float, float]   # 95% parametric-bootstrap interval of the bump margin
    height_interval: tuple[float, float]
    peak_interval: tuple[int, int]         # 95% range of the peak position
    null_curve: np.ndarray
    noise: Noise
    reps: int


def calibrate(E: np.ndarray, rule: BumpRule, window=None, *, correlated: bool, reps: int,
              rng: np.random.Generator) -> Calibration:
    """False-positive rate of ``bump(·).fires`` on ``reps`` null runs (the valley fit of the
    mean curve plus the run's noise, same number of seeds), and 95% intervals of the margin,
    the height and the peak position from ``reps`` runs simulated around the observed mean."""
    E = np.asarray(E, float)
    noise = noise_of(E, correlated)
    null = valley_fit(E.mean(0))
    fired = [bump(e, rule, window).fires(rule) for e in simulate(null, noise, E.shape[0], reps, rng)]
    around = [bump(e, rule, window) for e in simulate(E.mean(0), noise, E.shape[0], reps, rng)]
    margins = np.array([b.margin for b in around])
    heights = np.array([b.height for b in around])
    peaks = np.array([b.peak for b in around])
    q = lambda a: (float(np.quantile(a, 0.025)), float(np.quantile(a, 0.975)))  # noqa: E731
    return Calibration(float(np.mean(fired)), q(margins), q(heights),
                       (int(np.quantile(peaks, 0.025)), int(np.quantile(peaks, 0.975))), null, noise, reps)
