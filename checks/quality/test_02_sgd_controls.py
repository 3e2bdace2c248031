"""Planted bugs that the SGD / PSGD / SGLD checks (catalogue 2.1) must reject.

Each bug is a torch.optim-style optimiser (or a schedule) that looks plausible
and is wrong in one place; it is substituted for a registry name and the *same*
check is run; the control passes only if the check fails.
"""
from __future__ import annotations

import pytest
import torch

import checks.test_02_sgd as sgd_checks
import checks.test_02_sgd_convergence as convergence_checks
import checks.test_02_sgd_saddles as saddle_checks
from algorithms.sgd import polynomial_step, unit_sphere_like
from checks.support import rejects


class _Plain(torch.optim.Optimizer):
    """x+ = x - lr * direction(p, state, group); subclasses give the direction."""

    def __init__(self, params, lr=1e-2, generator=None, **_):
        super().__init__(params, dict(lr=lr))
        self.generator = generator

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, self.state[p], group)

    def update(self, p, state, group):
        p.add_(p.grad, alpha=-group["lr"])


class SGLDWithSqrtAlphaNoise(_Plain):
    """SGLD with noise sqrt(alpha) xi instead of sqrt(2 alpha) xi (half the temperature)."""

    def update(self, p, state, group):
        xi = torch.randn(p.shape, generator=self.generator, dtype=p.dtype)
        p.add_(p.grad, alpha=-group["lr"]).add_(xi, alpha=group["lr"] ** 0.5)


class PSGDWithBallNoise(_Plain):
    """PSGD whose perturbation is uniform in the unit *ball* (radius U^(1/d)), not on the sphere."""

    def update(self, p, state, group):
        xi = unit_sphere_like(p, self.generator)
        r = torch.rand((p.shape[0], 1), generator=self.generator, dtype=p.dtype) ** (1 / p.shape[1])
        p.add_(p.grad + r * xi, alpha=-group["lr"])


class PSGDWithoutPerturbation(_Plain):
    """PSGD that forgot its perturbation: plain gradient descent."""


class PSGDNoiseOnlyAlongX(_Plain):
    """PSGD whose perturbation lives on the first coordinate only (+-1): bounded, but
    not exciting in the unstable direction y."""

    def update(self, p, state, group):
        xi = torch.zeros_like(p)
        xi[:, 0] = torch.randint(0, 2, (p.shape[0],), generator=self.generator).to(p.dtype) * 2 - 1
        p.add_(p.grad + xi, alpha=-group["lr"])


class GDOverstep(_Plain):
    """Gradient descent that applies 2.2 times the requested step."""

    def update(self, p, state, group):
        p.add_(p.grad, alpha=-2.2 * group["lr"])


class GDAscent(_Plain):
    """Gradient descent with the sign of the step flipped."""

    def update(self, p, state, group):
        p.add_(p.grad, alpha=group["lr"])


class SGDDecayingItsStep(_Plain):
    """'Constant-step' SGD that silently divides its step by the iteration count."""

    def update(self, p, state, group):
        state["k"] = state.get("k", 0) + 1
        p.add_(p.grad, alpha=-group["lr"] / state["k"])


class SGDWithDither(_Plain):
    """SGD that adds its own exploration noise 1e-3 N(0, 1) to every step."""

    def update(self, p, state, group):
        p.add_(p.grad, alpha=-group["lr"]).add_(torch.randn_like(p), alpha=1e-3)


class SGDWithMomentum(_Plain):
    """SGD with a left-over heavy-ball momentum 0.5."""

    def update(self, p, state, group):
        buf = state.setdefault("buf", torch.zeros_like(p))
        buf.mul_(0.5).add_(p.grad)
        p.add_(buf, alpha=-group["lr"])


class SGDWithFrozenStep(_Plain):
    """SGD that reads the step size once, at construction, and ignores schedule updates."""

    def update(self, p, state, group):
        lr = state.setdefault("lr0", group["lr"])
        p.add_(p.grad, alpha=-lr)


def sqrt_step(k, *, gamma, m=1.0, p=1.0):
    """The 'O(1/k)' schedule implemented as gamma/sqrt(k + m) (p ignored)."""
    return polynomial_step(k, gamma=gamma, m=m, p=0.5)


@pytest.mark.claim("sgd.update-rules")
def test_sgld_check_rejects_sqrt_alpha_noise():
    rejects(sgd_checks.test_sgld_variance, "sgld", SGLDWithSqrtAlphaNoise)


@pytest.mark.claim("sgd.update-rules")
def test_psgd_check_rejects_ball_noise():
    rejects(sgd_checks.test_psgd_perturbation_on_unit_sphere, "psgd", PSGDWithBallNoise)


@pytest.mark.claim("sgd.q1-gd-constant-step")
def test_gd_descent_check_rejects_overstep():
    rejects(sgd_checks.test_gd_constant_step_descent, "gradient_descent", GDOverstep)


@pytest.mark.claim("sgd.q1-constant-step-no-convergence")
def test_noise_floor_check_rejects_hidden_step_decay():
    rejects(sgd_checks.test_constant_step_noise_floor, "sgd", SGDDecayingItsStep)


@pytest.mark.claim("sgd.q1-constant-step-no-convergence")
def test_interpolation_check_rejects_dither():
    rejects(sgd_checks.test_interpolation_counterexample, "sgd", SGDWithDither)


@pytest.mark.claim("sgd.q3-constant-step-eps-close")
def test_eps_close_check_rejects_momentum():
    rejects(sgd_checks.test_constant_step_reaches_eps_in_o_one_over_eps_squared, "sgd", SGDWithMomentum)


