"""Planted bugs that the Wasserstein and WGAN checks must reject (negative controls)."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_06_wasserstein as wasserstein
from algorithms import registry
from checks.support import control_cases, fails, near_miss, planted_bug, run_control


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


# ----------------------------------------------------------------- near misses
def w1_with_cost_exponent(q: float):
    """W with the cost |x − y|^q (q = 1 is W₁): a metric's triangle inequality fails for q > 1."""
    def w(x, y, a=None, b=None):
        import ot
        from scipy.spatial.distance import cdist

        x, y = np.atleast_2d(np.asarray(x, float)), np.atleast_2d(np.asarray(y, float))
        a = np.full(len(x), 1 / len(x)) if a is None else np.asarray(a, float)
        b = np.full(len(y), 1 / len(y)) if b is None else np.asarray(b, float)
        return float(ot.emd2(a, b, cdist(x, y) ** q))

    w.__name__ = f"w1_with_cost_exponent_{q:g}"
    return w


def w1_scaled(factor: float):
    """The reference W₁ times ``factor``."""
    def w(x, y, a=None, b=None):
        return factor * registry.reference("wasserstein_1")(x, y, a, b)

    w.__name__ = f"w1_times_{factor:.10g}"
    return w


def spectral_norm_underestimated(weight, iterations=None, u=None):
    """σ̂ 1e-5 (relative) below the reference estimate."""
    return (1 - 1e-5) * registry.reference("spectral_norm_estimate")(weight)


@pytest.mark.claim("wass.slow-empirical-rate")
@pytest.mark.control("near_miss", of=wasserstein.test_w1_lower_bound_holds_for_every_sample,
                     margin="the n^(-1/p) bound's constant x 1.25 (p = 3), x 1.3 (p = 8)")
@pytest.mark.parametrize("p", [3, 8])
def test_lower_bound_check_rejects_a_larger_constant(p):
    """The bound's constant scaled up to the check's stated resolution: a claimed rate that the grid
    quantiser (the tightest cell) beats."""
    fails(wasserstein.test_w1_lower_bound_holds_for_every_sample, p=p, bound_scale=wasserstein.RESOLUTION_SCALE[p])


@control_cases(wasserstein.test_w1_lower_bound_holds_for_every_sample, "wasserstein_1", [
    planted_bug("lower_bound_check_rejects_squared_costs", w1_with_squared_costs, p=3)],
    claim="wass.slow-empirical-rate")
@control_cases(wasserstein.test_w1_two_sample_slopes, "wasserstein_1", [
    planted_bug("slope_check_rejects_squared_costs", w1_with_squared_costs, marks=pytest.mark.slow),
    near_miss("slope_check_rejects_cost_exponent_1_3", "cost |x − y|^1.3: rate n^(−1.3/p)",
              bug=w1_with_cost_exponent(1.3), marks=pytest.mark.slow)], claim="wass.slow-empirical-rate")
@control_cases(wasserstein.test_triangle_inequality, "wasserstein_1", [
    planted_bug("triangle_check_rejects_squared_costs", w1_with_squared_costs),
    near_miss("triangle_check_rejects_cost_exponent_1_plus_1e_6", "cost exponent 1 + 1e-6",
              bug=w1_with_cost_exponent(1 + 1e-6))], claim="wass.triangle-plugin")
@control_cases(wasserstein.test_kantorovich_rubinstein_duality, "wasserstein_1", [
    planted_bug("duality_check_rejects_squared_costs", w1_with_squared_costs),
    near_miss("duality_check_rejects_w1_off_by_1e_6", "W₁ x (1 + 1e-6)", bug=w1_scaled(1 + 1e-6))],
    claim="wass.kr-duality")
@control_cases(wasserstein.test_parametric_critic_gives_a_lower_bound, "wasserstein_1", [
    planted_bug("critic_check_rejects_squared_costs", w1_with_squared_costs),
    near_miss("critic_check_rejects_w1_off_by_1e_8", "W₁ x (1 + 1e-8)", bug=w1_scaled(1 + 1e-8))],
    claim="wgan.minimax-form")
@control_cases(wasserstein.test_spectral_normalisation_is_1_lipschitz, "spectral_norm_estimate", [
    planted_bug("spectral_normalisation_check_rejects_one_power_iteration", one_power_iteration_no_warm_start),
    near_miss("spectral_normalisation_check_rejects_estimate_1e_5_low", "spectral-norm estimate x (1 - 1e-5)",
              bug=spectral_norm_underestimated)], claim="wgan.lipschitz-enforcement")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
