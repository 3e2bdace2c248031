"""Planted bug, near miss and wrong world that checks/test_11_alternation.py must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_11_alternation as alternation
from checks.quality.test_11_stochastic_minimax_controls import _loop
from checks.support import control_cases, near_miss, planted_bug, run_control, wrong_world


def alternating_as_simultaneous(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """'Alternating' SEG+ whose y-half reads the old x (simultaneous extrapolation)."""
    def step(k, z, _):
        a, _b = schedule(k)
        zeta = oracle.sample(rng, len(z))
        z_bar = z - gamma * oracle(z, zeta)
        return z - a * gamma * oracle(z_bar, oracle.sample(rng, len(z)))
    return _loop(step, z0, num_steps, record)


def _looking_back(theta):
    def method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
        n = oracle.dim_x

        def step(k, z, _):
            a, _b = schedule(k)
            zeta = oracle.sample(rng, len(z))
            x_bar = z[:, :n] - gamma * oracle(z, zeta)[:, :n]
            look = np.concatenate([z[:, :n] + theta * (x_bar - z[:, :n]), z[:, n:]], axis=1)
            y_bar = z[:, n:] - gamma * oracle(look, zeta)[:, n:]
            return z - a * gamma * oracle(np.concatenate([x_bar, y_bar], axis=1), oracle.sample(rng, len(z)))
        return _loop(step, z0, num_steps, record)
    method.__name__ = f"alternation_at_theta_{theta}"
    return method


@pytest.mark.claim("bcsegplus.alternation-bigger-steps")
@control_cases(alternation.test_alternating_extrapolation_range, "alternating_seg_plus", [
    planted_bug("alternation_check_rejects_simultaneous", alternating_as_simultaneous),
    near_miss("alternation_check_rejects_slightly_backward_alternation",
              "y-half read at x + theta (xbar - x), theta = -0.05: gamma_low above the simultaneous one by 5e-4 to "
              "9e-3 for rho L in [-0.4, -0.1]", bug=_looking_back(-0.05)),
    wrong_world("alternation_check_fails_on_monotone_games",
                "monotone games only (rho >= 0): both ranges are all of (0, 1/L]", rhos=(0.0, 0.2, 0.4))])
def test_alternation_bigger_steps_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
