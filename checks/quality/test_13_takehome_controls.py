"""Planted bugs that the take-home checks (checks/test_13_takehome.py) must reject."""
from __future__ import annotations

import pytest

import checks.test_13_takehome as takehome
from checks.quality.test_09_spurious_controls import curvature_with_constant_step, gda_with_wrong_ascent_sign
from checks.support import rejects


@pytest.mark.claim("takehome.spurious-no-min-analogue")
def test_takehome_spurious_check_rejects_a_wrong_ascent_sign():
    rejects(takehome.test_takehome_spurious_attractors_have_no_min_analogue, "gradient_descent_ascent",
            gda_with_wrong_ascent_sign)


@pytest.mark.claim("takehome.step-size-schedules")
def test_takehome_schedules_check_rejects_a_frozen_step():
    rejects(takehome.test_takehome_some_schedules_converge, "curvature_extragradient_plus", curvature_with_constant_step)
