"""Planted bugs that the checks of section 05 (DDi vs PGD, non-unique perturbations) must reject."""
from __future__ import annotations

import pytest

import checks.test_05_adversarial as adversarial
from algorithms import registry
from checks.quality.planted_attacks import buggy_pgd
from checks.support import control_cases, planted_bug, rejects, run_control


@pytest.mark.claim("at.nonunique-perturbations")
@pytest.mark.slow
@pytest.mark.parametrize("bug", [buggy_pgd("linf", random_start=False), buggy_pgd("linf", sign=-1.0)])
def test_nonunique_check_rejects(bug):
    """Without random starts every restart gives the same δ; stepping down finds no adversarial loss."""
    rejects(adversarial.test_nonunique_perturbations_cpu_proxy, "pgd_linf", bug)


def pgd_ascent_direction(gradients):
    """BUG: PGD-AT's direction with the sign flipped (the parameters climb the adversarial loss)."""
    return -registry.reference("pgd_direction")(gradients)


@pytest.mark.claim("ddi.empirical-vs-pgd")
@control_cases(adversarial.test_ddi_vs_pgd_on_the_toy, "ddi_direction", [
    planted_bug("toy_comparison_rejects_ddi_without_min_norm", registry.reference("pgd_direction"))])
@control_cases(adversarial.test_ddi_vs_pgd_adversarial_training_on_digits, "pgd_direction", [
    planted_bug("network_comparison_rejects_ascending_training", pgd_ascent_direction, seeds=2, iterations=10,
                marks=pytest.mark.slow)])
def test_empirical_vs_pgd_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
