"""Planted bugs that the overfitting-taxonomy checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_20_overfitting_taxonomy as tax
from algorithms import registry
from checks.support import rejects


def one_nn_labelled_k_nn(x_train, y_train, x_test, k):
    """BUG (the issue's control): 1-NN whatever k is asked for."""
    return registry.reference("k_nearest_neighbours")(x_train, y_train, x_test, 1)


def ridge_not_ridgeless(gram, targets, ridge=0.0):
    """BUG (the catalogue's control): kernel ridge with a tuned-looking lambda = 0.1 where the
    ridgeless interpolant is claimed (it does not interpolate; R/sigma^2 ~ 1)."""
    return registry.reference("kernel_ridge_regression")(gram, targets, 0.1 * len(gram) / 100)


def high_precision_with_jitter(x, y, x_test, kernel, bandwidth, digits=80):
    """BUG: a 'stabilising' jitter 1e-8 I added to the Gram matrix: a hidden ridge."""
    k = lambda a, b: np.exp(-((np.asarray(a)[:, None] - np.asarray(b)[None]) ** 2) / (2 * bandwidth**2))  # noqa: E731
    alpha = np.linalg.solve(k(x, x) + 1e-8 * np.eye(len(x)), y)
    return k(x_test, x) @ alpha


@pytest.mark.claim("gen.mallinar-taxonomy")
def test_one_nn_as_k_nn_is_rejected():
    rejects(tax.test_benign_knn_log_n_neighbours, "k_nearest_neighbours", one_nn_labelled_k_nn)


@pytest.mark.claim("gen.mallinar-taxonomy")
@pytest.mark.slow
def test_ridge_in_place_of_ridgeless_is_rejected():
    rejects(tax.test_tempered_nearest_neighbour_and_interpolation, "kernel_ridge_regression", ridge_not_ridgeless)


@pytest.mark.claim("gen.mallinar-taxonomy")
def test_jittered_solver_is_not_catastrophic():
    rejects(tax.test_catastrophic_gaussian_kernel, "kernel_interpolation_high_precision", high_precision_with_jitter)
