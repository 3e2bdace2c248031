"""Update-rule conformance of SGD, PSGD and SGLD as the tutorial prints them (slides 10-14,
catalogue 2.1 ``sgd.update-rules``):

    SGD   x_{k+1} = x_k - gamma_k g_k
    PSGD  x_{k+1} = x_k - alpha_k (g_k + xi),   xi uniform on the unit sphere
    SGLD  x_{k+1} = x_k - alpha_k g_k + sqrt(2 alpha_k) xi,   xi ~ N(0, I)   (the slide's "x_l" is x_k)

The noise of PSGD/SGLD is drawn by the implementation (from ``generator=``), so its value is
not predictable; the *drift* is, exactly: two runs with the same generator state and
different gradient sequences differ by exactly the SGD recursion's difference (the noise
cancels), whatever the noise. The noise is then pinned by its law: PSGD's residual
x_{k+1} - (x_k - alpha_k g_k) has norm alpha_k exactly; SGLD's residual over sqrt(2 alpha_k) is
standard normal (mean and variance tests with a stated false-alarm budget and power).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.conformance import conforms, drive, optimizer_states
from checks.support import examples
from problems.optim import update_rule_oracles as printed
from problems.optim.sgd_oracles import chi2_variance_band
from problems.optim.update_rule_oracles import rounding_tolerance
from problems.runtime import seed as _seed
from scipy import stats


@pytest.mark.claim("sgd.update-rules", uses=["{name}"])
@pytest.mark.parametrize("name", ["sgd", "gradient_descent"])
@settings(max_examples=examples(10))
@given(state=optimizer_states())
def test_sgd_update_rule(evidence, algorithm, name, state):
    """x_{k+1} = x_k - gamma_k g_k after every step (``sgd``; ``gradient_descent`` is the same rule
    fed exact gradients). Deterministic."""
    run = drive(algorithm(name), state)
    evidence.parameters(name=name, steps=state.steps, dim=state.dim, seed=state.seed)
    conforms(evidence, f"{name}: iterates = x_k - gamma_k g_k", run["x"],
             printed.sgd(state.x0, state.grads, state.lrs)["x"], dim=state.dim)


def _twin_runs(make, state, seed, **hyper):
    """The method on the state's gradients and on a second, independent gradient sequence, from
    identical generator states: the noise it draws is the same in both runs."""
    other = np.random.default_rng(seed + 1).standard_normal(state.grads.shape) * np.abs(state.grads).max(initial=1.0)
    first = drive(make, state, generator=torch.Generator().manual_seed(seed), **hyper)["x"]
    second = drive(make, state, grads=other, generator=torch.Generator().manual_seed(seed), **hyper)["x"]
    drift = printed.sgd(state.x0, state.grads, state.lrs)["x"] - printed.sgd(state.x0, other, state.lrs)["x"]
    return first, second, drift


def _drift_conforms(evidence, first, second, drift, dim):
    """x_k - x'_k equals SGD's drift to rounding. Each run is rounded on its own trajectory's
    scale, not on the drift's (a drift of 4e-3 between iterates near 1.6 carries their
    rounding, 2e-16: a nightly example), so the absolute term is the sum of the two runs'
    rounding bounds."""
    steps = max(len(first) - 1, 1)
    run_bound = sum(rounding_tolerance(steps, float(np.abs(x).max() + np.abs(np.diff(x, axis=0)).max(initial=0.0)), dim)
                    for x in (first, second))
    conforms(evidence, "drift: x_k - x'_k = SGD's x_k - x'_k (same noise, other gradients)", first - second,
             drift, dim=dim, extra_abs=run_bound)


def _residuals(x: np.ndarray, grads: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """x_{k+1} - (x_k - alpha_k g_k): the noise term of each step, (K, B, d)."""
    return x[1:] - (x[:-1] - lrs[:, None, None] * grads)


@pytest.mark.claim("sgd.update-rules", uses=["psgd"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(max_rows=6), radius=st.one_of(st.just(1.0), st.floats(0.1, 2.0)))
def test_psgd_update_rule(evidence, algorithm, state, radius):
    """PSGD: the drift is the SGD rule (twin runs, the noise cancels exactly) and every step's
    noise term has norm alpha_k * radius (radius = 1 on the slide) exactly, to rounding; its
    direction's law (uniform on the sphere) is tested by test_psgd_perturbation_on_unit_sphere.
    Deterministic."""
    psgd = algorithm("psgd")
    seed = _seed("sgd.update-rules", "psgd-conformance", state.seed)
    first, second, drift = _twin_runs(psgd, state, seed, radius=radius)
    evidence.parameters(steps=state.steps, dim=state.dim, radius=radius, seed=state.seed)
    _drift_conforms(evidence, first, second, drift, state.dim)
    noise = np.linalg.norm(_residuals(first, state.grads, state.lrs), axis=-1)
    scale = float(np.abs(first).max() + np.abs(state.grads).max())
    evidence.tight("||x_{k+1} - (x_k - alpha_k g_k)|| = alpha_k * radius (unit sphere)", noise,
                   np.broadcast_to(state.lrs[:, None] * radius, noise.shape),
                   abs=rounding_tolerance(1, scale, state.dim), headline=False)


SGLD_SAMPLES = 2**15  # standardised noise entries per example (rows x dim x steps)
SGLD_FALSE_ALARM = 1e-6  # per test (mean, variance) and per example


@pytest.mark.claim("sgd.update-rules", uses=["sgld"])
@settings(max_examples=examples(3))
@given(state=optimizer_states(max_rows=1, max_dim=4), temperature=st.one_of(st.just(1.0), st.floats(0.2, 3.0)))
def test_sgld_update_rule(evidence, algorithm, state, temperature):
    """SGLD: the drift is the SGD rule (twin runs, exact), and the noise term
    r_k = x_{k+1} - (x_k - alpha_k g_k) is sqrt(2 alpha_k T) xi with xi ~ N(0, I): over 2^15
    standardised entries (the state's steps and dimension, 2^15/(K d) rows), the sample mean lies
    within the two-sided normal band and the sample second moment within the chi-square band,
    each at false alarm 1e-6 (budget 2e-6 per example, 6e-6 per run). Power: a noise variance
    off by 10 % (e.g. a temperature 1.1 T) puts the second moment 8 standard errors outside the
    band (sd sqrt(2/2^15) = 0.0078, band half-width 0.038): rejected with probability > 1 - 1e-12;
    sqrt(alpha) for sqrt(2 alpha) (variance / 2) is rejected surely."""
    sgld = algorithm("sgld")
    seed = _seed("sgd.update-rules", "sgld-conformance", state.seed)
    rows = SGLD_SAMPLES // (state.steps * state.dim)
    wide = type(state)(np.repeat(state.x0, rows, axis=0), np.repeat(state.grads, rows, axis=1), state.lrs, state.seed)
    first, second, drift = _twin_runs(sgld, wide, seed, temperature=temperature)
    evidence.parameters(steps=state.steps, dim=state.dim, rows=rows, temperature=temperature, seed=state.seed)
    evidence.set_seed(seed)
    _drift_conforms(evidence, first, second, drift, state.dim)
    xi = _residuals(first, wide.grads, wide.lrs) / np.sqrt(2 * wide.lrs * temperature)[:, None, None]
    n = xi.size
    z = stats.norm.isf(SGLD_FALSE_ALARM / 2)
    lo, hi = chi2_variance_band(n, SGLD_FALSE_ALARM)
    evidence.tight("mean of xi = (x_{k+1} - x_k + alpha_k g_k)/sqrt(2 alpha_k T) (normal band)", xi.mean(), 0.0,
                   abs=z / np.sqrt(n), headline=False)
    evidence.tight("second moment of xi = 1 (chi-square band)", np.mean(xi**2), 1.0, abs=max(1 - lo, hi - 1),
                   headline=False)
    evidence.record("false_alarm_budget", 2 * SGLD_FALSE_ALARM * examples(3))
    evidence.resolution("rejects a relative step error >= 1e-8 in the drift (near miss) and a noise variance off "
                        "by >= 10 % (power > 1 - 1e-12)")
