"""Planted bugs that the weak-Minty checks must reject (negative controls).

Each control substitutes a deliberately broken implementation for a registry
name and runs the *same* check; the control passes only if the check fails.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize

import checks.test_10_weak_minty as weak_minty
import checks.test_10_weak_minty_certificates as certificates
import checks.test_10_weak_minty_methods as methods
from algorithms import registry
from checks.support import control_cases, planted_bug, rejects, run_control, wrong_world
from problems.minimax.minty_games import forsaken
from problems.minimax.minty_oracles import WeakMintyEstimate, weak_minty_ratio


def _col(value):
    v = np.asarray(value, dtype=float)
    return v[:, None] if v.ndim == 1 else v


# ------------------------------------------------------------- rho oracles
def rho_single_local_search(operator, domain, solution, **_):
    """Stops at the first local minimum: one L-BFGS-B run from a fixed start (as a
    notebook's local ``Minimize``); on Forsaken it returns -0.4778, not -1.5206."""
    start = np.array([-1.0, -0.1])

    def ratio(z):
        return float(weak_minty_ratio(operator, np.asarray(z)[None], solution)[0][0])

    h = domain.half_width
    res = minimize(ratio, start, method="L-BFGS-B", bounds=[(-h, h)] * 2)
    return WeakMintyEstimate(float(res.fun), res.x, "single local search")


def rho_without_normalisation(operator, domain, solution, **_):
    """Forgets the ||V||^2 normalisation of an affine operator: lambda_min(sym(A)) / 1."""
    A = np.asarray(operator.A, float)
    lam, vec = np.linalg.eigh((A + np.swapaxes(A, -1, -2)) / 2)
    return WeakMintyEstimate(lam[..., 0], vec[..., :, 0], "unnormalised")


# -------------------------------------------------------------- EG+ bugs
def eg_plus_overdamped(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """The second step at alpha = 1.5 > 1 whatever the damping asked for."""
    return registry.reference("extragradient_plus")(operator, z0, alpha, num_steps, damping=1.5)


def eg_plus_damped_extrapolation(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """Damping applied to *both* steps: zbar = z - a g V(z), z+ = z - a g V(zbar) (this is EG at step a g)."""
    return registry.reference("extragradient")(operator, z0, _col(damping) * _col(alpha), num_steps)


def eg_plus_stale_second_step(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """The update uses V(z_k) instead of V(zbar_k): GDA at step damping * gamma."""
    return registry.reference("gradient_descent_ascent")(operator, z0, _col(damping) * _col(alpha), num_steps)


def ceg_plus_without_prox(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5, prox=None):
    """Drops the resolvent (I + gamma A)^-1: solves F z = 0 instead of 0 in F z + A z."""
    return registry.reference("constrained_extragradient_plus")(operator, z0, alpha, num_steps, damping=damping)


def projected_gda(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5, prox=None):
    """Projected GDA in place of CEG+."""
    z = np.array(z0, dtype=float)
    out = [z]
    for _ in range(num_steps):
        z = z - _col(alpha) * operator(z)
        z = z if prox is None else prox(z, alpha)
        out.append(z)
    return np.stack(out)


def curvature_with_constant_step(operator, z0, alpha, num_steps, *, z_prev=None, prox=None, **_):
    """'Adaptive' EG+ with the step frozen at gamma = 1/L and damping 1/2: plain CEG+."""
    gamma = 1 / forsaken(0.45).lipschitz
    return registry.reference("constrained_extragradient_plus")(operator, z0, gamma, num_steps, damping=0.5, prox=prox)


def eg_plus_that_adapts(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """An 'EG+' that secretly runs CurvatureEG+ (which does converge on Forsaken)."""
    return registry.reference("curvature_extragradient_plus")(operator, z0, np.inf, num_steps)


# ---------------------------------------------------------------- controls


@pytest.mark.claim("wmvi.egplus-ddj")
@pytest.mark.parametrize("bug", [eg_plus_overdamped, eg_plus_damped_extrapolation])
def test_ddj_check_rejects(bug):
    rejects(weak_minty.test_eg_plus_in_the_ddj_range_on_linear_games, "extragradient_plus", bug, c_shift=0.0)


@pytest.mark.slow
@pytest.mark.claim("wmvi.egplus-ddj")
def test_pep_sandwich_rejects_a_stale_second_step():
    rejects(certificates.test_eg_plus_sandwich, "extragradient_plus", eg_plus_stale_second_step)


@pytest.mark.claim("wmvi.lower-bound")
def test_lower_bound_check_rejects_damped_extrapolation():
    rejects(weak_minty.test_eg_plus_lower_bound_on_the_linear_game, "extragradient_plus", eg_plus_damped_extrapolation)


@pytest.mark.claim("wmvi.egplus-fails-on-39")
def test_failure_check_rejects_an_adaptive_impostor():
    rejects(methods.test_eg_plus_fails_on_forsaken, "extragradient_plus", eg_plus_that_adapts,
            instance=methods.FORSAKEN)


@pytest.mark.claim("wmvi.adaptive-handles-39")
def test_adaptive_check_rejects_a_constant_step():
    rejects(methods.test_curvature_eg_plus_on_forsaken, "curvature_extragradient_plus", curvature_with_constant_step,
            step_cap=np.inf)


@pytest.mark.claim("wmvi.polar-game")
def test_polar_check_rejects_a_stale_second_step():
    # GDA-like dynamics keep the polar game's attracting circle r = 1 (starts at r = 1.05)
    rejects(methods.test_polar_game_family, "extragradient_plus", eg_plus_stale_second_step, a=sp.Rational(1, 3),
            interval=(sp.Rational(-1, 8), sp.Rational(-1, 10)))


@control_cases(methods.test_ceg_plus_regularised_setting, "constrained_extragradient_plus", [
    planted_bug("ceg_plus_check_rejects_a_missing_prox", ceg_plus_without_prox)], claim="wmvi.cegplus-rho-1-2L")
@control_cases(methods.test_ceg_plus_on_global_forsaken, "constrained_extragradient_plus", [
    planted_bug("ceg_plus_check_rejects_projected_gda", projected_gda, damping=0.25)], claim="wmvi.cegplus-rho-1-2L")
@control_cases(weak_minty.test_weak_minty_rho_of_polynomial_games, "weak_minty_rho", [
    planted_bug("rho_check_rejects_a_single_local_search", rho_single_local_search, instance=forsaken(0.45),
                reference=-1.52057, tolerance=5e-6)], claim="wmvi.definition-and-rho")
@control_cases(weak_minty.test_weak_minty_rho_of_linear_family, "weak_minty_rho", [
    planted_bug("rho_check_rejects_a_missing_normalisation", rho_without_normalisation)],
    claim="wmvi.definition-and-rho")
@control_cases(weak_minty.test_weak_mvi_strict_inequality_as_printed, "weak_minty_rho", [
    planted_bug("strict_inequality_check_rejects_a_missing_normalisation", rho_without_normalisation),
    wrong_world("strict_inequality_check_rejects_the_non_strict_definition",
                "the definition with '>=': it holds at z* too, no counterexample exists", strict=False)],
    claim="wmvi.definition-and-rho")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
