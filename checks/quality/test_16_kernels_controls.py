"""Planted bugs that the kernel checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_16_kernels as kern
from algorithms import registry
from algorithms.random_features import FeatureMap
from checks.support import rejects


def rff_ignoring_input(dim, num_features, bandwidth, rng, batch=()):
    """BUG: the features forget V^T x and return sqrt(2/N) cos(b): every point maps to the same vector."""
    good = registry.reference("random_fourier_features")(dim, num_features, bandwidth, rng, batch)
    return FeatureMap(np.zeros_like(good.weights), good.phase, "cos", good.scale)


def ntk_last_layer_only(x, z):
    """BUG (the catalogue's control): the NTK without the first-layer term a.a' (pi - t)/(2 pi),
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


@pytest.mark.claim("kernel.feature-map-separability")
def test_features_ignoring_input_are_rejected():
    rejects(kern.test_feature_map_makes_circles_separable, "random_fourier_features", rff_ignoring_input)


@pytest.mark.claim("kernel.ntk-limit")
def test_ntk_without_first_layer_is_rejected():
    rejects(kern.test_ntk_infinite_width_limit, "relu_ntk_kernel", ntk_last_layer_only)


@pytest.mark.claim("kernel.ntk-constancy-lazy-vs-mf")
def test_trainer_ignoring_parametrisation_is_rejected():
    rejects(kern.test_ntk_constant_when_lazy_not_in_mean_field, "two_layer_relu_gradient_descent",
            gd_ignoring_output_scale)
