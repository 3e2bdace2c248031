"""Planted bugs that the mixed-Nash checks must reject (negative controls)."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_12_mixed_nash as mixed
from algorithms import registry
from checks.support import control_cases, near_miss, planted_bug, rejects, run_control, wrong_world


def _hedge(update, average: bool):
    def method(payoff, num_steps, eta, *, record=None):
        G = np.asarray(payoff, dtype=float)
        G = G[None] if G.ndim == 2 else G
        eta_p, eta_q = (eta, eta) if np.ndim(eta) == 0 else eta
        steps = sorted(record) if record is not None else list(range(1, num_steps + 1))
        B, m, n = G.shape
        p, q = np.full((B, m), 1 / m), np.full((B, n), 1 / n)
        sp, sq = np.zeros((B, m)), np.zeros((B, n))
        out_p, out_q = [], []
        for t in range(1, num_steps + 1):
            sp, sq = sp + p, sq + q
            lp, gq = np.einsum("bij,bj->bi", G, q), np.einsum("bij,bi->bj", G, p)
            p_last, q_last = p, q
            p, q = update(p, -eta_p * lp), update(q, eta_q * gq)
            if t in steps:
                out_p.append(sp / t if average else p_last)
                out_q.append(sq / t if average else q_last)
        return np.stack(out_p), np.stack(out_q)
    return method


def _multiplicative(w, step):
    w = w * np.exp(step - step.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def _additive(w, step):
    w = w + step - step.mean(-1, keepdims=True)  # a gradient step without the mirror map (leaves the simplex)
    return w / w.sum(-1, keepdims=True)


mwu_last_iterate = _hedge(_multiplicative, average=False)
mwu_last_iterate.__name__ = "mwu_last_iterate"
mwu_additive = _hedge(_additive, average=True)
mwu_additive.__name__ = "mwu_additive"


def langevin_temperature_one(payoff, x0, y0, num_steps, eta, inner_steps, step, rng, *, record=None):
    """MD + Langevin whose noise is sqrt(2 h eta t) instead of sqrt(2 h): samples exp(-U/(eta t)), temperature 1."""
    reference = registry.reference("mirror_descent_langevin")
    import algorithms.mixed_nash as module

    original = module._langevin

    def hot(particles, grad_potential, h, inner, low, high, rng_):
        scale = step / h  # = max(1, eta t)
        for _ in range(inner):
            noise = rng_.standard_normal(particles.shape)
            particles = np.clip(particles - h * grad_potential(particles) + np.sqrt(2 * h * scale) * noise, low, high)
        return particles

    module._langevin = hot
    try:
        return reference(payoff, x0, y0, num_steps, eta, inner_steps, step, rng, record=record)
    finally:
        module._langevin = original


@pytest.mark.claim("mixed.md-finite-games")
@pytest.mark.parametrize("bug", [mwu_last_iterate, mwu_additive], ids=lambda f: f.__name__)
def test_finite_game_check_rejects(bug):
    rejects(mixed.test_mirror_descent_finite_games, "entropic_mirror_descent", bug, bound_factor=1.0)


# ============================================================ near misses and wrong worlds (issue 14)


@control_cases(mixed.test_mirror_descent_weird_saddle_grid, "entropic_mirror_descent", [
    planted_bug("grid_check_rejects_additive_update", mwu_additive, grid=tuple(mixed.GRID), eta=0.05),
    near_miss("near_miss_grid_step",
              "eta = 0.065 (30 % off): gap 0.0053, 1.3e-3 off the catalogue's 0.0066 (tolerance 1e-3)",
              grid=tuple(mixed.GRID), eta=0.065)], claim="mixed.md-finite-games")
@control_cases(mixed.test_mirror_descent_finite_games, "entropic_mirror_descent", [
    near_miss("near_miss_half_the_regret_bound",
              "the regret bounds with half their constant (2x2 games reach 0.516 of the bound)", bound_factor=0.5),
    wrong_world("wrong_world_last_iterate",
                "the last iterate in place of the average: the O(1/sqrt T) gap is false for it",
                bug=mwu_last_iterate, bound_factor=1.0)], claim="mixed.md-finite-games")
@control_cases(mixed.test_projected_gda_trapped_mixed_escapes, "entropic_mirror_descent", [
    planted_bug("trap_checks_reject_additive_update", mwu_additive, steps=20000),
    near_miss("near_miss_short_run", "a run 20x shorter (1000 steps): a start ends 4e-3 off the trap xy = 1/2",
              steps=1000)], claim="mixed.escaping-traps")
@control_cases(mixed.test_mirror_descent_weird_saddle_grid, None, [
    wrong_world("wrong_world_coarse_grid",
                "mixed strategies on the 4 points +-0.5, +-1.5: no grid equilibrium escapes (gap 1.0)",
                grid=(-1.5, -0.5, 0.5, 1.5), eta=0.05)], claim="mixed.escaping-traps")
@control_cases(mixed.test_mirror_descent_langevin_weird_saddle, "mirror_descent_langevin", [
    planted_bug("langevin_check_rejects_wrong_temperature", langevin_temperature_one, inner_steps=50),
    wrong_world("wrong_world_no_sampling",
                "no Langevin steps: the Gibbs measures are never sampled, particles stay uniform", inner_steps=0)],
    claim="mixed.md-langevin", marks=pytest.mark.slow)
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
