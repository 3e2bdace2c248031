"""Planted bugs that the checks of checks/test_16_init.py must reject."""
from __future__ import annotations


import pytest
import sympy
import torch

import checks.test_16_init as init_checks
from algorithms.networks import InitScheme, relu_network
from checks.support import rejects


def relu_network_with_bias(weights, alpha, inputs, *, output_relu=False):
    """Adds a bias 0.1 to every hidden pre-activation: not positively homogeneous."""
    h = inputs
    for X in weights[:-1]:
        h = torch.relu(h @ X.transpose(-1, -2) + 0.1)
    out = (h @ weights[-1].transpose(-1, -2)).squeeze(-1)
    out = torch.relu(out) if output_relu else out
    a = torch.as_tensor(alpha, dtype=out.dtype, device=out.device)
    return out / (a[:, None] if a.dim() == 1 else a)


def relu_network_output_relu_by_default(weights, alpha, inputs, *, output_relu=True):
    """The slide's formula taken literally: the output ReLU is on unless switched off."""
    return relu_network(weights, alpha, inputs, output_relu=output_relu)


def linear_network(weights, alpha, inputs, *, output_relu=False):
    """Forgets the hidden ReLUs (no factor 1/2 per layer in the second moment)."""
    h = inputs
    for X in weights[:-1]:
        h = h @ X.transpose(-1, -2)
    out = (h @ weights[-1].transpose(-1, -2)).squeeze(-1)
    a = torch.as_tensor(alpha, dtype=out.dtype, device=out.device)
    return out / (a[:, None] if a.dim() == 1 else a)


he_with_lecun_first_layer = InitScheme("he", lambda p, m: 1 / p, lambda p, m: 2 / m, lambda p, m: 2 / m,
                                       lambda p, m: 1, "planted bug: He with beta_1^2 = 1/p")
xavier_hidden_fan_sum = InitScheme("xavier", lambda p, m: 2 / (m + p), lambda p, m: 2 / (m + p),
                                   lambda p, m: 2 / (m + 1), lambda p, m: 1,
                                   "planted bug: Xavier's 2/(m+p) used for the hidden layers")
mean_field_sqrt_alpha = InitScheme("mean_field", lambda p, m: 1, lambda p, m: 1, lambda p, m: 1,
                                   lambda p, m: m**0.5 if isinstance(m, (int, float)) else sympy.sqrt(m),
                                   "planted bug: mean-field with alpha = sqrt(m)")
ntk_without_width_scaling = InitScheme("ntk", lambda p, m: 2, lambda p, m: 2, lambda p, m: 1, lambda p, m: 1,
                                       "planted bug: NTK init without the 1/m (1/sqrt(m) in std)")


@pytest.mark.claim("nn.l-layer-definition")
@pytest.mark.parametrize("bug", [relu_network_with_bias, relu_network_output_relu_by_default])
def test_network_definition_rejects(bug):
    rejects(init_checks.test_l_layer_network_definition, "relu_network", bug)


@pytest.mark.claim("init.table")
@pytest.mark.parametrize("name,bug", [("init_he", he_with_lecun_first_layer),
                                      ("init_xavier", xavier_hidden_fan_sum),
                                      ("init_mean_field", mean_field_sqrt_alpha),
                                      ("init_ntk", ntk_without_width_scaling)])
def test_init_table_rejects(name, bug):
    rejects(init_checks.test_init_table_variances, name, bug)


@pytest.mark.claim("init.signal-propagation")
def test_signal_propagation_rejects_he_with_fan_in_one():
    rejects(init_checks.test_input_gradient_second_moment, "init_he", he_with_lecun_first_layer)


@pytest.mark.claim("init.signal-propagation")
def test_signal_propagation_rejects_missing_relu_factor():
    rejects(init_checks.test_input_gradient_second_moment, "relu_network", linear_network)


@pytest.mark.claim("init.phase-diagram-luo")
def test_phase_diagram_rejects_mean_field_with_sqrt_alpha():
    rejects(init_checks.test_phase_diagram_coordinates, "init_mean_field", mean_field_sqrt_alpha)
