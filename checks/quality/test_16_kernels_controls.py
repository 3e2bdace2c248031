"""Planted bugs that the kernel checks must reject."""
from __future__ import annotations

import numpy as np

import checks.test_16_kernels as kern
from algorithms import registry
from algorithms.random_features import FeatureMap
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


def rff_ignoring_input(dim, num_features, bandwidth, rng, batch=()):
    """BUG: the features forget V^T x and return sqrt(2/N) cos(b): every point maps to the same vector."""
    good = registry.reference("random_fourier_features")(dim, num_features, bandwidth, rng, batch)
    return FeatureMap(np.zeros_like(good.weights), good.phase, "cos", good.scale)


def rff_with_three_features(dim, num_features, bandwidth, rng, batch=()):
    """WRONG WORLD: a fixed feature map with 3 random Fourier features whatever is asked: too few
    for the rings to become separable."""
    return registry.reference("random_fourier_features")(dim, 3, bandwidth, rng, batch)


def ntk_read_out_term_ten_percent_high(x, z):
    """NEAR MISS: the limit with its arc-cosine (read-out) term 10% high: a kernel ~5% off."""
    reference = registry.reference("relu_ntk_kernel")(x, z)
    return reference + 0.1 * ntk_last_layer_only(x, z)


def ntk_unnormalised_angle(x, z):
    """BUG: the angle from the raw inner product (arccos(a.a') clipped), not a.a'/(||a|| ||a'||)."""
    x, z = np.atleast_2d(x), np.atleast_2d(z)
    nx, nz = np.linalg.norm(x, axis=1)[:, None], np.linalg.norm(z, axis=1)[None, :]
    dot = x @ z.T
    t = np.arccos(np.clip(dot, -1, 1))
    return nx * nz * (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi) + dot * (np.pi - t) / (2 * np.pi)


def gd_all_mean_field(x, y, w0, v0, output_scale, lr, num_steps, tol=0.0):
    """WRONG WORLD: both runs in the mean-field parametrisation s = 1/m (the kernel then moves at every width)."""
    m = np.shape(v0)[0]
    return registry.reference("two_layer_relu_gradient_descent")(x, y, w0, v0, 1.0 / m,
                                                                 lr * output_scale**2 * m**2, num_steps, tol)


def gd_near_mean_field(x, y, w0, v0, output_scale, lr, num_steps, tol=0.0):
    """NEAR MISS: the lazy run at output scale m^-0.85 instead of m^-1/2 (the mean-field run unchanged)."""
    m = np.shape(v0)[0]
    if not np.isclose(output_scale, m**-0.5):
        return registry.reference("two_layer_relu_gradient_descent")(x, y, w0, v0, output_scale, lr, num_steps, tol)
    return registry.reference("two_layer_relu_gradient_descent")(x, y, w0, v0, m**-0.85,
                                                                 lr * output_scale**2 * m**1.7, num_steps, tol)


def ntk_last_layer_only(x, z):
    """WRONG WORLD (the catalogue's control): the NTK without the first-layer term a.a' (pi - t)/(2 pi),
    i.e. the kernel of training the read-out only."""
    x, z = np.atleast_2d(x), np.atleast_2d(z)
    nx, nz = np.linalg.norm(x, axis=1)[:, None], np.linalg.norm(z, axis=1)[None, :]
    cos = np.clip((x @ z.T) / (nx * nz), -1, 1)
    t = np.arccos(cos)
    return nx * nz * (np.sin(t) + (np.pi - t) * cos) / (2 * np.pi)


def gd_ignoring_output_scale(x, y, w0, v0, output_scale, lr, num_steps, tol=0.0):
    """BUG: the trainer always uses the NTK scale 1/sqrt(m), whatever parametrisation is asked
    for (the mean-field run silently becomes lazy)."""
    m = np.shape(v0)[0]
    return registry.reference("two_layer_relu_gradient_descent")(x, y, w0, v0, m**-0.5,
                                                                 lr * output_scale**2 * m, num_steps, tol)


@control_cases(kern.test_feature_map_makes_circles_separable, "random_fourier_features", [
    planted_bug("features_ignoring_input", rff_ignoring_input),
    wrong_world("too_few_features_do_not_separate",
                "a feature map with 3 random features: the rings stay non-separable", bug=rff_with_three_features)],
    claim="kernel.feature-map-separability")
@control_cases(kern.test_ntk_infinite_width_limit, "relu_ntk_kernel", [
    wrong_world("ntk_without_first_layer",
                "the limit of training the read-out only (no a.a'(pi - t)/(2 pi) term): ~half the kernel",
                bug=ntk_last_layer_only),
    near_miss("ntk_five_percent_off", "the limit's read-out term 10% high (the kernel ~5% off)",
              bug=ntk_read_out_term_ten_percent_high),
    planted_bug("ntk_with_unnormalised_angle", ntk_unnormalised_angle)], claim="kernel.ntk-limit")
@control_cases(kern.test_ntk_constant_when_lazy_not_in_mean_field, "two_layer_relu_gradient_descent", [
    wrong_world("mean_field_everywhere", "both runs in mean field: the 'lazy' run's kernel moves at every width",
                bug=gd_all_mean_field),
    near_miss("near_mean_field_scaling",
              "the lazy run at output scale m^-0.85: kernel-change slope -0.22 vs the -0.35 threshold",
              bug=gd_near_mean_field),
    planted_bug("trainer_ignoring_parametrisation", gd_ignoring_output_scale)], claim="kernel.ntk-constancy-lazy-vs-mf")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
