"""Planted bugs that the stochastic min-max checks must reject (negative controls).

Each bug honours the ``stochastic_minimax`` contract and is wrong in one place only.
"""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_11_stochastic_minimax as sm
from checks.support import fails, rejects


def _loop(step, z0, num_steps, record, state=None):
    z = np.array(z0, dtype=float)
    steps = range(num_steps + 1) if record is None else sorted(record)
    out, slot = np.empty((len(steps), *z.shape)), {k: i for i, k in enumerate(steps)}
    memory = {} if state is None else state(z)
    if 0 in slot:
        out[slot[0]] = z
    for k in range(num_steps):
        z = step(k, z, memory)
        if k + 1 in slot:
            out[slot[k + 1]] = z
    return out


def seg_equal_steps(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG with beta_k := alpha_k: one time scale where the claim needs two."""
    def step(k, z, _):
        a, _b = schedule(k)
        z_bar = z - a * gamma * oracle(z, oracle.sample(rng, len(z)))
        return z - a * gamma * oracle(z_bar, oracle.sample(rng, len(z)))
    return _loop(step, z0, num_steps, record)


def seg_extrapolating_with_gamma(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """'SEG' whose extrapolation ignores beta_k (that is SEG+)."""
    def step(k, z, _):
        a, _b = schedule(k)
        z_bar = z - gamma * oracle(z, oracle.sample(rng, len(z)))
        return z - a * gamma * oracle(z_bar, oracle.sample(rng, len(z)))
    return _loop(step, z0, num_steps, record)


def segplus_vanishing_extrapolation(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """'SEG+' extrapolating with alpha_k gamma (that is SEG with beta = alpha)."""
    return seg_equal_steps(oracle, z0, gamma, schedule, num_steps, rng, projection=projection, record=record)


def segplus_projecting_the_update(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """P2SEG+: projects the extrapolation *and* the update (the runner's P2 variant), not P1."""
    proj = projection or (lambda u: u)

    def step(k, z, _):
        a, _b = schedule(k)
        z_bar = proj(z - gamma * oracle(z, oracle.sample(rng, len(z))))
        return proj(z - a * gamma * oracle(z_bar, oracle.sample(rng, len(z))))
    return _loop(step, z0, num_steps, record)


def _bc(independent: bool, decay: bool):
    def method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
        def step(k, z, mem):
            a, _b = schedule(k)
            zeta = oracle.sample(rng, len(z))
            zeta_prev = oracle.sample(rng, len(z)) if independent else zeta
            weight = (1 - a) if decay else 1.0
            h = z - gamma * oracle(z, zeta) + weight * (mem["h"] - mem["z"] + gamma * oracle(mem["z"], zeta_prev))
            mem["h"], mem["z"] = h, z
            z_bar = h if projection is None else projection(h)
            return z + a * (z_bar - gamma * oracle(z_bar, oracle.sample(rng, len(z))) - h)
        return _loop(step, z0, num_steps, record, state=lambda z: {"h": z.copy(), "z": z.copy()})
    return method


bc_independent_correction = _bc(independent=True, decay=True)
bc_independent_correction.__name__ = "bc_independent_correction"
bc_independent_correction.__doc__ = "BC-SEG+ drawing an independent sample for the correction at z_{k-1}."
bc_without_decay = _bc(independent=False, decay=False)
bc_without_decay.__name__ = "bc_without_decay"
bc_without_decay.__doc__ = "BC-SEG+ with correction weight 1 instead of (1 - alpha_k)."


def alternating_as_simultaneous(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """'Alternating' SEG+ whose y-half reads the old x (simultaneous extrapolation)."""
    def step(k, z, _):
        a, _b = schedule(k)
        zeta = oracle.sample(rng, len(z))
        z_bar = z - gamma * oracle(z, zeta)
        return z - a * gamma * oracle(z_bar, oracle.sample(rng, len(z)))
    return _loop(step, z0, num_steps, record)


@pytest.mark.claim("seg.two-timescale")
def test_two_timescale_check_rejects_equal_steps():
    rejects(sm.test_seg_two_timescale_converges_on_bilinear, "stochastic_extragradient", seg_equal_steps)


@pytest.mark.claim("seg.two-timescale")
def test_literal_schedule_check_rejects_equal_steps():
    rejects(sm.test_seg_literal_one_over_k_stalls, "stochastic_extragradient", seg_equal_steps)


@pytest.mark.claim("seg.two-timescale")
def test_divergence_check_rejects_segplus_in_disguise():
    rejects(sm.test_seg_vanishing_steps_diverge_weak_minty, "stochastic_extragradient", seg_extrapolating_with_gamma)


@pytest.mark.claim("segplus.affine")
@pytest.mark.parametrize("check", [sm.test_segplus_affine_condition, sm.test_segplus_affine_condition_as_printed,
                                   sm.test_segplus_converges_on_runner_quadratic], ids=lambda f: f.__name__)
def test_affine_checks_reject_vanishing_extrapolation(check):
    rejects(check, "stochastic_extragradient_plus", segplus_vanishing_extrapolation)


@pytest.mark.claim("segplus.monotone-failure")
def test_bias_check_rejects_projected_update():
    rejects(sm.test_segplus_biased_on_constrained_bilinear, "stochastic_extragradient_plus",
            segplus_projecting_the_update)


@pytest.mark.claim("bcsegplus.convergence")
@pytest.mark.parametrize("check", [sm.test_bcsegplus_runner_quadratic, sm.test_bcsegplus_constrained_bilinear,
                                   sm.test_bcsegplus_global_forsaken_not_forsaken], ids=lambda f: f.__name__)
def test_bc_checks_reject_independent_correction(check):
    rejects(check, "bias_corrected_seg_plus", bc_independent_correction)


@pytest.mark.claim("bcsegplus.convergence")
def test_bc_check_rejects_correction_without_decay():
    rejects(sm.test_bcsegplus_runner_quadratic, "bias_corrected_seg_plus", bc_without_decay)


@pytest.mark.claim("bcsegplus.alternation-bigger-steps")
def test_alternation_check_rejects_simultaneous():
    rejects(sm.test_alternating_extrapolation_range, "alternating_seg_plus", alternating_as_simultaneous)


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
@pytest.mark.control("near_miss", of=sm.test_alternating_extrapolation_range,
                     margin="y-half read at x + theta (xbar - x), theta = -0.05: gamma_low above the simultaneous "
                            "one by 5e-4 to 9e-3 for rho L in [-0.4, -0.1]")
def test_alternation_check_rejects_slightly_backward_alternation():
    rejects(sm.test_alternating_extrapolation_range, "alternating_seg_plus", _looking_back(-0.05))


@pytest.mark.claim("bcsegplus.alternation-bigger-steps")
@pytest.mark.control("wrong_world", of=sm.test_alternating_extrapolation_range,
                     margin="monotone games only (rho >= 0): both ranges are all of (0, 1/L]")
def test_alternation_check_fails_on_monotone_games():
    fails(sm.test_alternating_extrapolation_range, rhos=(0.0, 0.2, 0.4))


def segplus_generator_ascends(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG+ whose x (generator / min) coordinates move along +V: the minimiser ascends."""
    sign = np.where(np.arange(np.shape(z0)[-1]) < oracle.dim_x, -1.0, 1.0)
    proj = projection or (lambda u: u)

    def step(k, z, _):
        a, _b = schedule(k)
        h = z - gamma * sign * oracle(z, oracle.sample(rng, len(z)))
        z_bar = proj(h)
        return z + a * (z_bar - gamma * sign * oracle(z_bar, oracle.sample(rng, len(z))) - h)
    return _loop(step, z0, num_steps, record)


@pytest.mark.slow
@pytest.mark.claim("gan.segplus")
def test_gan_check_rejects_ascending_generator():
    import checks.test_11_gan_segplus as gan

    rejects(gan.test_gan_mixture_proxy, "stochastic_extragradient_plus", segplus_generator_ascends)


def _outcome(check, /, **arguments) -> str:
    """``failed`` (AssertionError) or the check's verdict on pass (it decides three ways)."""
    from algorithms import registry
    from reports.evidence import Evidence

    evidence = Evidence()
    try:
        check(evidence=evidence, algorithm=registry.get, **arguments)
    except AssertionError:
        return "failed"
    return evidence.on_pass


def segplus_hundredfold_smaller_update(oracle, z0, gamma, schedule, num_steps, rng, **kw):
    """WRONG WORLD: SEG+ whose update step alpha_k is 100x smaller (it barely trains in 400 steps)."""
    from algorithms import registry

    return registry.reference("stochastic_extragradient_plus")(
        oracle, z0, gamma, lambda k: tuple(0.01 * a for a in schedule(k)), num_steps, rng, **kw)


def _gan_check():
    import checks.test_11_gan_segplus as gan

    return gan.test_gan_mixture_proxy


@pytest.mark.slow
@pytest.mark.claim("gan.segplus")
@pytest.mark.control("wrong_world", of=_gan_check(), margin="SEG+ with a 100x smaller update step: worse than Adam")
def test_gan_check_does_not_verify_an_untrained_segplus():
    from algorithms import registry

    with registry.substituted("stochastic_extragradient_plus", segplus_hundredfold_smaller_update):
        assert _outcome(_gan_check()) != "verified"


@pytest.mark.slow
@pytest.mark.claim("gan.segplus")
@pytest.mark.control("near_miss", of=_gan_check(),
                     margin="SEG+ worse than Adam by 1.5 estimator floors (W1 + 0.22) on every seed")
def test_gan_check_does_not_verify_segplus_slightly_worse_than_adam():
    assert _outcome(_gan_check(), segplus_offset=1.5 * 0.1475) != "verified"