@pytest.mark.claim("sgd.q3-thm4-rate")
@pytest.mark.parametrize("check", [sgd_checks.test_thm4_corrected_rate, sgd_checks.test_thm4_as_printed_fails_for_small_gamma],
                         ids=["corrected", "as-printed"])
def test_thm4_checks_reject_sqrt_schedule(check):
    rejects(check, "polynomial_step", sqrt_step)


@pytest.mark.claim("sgd.q3-thm4-rate")
def test_thm4_check_rejects_momentum_sgd():
    rejects(sgd_checks.test_thm4_corrected_rate, "sgd", SGDWithMomentum)


@pytest.mark.claim("sgd.q2-gd-avoids-strict-saddles")
def test_saddle_check_rejects_ascent():
    rejects(saddle_checks.test_gd_avoids_strict_saddles, "gradient_descent", GDAscent)


@pytest.mark.claim("sgd.q2-psgd-escape-time")
def test_escape_check_rejects_missing_perturbation():
    rejects(saddle_checks.test_psgd_escape_time, "psgd", PSGDWithoutPerturbation)


@pytest.mark.claim("sgd.q2-thm3-avoid-saddles-as")
def test_thm3_check_rejects_noise_without_excitation():
    rejects(saddle_checks.test_sgd_with_exciting_noise_leaves_the_saddle, "psgd", PSGDNoiseOnlyAlongX, kappa=1.0)


@pytest.mark.slow
@pytest.mark.claim("sgd.q1-vanishing-step-bounded")
def test_robbins_monro_check_rejects_frozen_step():
    rejects(convergence_checks.test_robbins_monro_convergence, "sgd", SGDWithFrozenStep, p=0.8)


@pytest.mark.slow
@pytest.mark.claim("sgd.q1-thm1-no-boundedness")
def test_thm1_check_rejects_frozen_step():
    rejects(convergence_checks.test_thm1_without_boundedness, "sgd", SGDWithFrozenStep, p=0.9)


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
def test_cooldown_check_rejects_frozen_step():
    rejects(convergence_checks.test_cooldown_proxy_on_digits, "sgd", SGDWithFrozenStep)


# ------------------------------------------------- sgd.cooldown-helps on a small network
def outcome_of(check, /, **arguments) -> str:
    """What ``check`` concludes on ``arguments``: ``failed`` (an AssertionError) or its verdict on
    pass (verified / inconclusive / refuted). The network check decides three ways, so a control
    asks that a wrong world is *not verified*, rather than that the check raises."""
    from algorithms import registry
    from reports.evidence import Evidence

    evidence = Evidence()
    try:
        check(evidence=evidence, algorithm=registry.get, device="cpu", **arguments)
    except AssertionError:
        return "failed"
    return evidence.on_pass


def cooldown_that_heats_up(k, *, alpha, cutoff, period):
    """BUG: the step grows after the cut-off, alpha (1 + (k - k0)/period), instead of decaying."""
    import numpy as np

    k = np.asarray(k, dtype=float)
    return np.where(k < cutoff, alpha, alpha * (1.0 + np.maximum(k - cutoff, 0.0) / period))


def slight_warm_up(k, *, alpha, cutoff, period):
    """NEAR MISS: after the cut-off the step rises slowly, alpha (1 + (k - k0)/(100 period)) (<= 2.4% by the
    end of the proxy's 8 epochs): the claim violated by a small margin."""
    return cooldown_that_heats_up(k, alpha=alpha, cutoff=cutoff, period=100 * period)


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
@pytest.mark.control("planted_bug", of=convergence_checks.test_cooldown_on_a_small_network,
                     margin="a schedule whose step grows after the cut-off")
def test_network_cooldown_check_does_not_verify_a_heating_schedule():
    from algorithms import registry

    with registry.substituted("cooldown_step", cooldown_that_heats_up):  # fails by a wide margin: 4 seeds suffice
        assert outcome_of(convergence_checks.test_cooldown_on_a_small_network, seeds=4) != "verified"


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
@pytest.mark.control("near_miss", of=convergence_checks.test_cooldown_on_a_small_network,
                     margin="a 'cool-down' that raises the step by <= 12% by the end (claim violated by a small "
                            "margin; paired t-tests resolve the sign of the gain)")
def test_network_cooldown_check_does_not_verify_a_slight_warm_up():
    from algorithms import registry

    with registry.substituted("cooldown_step", slight_warm_up):
        assert outcome_of(convergence_checks.test_cooldown_on_a_small_network) != "verified"


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
@pytest.mark.control("wrong_world", of=convergence_checks.test_cooldown_on_a_small_network,
                     margin="alpha = 0.01: far from the noise floor, cooling down only slows training")
def test_network_cooldown_check_does_not_verify_without_a_noise_floor():
    # the regime precondition (no descent after the first cut-off) already refuses this world
    assert outcome_of(convergence_checks.test_cooldown_on_a_small_network, alpha=0.01, seeds=4) != "verified"


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
@pytest.mark.control("near_miss", of=convergence_checks.test_cooldown_proxy_on_digits,
                     margin="a 'cool-down' that raises the step by <= 2.4% (a paired t-test detects the sign of "
                            "the gain at any size: its resolution is the sign)")
def test_cooldown_proxy_rejects_a_slight_warm_up():
    rejects(convergence_checks.test_cooldown_proxy_on_digits, "cooldown_step", slight_warm_up)
