"""Planted bugs that the stochastic min-max checks must reject (negative controls).

Each bug honours the ``stochastic_minimax`` contract and is wrong in one place only.
"""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_11_bias_corrected_segplus as bc
import checks.test_11_stochastic_minimax as sm
from algorithms import registry
from checks.support import control_cases, fails, near_miss, planted_bug, rejects, run_control, wrong_world
from problems.stochastic_minimax.stochastic_games import PowerSchedule


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


@pytest.mark.claim("segplus.affine")
@pytest.mark.parametrize("check, world", [(sm.test_segplus_affine_condition, {"gamma_scale": 1.0}),
                                          (sm.test_segplus_converges_on_runner_quadratic, {"gamma": sm.GAMMA})],
                         ids=lambda f: getattr(f, "__name__", ""))
def test_affine_checks_reject_vanishing_extrapolation(check, world):
    rejects(check, "stochastic_extragradient_plus", segplus_vanishing_extrapolation, **world)


@pytest.mark.claim("bcsegplus.convergence")
@pytest.mark.parametrize("check, world", [(bc.test_bcsegplus_runner_quadratic, {"game": sm.RUNNER}),
                                          (bc.test_bcsegplus_constrained_bilinear, {}),
                                          (bc.test_bcsegplus_global_forsaken_not_forsaken, {"gamma": 0.33})],
                         ids=lambda f: getattr(f, "__name__", ""))
def test_bc_checks_reject_independent_correction(check, world):
    rejects(check, "bias_corrected_seg_plus", bc_independent_correction, **world)


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


# ============================================================ near misses and wrong worlds (issue 14)
import checks.test_11_stochastic_minimax_runner as runner  # noqa: E402
from problems.stochastic_minimax.stochastic_games import QuadraticGame  # noqa: E402

NEAR, WRONG = "near_miss", "wrong_world"


class _ScaledNoise:
    """The oracle with its noise sample scaled by ``factor`` (additive noise: the noise scaled)."""

    def __init__(self, oracle, factor):
        self.oracle, self.factor = oracle, factor
        self.dim_x, self.dim = oracle.dim_x, oracle.dim

    def sample(self, rng, batch):
        return self.factor * self.oracle.sample(rng, batch)

    def __call__(self, z, zeta):
        return self.oracle(z, zeta)

    def mean(self, z):
        return self.oracle.mean(z)


def with_noise_scaled(name, factor):
    def method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
        return registry.reference(name)(_ScaledNoise(oracle, factor), z0, gamma, schedule, num_steps, rng,
                                        projection=projection, record=record)
    method.__name__ = f"{name}_noise_times_{factor}"
    return method


def with_step_scaled(name, factor):
    def method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
        return registry.reference(name)(oracle, z0, gamma * factor, schedule, num_steps, rng, projection=projection,
                                        record=record)
    method.__name__ = f"{name}_gamma_times_{factor}"
    return method


