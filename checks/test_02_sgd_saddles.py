"""Question Q2 of the outer-problem slides: does (S)GD avoid saddle points?
(catalogue 2.1: Lee et al. COLT 2016 [51]; Ge, Huang, Jin, Yuan COLT 2015 [29];
Theorem 3 of Mertikopoulos, Hallak, Kavis, Cevher NeurIPS 2020 [62]).

The PSGD checks run on f(x, y) = x^2/2 + cos y (``problems.optim.smooth_functions.StrictSaddle``):
L = 1, strict saddles (0, 2 pi k), minimisers (0, pi + 2 pi k), the line y = 2 pi k the
saddle's stable manifold; the GD check also on its coupled versions x^2/2 + cos y + c sin x sin y,
whose stable manifolds are curves (``problems.optim.saddles``). Methods come from the registry.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from problems.runtime import seed as _seed
from checks.support import examples
from problems.optim.sgd_oracles import fitted_slope, quantile_upper_confidence, run_optimizer
from problems.optim.saddles import CoupledSaddle, DegenerateSaddle
from problems.optim.smooth_functions import StrictSaddle

F = StrictSaddle()



def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------- sgd.q2-gd-avoids-strict-saddles
SADDLE_WORLDS = {"strict": CoupledSaddle, "degenerate": DegenerateSaddle}


@pytest.mark.claim("sgd.q2-gd-avoids-strict-saddles", uses=["gradient_descent"])
@pytest.mark.no_near_miss("a measure-zero property ('almost all' starts): the world next to it is a saddle that "
                          "is not strict (lambda_min = 0), whose basin has positive measure; that wrong world is "
                          "rejected (DegenerateSaddle); no numeric margin of 'almost all' exists")
@settings(max_examples=examples(2))
@given(fraction=st.floats(0.1, 0.99), coupling=st.floats(-0.5, 0.5), world=st.just("strict"))
@example(fraction=0.5, coupling=0.0, world="strict")
@example(fraction=0.9, coupling=0.4, world="strict")
def test_gd_avoids_strict_saddles(evidence, algorithm, fraction, coupling, world):
    """GD with alpha = fraction/L < 1/L on f = x^2/2 + cos y + c sin x sin y (|c| <= 1/2; c = 0 the
    separable instance): strict saddles (0, 2 pi k) whose stable manifolds are *curves* for c != 0,
    minimisers (0, pi + 2 pi k) (``problems.optim.saddles``). From 4096 uniform starts in [-5, 5]^2,
    every run ends within 1e-6 of a minimiser after ``escape_steps`` (a budget that suffices from any
    start off the stable manifolds by >= 1e-16): the starts attracted by a saddle form a null set
    (Lee et al. 2016). From 16 starts built *on* the saddle's stable manifold (the inverse GD map run
    backwards from the stable eigenvector), GD returns to the saddle (within 1e-6) in as many steps:
    "almost all" is needed. Deterministic (fixed starts). ``world = "degenerate"``: the non-strict
    saddle x^2/2 + y^4/4 - y^3/3, whose basin (y < 0) has positive measure: the wrong world."""
    gd = algorithm("gradient_descent")
    problem = CoupledSaddle(coupling) if world == "strict" else DegenerateSaddle()
    alpha = fraction / problem.L
    rng = np.random.default_rng(_seed("sgd.q2-gd-avoids-strict-saddles", fraction, coupling, world))
    starts = rng.uniform(-5, 5, (4096, 2))
    steps = problem.escape_steps(alpha)
    final = run_optimizer(gd, starts, lambda x, k: problem.gradient(x), steps, lr=alpha, record=[steps])["x"][-1]
    on_manifold, back = problem.stable_manifold_points(alpha, 16, _seed("sgd.q2-manifold", fraction, coupling))
    returned = run_optimizer(gd, on_manifold, lambda x, k: problem.gradient(x), back, lr=alpha,
                             record=[back])["x"][-1]
    evidence.parameters(alpha=alpha, coupling=coupling, world=world, L=problem.L, starts=len(starts), steps=steps,
                        manifold_steps=back)
    evidence.upper_bound("distance to the nearest minimiser, generic starts", problem.distance_to_minimisers(final),
                         1e-6, headline=True)
    evidence.lower_bound("distance to the nearest saddle, generic starts", problem.distance_to_saddles(final), 1.0)
    evidence.upper_bound("starts on the stable manifold return to the saddle", problem.distance_to_saddles(returned),
                         1e-6)
    evidence.record("distance of the manifold starts from the saddle", float(problem.distance_to_saddles(on_manifold).min()))
    evidence.record("false_alarm_budget", 0.0, note="deterministic (fixed starts)")
    evidence.resolution("exact in kind: rejects a positive-measure basin (the non-strict saddle)")


# ------------------------------------------------------ sgd.q2-psgd-escape-time
STEPS_ALPHA = (0.1, 0.05, 0.025)
# 10^4 runs: the quantile bounds at 1e-4 then sit at levels q -+ 3.7 sqrt(q(1-q)/n) (0.99: 0.986..0.994), close
# enough to resolve the near miss tau ~ alpha^-2.2 (population quantile ratios 1.07-1.21 above the bound); with
# 10^3 the 0.99 bounds were X_(976) and the sample maximum. Cost: the run is per-step overhead (0.9 s either way).
RUNS = 10_000
# the degenerate world (a wrong-world control, random walk ~ 2/alpha^2 steps) keeps 10^3 runs: it is rejected there
# by the bound, while 10^4 runs would also leave some past its cap (and take 23 s instead of 5 s)
RUNS_BY_OBJECTIVE = {"strict": RUNS, "degenerate": 1000}


@functools.lru_cache(maxsize=4)
def _escape_times(psgd, objective: str = "strict") -> dict[float, np.ndarray]:
    """tau = first k with |y_k| > 1 for RUNS PSGD runs from the saddle (0, 0) per alpha of STEPS_ALPHA,
    on the catalogue's x^2/2 + cos y ("strict") or, as a world where the critical point is not a
    strict saddle, on f = x^2/2 ("degenerate": flat in y, so the escape from |y| <= 1 is a pure
    random walk of step alpha, tau ~ 2/alpha^2). Cached per (algorithm object, objective): the two checks of
    the entry share the runs, a substituted PSGD gets its own. Read-only arrays."""
    gradient = F.gradient if objective == "strict" else (lambda x: x * np.array([1.0, 0.0]))
    taus, runs = {}, RUNS_BY_OBJECTIVE[objective]
    for alpha in STEPS_ALPHA:
        seed = _seed("sgd.q2-psgd-escape-time", alpha) if objective == "strict" else _seed(
            "sgd.q2-psgd-escape-time", objective, alpha)
        tau = np.full(runs, np.inf)
        # ~4x the largest escape time measured (strict); 8x the mean 2/alpha^2 of the random walk (degenerate)
        cap = int(12 * np.log(1 / alpha) / alpha) if objective == "strict" else int(16 / alpha**2)

        def observe(k, x, tau=tau):
            tau[np.isinf(tau) & (np.abs(x[:, 1]) > 1)] = k
            return bool(np.all(np.isfinite(tau)))

        run_optimizer(psgd, np.zeros((runs, 2)), lambda x, k: gradient(x), cap, lr=alpha, record=[0],
                      observe=observe, generator=_generator(seed))
        tau.setflags(write=False)
        taus[alpha] = tau
    return taus


@pytest.mark.claim("sgd.q2-psgd-escape-time", uses=["psgd"])
def test_psgd_escape_time(evidence, algorithm):
    """Corrected statement (Ge et al. 2015 bound it *above*): with probability 1 - zeta, PSGD with
    constant alpha started exactly at the strict saddle (0, 0) of x^2/2 + cos y escapes (tau = first
    k with |y_k| > 1) within O~(log(1/zeta)/alpha^2). Fitting C at alpha = 0.1, the (1 - zeta)-quantile
    of tau stays <= C log(1/zeta)/alpha^2 at every smaller alpha, i.e. in the population
    tau_q(alpha) alpha^2 <= tau_q(0.1) 0.1^2 (zeta in {0.1, 0.01}, alpha in {0.05, 0.025}).

    Decision: it fails only when the data exclude that inequality: a LOWER order-statistic bound of
    tau_q(alpha) above C log(1/zeta)/alpha^2 with C from an UPPER bound of tau_q(0.1), each bound at
    1e-4. Under the inequality a failure needs one of the 6 bounds (2 upper, 4 lower) to miss its
    quantile: false alarm <= 6e-4, distribution-free (integer tau included). Power: the near miss
    tau ~ alpha^-2.2 (population ratio 1.07-1.21) is rejected by the 10^4-run bounds."""
    taus = _escape_times(algorithm("psgd"))
    evidence.record("false_alarm_budget", 6e-4, note="6 one-sided order-statistic bounds at 1e-4 each")
    for alpha in STEPS_ALPHA:
        evidence.holds(f"every run escaped within the cap (alpha = {alpha})", np.isfinite(taus[alpha]),
                       "PSGD started at the saddle must leave |y| <= 1")
    evidence.parameters(alphas=list(STEPS_ALPHA), runs=RUNS)
    evidence.resolution("rejects an escape time ~ alpha^-2.2 (population quantiles 7-21 % above C log(1/zeta)/alpha^2)")
    top, smaller = STEPS_ALPHA[0], np.array(STEPS_ALPHA[1:])
    for zeta in (0.1, 0.01):
        q = 1 - zeta
        C_upper = quantile_upper_confidence(taus[top], q, 1e-4) * top**2 / np.log(1 / zeta)
        lower = np.array([-quantile_upper_confidence(-taus[a], 1 - q, 1e-4) for a in STEPS_ALPHA[1:]])
        evidence.upper_bound(f"O-reading: quantile {q} of tau <= C log(1/zeta)/alpha^2 (lower bound of the "
                             f"quantile vs C from an upper bound at alpha = {top})", lower,
                             C_upper * np.log(1 / zeta) / smaller**2, headline=zeta == 0.01)
    medians = [np.median(taus[a]) for a in STEPS_ALPHA]
    evidence.record("median escape time by alpha", dict(zip(map(str, STEPS_ALPHA), medians)))
    evidence.record("log(1/alpha)/alpha by alpha", [float(np.log(1 / a) / a) for a in STEPS_ALPHA])

    def draw(fig):
        ax = fig.add_subplot(111)
        a = np.array(STEPS_ALPHA)
        for zeta, mk in ((0.1, "o"), (0.01, "s")):
            ax.loglog(a, [np.quantile(taus[x], 1 - zeta) for x in STEPS_ALPHA], mk + "-",
                      label=f"quantile {1 - zeta} of tau")
        ax.loglog(a, np.log(1 / a) / a, "k:", label="log(1/alpha)/alpha")
        ax.loglog(a, 0.5 / a**2, "k--", label="1/alpha^2 (scaled)")
        ax.set_xlabel("alpha")
        ax.set_ylabel("escape time")
        ax.legend(fontsize=7)
    evidence.figure("escape-time", draw, "PSGD escape time from the saddle of x^2/2 + cos y: ~ log(1/alpha)/alpha")


@pytest.mark.claim("sgd.q2-psgd-escape-time", uses=["psgd"])
def test_psgd_escape_time_omega_as_printed(evidence, algorithm, objective="strict"):
    """As printed, "escapes strict saddles after Omega(log(1/zeta)/alpha^2) iterations", a lower
    bound: tau_q(alpha) >= c log(1/zeta)/alpha^2 for some c > 0 and all small alpha. It fails on
    x^2/2 + cos y: with c fitted at alpha = 0.1 from a *lower* confidence bound of the quantile,
    the quantile at alpha = 0.025 lies below c log(1/zeta)/alpha^2 (upper confidence bound), and
    the median escape time scales like log(1/alpha)/alpha (fitted exponent above -1.5, where
    Omega(1/alpha^2) needs -2). Order-statistic bounds, false alarm 1e-4 each, <= 1e-3 per run.
    ``objective="degenerate"`` (f = x^2/2, flat in y: not a strict saddle, escape is diffusive,
    tau ~ 1/alpha^2) is a world where the Omega bound holds: the check fails there."""
    taus = _escape_times(algorithm("psgd"), objective)
    evidence.record("false_alarm_budget", 1e-3, note="order-statistic bounds at 1e-4 each")
    for alpha in STEPS_ALPHA:
        evidence.holds(f"every run escaped within the cap (alpha = {alpha})", np.isfinite(taus[alpha]),
                       "PSGD started at the saddle must leave |y| <= 1")
    top, smallest = STEPS_ALPHA[0], STEPS_ALPHA[-1]
    for zeta in (0.1, 0.01):
        q = 1 - zeta
        lower_top = -quantile_upper_confidence(-taus[top], 1 - q, 1e-4)  # lower bound on the q-quantile
        c = lower_top * top**2 / np.log(1 / zeta)
        evidence.upper_bound(f"Omega-reading fails: quantile {q} at alpha = {smallest} < c log(1/zeta)/alpha^2",
                             quantile_upper_confidence(taus[smallest], q, 1e-4), c * np.log(1 / zeta) / smallest**2,
                             headline=zeta == 0.01)
    slope = fitted_slope(STEPS_ALPHA, [np.median(taus[a]) for a in STEPS_ALPHA])
    evidence.upper_bound("fitted exponent of the median escape time in alpha (Omega(1/alpha^2): -2)", -slope, 1.5)
    evidence.parameters(alphas=list(STEPS_ALPHA), runs=RUNS_BY_OBJECTIVE[objective], objective=objective)
    evidence.resolution("rejects an escape time growing like alpha^-1.5 or faster in the median; the "
                        "diffusive alpha^-2 escape of a degenerate saddle (wrong-world control) is rejected")
    evidence.corrects(
        "The escape-time bound of Ge et al. (2015) is an upper bound, O~(log(1/zeta)/alpha^2); printed as Omega "
        "it is a lower bound, and the measured escape time scales like log(1/alpha)/alpha "
        f"(median exponent {slope:.2f}), far below 1/alpha^2. The O-bound is verified by test_psgd_escape_time.",
        counterexample=(f"PSGD from the strict saddle of x^2/2 + cos y: median escape time ~ alpha^{slope:.2f} "
                        f"({np.median(taus[top]):.0f}, {np.median(taus[smallest]):.0f} steps at alpha = {top}, "
                        f"{smallest}), not Omega(1/alpha^2)"))


# ---------------------------------------------------- sgd.q2-thm3-avoid-saddles-as
@pytest.mark.claim("sgd.q2-thm3-avoid-saddles-as", uses=["psgd"])
@pytest.mark.parametrize("kappa", [0.5, 0.75, 1.0])
def test_sgd_with_exciting_noise_leaves_the_saddle(evidence, algorithm, kappa):
    """SGD with bounded, uniformly exciting noise (the unit-sphere perturbation of
    PSGD with exact gradients: E<xi, u>^+ = 1/pi for every unit u in R^2) and
    alpha_k = 3/(k + 10)^kappa, kappa in (0, 1], started *at* the saddle. Linearised,
    y_K = G_K Z with G_K = prod_{j<K} (1 + alpha_j) and Z = -sum_j alpha_j xi_{y,j}/G_{j+1}, a
    sum of independent continuous variables: P(|y_K| < 0.1) = P(|Z| < 0.1/G_K) = O(1/G_K),
    and G_K >= (K/10 + 1)^3 ~ 2e5 at K = 600 (kappa = 1; e^38 for kappa = 3/4). All 256
    seeds must leave |y| < 0.1 and end in a minimiser's basin."""
    psgd = algorithm("psgd")
    seed = _seed("sgd.q2-thm3-avoid-saddles-as", kappa)
    steps = 600
    schedule = 3.0 / (np.arange(steps) + 10.0) ** kappa
    final = run_optimizer(psgd, np.zeros((256, 2)), lambda x, k: F.gradient(x), steps, lr=schedule[0],
                          schedule=schedule, record=[steps], generator=_generator(seed))["x"][-1]
    evidence.parameters(kappa=kappa, seeds=256, steps=steps, gamma=3.0, m=10)
    evidence.set_seed(seed)
    evidence.lower_bound("|y_K| (distance from the saddle's stable manifold y = 0)", np.abs(final[:, 1]), 0.1,
                         headline=True)
    evidence.upper_bound("distance to minimiser < distance to saddle (ended in a basin)",
                         F.distance_to_minimisers(final) - F.distance_to_saddles(final), 0.0)
    evidence.record("max distance to a minimiser (noise floor of the vanishing step)",
                    float(F.distance_to_minimisers(final).max()))
    # P(|y_K| < 0.1) = P(|Z| < 0.1/G_K) <= 0.2 sup(density of Z)/G_K ~ 0.2 * 3/2e5 per seed at kappa = 1
    # (far smaller for kappa < 1): <= 1e-3 for the 256 seeds
    evidence.record("false_alarm_budget", 1e-3 if kappa == 1.0 else 1e-9)
    evidence.resolution("rejects steps decaying like k^-1.3 (summable: the theorem's range kappa <= 1 left by 0.3)")
