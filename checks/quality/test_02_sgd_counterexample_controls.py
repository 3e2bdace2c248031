"""Wrong-world and near-miss controls of the literal-counterexample checks of section 2
(issue 13: each `corrected` verdict rests on a check that would have found no counterexample in a
world where the printed statement holds)."""
from __future__ import annotations

import pytest

import checks.test_02_sgd as sgd_checks
import checks.test_02_sgd_saddles as saddle_checks
from checks.quality.test_02_sgd_controls import PSGDWithoutPerturbation
from checks.support import control_cases, fails, near_miss, rejects, run_control, wrong_world


@control_cases(sgd_checks.test_interpolation_counterexample, None, [
    wrong_world("interpolation_search_finds_nothing_where_noise_persists",
                "every noise model keeps additive noise a >= 0.05 (U(x*) != 0): the printed statement holds",
                additive_min=0.05),
    near_miss("interpolation_search_rejects_a_small_additive_floor",
              "additive noise a >= 1e-4 only: floor ~1e-4 vs the check's 1e-6", additive_min=1e-4)],
    claim="sgd.q1-constant-step-no-convergence")
@control_cases(sgd_checks.test_thm4_as_printed_fails_for_small_gamma, None, [
    wrong_world("thm4_search_finds_nothing_with_large_step_constants",
                "every step constant gamma lam >= 1: alpha_k = O(1/k) does give O(1/k) there", gamma_lam_min=1.0),
    near_miss("thm4_search_rejects_constants_just_above_one_half",
              "gamma lam >= 0.55, 10 % above the boundary 1/2 of Chung's condition", gamma_lam_min=0.55)],
    claim="sgd.q3-thm4-rate")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)


@pytest.mark.slow  # 1000 random walks of up to 16/alpha^2 steps: ~10 s CPU
@pytest.mark.claim("sgd.q2-psgd-escape-time")
@pytest.mark.control("wrong_world", of=saddle_checks.test_psgd_escape_time_omega_as_printed,
                     margin="a degenerate critical point (f = x^2/2, flat in y): diffusive escape ~ 1/alpha^2, the Omega bound holds")
def test_omega_reading_check_rejects_a_degenerate_saddle():
    fails(saddle_checks.test_psgd_escape_time_omega_as_printed, objective="degenerate")


@pytest.mark.claim("sgd.q2-psgd-escape-time")
def test_omega_reading_check_rejects_missing_perturbation():
    rejects(saddle_checks.test_psgd_escape_time_omega_as_printed, "psgd", PSGDWithoutPerturbation)
