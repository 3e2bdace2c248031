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

import checks.test_15_belkin_other_models as other
import checks.test_15_double_descent as dd
from checks.support import fails, rejects


def ridge_not_min_norm(features, targets):
    """WRONG WORLD (the catalogue's control): ridge with lambda = 0.1 (the CV-tuned value for
    unit-norm features) where the min-norm solution is claimed: optimally tuned ridge has no
    peak (Nakkiran et al. 2021); it neither interpolates nor peaks at N = n."""
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
    """WRONG WORLD (the catalogue's control): orthonormal Legendre sqrt((2k+1)/2) P_k instead of P_k;
    the min-norm fit then loads high frequencies and is not benign at d = 1000."""
    return legendre.legvander(np.asarray(x, float), int(degree)) * np.sqrt((2 * np.arange(degree + 1) + 1) / 2)


def min_norm_read_out_averaged(features, targets):
    """BUG: the read-out averaged over the N features (theta / N) where it is summed: the fit no longer
    interpolates and its norm falls monotonically with N."""
    f = np.asarray(features, float)
    y = np.broadcast_to(np.asarray(targets, float), f.shape[:-1])
    return np.einsum("...Nn,...n->...N", np.linalg.pinv(f), y) / f.shape[-1]


def identical_trees(x_train, y_train, x_test, num_trees, max_leaf_nodes, seed, proba=False):
    """BUG: every tree of the 'forest' is the same tree (one seed, all features): averaging
    them is no averaging at all."""
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_leaf_nodes=int(max_leaf_nodes), random_state=0).fit(x_train, y_train)
    if not proba:
        return tree.predict(x_train), tree.predict(x_test)
    classes = int(np.max(y_train)) + 1
    out = []
    for x in (x_train, x_test):
        p = np.zeros((len(x), classes))
        p[:, tree.classes_.astype(int)] = tree.predict_proba(x)
        out.append(p)
    return out[0], out[1]


@pytest.mark.claim("dd.poly-curve-fitting")
@pytest.mark.control("wrong_world", of=dd.test_poly_curve_fitting,
                     margin="the orthonormal Legendre basis (another implicit norm): d = 1000 is not benign")
def test_orthonormal_basis_is_rejected():
    rejects(dd.test_poly_curve_fitting, "legendre_features", orthonormal_legendre)


@pytest.mark.claim("dd.poly-curve-fitting")
@pytest.mark.slow
def test_ridge_curve_fit_is_rejected():
    rejects(dd.test_poly_curve_fitting, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-rff")
@pytest.mark.control("wrong_world", of=dd.test_belkin_rff_digits,
                     margin="tuned ridge (lambda = 0.1) in place of min-norm: no peak at the threshold")
def test_ridge_where_min_norm_is_claimed_is_rejected():
    rejects(dd.test_belkin_rff_digits, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-rff")
@pytest.mark.control("near_miss", of=dd.test_belkin_rff_digits,
                     margin="a training set of rank 0.75 n (its last quarter repeats its first): peak at 0.75 n")
def test_peak_off_the_threshold_is_rejected():
    fails(dd.test_belkin_rff_digits, duplicate_fraction=0.25)


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
@pytest.mark.control("wrong_world", of=dd.test_belkin_relu_features,
                     margin="tuned ridge (lambda = 0.1) on the ReLU features: no peak at the threshold")
def test_ridge_relu_features_is_rejected():
    rejects(dd.test_belkin_relu_features, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.belkin-other-models")
@pytest.mark.control("near_miss", of=dd.test_belkin_relu_features,
                     margin="a training set of rank 0.75 n: the ReLU-feature peak at 0.75 n")
def test_relu_peak_off_the_threshold_is_rejected():
    fails(dd.test_belkin_relu_features, duplicate_fraction=0.25)


@pytest.mark.claim("dd.belkin-other-models")
@pytest.mark.slow
def test_identical_trees_are_rejected():
    rejects(other.test_random_forest_double_descent, "random_forest_classifier", identical_trees)


@pytest.mark.claim("dd.belkin-other-models")
@pytest.mark.slow
@pytest.mark.control("wrong_world", of=other.test_random_forest_double_descent,
                     margin="labels independent of the digit: averaging trees cannot go below the sweet spot")
def test_forest_on_labels_without_signal_is_rejected():
    fails(other.test_random_forest_double_descent, labels=other.FOREST_LABELS[1])


@pytest.mark.claim("dd.norm-peak-n-eq-p")
@pytest.mark.slow
@pytest.mark.control("wrong_world", of=dd.test_norm_peak_and_error_vs_norm,
                     margin="tuned ridge: the norm stays small, no peak at N = n")
def test_norm_peak_with_ridge_is_rejected():
    rejects(dd.test_norm_peak_and_error_vs_norm, "min_norm_least_squares", ridge_not_min_norm)


@pytest.mark.claim("dd.norm-peak-n-eq-p")
def test_norm_peak_with_averaged_read_out_is_rejected():
    rejects(dd.test_norm_peak_and_error_vs_norm, "min_norm_least_squares", min_norm_read_out_averaged)


@pytest.mark.claim("dd.norm-peak-n-eq-p")
@pytest.mark.control("near_miss", of=dd.test_norm_peak_and_error_vs_norm,
                     margin="a training set of rank 0.75 n: the norm peaks at 0.75 n")
def test_norm_peak_off_the_threshold_is_rejected():
    fails(dd.test_norm_peak_and_error_vs_norm, duplicate_fraction=0.25)


@pytest.mark.claim("dd.belkin-other-models")
@pytest.mark.network
@pytest.mark.control("wrong_world", of=other.test_belkin_shallow_network,
                     margin="labels independent of the digit: no second descent below the classical minimum")
def test_shallow_network_on_labels_without_signal_is_rejected():
    fails(other.test_belkin_shallow_network, labels=other.SHALLOW_LABELS[1])
