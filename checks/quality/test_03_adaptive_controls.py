"""Planted bugs that the rate-table and Adam-counterexample checks (catalogue 2.2)
must reject: each is a torch.optim-style optimiser wrong in one place,
substituted for a registry name while the *same* check runs.
"""
from __future__ import annotations

import pytest
import torch

import checks.test_03_adaptive as adaptive
import checks.test_03_adaptive_slow as adaptive_slow
import checks.test_03_sgd_rates as sgd_rates
from algorithms.adaptive import AcceleGrad, AdaGradNorm, AMSGrad, UniXGrad, _project_ball, _row_sq_norm
from checks.support import rejects


class GDOverstep(torch.optim.Optimizer):
    """Gradient descent applying 1.9 times the requested step (1.9/L where 1/L is asked)."""

    def __init__(self, params, lr=1e-2, **_):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                p.add_(p.grad, alpha=-1.9 * g["lr"])


class SGDAscent(GDOverstep):
    """SGD with the sign of the step flipped."""

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                p.add_(p.grad, alpha=g["lr"])


class SGDUpdatingACopy(GDOverstep):
    """SGD that updates a copy of the parameter (p.data.clone()), so the parameter never moves."""

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                p.detach().clone().add_(p.grad, alpha=-g["lr"])


class AGDWithoutMomentum(GDOverstep):
    """'Accelerated' gradient whose momentum term was dropped: plain gradient descent."""

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                p.add_(p.grad, alpha=-g["lr"])


class AdaGradWithoutAccumulation(GDOverstep):
    """Diagonal AdaGrad dividing by the current |g_t| instead of sqrt(sum_s g_s^2): sign descent."""

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                p.addcdiv_(p.grad, p.grad.abs().add(1e-10), value=-g["lr"])


class AdaGradNormFixedDenominator(GDOverstep):
    """AdaGrad-Norm whose denominator never accumulates: b = max(b0, 1) for ever (SGD, constant step)."""

    def __init__(self, params, lr=1e-2, b0=0.0, **_):
        super().__init__(params, lr=lr)
        self.b = max(b0, 1.0)

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                p.add_(p.grad, alpha=-g["lr"] / self.b)


class AcceleGradUnweighted(AcceleGrad):
    """AcceleGrad with weights alpha_t = 1 (no coupling, uniform averaging)."""

    @staticmethod
    def weight(t: int) -> float:
        return 1.0


class UniXGradUnweighted(UniXGrad):
    """UniXGrad with weights alpha_t = 1 instead of t (uniform averaging)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            D, R = 2 * group["radius"], group["radius"]
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    y0 = _project_ball(p.detach().clone(), R)
                    st.update(t=1, phase="M", y=y0, xsum=torch.zeros_like(p), asum=1.0,
                              sq=torch.zeros_like(_row_sq_norm(p)), solution=y0.clone())
                if st["phase"] == "M":
                    st["M"] = p.grad.clone()
                    st["eta"] = group["lr"] * 2 * D / (1 + st["sq"]).sqrt()
                    st["x"] = _project_ball(st["y"] - st["eta"] * st["M"], R)
                    st["solution"] = (st["xsum"] + st["x"]) / st["asum"]
                    p.copy_(st["solution"])
                    st["phase"] = "g"
                else:
                    st["y"] = _project_ball(st["y"] - st["eta"] * p.grad, R)
                    st["sq"] = st["sq"] + _row_sq_norm(p.grad - st["M"])
                    st["xsum"] += st["x"]
                    st["asum"] += 1.0
                    p.copy_((st["y"] + st["xsum"]) / st["asum"])
                    st["phase"] = "M"


class AcceleGradFrozenStep(AcceleGrad):
    """AcceleGrad whose step eta_t stops adapting after 10 iterations (accumulator frozen)."""

    @torch.no_grad()
    def step(self, closure=None):
        super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                if st["t"] == 10:
                    st["frozen"] = st["denom"].clone()
                if "frozen" in st:
                    st["denom"] = st["frozen"].clone()


class UniXGradFrozenStep(UniXGrad):
    """UniXGrad whose step eta_t stops adapting after 10 iterations (accumulator frozen)."""

    @torch.no_grad()
    def step(self, closure=None):
        super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                if st["t"] == 10 and "frozen" not in st:
                    st["frozen"] = st["sq"].clone()
                if "frozen" in st:
                    st["sq"] = st["frozen"].clone()


class AMSGradIgnoringSchedule(AMSGrad):
    """AMSGrad that keeps the step it was built with and ignores the alpha/sqrt(t) schedule."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            group.setdefault("lr0", group["lr"])
            group["lr"] = group["lr0"]
        return super().step(closure)


