"""Planted bugs that the spurious-attractor, local-Nash and take-home checks must
reject (negative controls): the same check, a broken implementation."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_09_spurious as spurious
import checks.test_09_spurious_limits as limits
from algorithms import registry
from checks.support import control_cases, fails, near_miss, planted_bug, run_control, wrong_world
from problems.minimax.minty_games import forsaken, global_forsaken, linear_minty_game


def _col(value):
    v = np.asarray(value, dtype=float)
    return v[:, None] if v.ndim == 1 else v


def _iterate(step, z0, num_steps):
    z = np.array(z0, dtype=float)
    out = [z]
    for _ in range(num_steps):
        z = step(z)
        out.append(z)
    return np.stack(out)


def _y_sign_flipped(operator):
    """V with the max player's component negated: y *descends* Phi (wrong ascent sign)."""
    n = operator.dim_x

    def flipped(z):
        v = operator(z)
        v[..., n:] *= -1
        return v
    return flipped


def gda_with_wrong_ascent_sign(operator, z0, alpha, num_steps, *, z_prev=None):
    """GDA whose y-step descends Phi (uses -V_y): a minimisation in disguise."""
    v = _y_sign_flipped(operator)
    return _iterate(lambda z: z - _col(alpha) * v(z), z0, num_steps)


def eg_with_wrong_ascent_sign(operator, z0, alpha, num_steps, *, z_prev=None):
    """EG whose y-steps descend Phi."""
    v, a = _y_sign_flipped(operator), _col(alpha)
    return _iterate(lambda z: z - a * v(z - a * v(z)), z0, num_steps)


def eg_stale_second_step(operator, z0, alpha, num_steps, *, z_prev=None):
    """EG evaluating the second step at z_k (this is GDA)."""
    return registry.reference("gradient_descent_ascent")(operator, z0, alpha, num_steps)


def gda_with_clipped_steps(operator, z0, alpha, num_steps, *, z_prev=None):
    """GDA that clips each step to length <= 5 alpha (hides heavy-tailed noise)."""
    def step(z):
        v = operator(z)
        norm = np.linalg.norm(v, axis=-1, keepdims=True)
        return z - _col(alpha) * v * np.minimum(1.0, 5.0 / np.maximum(norm, 1e-300))
    return _iterate(step, z0, num_steps)


def curvature_with_constant_step(operator, z0, alpha, num_steps, *, z_prev=None, prox=None, **_):
    """'Adaptive' EG+ frozen at gamma = 1/L, damping 1/2 (plain CEG+)."""
    return registry.reference("constrained_extragradient_plus")(operator, z0, 1 / forsaken(0.45).lipschitz,
                                                              num_steps, damping=0.5, prox=prox)


# ============================================================ near misses and wrong worlds (issue 14)
def gda_kicked_uphill(operator, z0, alpha, num_steps, *, z_prev=None):
    """GDA whose third step is replaced by a move of length 1e-8 along +V (for a minimisation, f rises
    by ~1e-8 |grad f| in that step), then GDA again."""
    ref = registry.reference("gradient_descent_ascent")
    first = ref(operator, z0, alpha, 2)
    v = operator(first[-1])
    z = first[-1] + 1e-8 * v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300)
    return np.concatenate([first, ref(operator, z, alpha, num_steps - 3)])


@pytest.mark.slow
@pytest.mark.claim("spurious.forsaken")
@pytest.mark.control("wrong_world", of=spurious.test_forsaken_cycles_and_noisy_escape,
                     margin="GlobalForsaken (rho > -1/(2L)): noisy runs started at z* stay there")
def test_wrong_world_solution_not_forsaken():
    exc = fails(spurious.test_forsaken_cycles_and_noisy_escape, instance=global_forsaken("box"),
                cycles=spurious.FORSAKEN_CYCLES)
    assert "count test" in str(exc), "rejected by the flow table, not by the noisy runs"


@pytest.mark.slow
@pytest.mark.claim("spurious.almost-bilinear")
@pytest.mark.control("near_miss", of=spurious.test_almost_bilinear_cycles_and_noisy_dynamics,
                     margin="the eps = 0.1 cycle's radius range quoted 2e-3 off")
def test_near_miss_almost_bilinear_radius_table():
    table = dict(spurious.RADIUS_TABLE)
    table[0.1] = (1.1446, 1.1676)
    fails(spurious.test_almost_bilinear_cycles_and_noisy_dynamics, spurious=(0.1, "y"), table=table)


