"""Planted bugs that the random-features checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_21_random_features as rf
from algorithms import registry
from algorithms.random_features import FeatureMap
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


def rff_without_phase(dim, num_features, bandwidth, rng, batch=()):
    """WRONG WORLD (the catalogue's control): features without the random phase, b = 0, so E phi(x)^T phi(x') = k(x - x') + k(x + x'):
    biased. (b ~ U[0, pi] would still be unbiased: 2b ~ U[0, 2 pi].)"""
    good = registry.reference("random_fourier_features")(dim, num_features, bandwidth, rng, batch)
    return FeatureMap(good.weights, np.zeros_like(good.phase), "cos", good.scale)


def rff_bandwidth_twenty_percent_off(dim, num_features, bandwidth, rng, batch=()):
    """NEAR MISS: frequencies drawn at a bandwidth 20% larger (another Gaussian kernel)."""
    return registry.reference("random_fourier_features")(dim, num_features, 1.2 * bandwidth, rng, batch)


def rff_frequencies_times_bandwidth(dim, num_features, bandwidth, rng, batch=()):
    """BUG: V ~ N(0, sigma^2 I) in place of N(0, I / sigma^2)."""
    good = registry.reference("random_fourier_features")(dim, num_features, bandwidth, rng, batch)
    return FeatureMap(good.weights * bandwidth**2, good.phase, "cos", good.scale)


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


def sgd_from_slightly_off_init(features, targets, step, num_epochs, rng, theta0=None, average=False):
    """NEAR MISS: SGD started at theta_0 = 1e-3 · N(0, I/m): a null-space component of about 1e-3 ||theta_MN||
    survives (the check's tolerance is 1e-4)."""
    f = np.asarray(features, float)
    m = f.shape[-1]
    start = 1e-3 * np.random.default_rng(1).standard_normal(f.shape[:-2] + f.shape[-1:]) / np.sqrt(m)
    return registry.reference("sgd_least_squares")(f, targets, step, num_epochs, rng, theta0=start, average=average)


@control_cases(rf.test_rff_approximates_gaussian_kernel, "random_fourier_features", [
    wrong_world("rff_without_phase", "no random phase: E phi^T phi = k(x - x') + k(x + x'), not the Gaussian kernel",
                bug=rff_without_phase),
    near_miss("rff_bandwidth_off", "frequencies at a bandwidth 20% off: another Gaussian kernel",
              bug=rff_bandwidth_twenty_percent_off),
    planted_bug("rff_with_inverted_bandwidth", rff_frequencies_times_bandwidth)], claim="rf.nn-to-rf")
@control_cases(rf.test_liu_bias_variance, "bias_variance_decomposition", [
    planted_bug("naive_bias_estimator", naive_bias),
    near_miss("liu_peak_off_the_threshold", "training sets of rank 0.75 n: the variance peak moves to m/n = 0.73",
              duplicate_fraction=0.25)], claim="rf.liu-bias-variance")
@control_cases(rf.test_liu_bias_variance, "min_norm_least_squares", [
    wrong_world("ridge_has_no_variance_peak", "ridge (lambda = 1) where min-norm is claimed: no variance peak",
                bug=ridge_not_min_norm, marks=pytest.mark.slow)], claim="rf.liu-bias-variance")
@control_cases(rf.test_risk_plateaus_at_kernel_risk, "min_norm_least_squares", [
    planted_bug("ridge_plateau", ridge_not_min_norm, marks=pytest.mark.slow),
    near_miss("plateau_of_a_nearby_kernel",
              "features 30% above the kernel's bandwidth: the plateau 20% off the kernel risk",
              feature_bandwidth=1.3 * 2.8),
    wrong_world("plateau_of_another_kernel",
                "features of twice the kernel's bandwidth: they converge to another kernel's risk",
                feature_bandwidth=2 * 2.8)], claim="rf.risk-converges-order-one")
@control_cases(rf.test_sgd_converges_to_min_norm, "sgd_least_squares", [
    planted_bug("sgd_from_random_init", sgd_from_random_init),
    near_miss("sgd_from_slightly_off_init",
              "theta_0 of size 1e-3 in null(F): limit off the min-norm solution by ~1e-3 (tol 1e-4)",
              bug=sgd_from_slightly_off_init)], claim="rf.sgd-vs-minnorm")
@control_cases(rf.test_sgd_curve_versus_min_norm_curve, "min_norm_least_squares", [
    planted_bug("ridge_curve_has_no_min_norm_peak", ridge_not_min_norm, marks=pytest.mark.slow),
    wrong_world("curve_check_fails_for_early_stopped_sgd", "50 epochs of SGD (the earlier design): no peak at m = n",
                epochs=50, marks=pytest.mark.slow),
    near_miss("curve_check_fails_at_a_smaller_budget",
              "1000 epochs: rel. distance 0.12 at m = 2n, peak 2.8x (criteria: 0.05, 3x)", epochs=1000,
              marks=pytest.mark.slow)], claim="rf.sgd-vs-minnorm")
@control_cases(rf.test_sgd_curve_versus_min_norm_curve, "sgd_least_squares", [
    planted_bug("curve_check_rejects_sgd_from_random_init", sgd_from_random_init, marks=pytest.mark.slow)],
    claim="rf.sgd-vs-minnorm")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
