"""Planted bugs that the linear double-descent checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_15_linear_double_descent as lin
from algorithms import registry
from checks.support import rejects


def interpolator_not_min_norm(features, targets):
    """BUG: an interpolator, but not the one of least norm: the min-norm solution plus a
    component in the null space of F (what GD from a random initialisation converges to)."""
    f = np.asarray(features, float)
    theta = registry.reference("min_norm_least_squares")(f, targets)
    if f.shape[-1] <= f.shape[-2]:
        return theta  # no null space: the least-squares solution is unique
    z = 0.3 * np.random.default_rng(0).standard_normal(theta.shape)
    ft = np.swapaxes(f, -1, -2)
    fz = np.einsum("...nm,...m->...n", f, z)
    return theta + z - np.einsum("...mn,...n->...m", ft, np.linalg.solve(f @ ft, fz[..., None])[..., 0])


def optimally_tuned_ridge(features, targets):
    """BUG for 'more data can hurt': ridge with the Bayes-optimal lambda = p sigma^2/||beta||^2
    (= p for the instance), which is monotone in n (Nakkiran et al. 2021)."""
    f = np.asarray(features, float)
    p = f.shape[-1]
    ft = np.swapaxes(f, -1, -2)
    alpha = np.linalg.solve(f @ ft + p * np.eye(f.shape[-2]), np.asarray(targets, float)[..., None])[..., 0]
    return np.einsum("...mn,...n->...m", ft, alpha)


@pytest.mark.claim("dd.linear-minnorm-closed-form")
def test_non_minimal_interpolator_misses_closed_form():
    rejects(lin.test_hastie_minnorm_risk, "min_norm_least_squares", interpolator_not_min_norm)


@pytest.mark.claim("dd.nakkiran-sample-wise")
def test_optimal_ridge_is_monotone_and_rejected():
    rejects(lin.test_more_data_can_hurt, "min_norm_least_squares", optimally_tuned_ridge)


@pytest.mark.claim("dd.benign-overfitting-def")
@pytest.mark.slow
def test_non_minimal_interpolator_is_not_benign():
    rejects(lin.test_benign_vs_non_benign_spectra, "min_norm_least_squares", interpolator_not_min_norm)
