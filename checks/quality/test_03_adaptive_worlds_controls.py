"""Near-miss and wrong-world controls of the rate-table checks (catalogue 2.2): each check is run
in a world where its claim fails by a small stated margin (a step-size rule an exponent off, a
constant 1 % small, a second moment 10 % high, averaging weights t^0.6 for t) or fails outright
(Adam on Reddi's sequences, a fixed Nesterov chain), and must reject it."""
from __future__ import annotations

import pytest

import checks.test_03_adaptive as adaptive
import checks.test_03_adaptive_slow as adaptive_slow
import checks.test_03_sgd_rates as sgd_rates
import checks.test_03_worst_cases as worst_cases
from algorithms.adaptive import AcceleGrad, AdaGradNorm, AMSGrad, UniXGrad
from checks.quality.near_misses import optimizer_with_scaled_step
from checks.quality.planted_optimizers import UniXGradReweighted
from checks.quality.test_03_adaptive_controls import (AdamLabelledAMSGrad, AGDWithoutMomentum,
                                                      AMSGradIgnoringSchedule, GDOverstep)
from checks.support import control_cases, fails, near_miss, planted_bug, rejects, run_control, wrong_world


class _StepScaledByIteration:
    """Mixin: every step uses lr * k^power (k = 1, 2, ...): a step-size rule off by an exponent."""

    power = 0.0

    def step(self, closure=None):
        self._k = getattr(self, "_k", 0) + 1
        saved = [group["lr"] for group in self.param_groups]
        for group in self.param_groups:
            group["lr"] = group["lr"] * self._k ** self.power
        try:
            return super().step(closure)
        finally:
            for group, lr in zip(self.param_groups, saved):
                group["lr"] = lr


def _iteration_scaled(base, power: float, label: str):
    return type(f"{base.__name__}{label}", (_StepScaledByIteration, base), {"power": power})


ADAGRAD_NORM_SLOWER = _iteration_scaled(AdaGradNorm, -0.2, "StepDecayingK02")
ADAGRAD_NORM_GROWING = _iteration_scaled(AdaGradNorm, 0.2, "StepGrowingK02")
ADAGRAD_NORM_STALLED = _iteration_scaled(AdaGradNorm, -1.0, "StepDecayingK1")
AMSGRAD_SLOWER = _iteration_scaled(AMSGrad, 0.1, "StepT04")  # alpha/sqrt(t) * t^0.1 = alpha/t^0.4
ACCELEGRAD_GROWING = _iteration_scaled(AcceleGrad, 0.3, "StepGrowingT03")
UNIXGRAD_GROWING = _iteration_scaled(UniXGrad, 0.15, "StepGrowingT03")  # two steps per iteration: t ~ k/2


class AcceleGradWeights06(AcceleGrad):
    """Averaging weights ((t + 1)/4)^0.6 instead of (t + 1)/4: the rate becomes T^-1.6."""

    @staticmethod
    def weight(t: int) -> float:
        return 1.0 if t <= 2 else ((t + 1) / 4) ** 0.6


class UniXGradWeights06(UniXGradReweighted):
    """UniXGrad with weights alpha_t = t^0.6 instead of t (in the averages and the step sizes)."""

    exponent = 0.6


def _near(check, margin):
    return pytest.mark.control("near_miss", of=check, margin=margin)


# ---- adaptive.accelegrad-unixgrad-rates
@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates")
@pytest.mark.parametrize("name, bug, queries", [
    pytest.param("accelegrad", AcceleGradWeights06, 1, id="accelegrad"),
    pytest.param("unixgrad", UniXGradWeights06, 2, id="unixgrad")])
@_near(adaptive.test_universal_methods_accelerate, "averaging weights t^0.6 for t (rate T^-1.6)")
def test_universal_check_rejects_rate_t_minus_1_6(name, bug, queries):
    rejects(adaptive.test_universal_methods_accelerate, name, bug, method=name, queries=queries)


@pytest.mark.slow
@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates")
@pytest.mark.parametrize("name, bug", [pytest.param("accelegrad", ACCELEGRAD_GROWING, id="accelegrad"),
                                       pytest.param("unixgrad", UNIXGRAD_GROWING, id="unixgrad")])
@_near(adaptive_slow.test_universal_methods_stochastic_rate, "a step growing like t^0.3 on top (floor ~ T^-0.2)")
def test_stochastic_universal_check_rejects_growing_step(name, bug):
    rejects(adaptive_slow.test_universal_methods_stochastic_rate, name, bug, method=name)


# ---- adaptive.adam-counterexample
@pytest.mark.claim("adaptive.adam-counterexample")
@_near(adaptive.test_adam_fails_where_amsgrad_and_adagrad_converge, "the limiting regret 2(C - 2)/3 x 1.05")
def test_counterexample_check_rejects_limit_5_percent_off():
    fails(adaptive.test_adam_fails_where_amsgrad_and_adagrad_converge, C=3.0, limit_scale=1.05)


# ---- adaptive.gd-sgd-rates
@control_cases(adaptive.test_gd_deterministic_rates, None, [
    near_miss("gd_rate_check_rejects_constants_1_percent_small",
              "the bounds' constants x 0.99 (the nonconvex one is attained at k = 1)", quad=adaptive.WORST_DIRECTION,
              f=adaptive.QUADRATIC_AS_COSINE_SUM, bound_scale=0.99)], claim="adaptive.gd-sgd-rates")
