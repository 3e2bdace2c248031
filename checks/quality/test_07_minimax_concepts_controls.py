"""Planted bugs that the min-max solution-concept checks (checks/test_07_minimax_concepts.py) must reject.

The classifier bugs are those of the critical-point controls; the LNE necessary-condition rule
is an exact oracle, not a registered algorithm, so its planted bug is run against the check's
property function directly.
"""
from __future__ import annotations

import pytest

import checks.test_07_minimax_concepts as concepts
from algorithms import registry
from checks.quality.test_04_critical_points_controls import (NAME, min_max_swapped, not_extremum_is_saddle,
                                                             psd_hessian_is_min)
from checks.quality.test_09_spurious_controls import eg_stale_second_step
from checks.support import control_cases, fails, near_miss, planted_bug, rejects, run_control, wrong_world
from problems.optim.critical_points import MONKEY_GAME_PHI, X, Y
from problems.optim.critical_points_oracles import lne_necessary
from reports.evidence import Evidence


# --------------------------------------------------------------- lne.necessary-conditions
@pytest.mark.claim("lne.necessary-conditions")
@pytest.mark.parametrize("bug", [min_max_swapped, psd_hessian_is_min], ids=lambda b: b.__name__)
def test_lne_check_rejects_classifier(bug):
    rejects(concepts.test_lne_second_order_conditions, NAME, bug, necessary=lne_necessary)


def necessary_wrong_sign_on_yy(gradient_zero, hxx, hyy):
    """BUG: requires ∇ᵧᵧΦ ⪰ 0 (the max player's Hessian with the min player's sign)."""
    return bool(gradient_zero and hxx.is_positive_semidefinite and hyy.is_positive_semidefinite)


@pytest.mark.claim("lne.necessary-conditions")
def test_lne_check_rejects_wrong_sign_necessary_rule():
    # not a registered algorithm: run the check's property on the pinned strict LNE
    with pytest.raises(AssertionError, match="necessary conditions hold"):
        concepts.check_lne_game(Evidence(), registry.get(NAME), concepts.PD_GAME, necessary=necessary_wrong_sign_on_yy)


# ---------------------------------------------------------------------- lne.monkey-saddle
@pytest.mark.claim("lne.monkey-saddle")
@pytest.mark.parametrize("bug", [psd_hessian_is_min, not_extremum_is_saddle], ids=lambda b: b.__name__)
def test_lne_monkey_saddle_check_rejects(bug):
    rejects(concepts.test_lne_monkey_saddle_necessary_not_sufficient, NAME, bug, phi=MONKEY_GAME_PHI)


# ============================================================ near misses and wrong worlds (issue 14)
def strict_rule_as_necessary(gradient_zero, hxx, hyy):
    """The *sufficient* (strict) conditions claimed as necessary: false for a degenerate LNE."""
    return bool(gradient_zero and hxx.is_positive_definite and (-hyy).is_positive_definite)


@pytest.mark.claim("lne.necessary-conditions")
@pytest.mark.control("wrong_world", of=concepts.test_lne_second_order_conditions,
                     margin="'LNE => Hessians definite' (strict): false at the degenerate LNE with ker A != 0")
def test_wrong_world_strict_conditions_are_not_necessary():
    fails(concepts.test_lne_second_order_conditions, necessary=strict_rule_as_necessary)


@pytest.mark.claim("lne.monkey-saddle")
@pytest.mark.control("wrong_world", of=concepts.test_lne_monkey_saddle_necessary_not_sufficient,
                     margin="Phi = x^4 - y^4: the necessary conditions hold and 0 IS an LNE")
def test_wrong_world_quartic_saddle_is_an_lne():
    fails(concepts.test_lne_monkey_saddle_necessary_not_sufficient, phi=X**4 - Y**4)


@pytest.mark.claim("lne.weird-saddle")
@control_cases(concepts.test_weird_saddle_local_nash_and_dynamics, "extragradient", [
    planted_bug("weird_saddle_check_rejects_gda_posing_as_eg", eg_stale_second_step, alpha=0.05, delta=0.0),
    wrong_world("wrong_world_large_step",
                "alpha = 1: EG's linearisation |lambda|^2 = 1 - a^2 + a^4 = 1, no longer attracted", alpha=1.0,
                delta=0.0),
    near_miss("near_miss_perturbed_weird_saddle",
              "Phi + (delta/2)(y^2 - x^2), delta = 0.0125: 0 no longer an LNE, EG contracts 2x slower", alpha=0.05,
              delta=0.0125)])
@control_cases(concepts.test_weird_saddle_simulation_table, None, [
    near_miss("near_miss_perturbed_weird_saddle_table",
              "Phi + (delta/2)(y^2 - x^2), delta = 0.0125: EG/OGDA reach only ~1e-8 in 3e4 steps", delta=0.0125,
              marks=pytest.mark.slow)])
def test_weird_saddle_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
