"""Planted bugs that the SGD / PSGD / SGLD checks (catalogue 2.1) must reject.

Each bug is a torch.optim-style optimiser (or a schedule) that looks plausible
and is wrong in one place; it is substituted for a registry name and the *same*
check is run; the control passes only if the check fails.
"""
from __future__ import annotations

import pytest
import torch

import checks.test_02_sgd as sgd_checks
import checks.test_02_sgd_complexity as complexity_checks
import checks.test_02_sgd_convergence as convergence_checks
import checks.test_02_sgd_saddles as saddle_checks
from algorithms.sgd import PerturbedSGD, polynomial_step, unit_sphere_like
from checks.quality.planted_optimizers import PlantedSGD, SGDAscent, SGDScaledStep
from checks.support import control_cases, near_miss, planted_bug, rejects, run_control, wrong_world


class SGLDWithSqrtAlphaNoise(PlantedSGD):
    """SGLD with noise sqrt(alpha) xi instead of sqrt(2 alpha) xi (half the temperature)."""

    def update(self, p, grad, state, group):
        xi = torch.randn(p.shape, generator=self.generator, dtype=p.dtype)
        p.add_(grad, alpha=-group["lr"]).add_(xi, alpha=group["lr"] ** 0.5)


class PSGDWithBallNoise(PlantedSGD):
    """PSGD whose perturbation is uniform in the unit *ball* (radius U^(1/d)), not on the sphere."""

    def update(self, p, grad, state, group):
        xi = unit_sphere_like(p, self.generator)
        r = torch.rand((p.shape[0], 1), generator=self.generator, dtype=p.dtype) ** (1 / p.shape[1])
        p.add_(grad + r * xi, alpha=-group["lr"])


class PSGDWithoutPerturbation(PlantedSGD):
    """PSGD that forgot its perturbation: plain gradient descent."""


class PSGDNoiseOnlyAlongX(PlantedSGD):
    """PSGD whose perturbation lives on the first coordinate only (+-1): bounded, but
    not exciting in the unstable direction y."""

    def update(self, p, grad, state, group):
        xi = torch.zeros_like(p)
        xi[:, 0] = torch.randint(0, 2, (p.shape[0],), generator=self.generator).to(p.dtype) * 2 - 1
        p.add_(grad + xi, alpha=-group["lr"])


class GDOverstep(SGDScaledStep):
    """Gradient descent that applies 2.2 times the requested step."""

    factor = 2.2


class SGDDecayingItsStep(PlantedSGD):
    """'Constant-step' SGD that silently divides its step by the iteration count."""

    def update(self, p, grad, state, group):
        state["k"] = state.get("k", 0) + 1
        p.add_(grad, alpha=-group["lr"] / state["k"])


class SGDWithDither(PlantedSGD):
    """SGD that adds its own exploration noise 1e-3 N(0, 1) to every step."""

    def update(self, p, grad, state, group):
        p.add_(grad, alpha=-group["lr"]).add_(torch.randn_like(p), alpha=1e-3)


class SGDWithMomentum(PlantedSGD):
    """SGD with a left-over heavy-ball momentum 0.5."""

    def update(self, p, grad, state, group):
        buf = state.setdefault("buf", torch.zeros_like(p))
        buf.mul_(0.5).add_(grad)
        p.add_(buf, alpha=-group["lr"])


class SGDWithFrozenStep(PlantedSGD):
    """SGD that reads the step size once, at construction, and ignores schedule updates."""

    def update(self, p, grad, state, group):
        lr = state.setdefault("lr0", group["lr"])
        p.add_(grad, alpha=-lr)


def sqrt_step(k, *, gamma, m=1.0, p=1.0):
    """The 'O(1/k)' schedule implemented as gamma/sqrt(k + m) (p ignored)."""
    return polynomial_step(k, gamma=gamma, m=m, p=0.5)


@pytest.mark.claim("sgd.q3-thm4-rate")
@pytest.mark.parametrize("check", [sgd_checks.test_thm4_corrected_rate, sgd_checks.test_thm4_as_printed_fails_for_small_gamma],
                         ids=["corrected", "as-printed"])
def test_thm4_checks_reject_sqrt_schedule(check):
    rejects(check, "polynomial_step", sqrt_step)


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
def test_cooldown_check_rejects_frozen_step():
    rejects(convergence_checks.test_cooldown_proxy_on_digits, "sgd", SGDWithFrozenStep)


