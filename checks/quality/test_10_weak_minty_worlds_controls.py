"""Near misses and wrong worlds that the weak-Minty checks must reject (issue 14): a near miss
violates the claim by a small stated margin, a wrong world is an instance, algorithm or quantity
for which the claim is false; the same check must reject both. The planted bugs are in
checks/quality/test_10_weak_minty_controls.py."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import checks.test_10_weak_minty as weak_minty
import checks.test_10_weak_minty_certificates as certificates
import checks.test_10_weak_minty_general as general
import checks.test_10_weak_minty_methods as methods
from algorithms import registry
from checks.support import control_cases, fails, near_miss, run_control, wrong_world
from problems.minimax.minty_certificates import certified_constants
from problems.minimax.minty_games import forsaken, global_forsaken
from problems.minimax.minty_oracles import WeakMintyEstimate


def scaled_rho_oracle(factor):
    """The registry's rho oracle with its value scaled by ``factor`` (a relative error factor - 1)."""
    def oracle(operator, domain, solution, **kw):
        est = registry.reference("weak_minty_rho")(operator, domain, solution, **kw)
        return WeakMintyEstimate(np.asarray(est.value) * factor, est.argmin, est.method + f" x {factor}")
    oracle.__name__ = f"rho_oracle_times_{factor}"
    return oracle


def shifted_rho_oracle(shift):
    """The registry's rho oracle reporting its value + ``shift`` (above the infimum)."""
    def oracle(operator, domain, solution, **kw):
        est = registry.reference("weak_minty_rho")(operator, domain, solution, **kw)
        return WeakMintyEstimate(float(est.value) + shift, est.argmin, est.method)
    oracle.__name__ = f"rho_oracle_plus_{shift}"
    return oracle


def damping_off(name, factor):
    """The registry's ``name`` with its damping multiplied by ``factor``."""
    def method(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5, **kw):
        return registry.reference(name)(operator, z0, alpha, num_steps, damping=damping * factor, **kw)
    method.__name__ = f"{name}_damping_times_{factor}"
    return method


def step_off(name, factor):
    """The registry's ``name`` with its step gamma multiplied by ``factor``."""
    def method(operator, z0, alpha, num_steps, *, z_prev=None, **kw):
        return registry.reference(name)(operator, z0, np.asarray(alpha) * factor, num_steps, **kw)
    method.__name__ = f"{name}_step_times_{factor}"
    return method


