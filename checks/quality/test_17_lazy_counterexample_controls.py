"""Wrong-world and near-miss controls of the literal-counterexample check of lazy.chizat-condition
(issue 13)."""
from __future__ import annotations

import pytest

import checks.test_17_lazy as lazy
from checks.support import fails


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition")
@pytest.mark.control("wrong_world", of=lazy.test_chizat_condition_as_printed,
                     margin="beta = m^-1/4: m beta -> inf and the nets are lazy (the printed statement holds)")
def test_printed_condition_check_rejects_a_lazy_scale():
    fails(lazy.test_chizat_condition_as_printed, c=0.25)


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition")
@pytest.mark.control("near_miss", of=lazy.test_chizat_condition_as_printed,
                     margin="beta = m^-1/2, the boundary: m beta^2 = 1, kappa flat in m")
def test_printed_condition_check_rejects_the_boundary_scale():
    fails(lazy.test_chizat_condition_as_printed, c=0.5)
