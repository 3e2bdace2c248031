"""Take-home messages of the optimisation part (slide 43, catalogue 2.13): spurious attractors
have no minimisation analogue, and some step-size schedules converge where others do not.
They rest on the limit-set checks of section 09 (``checks/test_09_spurious_limits.py``),
whose helpers and instances they reuse.
"""
from __future__ import annotations

import numpy as np
import pytest

from checks.test_09_spurious_limits import FORSAKEN, SPURIOUS_GAME, minimax_spurious_limit, minimisation_limit
from problems.minimax.minty_games import global_forsaken
from problems.minimax.minty_oracles import NoisyOperator, robbins_monro, tail_summary


# ------------------------------------------------ takehome.spurious-no-min-analogue
@pytest.mark.claim("takehome.spurious-no-min-analogue", uses=["extragradient", "gradient_descent_ascent"])
def test_takehome_spurious_attractors_have_no_min_analogue(evidence, algorithm):
    """By reference to spurious.min-vs-minimax-ict, spurious.almost-bilinear (corrected)
    and spurious.forsaken, on their smallest instances: GD limit sets are critical;
    GDA on eps phi(y) and EG on Forsaken (c = 0.45, from a grid start) have bounded
    limit sets with no critical point."""
    minimisation_limit(evidence, algorithm("gradient_descent_ascent"), seed=0, dim=2)
    minimax_spurious_limit(evidence, algorithm("gradient_descent_ascent"), SPURIOUS_GAME, [0.05, 0.0], 0.02, 6000,
                           "spurious.almost-bilinear (corrected)", 0.5, 2.0)
    minimax_spurious_limit(evidence, algorithm("extragradient"), FORSAKEN.operator, [-1.2, 0.3],
                           1 / FORSAKEN.lipschitz, 1500, "spurious.forsaken", 0.4, 2.5)


# --------------------------------------------------- takehome.step-size-schedules
@pytest.mark.claim("takehome.step-size-schedules", uses=["constrained_extragradient_plus",
                                                         "curvature_extragradient_plus"])
def test_takehome_some_schedules_converge(evidence, algorithm):
    """'Possible to converge under some settings': on Forsaken (c = 0.45), constant-step
    CEG+ (gamma = 1/L, damping 1/2) stays on the spurious cycle, while CurvatureEG+,
    whose step adapts to the local curvature, converges from the same starts."""
    starts = np.array([[-1.2, 0.3], [1.05, -0.45], [0.3, 1.05], [-0.45, -1.2]])
    constant = algorithm("constrained_extragradient_plus")(FORSAKEN.operator, starts, 1 / FORSAKEN.lipschitz, 1000,
                                                          damping=0.5, prox=FORSAKEN.domain.project)
    tail = tail_summary(constant, FORSAKEN.operator, FORSAKEN.solution)
    evidence.lower_bound("constant step: tail min ||V|| (stays on the cycle)", tail["min_operator_norm"], 0.4)
    adaptive = algorithm("curvature_extragradient_plus")(FORSAKEN.operator, starts, np.inf, 1000,
                                                        prox=FORSAKEN.domain.project)
    evidence.upper_bound("adaptive (curvature) step: ||V(z_K)|| (converges)",
                         np.linalg.norm(FORSAKEN.operator(adaptive[-1]), axis=-1), 1e-8, headline=True)


@pytest.mark.slow
@pytest.mark.claim("takehome.step-size-schedules", uses=["extragradient", "extragradient_plus"])
def test_takehome_constant_step_eg_plus_vs_vanishing_seg(evidence, algorithm):
    """GlobalForsaken with noise sigma = 0.1 from (1, 1), 64 seeds: SEG with both steps
    vanishing (0.33 * 0.055/sqrt(1 + k/100)) follows the flow onto its attracting cycle
    (||z|| ~ 1.3), while stochastic EG+ with constant steps (gamma = 0.33, damping 0.055)
    settles at a noise floor near z* = 0 (catalogue: ||z|| ~ 0.014)."""
    game = global_forsaken("ball").operator
    z0 = np.tile([1.0, 1.0], (64, 1))
    steps = 5000
    seg = robbins_monro(algorithm("extragradient"), NoisyOperator(game, 0.1, np.random.default_rng(21)), z0,
                        0.33 * 0.055 / np.sqrt(1 + np.arange(steps) / 100))
    eg_plus = robbins_monro(algorithm("extragradient_plus"), NoisyOperator(game, 0.1, np.random.default_rng(22)), z0,
                            np.full(steps, 0.33), damping=0.055)
    evidence.tight("SEG (vanishing steps): median ||z_K|| on the attracting cycle (r in [1.292, 1.329])",
                   np.median(np.linalg.norm(seg, axis=-1)), 1.31, abs=0.05)
    evidence.upper_bound("EG+ (constant steps): median ||z_K|| (noise floor)",
                         np.median(np.linalg.norm(eg_plus, axis=-1)), 0.05, headline=True)
    evidence.record("EG+ median ||z_K||", float(np.median(np.linalg.norm(eg_plus, axis=-1))), catalogue=0.014)
