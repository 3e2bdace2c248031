"""Planted bugs that the bilinear checks must reject (negative controls).

Each control substitutes a deliberately broken method for a registry name and
runs the *same* check; the control passes only if the check fails.
"""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_08_bilinear as bilinear
from algorithms import registry
from checks.support import control_cases, planted_bug, rejects, run_control, wrong_world


def _iterate(step, z0, z_prev, num_steps):
    z = np.array(z0, dtype=float)
    prev = z.copy() if z_prev is None else np.array(z_prev, dtype=float)
    out = [z]
    for _ in range(num_steps):
        z, prev = step(z, prev), z
        out.append(z)
    return np.stack(out)


def _col(alpha):
    a = np.asarray(alpha, dtype=float)
    return a[:, None] if a.ndim == 1 else a


def gda_ascent_for_x(operator, z0, alpha, num_steps, *, z_prev=None):
    """Sign bug: the x-step uses +grad_x Phi (ascent), the y-step is right."""
    sign = np.where(np.arange(np.shape(z0)[-1]) < operator.dim_x, -1.0, 1.0)
    return _iterate(lambda z, _: z - _col(alpha) * sign * operator(z), z0, z_prev, num_steps)


def ppm_one_sweep(operator, z0, alpha, num_steps, *, z_prev=None):
    """One fixed-point sweep w = z - alpha V(z) instead of solving w = z - alpha V(w)."""
    return _iterate(lambda z, _: z - _col(alpha) * operator(z), z0, z_prev, num_steps)


def ppm_two_sweeps(operator, z0, alpha, num_steps, *, z_prev=None):
    """Two fixed-point sweeps: w = z - alpha V(z - alpha V(z)) (this is EG)."""
    a = _col(alpha)
    return _iterate(lambda z, _: z - a * operator(z - a * operator(z)), z0, z_prev, num_steps)


def eg_stale_second_step(operator, z0, alpha, num_steps, *, z_prev=None):
    """EG whose second step evaluates V at z_k instead of the extrapolated point."""
    a = _col(alpha)

    def step(z, _):
        _unused = z - a * operator(z)
        return z - a * operator(z)

    return _iterate(step, z0, z_prev, num_steps)


def eg_wrong_extrapolation_sign(operator, z0, alpha, num_steps, *, z_prev=None):
    """EG extrapolating uphill: zbar = z + alpha V(z)."""
    a = _col(alpha)
    return _iterate(lambda z, _: z - a * operator(z + a * operator(z)), z0, z_prev, num_steps)


def ogda_without_factor_two(operator, z0, alpha, num_steps, *, z_prev=None):
    """OGDA with V(z_k) - V(z_{k-1}) instead of 2 V(z_k) - V(z_{k-1})."""
    a = _col(alpha)
    return _iterate(lambda z, p: z - a * (operator(z) - operator(p)), z0, z_prev, num_steps)


def ogda_sign_bug(operator, z0, alpha, num_steps, *, z_prev=None):
    """OGDA with 2 V(z_k) + V(z_{k-1})."""
    a = _col(alpha)
    return _iterate(lambda z, p: z - a * (2 * operator(z) + operator(p)), z0, z_prev, num_steps)


def rfbs_without_reflection(operator, z0, alpha, num_steps, *, z_prev=None):
    """RFBS evaluating V at z_k instead of the reflection 2 z_k - z_{k-1} (= GDA)."""
    return _iterate(lambda z, _: z - _col(alpha) * operator(z), z0, z_prev, num_steps)


def rfbs_reflected_backwards(operator, z0, alpha, num_steps, *, z_prev=None):
    """RFBS reflecting the wrong way: V(2 z_{k-1} - z_k)."""
    a = _col(alpha)
    return _iterate(lambda z, p: z - a * operator(2 * p - z), z0, z_prev, num_steps)


def slide_formula_read_as_eg(operator, z0, alpha, num_steps, *, z_prev=None):
    """The slide's third formula 'corrected' to EG (V(z_k) inside): not the formula as printed."""
    a = _col(alpha)
    return _iterate(lambda z, _: z - a * operator(z - a * operator(z)), z0, z_prev, num_steps)


def popov_with_current_point(operator, z0, alpha, num_steps, *, z_prev=None):
    """'Past' extragradient that extrapolates with V(z_k) (i.e. EG), not V(zbar_{k-1})."""
    return ppm_two_sweeps(operator, z0, alpha, num_steps, z_prev=z_prev)


@pytest.mark.claim("bilinear.gda-diverges")
@pytest.mark.parametrize("bug", [registry.reference("alternating_gda"), gda_ascent_for_x])
def test_gda_check_rejects(bug):
    rejects(bilinear.test_gda_growth_factor, "gradient_descent_ascent", bug)


@pytest.mark.claim("bilinear.ppm-converges")
@pytest.mark.parametrize("bug", [ppm_one_sweep, ppm_two_sweeps])
def test_ppm_check_rejects(bug):
    rejects(bilinear.test_ppm_contraction, "proximal_point", bug)


@pytest.mark.claim("bilinear.eg-converges")
@pytest.mark.parametrize("bug", [eg_stale_second_step, eg_wrong_extrapolation_sign])
def test_eg_check_rejects(bug):
    rejects(bilinear.test_eg_rate, "extragradient", bug)


