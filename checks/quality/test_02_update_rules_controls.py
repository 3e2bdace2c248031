"""Controls of the SGD/PSGD/SGLD update-rule conformance (checks/test_02_update_rules.py):
planted bugs (a changed rule whose asymptotic behaviour survives) and near misses (a step
size off by a relative 1e-8; SGLD's noise variance 10 % off)."""
from __future__ import annotations

import pytest
import torch

import checks.test_02_update_rules as rules
from algorithms.sgd import SGD, SGLD, PerturbedSGD
from checks.quality.near_misses import RuleControls, optimizer_with_scaled_step, update_rule_controls
from checks.support import rejects


class SGDWithSmallMomentum(SGD):
    """Heavy ball with momentum 0.1 left in: x+ = x - gamma (g + 0.1 buf) (same rates, other rule)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                buf = self.state[p].setdefault("buf", torch.zeros_like(p))
                buf.mul_(0.1).add_(p.grad)
                p.add_(buf, alpha=-group["lr"])


class PSGDGaussianNoise(PerturbedSGD):
    """xi = N(0, I)/sqrt(d): E||xi||^2 = 1 but not on the sphere (escapes saddles just the same)."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                xi = torch.randn(p.shape, generator=self.generator, dtype=p.dtype) / p.shape[-1] ** 0.5
                p.add_(p.grad + group["radius"] * xi, alpha=-group["lr"])


class SGLDNoiseScaled(SGLD):
    """SGLD whose noise is sqrt(2 alpha T c) xi: c = 1/2 (the sqrt(alpha) bug, half the temperature:
    still a Langevin sampler, of another Gibbs law) or c = 1.1 (a near miss, variance 10 % off)."""

    variance_factor = 0.5

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            scale = (2.0 * group["lr"] * group["temperature"] * self.variance_factor) ** 0.5
            for p in group["params"]:
                xi = torch.randn(p.shape, generator=self.generator, dtype=p.dtype, device=p.device)
                p.add_(p.grad, alpha=-group["lr"]).add_(xi, alpha=scale)


class SGLDNoiseVariance10PercentHigh(SGLDNoiseScaled):
    variance_factor = 1.1


RULES = [RuleControls("sgd", rules.test_sgd_update_rule, SGDWithSmallMomentum, optimizer_with_scaled_step,
                      "sgd.update-rules", arguments={"name": "sgd"}),
         RuleControls("psgd", rules.test_psgd_update_rule, PSGDGaussianNoise, optimizer_with_scaled_step,
                      "sgd.update-rules"),
         RuleControls("sgld", rules.test_sgld_update_rule, SGLDNoiseScaled, optimizer_with_scaled_step,
                      "sgd.update-rules")]
test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8 = \
    update_rule_controls(RULES)


@pytest.mark.claim("sgd.update-rules")
@pytest.mark.control("near_miss", of=rules.test_sgld_update_rule, margin="noise variance 10 % high (temperature x 1.1)")
def test_sgld_rule_check_rejects_variance_10_percent_off():
    rejects(rules.test_sgld_update_rule, "sgld", SGLDNoiseVariance10PercentHigh)