# ------------------------------------------------------ near misses and wrong worlds
from checks.quality.test_02_update_rules_controls import SGLDNoiseVariance10PercentHigh  # noqa: E402


class PSGDRadiusOff(PerturbedSGD):
    """PSGD whose perturbation has radius 1 + 1e-9."""

    def __init__(self, params, lr=1e-2, *, radius=1.0, generator=None):
        super().__init__(params, lr, radius=radius * (1 + 1e-9), generator=generator)


class SGDStep5PercentLarge(SGDScaledStep):
    """SGD applying 1.05 times the requested step."""

    factor = 1.05


def schedule_exponent_0_9(k, *, gamma, m=1.0, p=1.0):
    """The schedule gamma/(k + m)^(0.9 p): a step-size rule 0.1 off in its exponent."""
    return polynomial_step(k, gamma=gamma, m=m, p=0.9 * p)


class SGDDoubleStep(SGDScaledStep):
    """SGD applying twice the requested step."""

    factor = 2.0


def schedule_exponent_0_05(k, *, gamma, m=1.0, p=1.0):
    """gamma/(k + m)^0.05 whatever p is asked: a schedule that barely decays. (At k^-0.1 the mean
    square still shrank beyond the check's noise band under 3 of 6 seed shifts: from K/10 to K the
    step falls by 10^0.1 = 1.26. At k^-0.05, by 1.12: rejected under 8 of 8.)"""
    return polynomial_step(k, gamma=gamma, m=m, p=0.05)


class PSGDDriftScaled(PlantedSGD):
    """PSGD whose gradient step is alpha (alpha/0.1)^e (equal to alpha at alpha = 0.1) while the
    perturbation keeps alpha xi: escape takes ~ log/alpha^(1+e). e = 1.5: tau ~ alpha^-2.5, beyond the
    corrected O~(1/alpha^2) bound (its wrong world); e = 1.2: tau ~ alpha^-2.2 (its near miss)."""

    exponent = 1.5

    def update(self, p, grad, state, group):
        alpha = group["lr"]
        xi = unit_sphere_like(p, self.generator)
        p.add_(grad, alpha=-alpha * (alpha / 0.1) ** self.exponent).add_(xi, alpha=-alpha)


class PSGDDriftScaledNear(PSGDDriftScaled):
    exponent = 1.2


class PSGDDriftScaledOmegaNear(PSGDDriftScaled):
    """Escape time ~ log/alpha^1.6: just past the Omega check's exponent threshold 1.5."""

    exponent = 0.6


@control_cases(sgd_checks.test_sgld_variance, "sgld", [
    planted_bug("sgld_check_rejects_sqrt_alpha_noise", SGLDWithSqrtAlphaNoise),
    near_miss("sgld_variance_check_rejects_variance_10_percent_off", "Langevin noise variance x 1.1",
              bug=SGLDNoiseVariance10PercentHigh)], claim="sgd.update-rules")
@control_cases(sgd_checks.test_psgd_perturbation_on_unit_sphere, "psgd", [
    planted_bug("psgd_check_rejects_ball_noise", PSGDWithBallNoise),
    near_miss("psgd_sphere_check_rejects_radius_off_by_1e_9", "perturbation radius 1 + 1e-9", bug=PSGDRadiusOff)],
    claim="sgd.update-rules")
@control_cases(sgd_checks.test_gd_constant_step_descent, "gradient_descent", [
    planted_bug("gd_descent_check_rejects_overstep", GDOverstep),
    near_miss("gd_descent_check_rejects_step_past_threshold", "alpha = 2.05/L, 2.5 % past the threshold 2/L",
              f=sgd_checks.QUADRATIC_AS_COSINE_SUM, fraction=1.025)], claim="sgd.q1-gd-constant-step")
@control_cases(sgd_checks.test_constant_step_noise_floor, "sgd", [
    planted_bug("noise_floor_check_rejects_hidden_step_decay", SGDDecayingItsStep),
    near_miss("noise_floor_check_rejects_step_5_percent_off", "SGD step x 1.05", bug=SGDStep5PercentLarge)],
    claim="sgd.q1-constant-step-no-convergence")
@control_cases(sgd_checks.test_interpolation_counterexample, "sgd", [
    planted_bug("interpolation_check_rejects_dither", SGDWithDither)], claim="sgd.q1-constant-step-no-convergence")
