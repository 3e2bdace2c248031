"""Planted bugs that the checks of checks/test_14_du_convergence.py must reject."""
from __future__ import annotations

import pytest
import torch

import checks.test_14_du_convergence as du
from algorithms import registry
from algorithms.network_measurements import ntk_gram
from algorithms.networks import relu_network
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


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


@control_cases(du.test_du_geometric_rate, "full_batch_gradient_descent", [
    planted_bug("rate_check_rejects_gradient_ascent", gradient_ascent),
    wrong_world("rate_check_rejects_a_narrow_network",
                "width 3: H(0) far from H^inf, the rate bound fails (in 20 of 20 seed shifts)", width=du.NARROW),
    near_miss("rate_check_rejects_a_faster_rate",
              "the rate constant 3.5 in (1 - c eta lambda0)^k: 1.75x the kernel regime's asymptotic 2 eta lambda0 "
              "(over 42 instance shifts c = 2.5 held on 7, c = 3.5 failed on all 42 by a factor >= 720)",
              rate_constant=3.5)], claim="opt.du-linear-convergence")
@control_cases(du.test_du_rate_as_printed, "ntk_gram", [
    planted_bug("printed_rate_check_rejects_unscaled_ntk_step", ntk_gram_without_output_scale)],
    claim="opt.du-linear-convergence")
@control_cases(du.test_du_degenerate_inputs_stall, "full_batch_gradient_descent", [
    planted_bug("degenerate_check_rejects_gradient_ascent", gradient_ascent),
    near_miss("degenerate_check_rejects_a_near_twin", "the twin input 1e-3 away from x_i: lambda0 = 1.4e-4 > 0",
              offset=1e-3),
    wrong_world("degenerate_check_rejects_distinct_inputs",
                "distinct inputs (offset 0.5): lambda0 = 0.08, nothing stalls", offset=0.5)],
    claim="opt.du-linear-convergence")
@control_cases(du.test_du_geometric_rate_random_instances, "full_batch_gradient_descent", [
    planted_bug("random_instances_check_rejects_gradient_ascent", gradient_ascent, marks=pytest.mark.slow)],
    claim="opt.du-linear-convergence")
@control_cases(du.test_du_weights_stay_near_init, "relu_network", [
    planted_bug("drift_check_rejects_mean_field_scaling", relu_network_mean_field_scaling),
    wrong_world("drift_check_rejects_the_mean_field_scale",
                "mean-field output scale alpha = m: the drift does not shrink with width", alpha_exponent=1.0)],
    claim="opt.du-stays-near-init")
@control_cases(du.test_random_labels_fit_slower, "full_batch_gradient_descent", [
    planted_bug("random_labels_check_rejects_training_the_output_layer", gd_training_every_layer),
    wrong_world("random_labels_check_rejects_an_eigenvector_labelling",
                "the second labelling = H^inf's top eigenvector (energy lambda_max, the largest of any labelling): "
                "faster, not slower",
                second_labels="H^inf eigenvector")], claim="opt.random-labels-slower", marks=pytest.mark.slow)
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
