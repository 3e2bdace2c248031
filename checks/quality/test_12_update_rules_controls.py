"""Controls of the mixed-Nash update-rule conformance (checks/test_12_update_rules.py): planted
bugs (alternating mirror descent, which converges too; a projection before the step; a Langevin
step that does not shrink with eta t) and near misses (a step parameter x (1 + 1e-8))."""
from __future__ import annotations

import functools

import numpy as np

import checks.test_12_update_rules as rules
from checks.quality.near_misses import RuleControls, method_with_scaled_step, update_rule_controls


def alternating_mirror_descent(payoff, num_steps, eta, *, record=None):
    """Multiplicative weights where q reacts to the *new* p (Gauss-Seidel): also converges on average."""
    G = np.asarray(payoff, float)
    G = G[None] if G.ndim == 2 else G
    eta_p, eta_q = (eta, eta) if np.ndim(eta) == 0 else eta
    B, m, n = G.shape
    p, q = np.full((B, m), 1 / m), np.full((B, n), 1 / n)
    sp, sq, steps = np.zeros((B, m)), np.zeros((B, n)), sorted(record or range(1, num_steps + 1))
    out_p, out_q = [], []
    for t in range(1, num_steps + 1):
        sp, sq = sp + p, sq + q
        if t in steps:
            out_p.append(sp / t)
            out_q.append(sq / t)
        p = p * np.exp(-eta_p * np.einsum("bij,bj->bi", G, q))
        p /= p.sum(-1, keepdims=True)
        q = q * np.exp(eta_q * np.einsum("bij,bi->bj", G, p))
        q /= q.sum(-1, keepdims=True)
    return np.stack(out_p), np.stack(out_q)


def gda_projecting_first(operator, z0, alpha, num_steps, *, low, high, record=None):
    """z_{k+1} = P(z_k) - alpha V(P(z_k)): projects before the step instead of after it."""
    z, out, steps = np.array(z0, float), [], sorted(record or range(1, num_steps + 1))
    for k in range(1, num_steps + 1):
        p = np.clip(z, low, high)
        z = p - alpha * operator(p)
        if k in steps:
            out.append(z)
    return np.stack(out)


def langevin_without_annealing(payoff, x0, y0, T, eta, inner, step, rng, *, record=None):
    """MD + Langevin whose inner step stays `step` instead of step/max(1, eta t)."""
    x, y = np.array(x0, float), np.array(y0, float)
    sum_g, sum_f = np.zeros(payoff.g(y[:1]).shape[-1]), np.zeros(payoff.f(x[:1]).shape[-1])
    out_x, out_y, steps = [], [], sorted(record or range(1, T + 1))
    for t in range(1, T + 1):
        sum_g, sum_f = sum_g + payoff.g(y).mean(0), sum_f + payoff.f(x).mean(0)
        for _ in range(inner):
            noise = rng.standard_normal(x.shape)
            grad = np.einsum("krd,r->kd", payoff.grad_f(x), eta * sum_g)
            x = np.clip(x - step * grad + np.sqrt(2 * step) * noise, payoff.low, payoff.high)
        for _ in range(inner):
            noise = rng.standard_normal(y.shape)
            grad = -np.einsum("krd,r->kd", payoff.grad_g(y), eta * sum_f)
            y = np.clip(y - step * grad + np.sqrt(2 * step) * noise, payoff.low, payoff.high)
        if t in steps:
            out_x.append(x)
            out_y.append(y)
    return np.stack(out_x), np.stack(out_y)


RULES = [
    RuleControls("entropic_mirror_descent", rules.test_entropic_mirror_descent_update_rule, alternating_mirror_descent,
                 method_with_scaled_step, "mixed.md-finite-games", "eta"),
    RuleControls("projected_gradient_descent_ascent", rules.test_projected_gda_update_rule, gda_projecting_first,
                 method_with_scaled_step, "mixed.escaping-traps", "alpha"),
    RuleControls("mirror_descent_langevin", rules.test_mirror_descent_langevin_update_rule, langevin_without_annealing,
                 functools.partial(method_with_scaled_step, argument=6), "mixed.md-langevin", "the Langevin step")]
test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8 = \
    update_rule_controls(RULES)
