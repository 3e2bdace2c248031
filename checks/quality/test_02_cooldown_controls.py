"""Controls of sgd.cooldown-helps beyond the frozen-step bug (test_02_sgd_controls.py): a schedule that
heats up, a slight warm-up (near miss) and a step too small to reach a noise floor (wrong world)."""
from __future__ import annotations

import pytest

import checks.test_02_sgd_convergence as convergence_checks
from checks.support import control_cases, near_miss, planted_bug, rejects, run_three_way_control, wrong_world


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
@control_cases(convergence_checks.test_cooldown_on_a_small_network, "cooldown_step", [
    # fails by a wide margin: 4 seeds suffice
    planted_bug("a_heating_schedule", cooldown_that_heats_up, margin="a schedule whose step grows after the cut-off",
                seeds=4),
    near_miss("a_slight_warm_up", "a 'cool-down' that raises the step by <= 12% by the end (claim violated by a "
              "small margin; paired t-tests resolve the sign of the gain)", bug=slight_warm_up),
    # the regime precondition (no descent after the first cut-off) already refuses this world
    wrong_world("without_a_noise_floor", "alpha = 0.01: far from the noise floor, cooling down only slows training",
                alpha=0.01, seeds=4)])
def test_network_cooldown_check_does_not_verify(check, substitute, arguments):
    run_three_way_control(check, substitute, arguments)


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps")
@pytest.mark.control("near_miss", of=convergence_checks.test_cooldown_proxy_on_digits,
                     margin="a 'cool-down' that raises the step by <= 2.4% (a paired t-test detects the sign of "
                            "the gain at any size: its resolution is the sign)")
def test_cooldown_proxy_rejects_a_slight_warm_up():
    rejects(convergence_checks.test_cooldown_proxy_on_digits, "cooldown_step", slight_warm_up)
