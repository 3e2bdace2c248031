"""Planted bugs that the Wasserstein and WGAN checks must reject (negative controls)."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_06_wasserstein as wasserstein
from algorithms import registry
from checks.support import rejects


def w1_with_squared_costs(x, y, a=None, b=None):
    """'W₁' computed with the squared Euclidean cost (that is W₂², slope ≈ −2/p)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    x, y = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(y, float))
    cost = cdist(x, y) ** 2
    if a is None and b is None and len(x) == len(y):
        r, c = linear_sum_assignment(cost)
        return float(cost[r, c].mean())
    import ot

    a = np.full(len(x), 1 / len(x)) if a is None else np.asarray(a, float)
    b = np.full(len(y), 1 / len(y)) if b is None else np.asarray(b, float)
    return float(ot.emd2(a, b, cost))


def one_power_iteration_no_warm_start(weight, iterations=None, u=None):
    """Spectral normalisation's σ̂ after a single power iteration from a fresh random vector."""
    return registry.reference("spectral_norm_estimate")(weight, iterations=1, u=None)


@pytest.mark.claim("wass.slow-empirical-rate")
def test_lower_bound_check_rejects_squared_costs():
    rejects(wasserstein.test_w1_lower_bound_holds_for_every_sample, "wasserstein_1", w1_with_squared_costs, p=3)


@pytest.mark.claim("wass.slow-empirical-rate")
@pytest.mark.slow
def test_slope_check_rejects_squared_costs():
    rejects(wasserstein.test_w1_two_sample_slopes, "wasserstein_1", w1_with_squared_costs)


@pytest.mark.claim("wass.triangle-plugin")
def test_triangle_check_rejects_squared_costs():
    rejects(wasserstein.test_triangle_inequality, "wasserstein_1", w1_with_squared_costs)


@pytest.mark.claim("wass.kr-duality")
def test_duality_check_rejects_squared_costs():
    rejects(wasserstein.test_kantorovich_rubinstein_duality, "wasserstein_1", w1_with_squared_costs)


@pytest.mark.claim("wgan.minimax-form")
def test_critic_check_rejects_squared_costs():
    rejects(wasserstein.test_parametric_critic_gives_a_lower_bound, "wasserstein_1", w1_with_squared_costs)


@pytest.mark.claim("wgan.lipschitz-enforcement")
def test_spectral_normalisation_check_rejects_one_power_iteration():
    rejects(wasserstein.test_spectral_normalisation_is_1_lipschitz, "spectral_norm_estimate",
            one_power_iteration_no_warm_start)