@pytest.mark.slow
@pytest.mark.claim("spurious.almost-bilinear")
@pytest.mark.control("wrong_world", of=spurious.test_almost_bilinear_cycles_and_noisy_dynamics,
                     margin="the printed game as the 'spurious' one: noisy runs settle at the critical point")
def test_wrong_world_almost_bilinear_noisy():
    exc = fails(spurious.test_almost_bilinear_cycles_and_noisy_dynamics, spurious=(0.1, "x"),
                table=spurious.RADIUS_TABLE)
    assert "count test" in str(exc)


@control_cases(spurious.test_almost_bilinear_as_printed_has_no_spurious_attractor, "extragradient", [
    planted_bug("as_printed_check_rejects_a_wrong_ascent_sign", eg_with_wrong_ascent_sign, on="x", sign=1.0),
    near_miss("near_miss_almost_bilinear_sign",
              "the sign of eps flipped at the smallest drawn |eps| (0.01; pinned 0.1)", on="x", sign=-1.0),
    wrong_world("wrong_world_almost_bilinear_printed_is_right",
                "eps phi on the max player: the game where the slide's picture holds", on="y", sign=1.0)],
    claim="spurious.almost-bilinear")
@control_cases(spurious.test_almost_bilinear_corrected_has_a_spurious_cycle, "gradient_descent_ascent", [
    planted_bug("corrected_check_rejects_a_wrong_ascent_sign", gda_with_wrong_ascent_sign, cycle_game=(0.1, "y")),
    wrong_world("wrong_world_no_spurious_cycle",
                "the printed game (eps phi(x), eps = 0.1): GDA converges to the critical point",
                cycle_game=(0.1, "x"))], claim="spurious.almost-bilinear")
@control_cases(spurious.test_forsaken_stationary_point_and_its_stability, "extragradient", [
    planted_bug("forsaken_check_rejects_gda_posing_as_eg", eg_stale_second_step,
                reference=spurious.REFERENCE_EIGENVALUES),
    near_miss("near_miss_forsaken_eigenvalue", "Re eig DV(z*) at c = 0.45 quoted 1e-5 off (one unit of the last digit)",
              reference={**spurious.REFERENCE_EIGENVALUES, 0.45: (0.04476, 0.90803, 5e-6)})], claim="spurious.forsaken")
@control_cases(spurious.test_forsaken_cycles_and_noisy_escape, None, [
    near_miss("near_miss_forsaken_cycle_table", "outer cycle's distance range quoted 2e-3 off",
              instance=forsaken(0.45), cycles={**spurious.FORSAKEN_CYCLES, "outer 0.45": (0.925, 1.917, 0.485)},
              marks=pytest.mark.slow)], claim="spurious.forsaken")
@control_cases(limits.test_limit_sets_of_minimisation_vs_minimax, "gradient_descent_ascent", [
    planted_bug("limit_set_check_rejects_a_wrong_ascent_sign", gda_with_wrong_ascent_sign,
                minimax_limits=limits.SPURIOUS_LIMITS),
    near_miss("near_miss_gd_not_monotone", "one GD step replaced by a move that raises f by ~1e-8 |grad f|",
              bug=gda_kicked_uphill, minimax_limits=limits.SPURIOUS_LIMITS),
    wrong_world("wrong_world_monotone_game_has_no_spurious_set",
                "a strongly monotone game (rho L = +0.3): GDA's limit set is the solution",
                minimax_limits=[("min-max, monotone linear game", linear_minty_game(1.0, 0.3).operator, [0.05, 0.0],
                                 0.5, 2000, 0.5, 2.0)])], claim="spurious.min-vs-minimax-ict")
@control_cases(limits.test_sub_gaussian_tail_is_stronger_than_bounded_variance, "gradient_descent_ascent", [
    planted_bug("noise_model_check_rejects_clipped_steps", gda_with_clipped_steps, law="student-t3", witness=6.0),
    near_miss("near_miss_tail_below_the_bound",
              "Student-t(3) at t = 3.116 sigma: its tail 0.0125 is 20 % below the bound 0.0156", law="student-t3",
              witness=3.1159713),
    wrong_world("wrong_world_gaussian_noise",
                "Gaussian noise of variance sigma^2: bounded variance and the tail bound both hold", law="gaussian",
                witness=6.0)], claim="rm.template-noise-model")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
