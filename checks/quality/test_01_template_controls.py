"""Planted bugs that the template checks (section 01: the inner maximisation and the attacks) must reject."""
from __future__ import annotations

import pytest

import checks.test_01_template as template
from checks.quality.planted_attacks import buggy_pgd, shared_delta_pgd
from checks.support import rejects


@pytest.mark.claim("template.formulations")
@pytest.mark.parametrize("name,bug", [("pgd_l2", shared_delta_pgd("l2")), ("pgd_linf", shared_delta_pgd("linf"))])
def test_separability_check_rejects_shared_delta(name, bug):
    """One δ shared by all samples reaches less than the sum of per-sample maxima."""
    rejects(template.test_adversarial_training_inner_max_separates, name, bug)


@pytest.mark.claim("template.formulations")
@pytest.mark.parametrize("name,bug", [("pgd_linf", buggy_pgd("linf", project=False)),
                                      ("pgd_l2", buggy_pgd("l2", project=False)),
                                      ("pgd_linf", buggy_pgd("linf", sign=-1.0)),
                                      ("pgd_l2", buggy_pgd("l2", sign=-1.0)),
                                      ("pgd_linf", buggy_pgd("linf", honour_clip=False))])
def test_attack_property_check_rejects(name, bug):
    rejects(template.test_attack_properties, name, bug)


# ------------------------------------------------- wrong worlds and near misses
from algorithms import registry  # noqa: E402


def attack_with_radius_scaled(name: str, factor: float):
    """The reference attack run on the ball of radius factor * ε."""
    def attack(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
        return registry.reference(name)(loss_fn, x, eps * factor, steps, step_size, rng, restarts=restarts, clip=clip)

    attack.__name__ = f"{name}_radius_times_{factor:.12g}"
    return attack


@pytest.mark.claim("template.formulations")
@pytest.mark.control("wrong_world", of=template.test_adversarial_training_inner_max_separates,
                     margin="Y = {(δ, …, δ)}: one δ for all samples, not a product of balls")
@pytest.mark.parametrize("name,bug", [("pgd_l2", shared_delta_pgd("l2")), ("pgd_linf", shared_delta_pgd("linf"))])
def test_separability_check_rejects_a_coupled_constraint(name, bug):
    """The world where the perturbations are coupled (a shared δ): the max no longer separates."""
    rejects(template.test_adversarial_training_inner_max_separates, name, bug)


@pytest.mark.claim("template.formulations")
@pytest.mark.control("near_miss", of=template.test_adversarial_training_inner_max_separates,
                     margin="perturbation balls of radius (1 − 1e-3) ε")
@pytest.mark.parametrize("name", ["pgd_l2", "pgd_linf"])
def test_separability_check_rejects_balls_0_1_percent_small(name):
    rejects(template.test_adversarial_training_inner_max_separates, name, attack_with_radius_scaled(name, 1 - 1e-3))


@pytest.mark.claim("template.formulations")
@pytest.mark.control("near_miss", of=template.test_attack_properties, margin="ε-ball exceeded by a relative 1e-9")
@pytest.mark.parametrize("name", ["pgd_l2", "pgd_linf"])
def test_attack_property_check_rejects_ball_exceeded_by_1e_9(name):
    rejects(template.test_attack_properties, name, attack_with_radius_scaled(name, 1 + 1e-9))
