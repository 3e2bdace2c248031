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
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


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


@control_cases(dd.test_poly_curve_fitting, "legendre_features", [
    wrong_world("orthonormal_basis",
                "the orthonormal Legendre basis (another implicit norm): d = 1000 is not benign",
                bug=orthonormal_legendre)], claim="dd.poly-curve-fitting")
@control_cases(dd.test_poly_curve_fitting, "min_norm_least_squares", [
    planted_bug("ridge_curve_fit", ridge_not_min_norm, marks=pytest.mark.slow)], claim="dd.poly-curve-fitting")
@control_cases(dd.test_belkin_rff_digits, "min_norm_least_squares", [
    wrong_world("ridge_where_min_norm_is_claimed",
                "tuned ridge (lambda = 0.1) in place of min-norm: no peak at the threshold", bug=ridge_not_min_norm),
    near_miss("peak_off_the_threshold",
              "a training set of rank 0.75 n (its last quarter repeats its first): peak at 0.75 n",
              duplicate_fraction=0.25),
    planted_bug("pinv_with_loose_cutoff", pinv_loose_cutoff, marks=pytest.mark.slow)], claim="dd.belkin-rff")
@control_cases(dd.test_belkin_rff_synthetic, "min_norm_least_squares", [
    planted_bug("ridge_on_synthetic_data", ridge_not_min_norm, marks=pytest.mark.slow)], claim="dd.belkin-rff")
@control_cases(dd.test_norm_peak_and_error_vs_norm, "min_norm_least_squares", [
    wrong_world("norm_peak_with_ridge", "tuned ridge: the norm stays small, no peak at N = n",
                bug=ridge_not_min_norm, marks=pytest.mark.slow),
    planted_bug("norm_peak_with_averaged_read_out", min_norm_read_out_averaged),
    near_miss("norm_peak_off_the_threshold", "a training set of rank 0.75 n: the norm peaks at 0.75 n",
              duplicate_fraction=0.25)], claim="dd.norm-peak-n-eq-p")
@control_cases(dd.test_belkin_relu_features, "min_norm_least_squares", [
    wrong_world("ridge_relu_features", "tuned ridge (lambda = 0.1) on the ReLU features: no peak at the threshold",
                bug=ridge_not_min_norm, marks=pytest.mark.slow),
    near_miss("relu_peak_off_the_threshold", "a training set of rank 0.75 n: the ReLU-feature peak at 0.75 n",
              duplicate_fraction=0.25)], claim="dd.belkin-other-models")
@control_cases(other.test_random_forest_double_descent, "random_forest_classifier", [
    planted_bug("identical_trees", identical_trees, marks=pytest.mark.slow),
    wrong_world("forest_on_labels_without_signal",
                "labels independent of the digit: averaging trees cannot go below the sweet spot",
                labels=other.FOREST_LABELS[1], marks=pytest.mark.slow)], claim="dd.belkin-other-models")
@control_cases(other.test_belkin_shallow_network, None, [
    wrong_world("shallow_network_on_labels_without_signal",
                "labels independent of the digit: no second descent below the classical minimum",
                labels=other.SHALLOW_LABELS[1], marks=pytest.mark.network)], claim="dd.belkin-other-models")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
