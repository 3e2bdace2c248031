"""Wrong-world and near-miss controls of the literal-counterexample check of lazy.chizat-condition
(issue 13)."""
from __future__ import annotations

import pytest

import checks.test_17_lazy as lazy
from checks.support import control_cases, near_miss, run_control, wrong_world


@pytest.mark.claim("lazy.chizat-condition")
@pytest.mark.slow
@control_cases(lazy.test_chizat_condition_as_printed, None, [
    wrong_world("printed_condition_check_rejects_a_lazy_scale",
                "beta = m^-1/4: m beta -> inf and the nets are lazy (the printed statement holds)", c=0.25),
    near_miss("printed_condition_check_rejects_the_boundary_scale",
              "beta = m^-1/2, the boundary: m beta^2 = 1, kappa flat in m", c=0.5)])
def test_chizat_condition_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
