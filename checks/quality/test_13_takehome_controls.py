"""Planted bugs, near misses and wrong worlds that the take-home checks (checks/test_13_takehome.py) must reject."""
from __future__ import annotations

import pytest

import checks.test_13_takehome as takehome
from checks.quality.test_09_spurious_controls import (
    curvature_with_constant_step,
    gda_kicked_uphill,
    gda_with_wrong_ascent_sign,
)
from checks.quality.test_10_weak_minty_worlds_controls import curvature_one_start_stalls
from checks.support import control_cases, fails, near_miss, planted_bug, run_control, wrong_world
from problems.minimax.minty_games import forsaken, global_forsaken, linear_minty_game


# ============================================================ near misses and wrong worlds (issue 14)


@control_cases(takehome.test_takehome_spurious_attractors_have_no_min_analogue, "gradient_descent_ascent", [
    planted_bug("takehome_spurious_check_rejects_a_wrong_ascent_sign", gda_with_wrong_ascent_sign,
                attractors=takehome.SPURIOUS_ATTRACTORS),
    near_miss("near_miss_takehome_gd_not_monotone", "one GD step replaced by a move that raises f by ~1e-8 |grad f|",
              bug=gda_kicked_uphill, attractors=takehome.SPURIOUS_ATTRACTORS),
    wrong_world("wrong_world_takehome_monotone_game",
                "a strongly monotone game (rho L = +0.3): its min-max limit set is the solution",
                attractors=[("monotone linear game", "gradient_descent_ascent", linear_minty_game(1.0, 0.3).operator,
                             [0.05, 0.0], 0.5, 2000, 0.5, 2.0)])], claim="takehome.spurious-no-min-analogue")
@control_cases(takehome.test_takehome_some_schedules_converge, "curvature_extragradient_plus", [
    planted_bug("takehome_schedules_check_rejects_a_frozen_step", curvature_with_constant_step,
                instance=takehome.FORSAKEN),
    near_miss("near_miss_takehome_one_start", "1 of 4 starts does not move under the adaptive step",
              bug=curvature_one_start_stalls, instance=takehome.FORSAKEN),
    wrong_world("wrong_world_takehome_constant_step_converges",
                "GlobalForsaken: the constant step converges too (no schedule-dependence to show)",
                instance=global_forsaken("ball"))], claim="takehome.step-size-schedules")
@control_cases(takehome.test_takehome_constant_step_eg_plus_vs_vanishing_seg, None, [
    near_miss("near_miss_takehome_noise_floor",
              "noise sigma = 0.4: the constant-step floor's median 0.056 > 0.05 (41 % within)",
              instance=takehome.GLOBAL_FORSAKEN, sigma=0.4, gamma=0.33, marks=pytest.mark.slow)],
    claim="takehome.step-size-schedules")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)


@pytest.mark.slow
@pytest.mark.claim("takehome.step-size-schedules")
@pytest.mark.control("wrong_world", of=takehome.test_takehome_constant_step_eg_plus_vs_vanishing_seg,
                     margin="Forsaken (rho < -1/(2L)), gamma = 1/L: the constant step does not converge either")
def test_wrong_world_takehome_forsaken():
    exc = fails(takehome.test_takehome_constant_step_eg_plus_vs_vanishing_seg, instance=forsaken(0.45), sigma=0.1,
                gamma=1 / forsaken(0.45).lipschitz)
    assert "EG+" in str(exc), "rejected by the SEG criterion, not by the constant step"
