"""Planted bugs that the mystery / over-parameterisation checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_14_mystery as op
from algorithms import registry
from algorithms.small_networks import ProjectedReluNetwork
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


def capacity_starved_mlp(x, y, x_test, widths, **kw):
    """BUG (the catalogue's control): a width-8 MLP (~700 weights, far below n x 10) stands in
    for the wide one: it cannot memorise random labels within the budget."""
    return registry.reference("train_mlp_classifier")(x, y, x_test, (8,), **kw)


def trainer_stopping_after_three_epochs(x, y, x_test, widths, *, epochs, **kw):
    """BUG: the epoch budget is ignored and training stops after 3 epochs."""
    return registry.reference("train_mlp_classifier")(x, y, x_test, widths, epochs=3, **kw)


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


def _construction_with_units(x, y, rng, units):
    """The construction's projection and breakpoints, keeping only the first ``units`` breakpoints
    and fitting their weights by least squares: 2 units + d weights."""
    a = rng.standard_normal(np.shape(x)[1])
    z = np.sort(np.asarray(x, float) @ a)
    b = np.concatenate([[z[0] - 1.0], (z[:-1] + z[1:]) / 2])[:units]
    order = np.argsort(np.asarray(x, float) @ a)
    m = np.maximum(z[:, None] - b[None, :], 0.0)
    w = np.linalg.lstsq(m, np.asarray(y, float)[order], rcond=None)[0]
    return ProjectedReluNetwork(a, b, w)


def construction_one_unit_short(x, y, rng):
    """NEAR MISS: n - 1 hidden units (2n + d - 2 weights), one fewer than the theorem's 2n + d."""
    return _construction_with_units(x, y, rng, len(y) - 1)


def construction_half_the_units(x, y, rng):
    """WRONG WORLD: n/2 hidden units (n + d weights): a class that cannot fit arbitrary labels on n points."""
    return _construction_with_units(x, y, rng, max(1, len(y) // 2))


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


@control_cases(op.test_mlp_fits_random_labels_digits, "train_mlp_classifier", [
    wrong_world("capacity_starved_network_cannot_memorise",
                "a width-8 MLP (~700 weights < n x 10 = 12000): a class that cannot memorise", widths=(8,)),
    planted_bug("trainer_ignoring_the_epoch_budget", trainer_stopping_after_three_epochs),
    near_miss("partly_informative_labels",
              "30% of the 'random' labels left at their true class: test accuracy above 0.10 + 3 SE",
              true_label_fraction=0.3)], claim="mystery.random-labels", marks=pytest.mark.slow)
@control_cases(op.test_memorising_class_has_rademacher_one, "min_norm_least_squares", [
    planted_bug("non_interpolating_memoriser", ridge_memoriser),
    wrong_world("population_without_signal",
                "labels independent of the input: the interpolant's test error is 1/2, the bound's pessimism is "
                "then right", population=op.POPULATIONS[1]),
    wrong_world("non_memorising_class",
                "width 64 << n: a class that cannot memorise (R_A ~ 0.13), its bound is not vacuous", width=64),
    near_miss("almost_memorising_class", "width 0.9 n = 450: random signs fitted to correlation ~0.83 < 0.95",
              width=450)], claim="mystery.rademacher-vacuous")
@control_cases(op.test_two_layer_relu_interpolates_with_2n_plus_d_weights, "interpolating_relu_network", [
    planted_bug("unsorted_construction", unsorted_construction),
    near_miss("one_unit_short", "one hidden unit short: 2n + d - 2 weights", bug=construction_one_unit_short),
    wrong_world("half_the_units_cannot_interpolate",
                "n/2 hidden units (n + d weights): the class is too small to fit arbitrary labels",
                bug=construction_half_the_units)], claim="overparam.existence-2nplusd")
@control_cases(op.test_training_last_layer_converges_linearly, "gradient_descent_least_squares", [
    planted_bug("divergent_step", gd_step_too_large),
    wrong_world("rank_deficient_features", "m = n/2 features: rank < n, GD plateaus at the least-squares residual",
                widths=(150,)),
    near_miss("one_feature_short", "m = n - 1 = 299 features: rank one short of n", widths=(299,))],
    claim="overparam.last-layer-only")
@control_cases(op.test_resnet152_parameter_count, "resnet_parameter_count", [
    planted_bug("count_without_projections", resnet_without_projections),
    wrong_world("resnet101_is_not_60m", "ResNet-101 (3, 4, 23, 3) counted for the 152-layer net: 44.5 M",
                blocks=(3, 4, 23, 3)),
    near_miss("one_block_more", "one bottleneck block more in stage 3 (3, 8, 37, 3): +1.8%", blocks=(3, 8, 37, 3))],
    claim="overparam.model-sizes")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
