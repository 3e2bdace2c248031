"""Planted bugs that the model-size double-descent checks must reject.

Each control substitutes a deliberately broken estimator for a registry name and
runs the *same* check (``checks.support.rejects``); it passes only if the check
fails. Controls whose check costs more than a fraction of a second run in the
slow tier.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.polynomial import legendre

import checks.test_15_double_descent as dd
from checks.support import rejects


def ridge_not_min_norm(features, targets):
    """BUG: ridge with lambda = 0.1 (the CV-tuned value for unit-norm features) where the
    min-norm solution is claimed: it neither interpolates nor peaks at N = n."""
    f = np.asarray(features, float)
    y = np.asarray(targets, float)
    vector = y.ndim == f.ndim - 1
    y = y[..., None] if vector else y
    ft = np.swapaxes(f, -1, -2)
    theta = ft @ np.linalg.solve(f @ ft + 0.1 * np.eye(f.shape[-2]), y)
    return theta[..., 0] if vector else theta


def pinv_loose_cutoff(features, targets):
    """BUG: pseudo-inverse with a loose relative cut-off 1e-3, which silently truncates the
    small singular values that make the peak at N = n."""
    y = np.asarray(targets, float)
    vector = y.ndim == np.ndim(features) - 1
    theta = np.linalg.pinv(np.asarray(features, float), rcond=1e-3) @ (y[..., None] if vector else y)
    return theta[..., 0] if vector else theta


def orthonormal_legendre(x, degree):
    """BUG (the catalogue's control): orthonormal Legendre sqrt((2k+1)/2) P_k instead of P_k;
    the min-norm fit then loads high frequencies and is not benign at d = 1000."""
    return legendre.legvander(np.asarray(x, float), int(degree)) * np.sqrt((2 * np.arange(degree + 1) + 1) / 2)


def identical_trees(x_train, y_train, x_test, num_trees, max_leaf_nodes, seed):
    """BUG: every tree of the 'forest' is the same tree (one seed, all features): averaging
    them is no averaging at all."""
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_leaf_nodes=int(max_leaf_nodes), random_state=0).fit(x_train, y_train)
    return tree.predict(x_train), tree.predict(x_test)


@pytest.mark.claim("dd.poly-curve-fitting")
def test_orthonormal_basis_is_rejected():
    rejects(dd.test_poly_curve_fitting, "legendre_features", orthonormal_legendre)


@pytest.mark.claim("dd.poly-curve-fitting")
@pytest.mark.slow
def test_ridge_curve_fit_is_rejected():
    rejects(dd.test_poly_curve_fitting, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-rff")
def test_ridge_where_min_norm_is_claimed_is_rejected():
    rejects(dd.test_belkin_rff_digits, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-rff")
@pytest.mark.slow
def test_pinv_with_loose_cutoff_is_rejected():
    rejects(dd.test_belkin_rff_digits, "min_norm_least_squares", pinv_loose_cutoff)


@pytest.mark.claim("dd.belkin-rff")
@pytest.mark.slow
def test_ridge_on_synthetic_data_is_rejected():
    rejects(dd.test_belkin_rff_synthetic, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-other-models")
@pytest.mark.slow
def test_ridge_relu_features_is_rejected():
    rejects(dd.test_belkin_relu_features, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-other-models")
def test_identical_trees_are_rejected():
    rejects(dd.test_random_forest_averaging, "random_forest_classifier", identical_trees)


@pytest.mark.claim("dd.norm-peak-n-eq-p")
@pytest.mark.slow
def test_norm_peak_with_ridge_is_rejected():
    rejects(dd.test_norm_peak_and_error_vs_norm, "min_norm_least_squares", ridge_not_min_norm)
