"""Planted bugs that the checks of checks/test_19_separation.py must reject."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

import checks.test_19_separation as separation
from algorithms.networks import relu_network
from checks.support import control_cases, control_param, fails, planted_bug, rejects, run_control, wrong_world


def separation_ignoring_labels(X_query, y_query, X_ref, y_ref, *, norm="linf", block=512):
    """Minimum over all distinct pairs, labels ignored."""
    D = cdist(X_query, X_ref, metric="chebyshev" if norm == "linf" else "euclidean")
    return float(D[D > 0].min()) if (D > 0).any() else 0.0


def second_nearest_neighbour(x_train, y_train, x_test, k):
    """Off by one: the label of the 2nd nearest training point (leave-one-out applied at test time)."""
    _, idx = cKDTree(np.asarray(x_train, float)).query(np.asarray(x_test, float), k=2)
    return np.asarray(y_train, float)[idx[:, 1]]


def relu_network_output_relu_by_default(weights, alpha, inputs, *, output_relu=True):
    """The slide's output ReLU left on: negative scores are clipped to 0."""
    return relu_network(weights, alpha, inputs, output_relu=output_relu)


@pytest.mark.claim("robust.separation-table")
@pytest.mark.parametrize("check", ["test_separation_statistic", "test_digits_separation"])
def test_separation_checks_reject_ignoring_labels(check):
    rejects(getattr(separation, check), "dataset_separation", separation_ignoring_labels)


@pytest.mark.claim("robust.separation-implies-robust-classifier")
def test_robust_classifier_check_rejects_off_by_one_neighbour():
    rejects(separation.test_separated_data_has_robust_1nn, "k_nearest_neighbours", second_nearest_neighbour)


@control_cases(separation.test_curse_of_dimensionality_for_any, "relu_network", [
    planted_bug("curse_counterexample_rejects_output_relu", relu_network_output_relu_by_default),
    wrong_world("curse_search_finds_nothing_where_the_bound_holds",
                "p <= 4 and the bound's constant 1e-3: 2p + 4 >= 1e-3 10^p, the printed bound holds there", p_max=4,
                constant=1e-3)], claim="robust.curse-of-dimensionality")
@control_cases(separation.test_caption_as_printed, "k_nearest_neighbours", [
    planted_bug("caption_check_rejects_off_by_one_neighbour", second_nearest_neighbour),
    wrong_world("caption_check_rejects_the_half_distance_reading",
                "separation read as Yang et al.'s r-separation (half the distance): the caption holds",
                separation="half-distance")], claim="robust.separation-table")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)


@pytest.mark.claim("robust.separation-implies-robust-classifier")
@pytest.mark.parametrize("radius_fraction", [
    control_param("near_miss", separation.test_separated_data_has_robust_1nn,
                  "attack radius 0.51 x separation: 2% above half the separation", "just_above_half_the_separation",
                  0.51),
    control_param("wrong_world", separation.test_separated_data_has_robust_1nn,
                  "attack radius 0.75 x separation: the points are not 2r-separated", "beyond_half_the_separation",
                  0.75)])
def test_radius_above_half_the_separation_is_rejected(monkeypatch, radius_fraction):
    # the attack radius is a module constant of the check, not one of its parameters
    monkeypatch.setattr(separation, "RADIUS_FRACTION", radius_fraction)
    fails(separation.test_separated_data_has_robust_1nn)
