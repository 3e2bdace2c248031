"""Controls of the SEG/SEG+/BC-SEG+ update-rule conformance (checks/test_11_update_rules.py):
planted bugs that keep each method's mean behaviour (a shared sample, a damped
extrapolation, a fresh sample in the bias correction) and near misses (gamma x (1 + 1e-8))."""
from __future__ import annotations

import numpy as np

import checks.test_11_update_rules as rules
from checks.quality.near_misses import RuleControls, method_with_scaled_step, update_rule_controls


def seg_one_sample(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG evaluating both steps with one sample zeta (zetabar = zeta): unbiased still, correlated."""
    P = projection or (lambda u: u)
    z, out = np.array(z0, float), [np.array(z0, float)]
    for k in range(num_steps):
        a, b = schedule(k)
        zeta = oracle.sample(rng, len(z))
        z = P(z - a * gamma * oracle(P(z - b * gamma * oracle(z, zeta)), zeta))
        out.append(z)
    return np.stack(out)


def seg_plus_damped_extrapolation(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG+ whose extrapolation also carries alpha_k (that is SEG with beta_k = alpha_k, not SEG+)."""
    z, out = np.array(z0, float), [np.array(z0, float)]
    for k in range(num_steps):
        a, _ = schedule(k)
        h = z - a * gamma * oracle(z, oracle.sample(rng, len(z)))
        bar = h if projection is None else projection(h)
        z = z - a * gamma * oracle(bar, oracle.sample(rng, len(z))) if projection is None else \
            z + a * (bar - gamma * oracle(bar, oracle.sample(rng, len(z))) - h)
        out.append(z)
    return np.stack(out)


def bc_seg_plus_fresh_correction_sample(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """BC-SEG+ whose correction H(z_{k-1}, .) uses a *fresh* sample: unbiased, no variance reduction."""
    z = np.array(z0, float)
    h_prev, z_prev, out = z.copy(), z.copy(), [z.copy()]
    for k in range(num_steps):
        a, _ = schedule(k)
        zeta = oracle.sample(rng, len(z))
        h = z - gamma * oracle(z, zeta) + (1 - a) * (h_prev - z_prev + gamma * oracle(z_prev, oracle.sample(rng, len(z))))
        h_prev, z_prev = h, z
        if projection is None:
            z = z - a * gamma * oracle(h, oracle.sample(rng, len(z)))
        else:
            bar = projection(h)
            z = z + a * (bar - gamma * oracle(bar, oracle.sample(rng, len(z))) - h)
        out.append(z)
    return np.stack(out)


RULES = [
    RuleControls("stochastic_extragradient", rules.test_seg_update_rule, seg_one_sample, method_with_scaled_step,
                 "seg.two-timescale", "gamma"),
    RuleControls("stochastic_extragradient_plus", rules.test_seg_plus_update_rule, seg_plus_damped_extrapolation,
                 method_with_scaled_step, "segplus.affine", "gamma"),
    RuleControls("bias_corrected_seg_plus", rules.test_bc_seg_plus_update_rule, bc_seg_plus_fresh_correction_sample,
                 method_with_scaled_step, "bcsegplus.convergence", "gamma")]
test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8 = \
    update_rule_controls(RULES)
