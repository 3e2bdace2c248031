"""Planted bugs that the overfitting-taxonomy checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_20_overfitting_taxonomy as tax
from algorithms import registry
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


def one_nn_labelled_k_nn(x_train, y_train, x_test, k):
    """BUG (the issue's control): 1-NN whatever k is asked for."""
    return registry.reference("k_nearest_neighbours")(x_train, y_train, x_test, 1)


def ridge_not_ridgeless(gram, targets, ridge=0.0):
    """BUG (the catalogue's control): kernel ridge with a tuned-looking lambda = 0.1 where the
    ridgeless interpolant is claimed (it does not interpolate; R/sigma^2 ~ 1)."""
    return registry.reference("kernel_ridge_regression")(gram, targets, 0.1 * len(gram) / 100)


def high_precision_with_jitter(x, y, x_test, kernel, bandwidth, digits=80):
    """WRONG WORLD: a 'stabilising' jitter 1e-4 added to the Gram matrix: a hidden ridge, and ridge
    regression is not catastrophic. (A 1e-8 jitter is no wrong world at n <= 20: cond(K) has not yet
    reached 1e8 there, the median risk still grew 23x from n = 10 to 20, and the check passed it in
    68 % of draws. At 1e-4 the median falls, 15 -> 7: passed in 0 of 5000 bootstrap draws.)"""
    k = lambda a, b: np.exp(-((np.asarray(a)[:, None] - np.asarray(b)[None]) ** 2) / (2 * bandwidth**2))  # noqa: E731
    alpha = np.linalg.solve(k(x, x) + 1e-4 * np.eye(len(x)), y)
    return k(x_test, x) @ alpha


def predicts_the_mean(x, y, x_test, kernel, bandwidth, digits=80):
    """BUG: returns the mean training label everywhere (no interpolation at all)."""
    return np.full(np.shape(x_test), float(np.mean(y)))


def spiky_gaussian_for_laplace(x, z, bandwidth):
    """WRONG WORLD: a Gaussian kernel of width 5e-4 (below the data spacing) where the Laplace kernel
    is claimed tempered: the interpolant spikes at the data and predicts ~0 elsewhere, so
    R/sigma^2 -> 1 + ||f*||^2/sigma^2 = 3 (not tempered; a well-conditioned Gram, no ridge needed)."""
    x, z = np.atleast_2d(x), np.atleast_2d(z)
    d2 = np.maximum(np.sum(x**2, 1)[:, None] + np.sum(z**2, 1)[None] - 2 * x @ z.T, 0)
    return np.exp(-d2 / (2 * 5e-4**2))


@pytest.mark.claim("gen.mallinar-taxonomy")
@control_cases(tax.test_benign_knn_log_n_neighbours, "k_nearest_neighbours", [
    planted_bug("one_nn_as_k_nn", one_nn_labelled_k_nn),
    wrong_world("fixed_k_is_not_benign", "a fixed k = 1: tempered (excess -> 1), not benign", neighbours="1")])
@control_cases(tax.test_tempered_nearest_neighbour_and_interpolation, "kernel_ridge_regression", [
    planted_bug("ridge_in_place_of_ridgeless", ridge_not_ridgeless, marks=pytest.mark.slow),
    near_miss("tempered_limit_ten_percent_off", "the interpolation's limit claimed 10% high (11/6 for 5/3)",
              interpolation_limit=11 / 6)])
@control_cases(tax.test_catastrophic_gaussian_kernel, "kernel_interpolation_high_precision", [
    planted_bug("mean_predictor_is_not_catastrophic", predicts_the_mean),
    wrong_world("jittered_solver_is_not_catastrophic",
                "a 1e-4 ridge hidden in the solver: ridge regression does not blow up",
                bug=high_precision_with_jitter)])
@control_cases(tax.test_tempered_nearest_neighbour_and_interpolation, "laplace_kernel", [
    wrong_world("spiky_kernel_is_not_tempered", "a spiky Gaussian kernel (width 5e-4): R/sigma^2 -> 3, not tempered",
                bug=spiky_gaussian_for_laplace)])
def test_mallinar_taxonomy_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
