"""Controls of the EG+/CEG+/CurvatureEG+ update-rule conformance (checks/test_10_update_rules.py):
a planted bug per method (a changed rule with the same convergence story) and a near miss
(a step parameter off by a relative 1e-8)."""
from __future__ import annotations


import numpy as np

import checks.test_10_update_rules as rules
from algorithms import registry
from checks.conformance import NEAR_MISS
from checks.quality.near_misses import RuleControls, method_with_scaled_step, update_rule_controls


def eg_plus_damped_extrapolation(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5):
    """EG+ with the damping on the extrapolation instead of the update: zbar = z - a g V(z), z+ = z - g V(zbar)."""
    g = np.asarray(alpha, float)
    g = g[:, None] if g.ndim == 1 else g
    z, out = np.array(z0, float), [np.array(z0, float)]
    for _ in range(num_steps):
        z = z - g * operator(z - damping * g * operator(z))
        out.append(z)
    return np.stack(out)


def ceg_plus_projected_update(operator, z0, alpha, num_steps, *, z_prev=None, damping=0.5, prox=None):
    """CEG+ that also projects the update, z+ = P(z + a(H zbar - H z)) (feasible iterates, another method)."""
    traj = [np.array(z0, float)]
    for _ in range(num_steps):
        step = registry.reference("constrained_extragradient_plus")(operator, traj[-1], alpha, 1, damping=damping,
                                                                     prox=prox)[-1]
        traj.append(step if prox is None else prox(step, alpha))
    return np.stack(traj)


def curvature_eg_plus_sigma_half(operator, z0, alpha, num_steps, **kwargs):
    """CurvatureEG+ with sigma = -gamma/2 exactly instead of -0.99 gamma/2."""
    kwargs["sigma_fraction"] = -0.5
    return registry.reference("curvature_extragradient_plus")(operator, z0, alpha, num_steps, **kwargs)


def curvature_eg_plus_relaxation_off(operator, z0, alpha, num_steps, *, relaxation=1.0, **kwargs):
    """The near miss: the relaxation lambda times (1 + 1e-8) (the step cap need not bind)."""
    return registry.reference("curvature_extragradient_plus")(operator, z0, alpha, num_steps,
                                                              relaxation=relaxation * (1 + NEAR_MISS), **kwargs)


STEP = "step (gamma; CurvatureEG+: relaxation)"
RULES = [
    RuleControls("extragradient_plus", rules.test_eg_plus_update_rule, eg_plus_damped_extrapolation,
                 method_with_scaled_step, "wmvi.egplus-ddj", STEP),
    RuleControls("constrained_extragradient_plus", rules.test_ceg_plus_update_rule, ceg_plus_projected_update,
                 method_with_scaled_step, "wmvi.cegplus-rho-1-2L", STEP),
    RuleControls("curvature_extragradient_plus", rules.test_curvature_eg_plus_update_rule,
                 curvature_eg_plus_sigma_half, lambda name: curvature_eg_plus_relaxation_off,
                 "wmvi.adaptive-handles-39", STEP)]
test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8 = \
    update_rule_controls(RULES)