class AdamLabelledAMSGrad(AMSGrad):
    """'AMSGrad' without the max: vhat_t = v_t, i.e. Adam (no bias correction)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
                st["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(st["m"], st["v"].sqrt().add_(group["eps"]), value=-group["lr"])


class AdamWithMax(AMSGrad):
    """'Adam' that secretly keeps the AMSGrad max: no longer the method of the theorem."""


@pytest.mark.claim("adaptive.gd-sgd-rates")
def test_gd_rate_check_rejects_overstep():
    rejects(adaptive.test_gd_deterministic_rates, "gradient_descent", GDOverstep)


@pytest.mark.claim("adaptive.gd-sgd-rates")
def test_convex_stochastic_check_rejects_ascent():
    rejects(sgd_rates.test_sgd_convex_stochastic_rate, "sgd", SGDAscent)


@pytest.mark.claim("adaptive.gd-sgd-rates")
def test_nonconvex_stochastic_check_rejects_frozen_parameter():
    rejects(sgd_rates.test_sgd_nonconvex_stochastic_rate, "sgd", SGDUpdatingACopy)


@pytest.mark.claim("adaptive.agd-rates")
@pytest.mark.parametrize("check", [adaptive.test_agd_upper_bound, adaptive.test_agd_on_nesterov_chains],
                         ids=["random-quadratics", "chains"])
def test_agd_checks_reject_missing_momentum(check):
    rejects(check, "accelerated_gradient", AGDWithoutMomentum)


@pytest.mark.claim("adaptive.adagrad-rates")
def test_regret_check_rejects_adagrad_without_accumulation():
    rejects(adaptive.test_adagrad_online_regret_bound, "adagrad", AdaGradWithoutAccumulation)


@pytest.mark.claim("adaptive.adagrad-rates")
@pytest.mark.parametrize("check", [adaptive.test_adagrad_norm_adapts_to_smoothness,
                                   adaptive.test_adagrad_norm_nonconvex_deterministic], ids=["convex", "nonconvex"])
def test_adaptivity_checks_reject_fixed_denominator(check):
    rejects(check, "adagrad_norm", AdaGradNormFixedDenominator)


@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates")
@pytest.mark.parametrize("name, bug, queries", [("accelegrad", AcceleGradUnweighted, 1),
                                                ("unixgrad", UniXGradUnweighted, 2)], ids=["accelegrad", "unixgrad"])
def test_universal_check_rejects_unweighted_averaging(name, bug, queries):
    rejects(adaptive.test_universal_methods_accelerate, name, bug, method=name, queries=queries)


@pytest.mark.claim("adaptive.adam-counterexample")
@pytest.mark.parametrize("name, bug", [("amsgrad", AdamLabelledAMSGrad), ("adagrad", AdaGradWithoutAccumulation),
                                       ("adam", AdamWithMax)], ids=["amsgrad-without-max", "adagrad-no-accumulation",
                                                                     "adam-with-max"])
def test_counterexample_check_rejects(name, bug):
    rejects(adaptive.test_adam_fails_where_amsgrad_and_adagrad_converge, name, bug, C=3.0)


@pytest.mark.claim("adaptive.amsgrad-rates")
def test_amsgrad_rate_check_rejects_adam():
    rejects(adaptive.test_amsgrad_regret_is_sublinear, "amsgrad", AdamLabelledAMSGrad)


@pytest.mark.slow
@pytest.mark.claim("adaptive.gd-sgd-rates")
def test_pep_sandwich_rejects_overstep():
    rejects(adaptive_slow.test_gd_worst_case_below_pep_certificate, "gradient_descent", GDOverstep)


@pytest.mark.slow
@pytest.mark.claim("adaptive.agd-rates")
def test_agd_pep_sandwich_rejects_missing_momentum():
    rejects(adaptive_slow.test_agd_worst_case_below_pep_certificate, "accelerated_gradient", AGDWithoutMomentum)


@pytest.mark.slow
@pytest.mark.claim("adaptive.adam-counterexample")
def test_search_finds_nothing_for_amsgrad_labelled_adam():
    rejects(adaptive_slow.test_hypothesis_finds_adam_counterexample, "adam", AdamWithMax)


@pytest.mark.slow
@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates")
@pytest.mark.parametrize("name, bug", [("accelegrad", AcceleGradFrozenStep), ("unixgrad", UniXGradFrozenStep)],
                         ids=["accelegrad", "unixgrad"])
def test_stochastic_universal_check_rejects_frozen_step(name, bug):
    rejects(adaptive_slow.test_universal_methods_stochastic_rate, name, bug, method=name)


@pytest.mark.slow
@pytest.mark.claim("adaptive.adagrad-rates")
def test_adagrad_norm_stochastic_check_rejects_fixed_denominator():
    rejects(adaptive_slow.test_adagrad_norm_nonconvex_stochastic, "adagrad_norm", AdaGradNormFixedDenominator)


@pytest.mark.slow
@pytest.mark.claim("adaptive.amsgrad-rates")
def test_amsgrad_nonconvex_check_rejects_ignored_schedule():
    rejects(adaptive_slow.test_amsgrad_nonconvex_stochastic, "amsgrad", AMSGradIgnoringSchedule)


# ====================================================== near misses and wrong worlds
import numpy as np  # noqa: E402

import checks.test_03_worst_cases as worst_cases  # noqa: E402
from checks.quality.near_misses import optimizer_with_scaled_step  # noqa: E402
from checks.support import fails  # noqa: E402


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


class UniXGradWeights06(UniXGrad):
    """UniXGrad with weights alpha_t = t^0.6 instead of t (in the averages and the step sizes)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            D, R = 2 * group["radius"], group["radius"]
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    y0 = _project_ball(p.detach().clone(), R)
                    st.update(t=1, phase="M", y=y0, xsum=torch.zeros_like(p), asum=1.0,
                              sq=torch.zeros_like(_row_sq_norm(p)), solution=y0.clone())
                a = st["t"] ** 0.6
                if st["phase"] == "M":
                    st["M"] = p.grad.clone()
                    st["eta"] = group["lr"] * 2 * D / (1 + st["sq"]).sqrt()
                    st["x"] = _project_ball(st["y"] - a * st["eta"] * st["M"], R)
                    st["solution"] = (st["xsum"] + a * st["x"]) / st["asum"]
                    p.copy_(st["solution"])
                    st["phase"] = "g"
                else:
                    st["y"] = _project_ball(st["y"] - a * st["eta"] * p.grad, R)
                    st["sq"] = st["sq"] + a * a * _row_sq_norm(p.grad - st["M"])
                    st["xsum"] += a * st["x"]
                    st["t"] += 1
                    a_next = st["t"] ** 0.6
                    st["asum"] += a_next
                    p.copy_((a_next * st["y"] + st["xsum"]) / st["asum"])
                    st["phase"] = "M"