@pytest.mark.claim("bilinear.ogda-converges")
@pytest.mark.parametrize("bug", [ogda_without_factor_two, ogda_sign_bug])
def test_ogda_check_rejects(bug):
    rejects(bilinear.test_ogda_threshold, "optimistic_gda", bug)


@pytest.mark.claim("bilinear.rfbs-converges")
@pytest.mark.parametrize("bug", [rfbs_without_reflection, rfbs_reflected_backwards])
def test_rfbs_check_rejects(bug):
    rejects(bilinear.test_rfbs_threshold, "reflected_forward_backward", bug)


@pytest.mark.claim("bilinear.rfbs-converges")
def test_rfbs_equivalence_check_rejects_gda_in_disguise():
    rejects(bilinear.test_rfbs_equals_ogda_on_affine_only, "reflected_forward_backward", rfbs_without_reflection)


@pytest.mark.claim("bilinear.eg-ogda-approximate-ppm")
@pytest.mark.parametrize("bug", [eg_wrong_extrapolation_sign, eg_stale_second_step])
def test_local_error_check_rejects(bug):
    rejects(bilinear.test_eg_and_ogda_approximate_ppm, "extragradient", bug)


# ----------------------------------------------------------------- near misses
from checks.quality.near_misses import method_with_scaled_step  # noqa: E402

NEAR = 1 + bilinear.STEP_RESOLUTION
NEAR_MISSES = [  # (check, registry name the near miss stands in for, claim)
    (bilinear.test_gda_growth_factor, "gradient_descent_ascent", "bilinear.gda-diverges"),
    (bilinear.test_ppm_contraction, "proximal_point", "bilinear.ppm-converges"),
    (bilinear.test_eg_rate, "extragradient", "bilinear.eg-converges"),
    (bilinear.test_ogda_threshold, "optimistic_gda", "bilinear.ogda-converges"),
    (bilinear.test_rfbs_threshold, "reflected_forward_backward", "bilinear.rfbs-converges"),
    (bilinear.test_rfbs_equals_ogda_on_affine_only, "reflected_forward_backward", "bilinear.rfbs-converges"),
    (bilinear.test_eg_and_ogda_approximate_ppm, "extragradient", "bilinear.eg-ogda-approximate-ppm"),
    (bilinear.test_slide_formula_as_printed, "slide_third_formula", "bilinear.slide-formula-3"),
    (bilinear.test_popov_extrapolation_sequence_is_ogda, "past_extragradient", "bilinear.slide-formula-3"),
]


@pytest.mark.parametrize("check, name", [
    pytest.param(c, n, id=c.__name__, marks=[pytest.mark.claim(cl), pytest.mark.control(
        "near_miss", of=c, margin=f"the method's step x (1 + {bilinear.STEP_RESOLUTION:g})")])
    for c, n, cl in NEAR_MISSES])
def test_bilinear_check_rejects_step_off_by_1e_6(check, name):
    """The method with its step 1e-6 (relative) off: the same convergence behaviour, another map."""
    rejects(check, name, method_with_scaled_step(name, NEAR))


# --------------------------------------------------- worst cases over the class (PEP)
import checks.test_08_bilinear_certificates as certificates  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("check, name, bug", [
    pytest.param(certificates.test_eg_worst_case_over_bilinear_games, "extragradient", eg_stale_second_step,
                 id="eg", marks=pytest.mark.claim("bilinear.eg-converges")),
    pytest.param(certificates.test_ogda_worst_case_over_bilinear_games, "optimistic_gda", ogda_without_factor_two,
                 id="ogda", marks=pytest.mark.claim("bilinear.ogda-converges"))])
def test_certificate_check_rejects_changed_method(check, name, bug):
    rejects(check, name, bug)


@pytest.mark.slow
@pytest.mark.parametrize("check, name", [
    pytest.param(c, n, id=n, marks=[pytest.mark.claim(cl), pytest.mark.control(
        "near_miss", of=c, margin=f"step x (1 + {certificates.STEP_RESOLUTION:g})")])
    for c, n, cl in ((certificates.test_eg_worst_case_over_bilinear_games, "extragradient", "bilinear.eg-converges"),
                     (certificates.test_ogda_worst_case_over_bilinear_games, "optimistic_gda",
                      "bilinear.ogda-converges"))])
def test_certificate_check_rejects_step_off_by_1e_6(check, name):
    rejects(check, name, method_with_scaled_step(name, 1 + certificates.STEP_RESOLUTION))


@pytest.mark.claim("bilinear.slide-formula-3")
@control_cases(bilinear.test_slide_formula_as_printed, "slide_third_formula", [
    planted_bug("slide_formula_check_rejects_eg", slide_formula_read_as_eg)])
@control_cases(bilinear.test_popov_extrapolation_sequence_is_ogda, "past_extragradient", [
    planted_bug("popov_equivalence_check_rejects_eg", popov_with_current_point)])
@control_cases(bilinear.test_slide_formula_as_printed_is_not_eg, "slide_third_formula", [
    planted_bug("not_eg_check_rejects_the_formula_read_as_eg", slide_formula_read_as_eg),
    wrong_world("not_eg_check_rejects_eg_against_itself",
                "the search compares EG with itself: a world where the printed formula is EG",
                formula="extragradient")])
def test_slide_formula_3_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
