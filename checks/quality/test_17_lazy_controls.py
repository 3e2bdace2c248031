"""Planted bugs that the checks of checks/test_17_lazy.py must reject."""
from __future__ import annotations

import pytest
import torch

import checks.test_17_lazy as lazy
from algorithms.networks import InitScheme, relu_network
from checks.support import control_cases, planted_bug, rejects, run_control, wrong_world


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


def ratio_max_layer_as_sum(params_t, params_0, *, reduce="sum", norm="fro"):
    """WRONG WORLD: the other common definition, sup over layers of each layer's own ratio, reported as kappa."""
    moved = _norms([a - b for a, b in zip(params_t, params_0)], norm)
    size = _norms(params_0, norm)
    per = moved / size
    return {"sum": per.max(-1).values, "max_layer": per.max(-1).values, "per_layer": per}[reduce]


he_with_xavier_variances = InitScheme("he", lambda p, m: 2 / (m + p), lambda p, m: 1 / m, lambda p, m: 2 / (m + 1),
                                      lambda p, m: 1, "wrong world: Xavier's variances (critical) under He's name")


def network_alpha_inverse_sqrt_m(weights, alpha, inputs, *, output_relu=False):
    """The output multiplied by sqrt(m) (alpha = m^-1/2): kappa ~ alpha/(m beta^2) = m^(2c - 3/2)."""
    m = weights[0].shape[-2]
    return relu_network(weights, torch.as_tensor(alpha) / m**0.5, inputs, output_relu=output_relu)


@pytest.mark.claim("lazy.definition")
@pytest.mark.parametrize("bug", [ratio_without_subtraction, ratio_against_current])
def test_lazy_definition_rejects(bug):
    rejects(lazy.test_lazy_ratio_definition, "lazy_training_ratio", bug)


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition")
@pytest.mark.parametrize("check", ["test_chizat_condition_as_printed", "test_chizat_condition_corrected"])
def test_chizat_checks_reject_ratio_against_current_weights(check):
    rejects(getattr(lazy, check), "lazy_training_ratio", ratio_against_current)


@pytest.mark.claim("lazy.definition")
@pytest.mark.control("wrong_world", of=lazy.test_lazy_ratio_definition,
                     margin="the sup over layers of each layer's ratio reported as the tutorial's summed kappa")
def test_lazy_definition_rejects_max_layer_ratio():
    rejects(lazy.test_lazy_ratio_definition, "lazy_training_ratio", ratio_max_layer_as_sum)


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition")
@pytest.mark.control("wrong_world", of=lazy.test_chizat_condition_corrected,
                     margin="alpha = m^-1/2 (output x sqrt m): kappa ~ m^(2c - 3/2), the slopes leave c - 1/2")
def test_corrected_condition_check_rejects_another_alpha():
    rejects(lazy.test_chizat_condition_corrected, "relu_network", network_alpha_inverse_sqrt_m)


@control_cases(lazy.test_kappa_by_init, "init_xavier", [
    planted_bug("kappa_check_rejects_xavier_with_he_variances", xavier_with_he_variances, scheme="xavier")],
    claim="lazy.kappa-by-init", marks=pytest.mark.slow)
@control_cases(lazy.test_kappa_by_init, "init_mean_field", [
    planted_bug("kappa_check_rejects_mean_field_with_sqrt_alpha", mean_field_sqrt_alpha, scheme="mean_field")],
    claim="lazy.kappa-by-init", marks=pytest.mark.slow)
@control_cases(lazy.test_kappa_by_init, "init_he", [
    wrong_world("kappa_check_rejects_he_with_xavier_variances",
                "Xavier's variances (mean-field regime) where He's are claimed lazy: kappa of order one",
                bug=he_with_xavier_variances, scheme="he")], claim="lazy.kappa-by-init", marks=pytest.mark.slow)
@control_cases(lazy.test_linearised_training_agrees, "init_jacot", [
    planted_bug("linearisation_rejects_mean_field_scaling", jacot_with_mean_field_scaling),
    wrong_world("linearisation_rejects_mean_field",
                "the mean-field parametrisation (alpha = m): the network leaves its linearisation",
                scheme="mean_field")], claim="lazy.linearization", marks=pytest.mark.slow)
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
