"""Slides 40-42 "From pure to mixed Nash equilibrium": mirror descent on finite games, mirror
descent + Langevin on continuous domains, and escaping the traps of the weird saddle.

Oracles: the exact game value by linear programming (scipy HiGHS); the duality gap of mixed
strategies of the weird saddle -x^2 y^2 + x y on [-2, 2]^2 in closed form from two moments
(problems.stochastic_minimax.mixed_games), cross-checked against the catalogue's 4001-point grid. The finite-game
checks are deterministic (regret bounds hold for every run); the Langevin check is random only
through its particles (seed from the claim) and its threshold has a margin stated below.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.support import examples
from problems.minimax.games import weird_saddle
from problems.stochastic_minimax.mixed_games import (duality_gap, game_value, matching_pennies, random_matrix_games, trap_gap,
                                  weird_saddle_gap_on_grid, weird_saddle_mixed_gap, weird_saddle_operator,
                                  weird_saddle_payoff, weird_saddle_phi, weird_saddle_pure_gap)
from problems.stochastic_minimax.stochastic_games import seed_for

HORIZONS = (100, 400, 1600)
GRID = np.linspace(-2.0, 2.0, 81)  # the catalogue's 81 x 81 grid of [-2, 2]
# the catalogue's starts, written (omega, theta) = (y, x) as on the slide; the checks use z = (x, y)
CATALOGUE_STARTS = np.array([(0.5, 0), (1, 0.3), (-1.2, 0.5), (0.9, -0.9), (1.5, 1.5), (0.3, 0.3)])[:, ::-1]


def _moments(weights: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return weights @ points, weights @ points**2


@lru_cache(maxsize=4)
def _grid_mwu(mwu, grid: tuple = tuple(GRID), eta: float = 0.05):
    """MWU on the weird saddle restricted to a grid (the catalogue's 81 points), T = 2e4 (cached per
    implementation, grid and step)."""
    g = np.array(grid)
    G = weird_saddle_phi(g[:, None], g[None, :])
    p, q = mwu(G, 20000, eta, record=[20000])
    return G, p[0, 0], q[0, 0]


@pytest.mark.claim("mixed.md-finite-games", uses=["entropic_mirror_descent"])
@pytest.mark.parametrize("bound_factor", [1.0], ids=["regret-bound"])
@settings(max_examples=examples(10))
@given(m=st.integers(2, 10), n=st.integers(2, 10), seed=st.integers(0, 2**16))
@example(m=2, n=2, seed=-1)  # matching pennies: the last iterate spirals out, the average converges
@example(m=2, n=2, seed=15)  # the largest gap/bound ratio found over 200 draws (0.516, at T = 100)
def test_mirror_descent_finite_games(evidence, algorithm, bound_factor, m, n, seed):
    """Simultaneous Hedge on G in [-1, 1]^(m x n): each player's regret is <= ln(size)/eta + eta T/2, so the
    averaged pair has gap <= (ln m + ln n)/(eta T) + eta; with eta = sqrt(2 ln N / T), N = max(m, n), the gap
    is <= 2 sqrt(2 ln N / T) = O(1/sqrt T); per-player steps sqrt(2 ln m/T), sqrt(2 ln n/T) give
    sqrt(2 ln m/T) + sqrt(2 ln n/T). The value p^T G q of the averages is within the gap of v* (LP).
    (``bound_factor`` scales the bounds: the near-miss control's tighter constant.)"""
    evidence.resolution("rejects a regret bound with half its constant (gap/bound reaches 0.516 on 2x2 games)")
    mwu = algorithm("entropic_mirror_descent")
    G = matching_pennies() if seed < 0 else random_matrix_games(1, m, n, seed)[0]
    m, n = G.shape
    value, big = game_value(G), max(m, n)
    evidence.parameters(m=m, n=n, seed=seed, value=value)
    gaps = []
    for T in HORIZONS:
        eta = np.sqrt(2 * np.log(big) / T)
        p, q = (a[0, 0] for a in mwu(G, T, eta, record=[T]))
        evidence.holds("averaged strategies lie in the simplices",
                       np.concatenate([p, q]) >= 0, "nonnegative entries")
        evidence.tight("averaged strategies sum to 1", [p.sum(), q.sum()], 1.0, abs=1e-12)
        gap = duality_gap(G, p, q)
        gaps.append(gap)
        # bounds are exact inequalities; 1e-12 covers the float64 rounding of T softmax steps
        evidence.upper_bound("gap <= (ln m + ln n)/(eta T) + eta", gap,
                             bound_factor * ((np.log(m) + np.log(n)) / (eta * T) + eta), abs=1e-12)
        evidence.upper_bound("gap <= 2 sqrt(2 ln N / T) (common eta)", gap,
                             bound_factor * 2 * np.sqrt(2 * np.log(big) / T), abs=1e-12, headline=T == HORIZONS[-1])
        evidence.upper_bound("|pbar^T G qbar - v*| <= gap", abs(p @ G @ q - value), gap, abs=1e-9)
    T = HORIZONS[1]
    p, q = (a[0, 0] for a in mwu(G, T, (np.sqrt(2 * np.log(m) / T), np.sqrt(2 * np.log(n) / T)), record=[T]))
    evidence.upper_bound("per-player steps: gap <= sqrt(2 ln m/T) + sqrt(2 ln n/T)", duality_gap(G, p, q),
                         bound_factor * (np.sqrt(2 * np.log(m) / T) + np.sqrt(2 * np.log(n) / T)), abs=1e-12)
    evidence.record("fitted slope of log gap vs log T (bound: -1/2)",
                    float(np.polyfit(np.log(HORIZONS), np.log(np.maximum(gaps, 1e-300)), 1)[0]))


@pytest.mark.claim("mixed.md-finite-games", "mixed.escaping-traps", uses=["entropic_mirror_descent"])
@pytest.mark.parametrize("grid, eta", [(tuple(GRID), 0.05)], ids=["81-points-eta=0.05"])
def test_mirror_descent_weird_saddle_grid(evidence, algorithm, grid, eta):
    """MWU on the weird saddle restricted to the 81 x 81 grid (eta = 0.05, T = 2e4): the averaged mixed
    strategies have a *continuous-game* gap < 0.01 ([computed] 0.0066) around the value 0 - the pure
    saddle's value, reached through mixed strategies. Deterministic: no false alarm."""
    evidence.resolution("rejects a gap 1e-3 off the catalogue's 0.0066 (eta 30 % off: 0.0053)")
    G, p, q = _grid_mwu(algorithm("entropic_mirror_descent"), tuple(grid), eta)
    g = np.array(grid)
    gap = weird_saddle_mixed_gap(_moments(p, g), _moments(q, g))
    evidence.upper_bound("continuous gap of the averaged grid strategies", gap, 0.01, headline=True)
    evidence.tight("...vs catalogue 0.0066", gap, 0.0066, abs=1e-3)  # their grid run, rounded: same T, eta
    evidence.upper_bound("|pbar^T G qbar - 0| <= gap", abs(p @ G @ q), gap)
    evidence.parameters(grid=len(grid), eta=eta, T=20000)


@pytest.mark.claim("mixed.escaping-traps", uses=["entropic_mirror_descent", "projected_gradient_descent_ascent"])
@pytest.mark.parametrize("steps", [20000], ids=["20000-steps"])
def test_projected_gda_trapped_mixed_escapes(evidence, algorithm, steps):
    """max_omega min_theta -omega^2 theta^2 + omega theta on [-2, 2]^2 (theta = x min, omega = y max). Projected
    GDA (alpha = 0.05, 20000 steps) from the catalogue's 6 starts and 26 random ones with |z0| >= 0.1 ends on the
    trap xy = 1/2 (|V| ~ 0), where the exact gap 1/4 + 4y^2 + 2|y| is >= 1 (minimum 1 at (x, y) = (2, 1/4),
    reached from (1.5, 1.5)); the averaged mixed strategies of MWU on the grid have gap < 0.01.
    "Ends on the trap" holds for almost every start, not in a fixed time for every start: near the trap
    s = xy - 1/2 contracts by 1 - 2 alpha (x^2 - y^2) a step, so a start whose limit lies near the neutral
    point x^2 = y^2 converges algebraically. Over 2.1e6 uniform starts (|z0| >= 0.1) the fraction still more
    than 1e-9 off was 7.5e-4 after 5000 steps (the earlier design: a false alarm every ~50 runs), 1.7e-5 after
    20000 (36 starts; 3 sat 3e-8 off even after 1e5 steps). False alarm: 26 random starts x 1.7e-5 = 4.5e-4 a
    run, stated <= 1e-3 (the 36 events' Poisson 99% upper bound, 2.4e-5 a start, gives 6.2e-4)."""
    evidence.record("false_alarm_budget", 1e-3)
    evidence.resolution("rejects an end point 1e-9 off the trap xy = 1/2 (a run of 1000 steps ends 4e-3 off); a "
                        "gap 1e-8 below the trap minimum 1")
    gda = algorithm("projected_gradient_descent_ascent")
    rng = np.random.default_rng(seed_for("mixed.escaping-traps", "random-starts"))
    draws = rng.uniform(-2, 2, (200, 2))
    starts = np.vstack([CATALOGUE_STARTS, draws[np.linalg.norm(draws, axis=1) >= 0.1][:26]])
    traj = gda(weird_saddle_operator, starts, 0.05, steps, low=-2.0, high=2.0, record=range(10, steps + 1, 10))
    x, y = traj[-1, :, 0], traj[-1, :, 1]
    evidence.tight("hand-coded V = sympy V of problems.minimax.games.weird_saddle()", weird_saddle_operator(traj[:, :4]),
                   weird_saddle()(traj[:, :4]), abs=1e-13)
    evidence.upper_bound("|x y - 1/2| at the end (on the trap)", np.abs(x * y - 0.5), 0.0, abs=1e-9)
    evidence.upper_bound("|V(z_K)| (stationary)", np.linalg.norm(weird_saddle_operator(traj[-1]), axis=1), 0.0,
                         abs=1e-8)
    gap = weird_saddle_pure_gap(x, y)
    evidence.tight("closed-form gap = 4001-point grid gap", gap, weird_saddle_gap_on_grid(x, y), abs=1e-5)
    evidence.tight("gap = 1/4 + 4 y^2 + 2|y| on the trap", gap, trap_gap(y), abs=1e-8)
    evidence.lower_bound("GDA's final duality gap (trap minimum: 1)", gap, 1.0, abs=1e-8, headline=True)
    evidence.record("GDA gaps from the catalogue's 6 starts (catalogue, alpha = 0.01: 1.00 - 3.26)", gap[:6])
    G, p, q = _grid_mwu(algorithm("entropic_mirror_descent"))
    mixed = weird_saddle_mixed_gap(_moments(p, GRID), _moments(q, GRID))
    evidence.upper_bound("MWU averaged mixed gap (escapes the traps)", mixed, 0.01)

    def draw(fig):
        ax = fig.add_subplot(111)
        u = np.linspace(0.25, 2, 200)
        for s in (1, -1):
            ax.plot(s * u, s * 0.5 / u, "r-", lw=1, label="trap xy = 1/2" if s == 1 else None)
        for i in range(6):
            ax.plot(traj[:, i, 0], traj[:, i, 1], lw=0.7)
            ax.plot(*starts[i], "k.", ms=4)
        ax.plot([0], [0], "g*", ms=10, label="saddle (0,0), value 0")
        ax.set_xlim(-2.1, 2.1)
        ax.set_ylim(-2.1, 2.1)
        ax.set_xlabel("theta = x (min)")
        ax.set_ylabel("omega = y (max)")
        ax.legend(fontsize=7)
    evidence.figure("gda-traps", draw, f"Projected GDA ends on xy = 1/2 (gap >= 1); MWU mixed gap {mixed:.4f}")


@pytest.mark.slow
@pytest.mark.claim("mixed.md-langevin", uses=["mirror_descent_langevin"])
@pytest.mark.no_near_miss("qualitative claim (verified qualitatively): the gap decreases and ends below the "
                          "catalogue's 0.1, against GDA's trap gap >= 1; no magnitude between is claimed")
@pytest.mark.parametrize("inner_steps", [50], ids=["50-Langevin-steps"])
def test_mirror_descent_langevin_weird_saddle(evidence, algorithm, inner_steps):
    """Entropic MD on measures over [-2, 2] with 2048 particles per player, each Gibbs measure sampled by 50
    projected Langevin steps (temperature 1/(eta t), eta = 1), T = 200: the duality gap of the averaged
    measures (closed form from moments) decreases along t = 10, 25, 50, 100, 200 and ends < 0.1 (catalogue),
    far below projected GDA's trap gap >= 1.
    Particles: the gap's floor is ~|E x|/4 (the y player best-responds to the x player's mean), and E x is the
    imbalance of x particles split between the walls +-2, sd ~ 2/sqrt(K). With the catalogue's K = 256 the
    final gap ranged 0.030-0.092 over 12 seeds (false alarm of '< 0.1' a few per cent); K = 2048 puts 0.1 about
    6 standard deviations above the typical 0.03 (false alarm < 1e-6 under that Gaussian approximation).
    (``inner_steps`` = 0 never samples the Gibbs measures: the wrong world of the controls.)"""
    evidence.record("false_alarm_budget", 1e-6)
    mdl = algorithm("mirror_descent_langevin")
    seed = seed_for("mixed.md-langevin", "weird-saddle")
    evidence.set_seed(seed)
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-2, 2, (2048, 1)), rng.uniform(-2, 2, (2048, 1))
    X, Y = mdl(weird_saddle_payoff(), x0, y0, 200, 1.0, inner_steps, 0.05, rng)
    checkpoints = [10, 25, 50, 100, 200]
    gaps = np.array([weird_saddle_mixed_gap((X[:t].mean(), (X[:t] ** 2).mean()), (Y[:t].mean(), (Y[:t] ** 2).mean()))
                     for t in checkpoints])
    evidence.record("gap of the averaged measures at t = 10, 25, 50, 100, 200", gaps)
    evidence.monotone("gap decreases across outer iterations", gaps)
    evidence.upper_bound("final gap (catalogue pass: < 0.1)", gaps[-1], 0.1, headline=True)
    evidence.record("fitted slope of log gap vs log t (theory for exact MD: -1/2 or better)",
                    float(np.polyfit(np.log(checkpoints), np.log(gaps), 1)[0]))
    evidence.parameters(particles=2048, inner_steps=50, eta=1.0, step=0.05, outer=200)
