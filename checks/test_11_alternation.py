"""Slide 39, BC-SEG+: "alternation allows even bigger step-sizes" (Pethick et al., ICLR 2023).

Decided by bisection on the expected-update (mean-dynamics) matrix of the registry's simultaneous
and alternating SEG+ on the quadratic weak-MVI family (problems.stochastic_minimax.stochastic_games),
compared with the exact extrapolation matrices of problems.stochastic_minimax.stochastic_games_oracles.
"""
from __future__ import annotations

import numpy as np
import pytest

from problems.stochastic_minimax.stochastic_games import NoNoise, QuadraticGame, StochasticOracle
from problems.stochastic_minimax.stochastic_games_oracles import extrapolation_matrix


def _mean_map(method, game, gamma, alpha):
    """T with E z_1 = T z_0, read off the method under test with the noise switched off."""
    oracle = StochasticOracle(game, NoNoise())
    return method(oracle, np.eye(game.dim), gamma, lambda k: (alpha, alpha), 1, np.random.default_rng(0),
                  record=[1])[0].T


ALTERNATION_RHOS = tuple(np.round(np.linspace(-0.6, 0.4, 11), 3))


def _mean_direction(method, game, gamma, alpha=1e-3):
    """D with E z+ = (I − α γ D) z, read off the method under test (noise off, one step)."""
    return (np.eye(game.dim) - _mean_map(method, game, gamma, alpha)) / (alpha * gamma)


def smallest_stable_step(method, rho, high=1.0, iterations=40):
    """γ_low: the smallest γ ∈ (0, high] from which on the α → 0 mean dynamics
    ż = −γ D(γ) z of ``method`` on the quadratic game (L = 1, ρ) is stable (min Re eig D > 0);
    bisection, after checking on a grid that the stable set is an interval [γ_low, high];
    2·high when no step in (0, high] is stable."""
    game = QuadraticGame(1.0, rho)
    stable = lambda g: np.min(np.linalg.eigvals(_mean_direction(method, game, g)).real) > 0  # noqa: E731
    grid = np.linspace(high / 60, high, 60)
    ok = np.array([stable(g) for g in grid])
    if not ok.any():
        return 2 * high, True  # no stable step in (0, high]: reported as 2·high
    first = int(np.argmax(ok))
    interval = bool(ok[first:].all())
    lo, hi = (0.0 if first == 0 else grid[first - 1]), grid[first]
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if stable(mid) else (mid, hi)
    return hi, interval


@pytest.mark.claim("bcsegplus.alternation-bigger-steps", uses=["alternating_seg_plus",
                                                               "stochastic_extragradient_plus"])
def test_alternating_extrapolation_range(evidence, algorithm, rhos=ALTERNATION_RHOS):
    """BC-SEG+ (Pethick et al. ICLR 2023): "alternation allows even bigger step-sizes". BC-SEG+
    takes α_k → 0, so its a.s. behaviour on an affine V = Az follows the mean dynamics
    ż = −γ D(γ) z with D = A M(γ), M the extrapolation map (noise off, the bias correction
    vanishes: z̄_k − M z_k decays like (1 − α)^k). Reading (catalogue): the alternating
    (Gauss–Seidel) extrapolation x̄ = x − γV_x(x, y), ȳ = y − γV_y(x̄, y) admits a larger range of
    γ than the simultaneous one, on the step range of the theory, γ ∈ (0, 1/L] (SEG+ and BC-SEG+
    assume γ ≤ 1/L). On the quadratic weak-MVI family (L = 1, ρL ∈ −0.6..0.4):
    (0) D read off the registry's methods equals A M(γ) (exact oracle, 1e-9);
    (i) the stable γ-sets are intervals [γ_low, 1/L] and γ_low^alt ≤ γ_low^sim (superset);
    (ii) strictly larger somewhere: max_ρ (γ_low^sim − γ_low^alt) ≥ 0.05;
    (iii) at γ = 1/L the alternating dynamics are stable down to ρL = (1 − √5)/2 ≈ −0.618, the
    simultaneous down to −1/2 (bisection, 1e-9).
    Exact linear algebra: no false-alarm budget. ``rhos`` is the controls' world."""
    sim, alt = algorithm("stochastic_extragradient_plus"), algorithm("alternating_seg_plus")
    game = QuadraticGame(1.0, -0.3)
    for method, alternating in ((sim, False), (alt, True)):
        evidence.tight("(0) mean direction of the method = A M(gamma)", _mean_direction(method, game, 0.7),
                       game.A @ extrapolation_matrix(game.A, 0.7, 1, alternating=alternating), abs=1e-9)
    lows, intervals = {}, []
    for name, method in (("simultaneous", sim), ("alternating", alt)):
        out = [smallest_stable_step(method, float(r)) for r in rhos]
        lows[name] = np.array([v for v, _ in out])
        intervals += [i for _, i in out]
    evidence.holds("(i) stable step sets are intervals [gamma_low, 1/L]", intervals)
    evidence.upper_bound("(i) gamma_low alternating <= gamma_low simultaneous (superset)", lows["alternating"],
                         lows["simultaneous"], abs=1e-9)
    gain = lows["simultaneous"] - lows["alternating"]
    evidence.lower_bound("(ii) strictly larger: max over rho of gamma_low sim - alt", np.max(gain), 0.05,
                         headline=True)
    reach = {}
    for name, method in (("simultaneous", sim), ("alternating", alt)):
        lo, hi = 0.0, 0.99
        for _ in range(40):  # most negative rho L with min Re eig D > 0 at gamma = 1/L
            mid = 0.5 * (lo + hi)
            D = _mean_direction(method, QuadraticGame(1.0, -mid), 1.0)
            lo, hi = (mid, hi) if np.min(np.linalg.eigvals(D).real) > 0 else (lo, mid)
        reach[name] = -lo
    evidence.tight("(iii) reach at gamma = 1/L: simultaneous -1/2", reach["simultaneous"], -0.5, abs=1e-9)
    evidence.tight("(iii) reach at gamma = 1/L: alternating (1 - sqrt 5)/2", reach["alternating"],
                   (1 - np.sqrt(5)) / 2, abs=1e-9)
    evidence.parameters(family="quadratic game, L = 1", rhos=list(rhos), regime="alpha -> 0 (BC-SEG+)")
    evidence.record("gamma_low by rho L (simultaneous, alternating)",
                    {str(r): [float(a), float(b)] for r, a, b in zip(rhos, lows["simultaneous"], lows["alternating"])})
    evidence.resolution("rejects an 'alternation' whose step range is smaller by 0.02 at one rho (near-miss "
                        "control) and a family where the ranges coincide (wrong world)")
    evidence.note("Outside the theory's range the ranges are not nested: for strongly monotone games "
                  "(rho L >= 0.4) the alternating mean dynamics turn unstable for gamma L >= 2.5 where the "
                  "simultaneous stay stable, and at a fixed alpha = 0.5, rho = 0 the largest stable gamma is "
                  "1.51 (alternating) vs 1.73 (simultaneous).")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.plot(rhos, lows["simultaneous"], "o-", label="simultaneous: smallest stable gamma")
        ax.plot(rhos, lows["alternating"], "s-", label="alternating: smallest stable gamma")
        ax.axhline(1.0, color="k", lw=0.6, ls=":", label="gamma = 1/L")
        ax.set_xlabel("rho L")
        ax.set_ylabel("gamma L")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7)

    evidence.figure("alternation-range", draw, "Admissible extrapolation steps (alpha -> 0) on the quadratic "
                    "weak-MVI family: above each curve the method is stable; alternation lowers the curve.")
