"""Planted bugs that the spurious-attractor, local-Nash and take-home checks must
reject (negative controls): the same check, a broken implementation."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_09_spurious as spurious
import checks.test_09_spurious_limits as limits
from algorithms import registry
from checks.support import rejects
from problems.minimax.minty_games import forsaken


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


@pytest.mark.claim("spurious.almost-bilinear")
def test_as_printed_check_rejects_a_wrong_ascent_sign():
    rejects(spurious.test_almost_bilinear_as_printed_has_no_spurious_attractor, "extragradient",
            eg_with_wrong_ascent_sign)


@pytest.mark.claim("spurious.almost-bilinear")
def test_corrected_check_rejects_a_wrong_ascent_sign():
    rejects(spurious.test_almost_bilinear_corrected_has_a_spurious_cycle, "gradient_descent_ascent",
            gda_with_wrong_ascent_sign)


@pytest.mark.claim("spurious.forsaken")
def test_forsaken_check_rejects_gda_posing_as_eg():
    rejects(spurious.test_forsaken_stationary_point_and_its_stability, "extragradient", eg_stale_second_step)


@pytest.mark.claim("spurious.min-vs-minimax-ict")
def test_limit_set_check_rejects_a_wrong_ascent_sign():
    rejects(limits.test_limit_sets_of_minimisation_vs_minimax, "gradient_descent_ascent", gda_with_wrong_ascent_sign)


@pytest.mark.claim("rm.template-noise-model")
def test_noise_model_check_rejects_clipped_steps():
    rejects(limits.test_sub_gaussian_tail_is_stronger_than_bounded_variance, "gradient_descent_ascent",
            gda_with_clipped_steps)
