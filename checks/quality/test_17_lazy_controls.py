"""Planted bugs that the checks of checks/test_17_lazy.py must reject."""
from __future__ import annotations

import pytest
import torch

import checks.test_17_lazy as lazy
from algorithms.networks import InitScheme
from checks.support import rejects


def _norms(ts, norm):
    return torch.stack([torch.linalg.matrix_norm(t, ord="fro" if norm == "fro" else 2) for t in ts], -1)


def ratio_without_subtraction(params_t, params_0, *, reduce="sum", norm="fro"):
    """Uses ‖X_l(t)‖ in the numerator instead of ‖X_l(t) − X_l(0)‖: κ(0) = 1, not 0."""
    moved, size = _norms(params_t, norm), _norms(params_0, norm)
    return {"sum": moved.sum(-1) / size.sum(-1), "max_layer": (moved / size).max(-1).values,
            "per_layer": moved / size}[reduce]


def ratio_against_current(params_t, params_0, *, reduce="sum", norm="fro"):
    """Divides by the *current* weights ‖X_l(t)‖ instead of the initial ‖X_l(0)‖: bounded
    for runs that move far from a tiny initialisation."""
    moved = _norms([a - b for a, b in zip(params_t, params_0)], norm)
    size = _norms(params_t, norm)
    return {"sum": moved.sum(-1) / size.sum(-1), "max_layer": (moved / size).max(-1).values,
            "per_layer": moved / size}[reduce]


xavier_with_he_variances = InitScheme("xavier", lambda p, m: 2 / p, lambda p, m: 2 / m, lambda p, m: 2 / m,
                                      lambda p, m: 1, "planted bug: 'Xavier' drawing He variances")
mean_field_sqrt_alpha = InitScheme("mean_field", lambda p, m: 1, lambda p, m: 1, lambda p, m: 1,
                                   lambda p, m: m**0.5, "planted bug: mean-field with alpha = sqrt(m)")
jacot_with_mean_field_scaling = InitScheme("jacot", lambda p, m: 1, lambda p, m: 1, lambda p, m: 1,
                                           lambda p, m: m, "planted bug: alpha = m (mean-field) in the NTK check")


@pytest.mark.claim("lazy.definition")
@pytest.mark.parametrize("bug", [ratio_without_subtraction, ratio_against_current])
def test_lazy_definition_rejects(bug):
    rejects(lazy.test_lazy_ratio_definition, "lazy_training_ratio", bug)


@pytest.mark.slow
@pytest.mark.claim("lazy.kappa-by-init")
def test_kappa_check_rejects_xavier_with_he_variances():
    rejects(lazy.test_kappa_by_init, "init_xavier", xavier_with_he_variances, scheme="xavier")


@pytest.mark.slow
@pytest.mark.claim("lazy.kappa-by-init")
def test_kappa_check_rejects_mean_field_with_sqrt_alpha():
    rejects(lazy.test_kappa_by_init, "init_mean_field", mean_field_sqrt_alpha, scheme="mean_field")


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition")
@pytest.mark.parametrize("check", ["test_chizat_condition_as_printed", "test_chizat_condition_corrected"])
def test_chizat_checks_reject_ratio_against_current_weights(check):
    rejects(getattr(lazy, check), "lazy_training_ratio", ratio_against_current)


@pytest.mark.slow
@pytest.mark.claim("lazy.linearization")
def test_linearisation_rejects_mean_field_scaling():
    rejects(lazy.test_linearised_training_agrees, "init_jacot", jacot_with_mean_field_scaling)
