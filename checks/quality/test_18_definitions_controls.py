"""Near-miss and wrong-world controls of the robustness definitions (robust.lipschitz-def,
robust.perturbation-stability-def), of robust.nonlazy-condition and the near miss of
robust.adversarial-examples. The planted bugs of these
checks are in checks/quality/test_18_robustness_controls.py and test_18_nonlazy_condition_controls.py."""
from __future__ import annotations

import pytest
import torch

import checks.test_18_nonlazy_condition as nonlazy
import checks.test_18_robust_training as training
import checks.test_18_robustness as robustness
from algorithms.networks import relu_network
from checks.quality.test_18_robustness_controls import _stability_with, lower_bound_primal_linf, stability_gaussian
from checks.support import control_cases, fails, near_miss, rejects, run_control, wrong_world


def _box(shape, g, eps):
    return eps * (2 * torch.rand(shape, generator=g, dtype=torch.float64) - 1)


stability_linf_box = _stability_with(_box)
stability_linf_box.__name__ = "stability_linf_box"


def network_output_times_m(weights, alpha, inputs, *, output_relu=False):
    """alpha = m^-1 (the output multiplied by m): kappa ~ alpha / (m beta^2) = m^(2c - 2), lazy for c < 1."""
    m = weights[0].shape[-2]
    return relu_network(weights, torch.as_tensor(alpha) / m, inputs, output_relu=output_relu)


@pytest.mark.claim("robust.lipschitz-def")
@pytest.mark.control("wrong_world", of=robustness.test_lipschitz_bounds,
                     margin="the l_inf threat measured with the primal l_inf norm of the gradient, not its dual l_1")
def test_lipschitz_check_rejects_the_primal_norm():
    rejects(robustness.test_lipschitz_bounds, "lipschitz_lower_bound", lower_bound_primal_linf)


@pytest.mark.claim("robust.perturbation-stability-def")
@control_cases(robustness.test_perturbation_stability_closed_form, "perturbation_stability", [
    near_miss("stability_check_rejects_same_radius_gaussian",
              "a Gaussian perturbation of the same radius: E|g^T delta| about 9% off at p = 8",
              bug=stability_gaussian),
    wrong_world("stability_check_rejects_the_linf_box",
                "perturbations uniform in the l_inf box of radius eps (another threat set): E|g^T delta| = eps "
                "||g||_2 / sqrt 3 in expectation, not eps c_p ||g||_2", bug=stability_linf_box)])
def test_perturbation_stability_def_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)


@pytest.mark.slow
@pytest.mark.claim("robust.nonlazy-condition")
@pytest.mark.control("wrong_world", of=nonlazy.test_nonlazy_sufficient_condition,
                     margin="alpha = 1/m (output x m): kappa ~ m^(2c - 2) -> 0 at c = 3/4, lazy where the check "
                            "claims non-lazy")
def test_nonlazy_check_rejects_a_lazy_world():
    rejects(nonlazy.test_nonlazy_sufficient_condition, "relu_network", network_output_times_m)


@pytest.mark.slow
@pytest.mark.claim("robust.adversarial-examples")
@pytest.mark.control("near_miss", of=training.test_pgd_breaks_a_digits_mlp,
                     margin="PGD at eps = 0.08 (20% below the radius): the network keeps 70% of its accuracy, "
                            "above the criterion's 1/2 beyond the confidence radius")
def test_adversarial_check_rejects_a_slightly_smaller_radius():
    fails(training.test_pgd_breaks_a_digits_mlp, eps=0.08)