def _near(check, margin):
    return pytest.mark.control("near_miss", of=check, margin=margin)


# ---- adaptive.gd-sgd-rates
@pytest.mark.claim("adaptive.gd-sgd-rates")
@_near(adaptive.test_gd_deterministic_rates, "the bounds' constants x 0.99 (the nonconvex one is attained at k = 1)")
def test_gd_rate_check_rejects_constants_1_percent_small():
    fails(adaptive.test_gd_deterministic_rates, quad=adaptive.WORST_DIRECTION, f=adaptive.QUADRATIC_AS_COSINE_SUM,
          bound_scale=0.99)


@pytest.mark.claim("adaptive.gd-sgd-rates")
@_near(sgd_rates.test_sgd_convex_stochastic_rate, "E g^2 10 % above the assumed G^2 (average 1.05 x the bound)")
def test_convex_stochastic_check_rejects_second_moment_10_percent_high():
    fails(sgd_rates.test_sgd_convex_stochastic_rate, second_moment_factor=1.1)


@pytest.mark.claim("adaptive.gd-sgd-rates")
@_near(sgd_rates.test_sgd_nonconvex_stochastic_rate, "noise variance 10 % above sigma^2")
def test_nonconvex_stochastic_check_rejects_variance_10_percent_high():
    fails(sgd_rates.test_sgd_nonconvex_stochastic_rate, second_moment_factor=1.1)


