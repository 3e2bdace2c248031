"""Wrong world and near miss of the GAN comparison (checks/test_11_gan_segplus.py); its planted bug
(an ascending generator) stays with the other SEG+ bugs in test_11_stochastic_minimax_controls.py."""
from __future__ import annotations

import pytest

import checks.test_11_gan_segplus as gan
from algorithms import registry
from checks.support import does_not_verify


def segplus_hundredfold_smaller_update(oracle, z0, gamma, schedule, num_steps, rng, **kw):
    """WRONG WORLD: SEG+ whose update step alpha_k is 100x smaller (it barely trains in 400 steps)."""
    return registry.reference("stochastic_extragradient_plus")(
        oracle, z0, gamma, lambda k: tuple(0.01 * a for a in schedule(k)), num_steps, rng, **kw)


@pytest.mark.slow
@pytest.mark.claim("gan.segplus")
@pytest.mark.control("wrong_world", of=gan.test_gan_mixture_proxy, margin="SEG+ with a 100x smaller update step: worse than Adam")
def test_gan_check_does_not_verify_an_untrained_segplus():
    with registry.substituted("stochastic_extragradient_plus", segplus_hundredfold_smaller_update):
        does_not_verify(gan.test_gan_mixture_proxy)


@pytest.mark.slow
@pytest.mark.claim("gan.segplus")
@pytest.mark.control("near_miss", of=gan.test_gan_mixture_proxy,
                     margin="SEG+ worse than Adam by 1.5 estimator floors (W1 + 0.22) on every seed")
def test_gan_check_does_not_verify_segplus_slightly_worse_than_adam():
    does_not_verify(gan.test_gan_mixture_proxy, segplus_offset=1.5 * 0.1475)
