"""Planted bugs that the mystery / over-parameterisation checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_14_mystery as op
from algorithms import registry
from algorithms.small_networks import ProjectedReluNetwork
from checks.support import rejects


def capacity_starved_mlp(x, y, x_test, widths, **kw):
    """BUG (the catalogue's control): a width-8 MLP (~700 weights, far below n x 10) stands in
    for the wide one: it cannot memorise random labels within the budget."""
    return registry.reference("train_mlp_classifier")(x, y, x_test, (8,), **kw)


def ridge_memoriser(features, targets):
    """BUG: ridge lambda = 10 for the memoriser's read-out: it no longer fits the signs."""
    f = np.asarray(features, float)
    ft = np.swapaxes(f, -1, -2)
    alpha = np.linalg.solve(f @ ft + 10 * np.eye(f.shape[-2]), np.asarray(targets, float)[..., None])[..., 0]
    return np.einsum("...mn,...n->...m", ft, alpha)


def unsorted_construction(x, y, rng):
    """BUG: the breakpoints b_j are placed between consecutive points in the *input order*,
    not the sorted order, so the system is no longer triangular (least squares on it)."""
    a = rng.standard_normal(np.shape(x)[1])
    z = np.asarray(x, float) @ a
    b = np.concatenate([[z[0] - 1.0], (z[:-1] + z[1:]) / 2])
    m = np.maximum(z[:, None] - b[None, :], 0.0)
    w = np.linalg.lstsq(m, np.asarray(y, float), rcond=None)[0]
    return ProjectedReluNetwork(a, b, w)


def gd_step_too_large(features, targets, step, num_steps, theta0=None):
    """BUG: the step multiplied by 2.5 (beyond 2/lambda_max): GD diverges."""
    return registry.reference("gradient_descent_least_squares")(features, targets, 2.5 * np.asarray(step),
                                                               num_steps, theta0)


def resnet_without_projections(blocks=(3, 8, 36, 3), num_classes=1000, width=64, expansion=4):
    """BUG: the 1x1 projection shortcuts (and their BN) left out of the count."""
    full = registry.reference("resnet_parameter_count")(blocks, num_classes, width, expansion)
    ins = [width] + [width * 2**s * expansion for s in range(len(blocks) - 1)]
    outs = [width * 2**s * expansion for s in range(len(blocks))]
    return full - sum(i * o + 2 * o for i, o in zip(ins, outs))


@pytest.mark.claim("mystery.random-labels")
@pytest.mark.slow
def test_capacity_starved_network_cannot_memorise():
    rejects(op.test_mlp_fits_random_labels_digits, "train_mlp_classifier", capacity_starved_mlp)


@pytest.mark.claim("mystery.rademacher-vacuous")
def test_non_interpolating_memoriser_is_rejected():
    rejects(op.test_memorising_class_has_rademacher_one, "min_norm_least_squares", ridge_memoriser)


@pytest.mark.claim("overparam.existence-2nplusd")
def test_unsorted_construction_is_rejected():
    rejects(op.test_two_layer_relu_interpolates_with_2n_plus_d_weights, "interpolating_relu_network",
            unsorted_construction)


@pytest.mark.claim("overparam.last-layer-only")
def test_divergent_step_is_rejected():
    rejects(op.test_training_last_layer_converges_linearly, "gradient_descent_least_squares", gd_step_too_large)


@pytest.mark.claim("overparam.model-sizes")
def test_count_without_projections_is_rejected():
    rejects(op.test_resnet152_parameter_count, "resnet_parameter_count", resnet_without_projections)
