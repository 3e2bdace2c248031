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
from checks.support import rejects
from reports.evidence import Evidence


# --------------------------------------------------------------- lne.necessary-conditions
@pytest.mark.claim("lne.necessary-conditions")
@pytest.mark.parametrize("bug", [min_max_swapped, psd_hessian_is_min], ids=lambda b: b.__name__)
def test_lne_check_rejects_classifier(bug):
    rejects(concepts.test_lne_second_order_conditions, NAME, bug)


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
    rejects(concepts.test_lne_monkey_saddle_necessary_not_sufficient, NAME, bug)


@pytest.mark.claim("lne.weird-saddle")
def test_weird_saddle_check_rejects_gda_posing_as_eg():
    rejects(concepts.test_weird_saddle_local_nash_and_dynamics, "extragradient", eg_stale_second_step)