@pytest.mark.claim("adaptive.gd-sgd-rates")
@_near(worst_cases.test_gd_worst_case_rate_over_three_decades, "GD step 0.95/L")
def test_gd_worst_case_check_rejects_step_5_percent_off():
    rejects(worst_cases.test_gd_worst_case_rate_over_three_decades, "gradient_descent",
            optimizer_with_scaled_step("gradient_descent", 0.95))


@pytest.mark.claim("adaptive.gd-sgd-rates")
def test_gd_worst_case_check_rejects_overstep():
    rejects(worst_cases.test_gd_worst_case_rate_over_three_decades, "gradient_descent", GDOverstep)


@pytest.mark.slow
@pytest.mark.claim("adaptive.gd-sgd-rates")
@_near(adaptive_slow.test_gd_worst_case_below_pep_certificate, "GD step 0.95/L (+4.5 % on the Drori-Teboulle instance)")
def test_pep_sandwich_rejects_step_5_percent_off():
    rejects(adaptive_slow.test_gd_worst_case_below_pep_certificate, "gradient_descent",
            optimizer_with_scaled_step("gradient_descent", 0.95))


# ---- adaptive.agd-rates
@pytest.mark.claim("adaptive.agd-rates")
@_near(adaptive.test_agd_upper_bound, "the bound's constant x 0.05")
def test_agd_bound_check_rejects_a_smaller_constant():
    fails(adaptive.test_agd_upper_bound, quad=adaptive.Quadratic.diagonal(adaptive.POWER_LAW.lam[:50],
                                                                           adaptive.POWER_LAW.x_star[:50]),
          bound_scale=0.05)


@pytest.mark.claim("adaptive.agd-rates")
@_near(adaptive.test_agd_on_nesterov_chains, "the upper bound's constant x 0.12 (the chains reach 0.16 of it)")
def test_chain_check_rejects_a_smaller_upper_constant():
    fails(adaptive.test_agd_on_nesterov_chains, upper_scale=0.12)


@pytest.mark.claim("adaptive.agd-rates")
@pytest.mark.control("wrong_world", of=adaptive.test_agd_on_nesterov_chains,
                     margin="one fixed chain (n = 1281) for every k: not a lower-bound instance for k << n")
def test_chain_check_rejects_a_fixed_chain():
    fails(adaptive.test_agd_on_nesterov_chains, chain_size=1281)


@pytest.mark.claim("adaptive.agd-rates")
@_near(worst_cases.test_agd_worst_quadratic_rate, "AGD step 0.95/L")
def test_agd_worst_quadratic_check_rejects_step_5_percent_off():
    rejects(worst_cases.test_agd_worst_quadratic_rate, "accelerated_gradient",
            optimizer_with_scaled_step("accelerated_gradient", 0.95))


