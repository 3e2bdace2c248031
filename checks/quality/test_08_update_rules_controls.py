"""Controls of the min-max update-rule conformance (checks/test_08_update_rules.py): planted
bugs whose behaviour on bilinear games survives (OGDA computed as RFBS is the *same map* on
every linear V), and near misses (the step off by a relative 1e-8)."""
from __future__ import annotations

import numpy as np

import checks.test_08_update_rules as rules
from algorithms import registry
from checks.quality.near_misses import RuleControls, method_with_scaled_step, update_rule_controls


def _labelled(reference: str, label: str):
    """The reference ``reference`` substituted for ``label``."""
    impl = registry.reference(reference)

    def method(operator, z0, alpha, num_steps, *, z_prev=None):
        return impl(operator, z0, alpha, num_steps, z_prev=z_prev)

    method.__name__ = f"{reference}_labelled_{label}"
    return method


def gda_slower_y_player(operator, z0, alpha, num_steps, *, z_prev=None):
    """GDA whose y-player steps 1.05 alpha: diverges on bilinear games all the same."""
    a = np.asarray(alpha, float)
    a = a[:, None] if a.ndim == 1 else a
    scale = np.where(np.arange(np.shape(z0)[-1]) < operator.dim_x, 1.0, 1.05)
    z, out = np.array(z0, float), [np.array(z0, float)]
    for _ in range(num_steps):
        z = z - a * scale * operator(z)
        out.append(z)
    return np.stack(out)


def ppm_three_sweeps(operator, z0, alpha, num_steps, *, z_prev=None):
    """PPM whose implicit equation w = z - alpha V(w) is solved by three fixed-point sweeps from w = z
    (error (alpha L)^3; converges like PPM on bilinear games with small steps)."""
    a = np.asarray(alpha, float)
    a = a[:, None] if a.ndim == 1 else a
    z, out = np.array(z0, float), [np.array(z0, float)]
    for _ in range(num_steps):
        w = z
        for _ in range(3):
            w = z - a * operator(w)
        z = w
        out.append(z)
    return np.stack(out)


RULES = [RuleControls(name, check, bug, method_with_scaled_step, claim) for name, check, bug, claim in [
    ("gradient_descent_ascent", rules.test_gda_update_rule, gda_slower_y_player, "bilinear.gda-diverges"),
    ("extragradient", rules.test_eg_update_rule, _labelled("past_extragradient", "extragradient"),
     "bilinear.eg-converges"),
    ("optimistic_gda", rules.test_ogda_update_rule, _labelled("reflected_forward_backward", "optimistic_gda"),
     "bilinear.ogda-converges"),
    ("reflected_forward_backward", rules.test_rfbs_update_rule,
     _labelled("optimistic_gda", "reflected_forward_backward"), "bilinear.rfbs-converges"),
    ("slide_third_formula", rules.test_slide_formula_update_rule,
     _labelled("past_extragradient", "slide_third_formula"), "bilinear.slide-formula-3"),
    ("past_extragradient", rules.test_popov_update_rule, _labelled("slide_third_formula", "past_extragradient"),
     "bilinear.slide-formula-3"),
    ("proximal_point", rules.test_ppm_update_rule, ppm_three_sweeps, "bilinear.ppm-converges")]]
test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8 = \
    update_rule_controls(RULES)
