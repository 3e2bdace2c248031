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