@pytest.mark.claim("adaptive.agd-rates")
def test_agd_worst_quadratic_check_rejects_missing_momentum():
    rejects(worst_cases.test_agd_worst_quadratic_rate, "accelerated_gradient", AGDWithoutMomentum)


@pytest.mark.slow
@pytest.mark.claim("adaptive.agd-rates")
@_near(adaptive_slow.test_agd_worst_case_below_pep_certificate, "AGD step 0.95/L (+4.8 % over the certificate)")
def test_agd_pep_sandwich_rejects_step_5_percent_off():
    rejects(adaptive_slow.test_agd_worst_case_below_pep_certificate, "accelerated_gradient",
            optimizer_with_scaled_step("accelerated_gradient", 0.95))


# ---- adaptive.adagrad-rates
@pytest.mark.claim("adaptive.adagrad-rates")
@_near(adaptive.test_adagrad_online_regret_bound, "the regret bound's constant x 0.1")
def test_regret_check_rejects_a_smaller_constant():
    fails(adaptive.test_adagrad_online_regret_bound, dim=2, eta=2**0.5, drift=0.2, bound_scale=0.1)


@pytest.mark.claim("adaptive.adagrad-rates")
@_near(adaptive.test_adagrad_norm_adapts_to_smoothness, "a step decaying like k^-0.2 on top (rate T^-0.8)")
def test_adaptivity_check_rejects_rate_t_minus_0_8():
    rejects(adaptive.test_adagrad_norm_adapts_to_smoothness, "adagrad_norm", ADAGRAD_NORM_SLOWER)


@pytest.mark.claim("adaptive.adagrad-rates")
@_near(adaptive.test_adagrad_norm_nonconvex_deterministic, "steps decaying like 1/k (a stalled method)")
def test_nonconvex_adagrad_check_rejects_stalled_steps():
    rejects(adaptive.test_adagrad_norm_nonconvex_deterministic, "adagrad_norm", ADAGRAD_NORM_STALLED)


@pytest.mark.slow
@pytest.mark.claim("adaptive.adagrad-rates")
@_near(adaptive_slow.test_adagrad_norm_nonconvex_stochastic, "a step growing like k^0.2 on top (floor ~ N^-0.3)")
def test_stochastic_adagrad_check_rejects_growing_steps():
    rejects(adaptive_slow.test_adagrad_norm_nonconvex_stochastic, "adagrad_norm", ADAGRAD_NORM_GROWING)


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


# ---- adaptive.amsgrad-rates
@pytest.mark.claim("adaptive.amsgrad-rates")
@_near(adaptive.test_amsgrad_regret_is_sublinear, "a step decaying like t^-0.4 (regret slope ~0.55)")
def test_amsgrad_regret_check_rejects_slower_step():
    rejects(adaptive.test_amsgrad_regret_is_sublinear, "amsgrad", AMSGRAD_SLOWER)


@pytest.mark.claim("adaptive.amsgrad-rates")
@pytest.mark.control("wrong_world", of=adaptive.test_amsgrad_regret_is_sublinear,
                     margin="Adam (no max) on the same sequences: linear regret")
def test_amsgrad_regret_check_rejects_adam_world():
    rejects(adaptive.test_amsgrad_regret_is_sublinear, "amsgrad", AdamLabelledAMSGrad)


@pytest.mark.slow
@pytest.mark.claim("adaptive.amsgrad-rates")
@_near(adaptive_slow.test_amsgrad_nonconvex_stochastic, "a constant step (the schedule's exponent 0 for 1/2)")
def test_amsgrad_nonconvex_check_rejects_constant_step():
    rejects(adaptive_slow.test_amsgrad_nonconvex_stochastic, "amsgrad", AMSGradIgnoringSchedule)