def eg_plus_one_start_escapes(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """EG+ except that the first start runs CurvatureEG+ (which reaches z*): 1 of 16 converges."""
    out = registry.reference("extragradient_plus")(operator, z0, alpha, num_steps, damping=damping)
    out[:, :1] = registry.reference("curvature_extragradient_plus")(operator, z0[:1], np.inf, num_steps)
    return out


def curvature_one_start_stalls(operator, z0, alpha, num_steps, *, z_prev=None, prox=None, **kw):
    """CurvatureEG+ except that the first start never moves: 1 start of the batch fails."""
    out = registry.reference("curvature_extragradient_plus")(operator, z0, alpha, num_steps, prox=prox, **kw)
    out[:, 0] = z0[0]
    return out


def eg_plus_kicked_outward(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """EG+ whose iterate at step K/2 is pushed 1e-9 away from z* = 0 (then EG+ again)."""
    ref = registry.reference("extragradient_plus")
    k0 = num_steps // 2
    first = ref(operator, z0, alpha, k0, damping=damping)
    z = first[-1] * (1 + 1e-9 / np.linalg.norm(first[-1], axis=-1, keepdims=True))
    return np.concatenate([first, ref(operator, z, alpha, num_steps - k0, damping=damping)[1:]])


def ceg_plus_prox_overshoot(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5, prox=None):
    """CEG+ whose resolvent overshoots by a relative 1e-5: (1 + 1e-5) prox(z) - 1e-5 z."""
    def off(z, gamma):
        return prox(z, gamma) * (1 + 1e-5) - 1e-5 * z
    return registry.reference("constrained_extragradient_plus")(operator, z0, alpha, num_steps, damping=damping,
                                                              prox=None if prox is None else off)


NEAR = "near_miss"


@pytest.mark.claim("wmvi.cegplus-rho-1-2L")
@pytest.mark.control(NEAR, of=methods.test_ceg_plus_on_global_forsaken,
                     margin="damping 0.1 % above the theorem's limit 1 + 2 rho/gamma (box)")
def test_near_miss_ceg_global_forsaken_damping():
    # the check runs gamma = 1/L_box first, where the limit 1 + 2 rho/gamma = 1 + 2 rho L_box is smallest
    limit = 1 + 2 * certified_constants(global_forsaken("ball")).rho.lower * certified_constants(
        global_forsaken("box")).lipschitz.upper
    fails(methods.test_ceg_plus_on_global_forsaken, damping=limit * 1.001)


@pytest.mark.claim("wmvi.cegplus-rho-1-2L")
@pytest.mark.control("wrong_world", of=general.test_ceg_plus_with_an_active_constraint,
                     margin="F anti-monotone along the boundary: rho(F) = -c > -1/(2L) but rho(F + N_H) < -2^20")
def test_wrong_world_constraint_breaks_weak_minty():
    exc = fails(general.test_ceg_plus_with_an_active_constraint, family="linear-family")
    assert "inside the theorem" not in str(exc), "rejected by the range predicate, not by what CEG+ did"


@pytest.mark.claim("wmvi.polar-game")
@pytest.mark.control("wrong_world", of=methods.test_polar_game_family,
                     margin="a = 1 claimed in DDJ's interval (-1/8, -1/10): EG+ stalls on a cycle")
def test_wrong_world_polar_outside_ddj():
    exc = fails(methods.test_polar_game_family, a=sp.Integer(1), interval=(sp.Rational(-1, 8), sp.Rational(-1, 10)))
    assert "converges" in str(exc), "rejected by the interval, not by what EG+ did"


@control_cases(weak_minty.test_weak_minty_rho_of_linear_family, "weak_minty_rho", [
    near_miss("near_miss_rho_linear_family", "rho off by a relative 1e-8", bug=scaled_rho_oracle(1 + 1e-8))],
    claim="wmvi.definition-and-rho")
@control_cases(general.test_weak_minty_rho_of_non_normal_games, "weak_minty_rho", [
    near_miss("near_miss_rho_non_normal", "rho off by a relative 1e-8", bug=scaled_rho_oracle(1 + 1e-8))],
    claim="wmvi.definition-and-rho")
@control_cases(weak_minty.test_weak_minty_rho_of_polynomial_games, "weak_minty_rho", [
    near_miss("near_miss_rho_reference", "catalogue value 1e-5 (two quoted digits) below the certified interval",
              instance=forsaken(0.45), reference=-1.52058, tolerance=5e-6),
    near_miss("near_miss_rho_oracle_above_the_infimum", "oracle value 1e-7 above the certified upper bound",
              bug=shifted_rho_oracle(1e-7), instance=forsaken(0.45), reference=-1.52057, tolerance=5e-6),
    wrong_world("wrong_world_notebook_rho", "the notebook's world: rho(Forsaken) = -0.477761 (a local minimum)",
                instance=forsaken(0.45), reference=-0.477761, tolerance=5e-7)], claim="wmvi.definition-and-rho")
@control_cases(weak_minty.test_eg_plus_lower_bound_on_the_linear_game, "extragradient_plus", [
    near_miss("near_miss_lower_bound", "damping off by a relative 1e-6",
              bug=damping_off("extragradient_plus", 1 + 1e-6))], claim="wmvi.lower-bound")
@control_cases(general.test_eg_plus_lower_bound_at_several_steps, "extragradient_plus", [
    near_miss("near_miss_lower_bound_several_steps", "damping off by 1e-6",
              bug=damping_off("extragradient_plus", 1 + 1e-6), max_step=1.0),
    wrong_world("wrong_world_lower_bound_past_one_over_L",
                "gamma up to 1.5/L: at c = 0.55 (rho L < -1/2) a small damping converges", max_step=1.5)],
    claim="wmvi.lower-bound")
@control_cases(methods.test_eg_plus_fails_on_forsaken, "extragradient_plus", [
    near_miss("near_miss_forsaken_one_start_converges", "1 of 16 starts reaches z*", bug=eg_plus_one_start_escapes,
              instance=methods.FORSAKEN),
    wrong_world("wrong_world_global_forsaken", "GlobalForsaken (box): rho > -1/(2L), EG+ converges",
                instance=global_forsaken("box"))], claim="wmvi.egplus-fails-on-39")
@control_cases(methods.test_ceg_plus_linear_family, "constrained_extragradient_plus", [
    # the step, not the damping: the check's damping (1 - 2c)/2 minimises the rate, an error there is second order
    near_miss("near_miss_ceg_linear", "step gamma off by a relative 1e-6",
              bug=step_off("constrained_extragradient_plus", 1 + 1e-6))], claim="wmvi.cegplus-rho-1-2L")
@control_cases(methods.test_ceg_plus_regularised_setting, "constrained_extragradient_plus", [
    near_miss("near_miss_ceg_regularised", "resolvent overshoot 1e-5", bug=ceg_plus_prox_overshoot)],
    claim="wmvi.cegplus-rho-1-2L")
@control_cases(general.test_ceg_plus_on_non_normal_games, "constrained_extragradient_plus", [
    near_miss("near_miss_ceg_non_normal", "damping off by a relative 1e-6",
              bug=damping_off("constrained_extragradient_plus", 1 + 1e-6))], claim="wmvi.cegplus-rho-1-2L")
@control_cases(general.test_ceg_plus_with_an_active_constraint, "constrained_extragradient_plus", [
    near_miss("near_miss_ceg_active_constraint", "projection overshoot 1e-5", bug=ceg_plus_prox_overshoot,
              family="monotone-along-boundary")], claim="wmvi.cegplus-rho-1-2L")
@control_cases(methods.test_curvature_eg_plus_on_forsaken, "curvature_extragradient_plus", [
    near_miss("near_miss_curvature_one_start", "1 of 16 starts stays on the cycle", bug=curvature_one_start_stalls,
              step_cap=np.inf),
    wrong_world("wrong_world_curvature_capped", "the adaptive step capped at 1/L (no curvature adaptation)",
                step_cap=1 / forsaken(0.45).lipschitz)], claim="wmvi.adaptive-handles-39")
@control_cases(methods.test_polar_game_family, None, [
    near_miss("near_miss_polar_interval",
              "a = 0.7505: rho L = -0.50025, 2.5e-4 past the claimed interval (-1/2, -1/3)",
              a=sp.Rational(7505, 10000), interval=(sp.Rational(-1, 2), sp.Rational(-1, 3)))], claim="wmvi.polar-game")
@control_cases(methods.test_polar_game_outside_the_ddj_range, "curvature_extragradient_plus", [
    near_miss("near_miss_polar_curvature", "1 of 24 starts stays on a cycle", bug=curvature_one_start_stalls,
              marks=pytest.mark.slow)], claim="wmvi.polar-game")
@control_cases(weak_minty.test_eg_plus_in_the_ddj_range_on_linear_games, "extragradient_plus", [
    near_miss("near_miss_ddj_linear", "damping 1/2 off by a relative 1e-6",
              bug=damping_off("extragradient_plus", 1 + 1e-6), c_shift=0.0),
    wrong_world("wrong_world_ddj_beyond_the_range",
                "every c = -rho L moved 0.2 past DDJ's range (c up to 0.325 > 1/4: EG+ diverges)", c_shift=0.2)],
    claim="wmvi.egplus-ddj")
@control_cases(general.test_eg_plus_in_the_ddj_range_on_non_normal_games, "extragradient_plus", [
    near_miss("near_miss_ddj_non_normal", "damping 1/2 off by a relative 1e-6",
              bug=damping_off("extragradient_plus", 1 + 1e-6))], claim="wmvi.egplus-ddj")
@control_cases(weak_minty.test_eg_plus_on_the_polar_game_in_the_ddj_range, "extragradient_plus", [
    near_miss("near_miss_ddj_polar", "||z_k - z*|| grows by 1e-9 once (Fejer monotonicity violated)",
              bug=eg_plus_kicked_outward)], claim="wmvi.egplus-ddj")
@control_cases(certificates.test_eg_plus_worst_case_certificate, None, [
    near_miss("near_miss_pep_constant", "an O(1/n) constant 30 % below DDJ's Lyapunov constant", constant_factor=0.7,
              marks=pytest.mark.slow)], claim="wmvi.egplus-ddj")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