@control_cases(complexity_checks.test_constant_step_reaches_eps_in_o_one_over_eps_squared, "sgd", [
    planted_bug("eps_close_check_rejects_momentum", SGDWithMomentum),
    near_miss("eps_close_check_rejects_exponent_2_1", "curvature lam(eps) ~ eps^1.1: iterations ~ eps^-2.1",
              curvature_exponent=1.1),
    wrong_world("eps_close_check_rejects_degenerating_curvature",
                "curvature lam(eps) ~ eps^1.2 (minimisers that are not uniformly Hurwicz)", curvature_exponent=1.2)],
    claim="sgd.q3-constant-step-eps-close")
@control_cases(sgd_checks.test_thm4_corrected_rate, "sgd", [
    planted_bug("thm4_check_rejects_momentum_sgd", SGDWithMomentum)], claim="sgd.q3-thm4-rate")
@control_cases(sgd_checks.test_thm4_corrected_rate, "polynomial_step", [
    near_miss("thm4_corrected_check_rejects_schedule_exponent_0_9", "schedule exponent 0.9 for 1",
              bug=schedule_exponent_0_9)], claim="sgd.q3-thm4-rate")
@control_cases(saddle_checks.test_gd_avoids_strict_saddles, "gradient_descent", [
    planted_bug("saddle_check_rejects_ascent", SGDAscent),
    wrong_world("saddle_check_rejects_a_degenerate_saddle",
                "a non-strict saddle (Hessian diag(1, 0)): its basin y < 0 has positive measure", fraction=0.99,
                coupling=0.0, world="degenerate")], claim="sgd.q2-gd-avoids-strict-saddles")
@control_cases(saddle_checks.test_sgd_with_exciting_noise_leaves_the_saddle, "psgd", [
    planted_bug("thm3_check_rejects_noise_without_excitation", PSGDNoiseOnlyAlongX, kappa=1.0),
    near_miss("thm3_check_rejects_summable_steps", "alpha_k = 3/(k + 10)^1.3: summable, 0.3 outside kappa in (0, 1]",
              kappa=1.3),
    wrong_world("thm3_check_rejects_unexciting_noise", "noise only along x: not exciting in the unstable direction",
                bug=PSGDNoiseOnlyAlongX, kappa=1.0)], claim="sgd.q2-thm3-avoid-saddles-as")
@control_cases(convergence_checks.test_robbins_monro_convergence, "sgd", [
    planted_bug("robbins_monro_check_rejects_frozen_step", SGDWithFrozenStep, p=0.8),
    near_miss("robbins_monro_check_rejects_double_step", "SGD step x 2 (p = 0.6)", bug=SGDDoubleStep, p=0.6)],
    claim="sgd.q1-vanishing-step-bounded", marks=pytest.mark.slow)
@control_cases(convergence_checks.test_thm1_without_boundedness, "sgd", [
    planted_bug("thm1_check_rejects_frozen_step", SGDWithFrozenStep, p=0.9)],
    claim="sgd.q1-thm1-no-boundedness", marks=pytest.mark.slow)
@control_cases(convergence_checks.test_thm1_without_boundedness, "polynomial_step", [
    near_miss("thm1_check_rejects_barely_decaying_schedule", "a schedule decaying like k^-0.05 (p = 0.9 asked); "
              "k^-0.1 is not resolved at K = 10^4", bug=schedule_exponent_0_05, p=0.9)],
    claim="sgd.q1-thm1-no-boundedness", marks=pytest.mark.slow)
@control_cases(saddle_checks.test_psgd_escape_time, "psgd", [
    planted_bug("escape_check_rejects_missing_perturbation", PSGDWithoutPerturbation),
    wrong_world("escape_check_rejects_escape_time_exponent_2_5",
                "escape time ~ 1/alpha^2.5 (drift step alpha^2.5/0.1^1.5): beyond O~(1/alpha^2)", bug=PSGDDriftScaled,
                marks=pytest.mark.slow),
    near_miss("escape_check_rejects_escape_time_exponent_2_2",
              "escape time ~ 1/alpha^2.2 (drift step alpha^2.2/0.1^1.2)", bug=PSGDDriftScaledNear,
              marks=pytest.mark.slow)],
    claim="sgd.q2-psgd-escape-time")
@control_cases(saddle_checks.test_psgd_escape_time_omega_as_printed, "psgd", [
    near_miss("omega_reading_check_rejects_escape_exponent_1_6",
              "escape time ~ 1/alpha^1.6 (drift step alpha^1.6/0.1^0.6), the check's threshold 1.5",
              bug=PSGDDriftScaledOmegaNear, marks=pytest.mark.slow)], claim="sgd.q2-psgd-escape-time")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