def _bc_partial_correction(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    def step(k, z, mem):
        a, _b = schedule(k)
        zeta = oracle.sample(rng, len(z))
        h = z - gamma * oracle(z, zeta) + 0.4 * (1 - a) * (mem["h"] - mem["z"] + gamma * oracle(mem["z"], zeta))
        mem["h"], mem["z"] = h, z
        z_bar = h if projection is None else projection(h)
        return z + a * (z_bar - gamma * oracle(z_bar, oracle.sample(rng, len(z))) - h)
    return _loop(step, z0, num_steps, record, state=lambda z: {"h": z.copy(), "z": z.copy()})


bc_partial_correction = _bc_partial_correction
bc_partial_correction.__name__ = "bc_partial_correction"


@pytest.mark.claim("segplus.monotone-failure")
@pytest.mark.control(WRONG, of=sm.test_segplus_biased_on_constrained_bilinear,
                     margin="sigma = 0.2: the projection's bias nearly vanishes (0.028), SEG+ converges")
def test_wrong_world_segplus_small_noise():
    exc = fails(sm.test_segplus_biased_on_constrained_bilinear, sigma=0.2)
    assert "median test" in str(exc), "rejected by the catalogue numbers, not by the run"


@control_cases(sm.test_seg_two_timescale_converges_on_bilinear, "stochastic_extragradient", [
    planted_bug("two_timescale_check_rejects_equal_steps", seg_equal_steps, schedule=sm.TWO_TIMESCALE),
    near_miss("near_miss_two_timescale_exponent", "alpha_k ~ k^-0.7 instead of k^-2/3 (slope -0.367 vs -1/3)",
              schedule=PowerSchedule(0.5, 0.7, 0.5, 1 / 3)),
    wrong_world("wrong_world_one_time_scale",
                "one time scale (beta_k = alpha_k ~ k^-2/3): SEG stalls at a noise floor",
                schedule=PowerSchedule(0.5, 2 / 3, 0.5, 2 / 3))], claim="seg.two-timescale")
@control_cases(sm.test_seg_literal_one_over_k_stalls, "stochastic_extragradient", [
    planted_bug("literal_schedule_check_rejects_equal_steps", seg_equal_steps)], claim="seg.two-timescale")
@control_cases(sm.test_seg_vanishing_steps_diverge_weak_minty, "stochastic_extragradient", [
    planted_bug("divergence_check_rejects_segplus_in_disguise", seg_extrapolating_with_gamma, game=sm.RUNNER),
    near_miss("near_miss_seg_divergence_rate",
              "rho = -0.095 (5 % weaker): exact 20k median 1138, 30 % below the catalogue's 1632",
              game=QuadraticGame(1.0, -0.095)),
    wrong_world("wrong_world_seg_monotone_game", "rho = 0 (xy): vanishing equal steps do not diverge",
                game=QuadraticGame(1.0, 0.0))], claim="seg.two-timescale")
@control_cases(runner.test_seg_diverges_at_runner_scale, None, [
    near_miss("near_miss_seg_runner_scale", "rho = -0.095 (5 % weaker)", game=QuadraticGame(1.0, -0.095),
              marks=pytest.mark.slow)], claim="seg.two-timescale")
@control_cases(sm.test_segplus_affine_condition, "stochastic_extragradient_plus", [
    near_miss("near_miss_segplus_condition", "extrapolation step off by a relative 1e-6",
              bug=with_step_scaled("stochastic_extragradient_plus", 1 + 1e-6), gamma_scale=1.0),
    wrong_world("wrong_world_segplus_small_extrapolation",
                "gamma 20x below the range: rho < -(1 - alpha) gamma/2, the expected map expands", gamma_scale=0.05)],
    claim="segplus.affine")
@control_cases(sm.test_segplus_converges_on_runner_quadratic, None, [
    near_miss("near_miss_segplus_runner_boundary",
              "gamma = 0.2, the corrected condition's boundary: median |z_20k| 0.091 > 0.02", gamma=0.2),
    wrong_world("wrong_world_segplus_runner_small_gamma",
                "gamma = 0.05 below the exact threshold 0.102: SEG+ does not converge", gamma=0.05)],
    claim="segplus.affine")
@control_cases(runner.test_segplus_converges_at_runner_scale, None, [
    near_miss("near_miss_segplus_runner_scale", "gamma = 0.2 (the boundary)", gamma=0.2, marks=pytest.mark.slow)],
    claim="segplus.affine")
@control_cases(sm.test_segplus_biased_on_constrained_bilinear, "stochastic_extragradient_plus", [
    planted_bug("bias_check_rejects_projected_update", segplus_projecting_the_update, sigma=1.0),
    near_miss("near_miss_segplus_bias_size",
              "noise sigma = 0.98 (2 % off): bias 0.741, 0.024 off the catalogue's 0.765", sigma=0.98)],
    claim="segplus.monotone-failure")
@control_cases(runner.test_segplus_bias_persists, "stochastic_extragradient_plus", [
    near_miss("near_miss_bias_persists",
              "noise 10 % weaker than the sigma of the mean-field limit: mean 0.10 from z_b",
              bug=with_noise_scaled("stochastic_extragradient_plus", 0.9), sigma=1.0, marks=pytest.mark.slow),
    wrong_world("wrong_world_bias_persists", "sigma = 0.2: no bias to persist", sigma=0.2, marks=pytest.mark.slow)],
    claim="segplus.monotone-failure")
@control_cases(bc.test_bcsegplus_runner_quadratic, "bias_corrected_seg_plus", [
    planted_bug("bc_check_rejects_correction_without_decay", bc_without_decay, game=sm.RUNNER),
    near_miss("near_miss_bc_noise_level", "noise 1.5x the stated sigma",
              bug=with_noise_scaled("bias_corrected_seg_plus", 1.5), game=sm.RUNNER),
    wrong_world("wrong_world_bc_beyond_one_half", "rho L = -0.6 < -1/2: BC-SEG+ at gamma = 0.5 diverges",
                game=QuadraticGame(1.0, -0.6))], claim="bcsegplus.convergence")
@control_cases(bc.test_bcsegplus_constrained_bilinear, "bias_corrected_seg_plus", [
    near_miss("near_miss_bc_partial_correction", "half the bias correction: median distance 0.36 vs 0.3",
              bug=bc_partial_correction)], claim="bcsegplus.convergence")
@control_cases(bc.test_bcsegplus_global_forsaken_not_forsaken, None, [
    near_miss("near_miss_bc_global_forsaken_gamma", "gamma = 0.239, 0.2 % below -2 rho = 0.23946 (certified)",
              gamma=0.239)], claim="bcsegplus.convergence")
@control_cases(runner.test_bcsegplus_converges_at_runner_scale, "bias_corrected_seg_plus", [
    near_miss("near_miss_bc_runner_scale", "noise 1.5x the stated sigma",
              bug=with_noise_scaled("bias_corrected_seg_plus", 1.5), game=sm.RUNNER, marks=pytest.mark.slow)],
    claim="bcsegplus.convergence")
@control_cases(runner.test_bcsegplus_constrained_long, "bias_corrected_seg_plus", [
    near_miss("near_miss_bc_constrained_long", "40 % of the bias correction", bug=bc_partial_correction,
              marks=pytest.mark.slow)], claim="bcsegplus.convergence")
@control_cases(runner.test_global_forsaken_and_forsaken_long, None, [
    near_miss("near_miss_bc_global_forsaken_long", "gamma = 0.239 < -2 rho", gamma=0.239, marks=pytest.mark.slow)],
    claim="bcsegplus.convergence")
@control_cases(runner.test_bcsegplus_generated_instances, None, [
    near_miss("near_miss_bc_generated", "rho L = -0.55, 10 % past -1/2", c_shift=0.45, marks=pytest.mark.slow)],
    claim="bcsegplus.convergence")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
