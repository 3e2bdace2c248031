"""Planted bugs that the checks of checks/test_14_du_convergence.py must reject."""
from __future__ import annotations

import pytest
import torch

import checks.test_14_du_convergence as du
from algorithms import registry
from algorithms.network_measurements import ntk_gram
from algorithms.networks import relu_network
from checks.support import fails, rejects


def gradient_ascent(weights, alpha, inputs, targets, lr, num_steps, **kw):
    """Sign error: X_l ← X_l + η ∇ℓ."""
    return registry.reference("full_batch_gradient_descent")(weights, alpha, inputs, targets,
                                                             -torch.as_tensor(lr), num_steps, **kw)


def gd_training_every_layer(weights, alpha, inputs, targets, lr, num_steps, *, trainable=None, **kw):
    """Ignores ``trainable``: the fixed output layer a is trained too (another kernel)."""
    return registry.reference("full_batch_gradient_descent")(weights, alpha, inputs, targets, lr, num_steps, **kw)


def ntk_gram_without_output_scale(weights, alpha, inputs, **kw):
    """Forgets the 1/√m output scale in the Gram (Θ·α²): the step η = 1/λ_max comes out m times too small."""
    a = torch.as_tensor(alpha, dtype=weights[0].dtype)
    return ntk_gram(weights, alpha, inputs, **kw) * (a**2)[:, None, None]


def relu_network_mean_field_scaling(weights, alpha, inputs, *, output_relu=False):
    """Output scaled by 1/α² (= 1/m for α = √m): the mean-field scaling where the NTK one is meant."""
    return relu_network(weights, torch.as_tensor(alpha) ** 2, inputs, output_relu=output_relu)


@pytest.mark.claim("opt.du-linear-convergence")
def test_rate_check_rejects_gradient_ascent():
    rejects(du.test_du_geometric_rate, "full_batch_gradient_descent", gradient_ascent)


@pytest.mark.claim("opt.du-linear-convergence")
def test_printed_rate_check_rejects_unscaled_ntk_step():
    rejects(du.test_du_rate_as_printed, "ntk_gram", ntk_gram_without_output_scale)


@pytest.mark.claim("opt.du-linear-convergence")
def test_degenerate_check_rejects_gradient_ascent():
    rejects(du.test_du_degenerate_inputs_stall, "full_batch_gradient_descent", gradient_ascent)


@pytest.mark.slow
@pytest.mark.claim("opt.du-linear-convergence")
def test_random_instances_check_rejects_gradient_ascent():
    rejects(du.test_du_geometric_rate_random_instances, "full_batch_gradient_descent", gradient_ascent)


@pytest.mark.claim("opt.du-stays-near-init")
def test_drift_check_rejects_mean_field_scaling():
    rejects(du.test_du_weights_stay_near_init, "relu_network", relu_network_mean_field_scaling)


@pytest.mark.slow
@pytest.mark.claim("opt.random-labels-slower")
def test_random_labels_check_rejects_training_the_output_layer():
    rejects(du.test_random_labels_fit_slower, "full_batch_gradient_descent", gd_training_every_layer)


@pytest.mark.claim("opt.du-linear-convergence")
@pytest.mark.control("wrong_world", of=du.test_du_geometric_rate,
                     margin="width 3: H(0) far from H^inf, the rate bound fails (in 20 of 20 seed shifts)")
def test_rate_check_rejects_a_narrow_network():
    fails(du.test_du_geometric_rate, width=du.NARROW)


@pytest.mark.claim("opt.du-linear-convergence")
@pytest.mark.control("near_miss", of=du.test_du_geometric_rate,
                     margin="the rate constant 2.5 in (1 - c eta lambda0)^k: 1.25x the kernel regime's asymptotic "
                            "2 eta lambda0 (c = 1.5 held under 4 of 6 seed shifts, c = 2 under 1; c = 2.5 failed "
                            "by a factor >= 210 in all 6)")
def test_rate_check_rejects_a_faster_rate():
    fails(du.test_du_geometric_rate, rate_constant=2.5)


@pytest.mark.claim("opt.du-linear-convergence")
@pytest.mark.control("near_miss", of=du.test_du_degenerate_inputs_stall,
                     margin="the twin input 1e-3 away from x_i: lambda0 = 1.4e-4 > 0")
def test_degenerate_check_rejects_a_near_twin():
    fails(du.test_du_degenerate_inputs_stall, offset=1e-3)


@pytest.mark.claim("opt.du-linear-convergence")
@pytest.mark.control("wrong_world", of=du.test_du_degenerate_inputs_stall,
                     margin="distinct inputs (offset 0.5): lambda0 = 0.08, nothing stalls")
def test_degenerate_check_rejects_distinct_inputs():
    fails(du.test_du_degenerate_inputs_stall, offset=0.5)


@pytest.mark.claim("opt.du-stays-near-init")
@pytest.mark.control("wrong_world", of=du.test_du_weights_stay_near_init,
                     margin="mean-field output scale alpha = m: the drift does not shrink with width")
def test_drift_check_rejects_the_mean_field_scale():
    fails(du.test_du_weights_stay_near_init, alpha_exponent=1.0)


@pytest.mark.slow
@pytest.mark.claim("opt.random-labels-slower")
@pytest.mark.control("wrong_world", of=du.test_random_labels_fit_slower,
                     margin="the second labelling along H^inf's top eigenvector (energy 7.4 vs 7.2): not slower")
def test_random_labels_check_rejects_an_eigenvector_labelling():
    fails(du.test_random_labels_fit_slower, second_labels="H^inf eigenvector")
