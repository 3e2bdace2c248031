"""Planted bugs that the random-features checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_21_random_features as rf
from algorithms import registry
from algorithms.random_features import FeatureMap
from checks.support import fails, rejects


def rff_without_phase(dim, num_features, bandwidth, rng, batch=()):
    """BUG (the catalogue's control): b = 0, so E phi(x)^T phi(x') = k(x - x') + k(x + x'):
    biased. (b ~ U[0, pi] would still be unbiased: 2b ~ U[0, 2 pi].)"""
    good = registry.reference("random_fourier_features")(dim, num_features, bandwidth, rng, batch)
    return FeatureMap(good.weights, np.zeros_like(good.phase), "cos", good.scale)


def naive_bias(predictions, targets):
    """BUG: the plug-in bias^2 (mean_T f - y)^2 without the -Var/T correction."""
    out = registry.reference("bias_variance_decomposition")(predictions, targets)
    t = np.shape(predictions)[-2]
    out = dict(out)
    out["bias2_per_point"] = out["bias2_per_point"] + out["variance_per_point"] / t
    out["bias2"] = out["bias2_per_point"].mean(-1)
    return out


def sgd_from_random_init(features, targets, step, num_epochs, rng, theta0=None, average=False):
    """BUG (the catalogue's control): SGD started at theta_0 ~ N(0, I), which converges to
    theta_MN + P_null theta_0, not to the min-norm solution."""
    f = np.asarray(features, float)
    start = np.random.default_rng(1).standard_normal(f.shape[:-2] + f.shape[-1:])
    return registry.reference("sgd_least_squares")(f, targets, step, num_epochs, rng, theta0=start, average=average)


def ridge_not_min_norm(features, targets):
    """BUG: ridge lambda = 1 where the min-norm (ridgeless) limit is claimed."""
    f = np.asarray(features, float)
    ft = np.swapaxes(f, -1, -2)
    alpha = np.linalg.solve(f @ ft + np.eye(f.shape[-2]), np.asarray(targets, float)[..., None])[..., 0]
    return np.einsum("...mn,...n->...m", ft, alpha)


@pytest.mark.claim("rf.nn-to-rf")
def test_rff_without_phase_is_rejected():
    rejects(rf.test_rff_approximates_gaussian_kernel, "random_fourier_features", rff_without_phase)


@pytest.mark.claim("rf.liu-bias-variance")
def test_naive_bias_estimator_is_rejected():
    rejects(rf.test_liu_bias_variance, "bias_variance_decomposition", naive_bias)


@pytest.mark.claim("rf.liu-bias-variance")
@pytest.mark.slow
def test_ridge_has_no_variance_peak():
    rejects(rf.test_liu_bias_variance, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("rf.sgd-vs-minnorm")
def test_sgd_from_random_init_is_rejected():
    rejects(rf.test_sgd_converges_to_min_norm, "sgd_least_squares", sgd_from_random_init)


@pytest.mark.claim("rf.sgd-vs-minnorm")
@pytest.mark.slow
def test_ridge_curve_has_no_min_norm_peak():
    rejects(rf.test_sgd_curve_versus_min_norm_curve, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("rf.sgd-vs-minnorm")
@pytest.mark.slow
def test_curve_check_rejects_sgd_from_random_init():
    rejects(rf.test_sgd_curve_versus_min_norm_curve, "sgd_least_squares", sgd_from_random_init)


@pytest.mark.claim("rf.sgd-vs-minnorm")
@pytest.mark.slow
@pytest.mark.control("wrong_world", of=rf.test_sgd_curve_versus_min_norm_curve,
                     margin="50 epochs of SGD (the earlier design): no peak at m = n")
def test_curve_check_fails_for_early_stopped_sgd():
    fails(rf.test_sgd_curve_versus_min_norm_curve, epochs=50)


@pytest.mark.claim("rf.sgd-vs-minnorm")
@pytest.mark.slow
@pytest.mark.control("near_miss", of=rf.test_sgd_curve_versus_min_norm_curve,
                     margin="1000 epochs: rel. distance 0.12 at m = 2n, peak 2.8x (criteria: 0.05, 3x)")
def test_curve_check_fails_at_a_smaller_budget():
    fails(rf.test_sgd_curve_versus_min_norm_curve, epochs=1000)


@pytest.mark.claim("rf.risk-converges-order-one")
@pytest.mark.slow
def test_ridge_plateau_is_rejected():
    rejects(rf.test_risk_plateaus_at_kernel_risk, "min_norm_least_squares", ridge_not_min_norm)


def sgd_from_slightly_off_init(features, targets, step, num_epochs, rng, theta0=None, average=False):
    """NEAR MISS: SGD started at theta_0 = 1e-3 · N(0, I/m): a null-space component of about 1e-3 ||theta_MN||
    survives (the check's tolerance is 1e-4)."""
    f = np.asarray(features, float)
    m = f.shape[-1]
    start = 1e-3 * np.random.default_rng(1).standard_normal(f.shape[:-2] + f.shape[-1:]) / np.sqrt(m)
    return registry.reference("sgd_least_squares")(f, targets, step, num_epochs, rng, theta0=start, average=average)


@pytest.mark.claim("rf.sgd-vs-minnorm")
@pytest.mark.control("near_miss", of=rf.test_sgd_converges_to_min_norm,
                     margin="theta_0 of size 1e-3 in null(F): limit off the min-norm solution by ~1e-3 (tol 1e-4)")
def test_sgd_from_slightly_off_init_is_rejected():
    rejects(rf.test_sgd_converges_to_min_norm, "sgd_least_squares", sgd_from_slightly_off_init)
