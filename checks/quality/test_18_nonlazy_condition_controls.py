"""Planted bugs that the check of checks/test_18_nonlazy_condition.py must reject."""
from __future__ import annotations

import pytest

import checks.test_18_nonlazy_condition as nonlazy
from checks.quality.test_17_lazy_controls import ratio_against_current
from checks.support import rejects


@pytest.mark.slow
@pytest.mark.claim("robust.nonlazy-condition")
def test_nonlazy_condition_rejects_ratio_against_current_weights():
    rejects(nonlazy.test_nonlazy_sufficient_condition, "lazy_training_ratio", ratio_against_current)
