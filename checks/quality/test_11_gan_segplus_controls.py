"""Wrong world and near miss of the GAN comparison (checks/test_11_gan_segplus.py); its planted bug
(an ascending generator) stays with the other SEG+ bugs in test_11_stochastic_minimax_controls.py."""
from __future__ import annotations

import pytest

import checks.test_11_gan_segplus as gan
from algorithms import registry
from checks.support import control_cases, near_miss, run_three_way_control, wrong_world


def segplus_hundredfold_smaller_update(oracle, z0, gamma, schedule, num_steps, rng, **kw):
    """WRONG WORLD: SEG+ whose update step alpha_k is 100x smaller (it barely trains in 400 steps)."""
    return registry.reference("stochastic_extragradient_plus")(
        oracle, z0, gamma, lambda k: tuple(0.01 * a for a in schedule(k)), num_steps, rng, **kw)


@pytest.mark.slow
@pytest.mark.claim("gan.segplus")
@control_cases(gan.test_gan_mixture_proxy, "stochastic_extragradient_plus", [
    wrong_world("an_untrained_segplus", "SEG+ with a 100x smaller update step: worse than Adam",
                bug=segplus_hundredfold_smaller_update),
    near_miss("segplus_slightly_worse_than_adam",
              "SEG+ worse than Adam by 1.5 estimator floors (W1 + 0.22) on every seed", segplus_offset=1.5 * 0.1475)])
def test_gan_check_does_not_verify(check, substitute, arguments):
    run_three_way_control(check, substitute, arguments)
