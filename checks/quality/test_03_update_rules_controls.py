"""Controls of the rate-table methods' update-rule conformance (checks/test_03_update_rules.py):
for each method a planted bug (a changed rule whose rate survives, so that only the
conformance check sees it) and a near miss (the step size off by a relative 1e-8)."""
from __future__ import annotations

import torch

import checks.test_03_update_rules as rules
from algorithms.adaptive import AcceleGrad, AcceleratedGradient, AdaGrad, AdaGradNorm, Adam, AMSGrad, UniXGrad
from algorithms.adaptive import _project_ball, _row_sq_norm
from checks.quality.near_misses import RuleControls, optimizer_with_scaled_step, update_rule_controls


class AGDMomentumShifted(AcceleratedGradient):
    """Momentum k/(k + 3) instead of (k - 1)/(k + 2) (an index shift; still O(1/k^2))."""

    def update(self, p, grad, st, group):
        if not st:
            st["k"], st["solution"] = 0, p.detach().clone()
        st["k"] += 1
        x_new = p - group["lr"] * grad
        p.copy_(x_new + st["k"] / (st["k"] + 3) * (x_new - st["solution"]))
        st["solution"] = x_new


class AdaGradEpsInsideRoot(AdaGrad):
    """x+ = x - eta g/sqrt(s + delta) instead of g/(delta + sqrt(s))."""

    def update(self, p, grad, st, group):
        st.setdefault("sum", torch.zeros_like(p)).addcmul_(grad, grad)
        p.addcdiv_(grad, (st["sum"] + group["eps"]).sqrt(), value=-group["lr"])


class AdaGradNormMeanSquare(AdaGradNorm):
    """b^2 accumulates ||g||^2 / d (the mean square) instead of ||g||^2."""

    def update(self, p, grad, st, group):
        if not st:
            st["b2"] = torch.full_like(_row_sq_norm(p), group["b0"] ** 2)
        st["b2"] = st["b2"] + _row_sq_norm(grad) / p.shape[-1]
        b = st["b2"].sqrt()
        p.sub_(group["lr"] * grad / torch.where(b > 0, b, torch.ones_like(b)))


class AdamEpsInsideRoot(Adam):
    """mhat/sqrt(vhat + eps) instead of mhat/(sqrt(vhat) + eps)."""

    def update(self, p, grad, st, group):
        b1, b2 = group["betas"]
        if not st:
            st["k"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
        st["k"] += 1
        st["m"].mul_(b1).add_(grad, alpha=1 - b1)
        st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
        v_hat = st["v"] / (1 - b2 ** st["k"])
        p.addcdiv_(st["m"] / (1 - b1 ** st["k"]), (v_hat + group["eps"]).sqrt(), value=-group["lr"])


class AMSGradMaxOfDebiased(AMSGrad):
    """The max taken over the debiased v_t/(1 - b2^t): neither Algorithm 2 nor its debiased form."""

    def update(self, p, grad, st, group):
        b1, b2 = group["betas"]
        if not st:
            st["k"], st["m"], st["v"], st["vhat"] = 0, *(torch.zeros_like(p) for _ in range(3))
        st["k"] += 1
        st["m"].mul_(b1).add_(grad, alpha=1 - b1)
        st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
        torch.maximum(st["vhat"], st["v"] / (1 - b2 ** st["k"]), out=st["vhat"])
        p.addcdiv_(st["m"], st["vhat"].sqrt().add_(group["eps"]), value=-group["lr"])


class AcceleGradProjectedY(AcceleGrad):
    """y_{t+1} = Pi_K(x_{t+1} - eta_t g_t): the y-sequence projected too (not in Alg. 1)."""

    def update(self, p, grad, st, group):
        super().update(p, grad, st, group)
        st["ysum"] -= self.weight(st["t"] - 1) * st["y"]
        st["y"] = _project_ball(st["y"], group["radius"])
        st["ysum"] += self.weight(st["t"] - 1) * st["y"]
        st["solution"] = st["ysum"] / st["asum"]
        tau = 1.0 / self.weight(st["t"])
        p.copy_(tau * st["z"] + (1 - tau) * st["y"])


class UniXGradUnsquaredWeights(UniXGrad):
    """The step-size sum accumulates alpha_s ||g_s - M_s||^2 instead of alpha_s^2 ||g_s - M_s||^2."""

    def update(self, p, grad, st, group):
        if not (st and st["phase"] == "g"):
            return super().update(p, grad, st, group)
        t, before = st["t"], st["sq"].clone()
        super().update(p, grad, st, group)
        st["sq"] = before + t * _row_sq_norm(grad - st["M"])


RULES = [RuleControls(name, check, bug, optimizer_with_scaled_step, claim) for name, check, bug, claim in [
    ("accelerated_gradient", rules.test_agd_update_rule, AGDMomentumShifted, "adaptive.agd-rates"),
    ("adagrad", rules.test_adagrad_update_rule, AdaGradEpsInsideRoot, "adaptive.adagrad-rates"),
    ("adagrad_norm", rules.test_adagrad_norm_update_rule, AdaGradNormMeanSquare, "adaptive.adagrad-rates"),
    ("adam", rules.test_adam_update_rule, AdamEpsInsideRoot, "adaptive.adam-counterexample"),
    ("amsgrad", rules.test_amsgrad_update_rule, AMSGradMaxOfDebiased, "adaptive.amsgrad-rates"),
    ("accelegrad", rules.test_accelegrad_update_rule, AcceleGradProjectedY, "adaptive.accelegrad-unixgrad-rates"),
    ("unixgrad", rules.test_unixgrad_update_rule, UniXGradUnsquaredWeights, "adaptive.accelegrad-unixgrad-rates")]]
test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8 = \
    update_rule_controls(RULES)