@control_cases(sgd_rates.test_sgd_convex_stochastic_rate, None, [
    near_miss("convex_stochastic_check_rejects_second_moment_10_percent_high",
              "E g^2 10 % above the assumed G^2 (average 1.05 x the bound)", second_moment_factor=1.1)],
    claim="adaptive.gd-sgd-rates")
@control_cases(sgd_rates.test_sgd_nonconvex_stochastic_rate, None, [
    near_miss("nonconvex_stochastic_check_rejects_variance_10_percent_high", "noise variance 10 % above sigma^2",
              second_moment_factor=1.1)], claim="adaptive.gd-sgd-rates")
@control_cases(worst_cases.test_gd_worst_case_rate_over_three_decades, "gradient_descent", [
    near_miss("gd_worst_case_check_rejects_step_5_percent_off", "GD step 0.95/L",
              bug=optimizer_with_scaled_step("gradient_descent", 0.95)),
    planted_bug("gd_worst_case_check_rejects_overstep", GDOverstep)], claim="adaptive.gd-sgd-rates")
@control_cases(adaptive_slow.test_gd_worst_case_below_pep_certificate, "gradient_descent", [
    near_miss("pep_sandwich_rejects_step_5_percent_off", "GD step 0.95/L (+4.5 % on the Drori-Teboulle instance)",
              bug=optimizer_with_scaled_step("gradient_descent", 0.95), marks=pytest.mark.slow)],
    claim="adaptive.gd-sgd-rates")
# ---- adaptive.agd-rates
@control_cases(adaptive.test_agd_upper_bound, None, [
    near_miss("agd_bound_check_rejects_a_smaller_constant", "the bound's constant x 0.05",
              quad=adaptive.Quadratic.diagonal(adaptive.POWER_LAW.lam[:50], adaptive.POWER_LAW.x_star[:50]),
              bound_scale=0.05)], claim="adaptive.agd-rates")
@control_cases(adaptive.test_agd_on_nesterov_chains, None, [
    near_miss("chain_check_rejects_a_smaller_upper_constant",
              "the upper bound's constant x 0.12 (the chains reach 0.16 of it)", upper_scale=0.12),
    wrong_world("chain_check_rejects_a_fixed_chain",
                "one fixed chain (n = 1281) for every k: not a lower-bound instance for k << n", chain_size=1281)],
    claim="adaptive.agd-rates")
@control_cases(worst_cases.test_agd_worst_quadratic_rate, "accelerated_gradient", [
    near_miss("agd_worst_quadratic_check_rejects_step_5_percent_off", "AGD step 0.95/L",
              bug=optimizer_with_scaled_step("accelerated_gradient", 0.95)),
    planted_bug("agd_worst_quadratic_check_rejects_missing_momentum", AGDWithoutMomentum)], claim="adaptive.agd-rates")
@control_cases(adaptive_slow.test_agd_worst_case_below_pep_certificate, "accelerated_gradient", [
    near_miss("agd_pep_sandwich_rejects_step_5_percent_off", "AGD step 0.95/L (+4.8 % over the certificate)",
              bug=optimizer_with_scaled_step("accelerated_gradient", 0.95), marks=pytest.mark.slow)],
    claim="adaptive.agd-rates")
# ---- adaptive.adagrad-rates
@control_cases(adaptive.test_adagrad_online_regret_bound, None, [
    near_miss("regret_check_rejects_a_smaller_constant", "the regret bound's constant x 0.1", dim=2, eta=2**0.5,
              drift=0.2, bound_scale=0.1)], claim="adaptive.adagrad-rates")
@control_cases(adaptive.test_adagrad_norm_adapts_to_smoothness, "adagrad_norm", [
    near_miss("adaptivity_check_rejects_rate_t_minus_0_8", "a step decaying like k^-0.2 on top (rate T^-0.8)",
              bug=ADAGRAD_NORM_SLOWER)], claim="adaptive.adagrad-rates")
@control_cases(adaptive.test_adagrad_norm_nonconvex_deterministic, "adagrad_norm", [
    near_miss("nonconvex_adagrad_check_rejects_stalled_steps", "steps decaying like 1/k (a stalled method)",
              bug=ADAGRAD_NORM_STALLED)], claim="adaptive.adagrad-rates")
@control_cases(adaptive_slow.test_adagrad_norm_nonconvex_stochastic, "adagrad_norm", [
    near_miss("stochastic_adagrad_check_rejects_growing_steps", "a step growing like k^0.2 on top (floor ~ N^-0.3)",
              bug=ADAGRAD_NORM_GROWING, marks=pytest.mark.slow)], claim="adaptive.adagrad-rates")
# ---- adaptive.amsgrad-rates
@control_cases(adaptive.test_amsgrad_regret_is_sublinear, "amsgrad", [
    near_miss("amsgrad_regret_check_rejects_slower_step", "a step decaying like t^-0.4 (regret slope ~0.55)",
              bug=AMSGRAD_SLOWER),
    wrong_world("amsgrad_regret_check_rejects_adam_world", "Adam (no max) on the same sequences: linear regret",
                bug=AdamLabelledAMSGrad)], claim="adaptive.amsgrad-rates")
@control_cases(adaptive_slow.test_amsgrad_nonconvex_stochastic, "amsgrad", [
    near_miss("amsgrad_nonconvex_check_rejects_constant_step", "a constant step (the schedule's exponent 0 for 1/2)",
              bug=AMSGradIgnoringSchedule, marks=pytest.mark.slow)], claim="adaptive.amsgrad-rates")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
