"""Slides "Solving the outer problem" (SGD, PSGD, SGLD) and questions Q1 and Q3
(catalogue 2.1; [62] = Mertikopoulos, Hallak, Kavis, Cevher, NeurIPS 2020).

The optimisers under test come from the registry (family ``optimizer``, driven
through ``problems.optim.sgd_oracles.run_optimizer``); the step-size schedules from
family ``schedule``. On quadratics the oracles are exact: SGD is a linear
recursion whose second moment obeys e_{k+1} = (1 - alpha_k lam)^2 e_k + alpha_k^2 sigma^2.
Monte Carlo enters only where the update rule itself is tested, with
chi-square bands for Gaussian iterates and Hoeffding/Markov bounds otherwise;
each check states its false-alarm budget.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from problems.runtime import seed as _seed
from checks.support import examples, search_counterexample
from problems.optim.sgd_oracles import (chi2_variance_band, constant_step_second_moment, fitted_slope,
                                  hoeffding_radius, run_optimizer, second_moment, sgd_stationary_variance,
                                  sgld_stationary_variance)
from problems.optim.smooth_functions import CosineSum, Quadratic, cosine_sums, quadratics

CHAINS = 2048  # Monte Carlo chains, one batch row each
SGLD_CHAINS = 2**15  # resolves a 10 % noise-variance error (see test_sgld_variance)
FLOOR_CHAINS = 2**16  # resolves a 5 % step error in the noise floor (see test_constant_step_noise_floor)



def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------ sgd.update-rules
UNIT = Quadratic.from_spectrum([1.0], seed=0)


@pytest.mark.claim("sgd.update-rules", uses=["sgld"])
@settings(max_examples=examples(3))
@given(quad=quadratics(max_dim=4, lam_range=(0.5, 5.0)), fraction=st.floats(0.05, 0.95),
       sigma=st.floats(0.0, 2.0))
@example(quad=UNIT, fraction=0.5, sigma=0.0)
def test_sgld_variance(evidence, algorithm, quad, fraction, sigma):
    """SGLD x+ = x - alpha (grad f + sigma zeta) + sqrt(2 alpha) xi on f = x^T H x / 2 is
    linear and Gaussian: per eigen-direction e_{k+1} = (1 - alpha lam)^2 e_k + alpha^2 sigma^2
    + 2 alpha, fixed point (2 + alpha sigma^2)/(lam (2 - alpha lam)) -> 1/lam (Gibbs).
    From x_0 = x* the K-th iterate is exactly N(0, e_K) per direction, so the
    Monte Carlo second moment over 2^15 chains over e_K lies in the chi-square
    band; false-alarm budget 1e-5 per direction, <= 1.6e-4 per run (<= 4
    directions, <= 4 examples). Power: the band's half-width is 0.035 and the ratio's
    standard deviation 0.0078, so a Langevin noise variance 10 % off (the near miss; at
    sigma = 0 the ratio is then 1.1) is rejected with probability > 1 - 1e-15."""
    sgld = algorithm("sgld")
    alpha, steps = fraction / quad.L, 50
    seed = _seed("sgd.update-rules", "sgld", quad.lam.tolist(), fraction, sigma)
    evidence.parameters(lam=quad.lam, alpha=alpha, sigma=sigma, chains=SGLD_CHAINS, steps=steps)
    evidence.set_seed(seed)
    evidence.record("false_alarm_budget", 1.6e-4)
    evidence.resolution("rejects a Langevin noise variance off by >= 10 % (power > 1 - 1e-15 at sigma = 0)")
    v_inf = sgld_stationary_variance(quad.lam, alpha, sigma**2)
    noise = sigma**2 + 2 / alpha  # alpha^2 * noise = alpha^2 sigma^2 + 2 alpha
    fixed_point = constant_step_second_moment(quad.lam, alpha, noise, 0.0, 10**7)
    # rho^(2 * 1e7) underflows to 0 for alpha lam >= 0.025; the sum is exact to ~1e-15
    evidence.tight("exact recursion reaches 2/(lam(2 - alpha lam)) + alpha sigma^2/(lam(2 - alpha lam))",
                   fixed_point, v_inf, rel=1e-12)
    evidence.tight("Gibbs limit: lam v_inf = 2/(2 - alpha lam) (-> 1 as alpha -> 0)", quad.lam * v_inf,
                   (2 + alpha * sigma**2) / (2 - alpha * quad.lam), rel=1e-12)

    rng = np.random.default_rng(seed)
    run = run_optimizer(sgld, np.zeros((SGLD_CHAINS, quad.dim)),
                        lambda x, k: quad.gradient(x) + sigma * rng.standard_normal(x.shape),
                        steps, lr=alpha, record=[steps], generator=_generator(seed))
    u = quad.eigen_coordinates(run["x"][-1])
    exact = constant_step_second_moment(quad.lam, alpha, noise, 0.0, steps)
    lo, hi = chi2_variance_band(SGLD_CHAINS, 1e-5)
    ratio = np.mean(u**2, axis=0) / exact
    evidence.tight("Monte Carlo E u_K^2 / exact e_K (chi-square band)", ratio, 1.0,
                   abs=max(1 - lo, hi - 1), headline=True)
    evidence.record("stationary variance v_inf per eigen-direction", v_inf)


@pytest.mark.claim("sgd.update-rules", uses=["psgd"])
@settings(max_examples=examples(3))
@given(dim=st.integers(1, 5), alpha=st.floats(0.01, 1.0))
@example(dim=2, alpha=0.5)
def test_psgd_perturbation_on_unit_sphere(evidence, algorithm, dim, alpha):
    """PSGD x+ = x - alpha (g + xi), xi uniform on the unit sphere: the
    perturbation recovered from one step, xi = (x - x+)/alpha - g, has ||xi|| = 1
    exactly (to rounding), mean 0 and second moment I/dim (Hoeffding, xi_i and
    xi_i^2 bounded; false alarm 5e-7 per test and coordinate: <= 5e-6 per example, 2e-5 per run)."""
    psgd = algorithm("psgd")
    seed = _seed("sgd.update-rules", "psgd", dim, alpha)
    rng = np.random.default_rng(seed)
    x0, g = rng.standard_normal((CHAINS, dim)), rng.standard_normal((CHAINS, dim))
    run = run_optimizer(psgd, x0, lambda x, k: g, 1, lr=alpha, generator=_generator(seed))
    xi = (x0 - run["x"][-1]) / alpha - g
    evidence.parameters(dim=dim, alpha=alpha, chains=CHAINS)
    evidence.set_seed(seed)
    evidence.record("false_alarm_budget", 2e-5)
    evidence.resolution("rejects a perturbation radius off by a relative 1e-9 (||xi|| = 1 to ~1e-11)")
    scale = 1 + (np.abs(x0).max() + np.abs(g).max()) / alpha
    evidence.tight("||xi|| = 1 (unit sphere, not ball)", np.linalg.norm(xi, axis=1), 1.0, abs=1e-13 * scale,
                   headline=True)
    evidence.tight("E xi = 0", xi.mean(axis=0), 0.0, abs=hoeffding_radius(CHAINS, 2.0, 5e-7))
    evidence.tight("E xi_i^2 = 1/dim", (xi**2).mean(axis=0), 1 / dim, abs=hoeffding_radius(CHAINS, 1.0, 5e-7))


# ---------------------------------------------------- sgd.q1-gd-constant-step
QUADRATIC_AS_COSINE_SUM = CosineSum.random(2, 0, 1.0, seed=0)  # f = ||x||^2/2: L = 1, curvature L


@pytest.mark.claim("sgd.q1-gd-constant-step", uses=["gradient_descent"])
@settings(max_examples=examples(4))
@given(f=cosine_sums(), fraction=st.floats(0.05, 0.95))
@example(f=QUADRATIC_AS_COSINE_SUM, fraction=0.95)
def test_gd_constant_step_descent(evidence, algorithm, f, fraction):
    """GD x+ = x - alpha grad f with alpha = fraction * 2/L on the smooth nonconvex
    f = sum_j a_j cos(w_j x + b_j) + mu ||x||^2/2 (L exact by construction): by the
    descent lemma f(x_k) is non-increasing and
    min_{k<K} ||grad f(x_k)||^2 <= (f(x_0) - f_inf) / (K alpha (1 - alpha L/2)) for every K.
    Deterministic; tolerance: float64 rounding of f."""
    gd = algorithm("gradient_descent")
    alpha, steps = fraction * 2 / f.L, 120
    x0 = np.random.default_rng(_seed("sgd.q1-gd-constant-step", f.dim, fraction)).uniform(-3, 3, (16, f.dim))
    traj = run_optimizer(gd, x0, lambda x, k: f.gradient(x), steps, lr=alpha)["x"]
    values = np.stack([f.value(x) for x in traj])
    evidence.parameters(dim=f.dim, terms=f.a.size, mu=f.mu, L=f.L, alpha=alpha, starts=len(x0))
    rounding = 1e-13 * (1 + np.abs(f.a).sum() + f.mu * np.max(np.sum(traj**2, axis=-1)))
    evidence.monotone("f(x_k) non-increasing", values, abs=rounding, headline=True)
    grad_sq = np.stack([np.sum(f.gradient(x) ** 2, axis=-1) for x in traj[:-1]])
    K = np.arange(1, steps + 1)[:, None]
    bound = (values[0] - f.f_lower) / (K * alpha * (1 - alpha * f.L / 2))
    evidence.upper_bound("min_{k<K} ||grad f||^2 <= (f0 - f_inf)/(K alpha (1 - alpha L/2)), all K",
                         np.minimum.accumulate(grad_sq, axis=0), bound, rel=1e-12, abs=1e-15)
    evidence.resolution("rejects a step 2.5 % past the threshold 2/L (near miss on f = ||x||^2/2: f grows)")
    evidence.note("Only ||grad f(x_k)|| -> 0 follows; convergence of the iterates needs a KL-type "
                  "property (Absil et al. 2005; Attouch & Bolte 2009).")


# ----------------------------------------- sgd.q1-constant-step-no-convergence
@pytest.mark.claim("sgd.q1-constant-step-no-convergence", uses=["sgd"])
@settings(max_examples=examples(3))
@given(quad=quadratics(max_dim=3, lam_range=(0.5, 3.0)), fraction=st.floats(0.1, 0.9), sigma=st.floats(0.1, 3.0))
@example(quad=UNIT, fraction=0.25, sigma=1.0)
def test_constant_step_noise_floor(evidence, algorithm, quad, fraction, sigma):
    """Constant-step SGD with noise that does not vanish at x* (g = grad f + sigma zeta):
    per eigen-direction v_inf = alpha sigma^2 / (lam (2 - alpha lam)) > 0, so E f - f* ->
    alpha sigma^2 sum_i 1/(2(2 - alpha lam_i)) > 0 and x_k does not converge. From x_0 = x*
    the iterates are exactly Gaussian with second moment e_K (exact recursion): chi-square band over
    2^16 chains, false alarm 1e-5 per direction (<= 1.2e-4 per run). Power: band half-width 0.024,
    ratio s.d. 0.0055; a step 5 % off moves the floor by >= 5 % (x 1.05 (2 - a)/(2 - 1.05 a), a = alpha lam),
    rejected with probability > 1 - 1e-6."""
    sgd = algorithm("sgd")
    alpha = fraction * 2 / quad.L
    rho2 = float(np.max((1 - alpha * quad.lam) ** 2))
    steps = 1 if rho2 <= 0.5 else int(min(200, np.ceil(np.log(0.5) / np.log(rho2))))  # e_K >= v_inf / 2
    seed = _seed("sgd.q1-constant-step-no-convergence", quad.lam.tolist(), fraction, sigma)
    evidence.parameters(lam=quad.lam, alpha=alpha, sigma=sigma, steps=steps, chains=FLOOR_CHAINS)
    evidence.set_seed(seed)
    evidence.record("false_alarm_budget", 1.2e-4)
    evidence.resolution("rejects a step 5 % off (noise floor >= 5 % off; power > 1 - 1e-6)")
    v_inf = sgd_stationary_variance(quad.lam, alpha, sigma**2)
    evidence.tight("fixed point of the exact recursion = alpha sigma^2/(lam(2 - alpha lam))",
                   constant_step_second_moment(quad.lam, alpha, sigma**2, 0.0, 10**7), v_inf, rel=1e-12)
    rng = np.random.default_rng(seed)
    run = run_optimizer(sgd, np.zeros((FLOOR_CHAINS, quad.dim)),
                        lambda x, k: quad.gradient(x) + sigma * rng.standard_normal(x.shape), steps, lr=alpha,
                        record=[steps])
    u = quad.eigen_coordinates(run["x"][-1])
    exact = constant_step_second_moment(quad.lam, alpha, sigma**2, 0.0, steps)
    lo, hi = chi2_variance_band(FLOOR_CHAINS, 1e-5)
    evidence.tight("Monte Carlo E u_K^2 / exact e_K (chi-square band)", np.mean(u**2, axis=0) / exact, 1.0,
                   abs=max(1 - lo, hi - 1), headline=True)
    # K was chosen so that e_K >= v_inf/2: the gap cannot fall below lo * (half the floor)
    evidence.lower_bound("E f(x_K) - f* >= lo * exact gap >= lo * floor/2 > 0 (no convergence)",
                         0.5 * np.sum(quad.lam * np.mean(u**2, axis=0)), lo * 0.5 * np.sum(quad.lam * exact))
    evidence.record("e_K / v_inf per direction (>= 1/2 by the choice of K)", exact / v_inf)
    evidence.record("noise floor E f - f* = alpha sigma^2 sum 1/(2(2 - alpha lam))",
                    float(np.sum(alpha * sigma**2 / (2 * (2 - alpha * quad.lam)))))
    evidence.record("PSGD floor per coordinate alpha/(dim lam (2 - alpha lam)) (||xi|| = 1 never vanishes)",
                    sgd_stationary_variance(quad.lam, alpha, 1.0 / quad.dim))


@st.composite
def sgd_noise_models(draw, additive_min: float = 0.0):
    """Constant-step SGD on f = lam x^2/2 with the slide's noise model g = grad f + U(x, zeta),
    U = b zeta x + a xi (zeta, xi independent N(0, 1)): unbiased, bounded variance on bounded
    sets; the multiplicative part b > 0 always, the additive part a >= additive_min (a = 0:
    interpolation, U(x*) = 0). Step alpha = fraction * 2 lam/(lam^2 + b^2), the range where the
    mean-square map contracts."""
    lam = draw(st.floats(0.2, 3.0))
    b = lam * draw(st.floats(0.1, 3.0))
    a = draw(st.floats(additive_min, 1.0))
    alpha = draw(st.floats(0.05, 0.95)) * 2 * lam / (lam**2 + b**2)
    return {"lam": lam, "b": b, "a": a, "alpha": alpha}


def _mean_square_law(m: dict) -> tuple[float, float]:
    """Exact law of E x_k^2: e_{k+1} = q e_k + alpha^2 a^2, q = (1 - alpha lam)^2 + alpha^2 b^2 (< 1 here);
    returns (q, stationary value alpha^2 a^2/(1 - q))."""
    q = (1 - m["alpha"] * m["lam"]) ** 2 + m["alpha"] ** 2 * m["b"] ** 2
    return q, m["alpha"] ** 2 * m["a"] ** 2 / (1 - q)


@pytest.mark.claim("sgd.q1-constant-step-no-convergence", uses=["sgd"])
def test_interpolation_counterexample(evidence, algorithm, additive_min=0.0):
    """Counterexample to the statement as printed ("with probability 1, SGD does not converge
    with constant step-size"), found by hypothesis: it searches noise models of the slide's
    template (unbiased, bounded variance; ``sgd_noise_models``) for one where the exact
    mean-square law has stationary value 0, and shrinks it: additive part a = 0 (noise that
    vanishes at x*, interpolation). There E x_k^2 = q^k x0^2 -> 0 geometrically, so x_k -> x*
    a.s. (Borel-Cantelli). The shrunk instance and the pinned lam = b = 1, alpha = 1/2 are run
    on the registry's SGD: K is chosen with q^K x0^2 <= 1e-3 t^2 / S, t = 1e-6, so by Markov and
    a union bound all S chains end within t of x* except with probability 1e-3 per instance
    (false-alarm budget 2e-3). ``additive_min`` > 0 is a world where the printed statement holds
    (every noise model keeps U(x*) != 0): the search then finds nothing and the check fails."""
    sgd = algorithm("sgd")
    found = search_counterexample(sgd_noise_models(additive_min), lambda m: _mean_square_law(m)[1] == 0.0,
                                  "sgd.q1-constant-step-no-convergence", "noise-models", max_examples=100)
    pinned = {"lam": 1.0, "b": 1.0, "a": additive_min, "alpha": 0.5}
    evidence.record("shrunk counterexample (hypothesis)", {k: float(v) for k, v in found.items()},
                    q=_mean_square_law(found)[0])
    t = 1e-6
    for name, m in (("shrunk", found), ("pinned", pinned)):
        q, _ = _mean_square_law(m)
        steps = int(np.ceil(np.log(1e-3 * t**2 / CHAINS) / np.log(q)))
        seed = _seed("sgd.q1-constant-step-no-convergence", "interpolation", name, *m.values())
        evidence.parameters(**{f"{name}_{k}": v for k, v in m.items()}, **{f"{name}_steps": steps})
        rng = np.random.default_rng(seed)
        run = run_optimizer(sgd, np.ones((CHAINS, 1)),
                            lambda x, k, m=m, rng=rng: ((m["lam"] + m["b"] * rng.standard_normal(x.shape)) * x
                                                        + m["a"] * rng.standard_normal(x.shape)),
                            steps, lr=m["alpha"], record=[steps])
        evidence.upper_bound(f"{name}: max over {CHAINS} chains |x_K - x*| (constant step)",
                             np.abs(run["x"][-1]).max(), t, headline=name == "shrunk")
        evidence.record(f"{name}: noise floor if the same noise did not vanish at x* (a = b), "
                        "alpha^2 b^2/(1 - (1 - alpha lam)^2)",
                        float(m["alpha"] ** 2 * m["b"] ** 2 / (1 - (1 - m["alpha"] * m["lam"]) ** 2)))
    evidence.resolution("rejects every noise model with an additive part a >= 1e-4 (near-miss control): "
                        "its floor alpha a^2/(lam(2 - alpha lam)) keeps chains ~1e-4 >> 1e-6 from x*")
    evidence.corrects(
        "As printed the statement drops [10]'s condition that the noise does not vanish at the solution: "
        "for interpolation noise (U(x*) = 0) constant-step SGD converges. With Var U(x*) > 0 it does not "
        "(test_constant_step_noise_floor).",
        counterexample=(f"f = {found['lam']:.3g} x^2/2, g = ({found['lam']:.3g} + {found['b']:.3g} zeta) x "
                        f"(no additive noise), alpha = {found['alpha']:.3g}: every one of {CHAINS} SGD chains "
                        "ends within 1e-6 of x* = 0 (hypothesis-shrunk)"))


# --------------------------------------------------------- sgd.q3-thm4-rate
SLOPE_WINDOW = np.unique(np.geomspace(10**4.5, 10**6, 9).astype(int))
HORIZON = 10**6
CURVE = np.union1d(np.unique(np.geomspace(1, HORIZON, 120).astype(int)), SLOPE_WINDOW)  # for the figure


def _harmonic_rate(algorithm, c: float) -> tuple[float, np.ndarray]:
    """Exact E x_k^2 of SGD on x^2/2 (lam = 1, sigma = 1, x_0 = 1) with
    alpha_k = schedule(k; gamma=c, m, p=1), m = floor(c) + 1 (alpha_k lam < 1 from the
    start); returns the log-log slope over [10^4.5, 10^6] and e_k on ``CURVE``."""
    return _exact_rate(algorithm("polynomial_step"), c)


@functools.lru_cache(maxsize=16)
def _exact_rate(schedule, c: float) -> tuple[float, np.ndarray]:
    # cached per (schedule object, c): the two Theorem-4 checks share the 1e6-step recursions,
    # a substituted schedule is a different object and gets its own
    alpha = schedule(np.arange(HORIZON), gamma=c, m=float(np.floor(c) + 1), p=1.0)
    e = second_moment(alpha, 1.0, 1.0, 1.0, CURVE)
    e.setflags(write=False)
    return fitted_slope(SLOPE_WINDOW, e[np.isin(CURVE, SLOPE_WINDOW)]), e


def _pathwise_sgd_with_schedule(evidence, algorithm, c: float):
    """The registry's SGD with the registry's schedule is x+ = (1 - alpha_k) x - alpha_k zeta_k."""
    sgd, schedule = algorithm("sgd"), algorithm("polynomial_step")
    alpha = schedule(np.arange(40), gamma=c, m=float(np.floor(c) + 1), p=1.0)
    zeta = np.random.default_rng(_seed("sgd.q3-thm4-rate", c)).standard_normal((40, 4, 1))
    run = run_optimizer(sgd, np.ones((4, 1)), lambda x, k: x + zeta[k], 40, lr=alpha[0], schedule=alpha)
    x = [np.ones((4, 1))]
    for k in range(40):
        x.append((1 - alpha[k]) * x[-1] - alpha[k] * zeta[k])
    evidence.tight("pathwise SGD with the schedule = the linear recursion", run["x"], np.stack(x), rel=1e-12,
                   abs=1e-12)


@pytest.mark.claim("sgd.q3-thm4-rate", uses=["polynomial_step", "sgd"])
def test_thm4_as_printed_fails_for_small_gamma(evidence, algorithm, gamma_lam_min=0.05):
    """Counterexample to "alpha_k = O(1/k) => E f(x_k) - f* = O(1/k)" as printed, found by
    hypothesis: it searches step constants gamma lam in [gamma_lam_min, 3] of the registry's
    schedule alpha_k = gamma/(k + m) (every one O(1/k)) on f = x^2/2, sigma = 1, for one whose
    exact E f(x_k) decays slower than 1/k by at least 0.1 in the exponent (fitted slope over
    [10^4.5, 10^6] above -0.9; near gamma lam = 1/2 the 1/k law is approached like k^-(2 gamma lam - 1),
    too slowly for a finer threshold: slope -0.968 at gamma lam = 0.55), and shrinks it. There, and at the pinned gamma lam = 1/4, 1/10, the exact second
    moment decays like k^(-2 gamma lam) (Chung 1954; at gamma lam = 1/2 like log k / k) and
    k E f(x_k) grows without bound; where gamma lam <= 1/4 the fitted slope is -2 gamma lam
    (tolerance 0.02: the subleading k^-1 term has relative weight <= k^-(1 - 2 gamma lam)
    <= 10^-2.25 at the window's start). Deterministic. ``gamma_lam_min`` >= 1/2 is a world where the printed
    statement holds (the search then finds nothing and the check fails)."""
    schedule = algorithm("polynomial_step")
    _pathwise_sgd_with_schedule(evidence, algorithm, 0.25)
    found = search_counterexample(st.floats(gamma_lam_min, 3.0), lambda c: _exact_rate(schedule, c)[0] > -0.9,
                                  "sgd.q3-thm4-rate", "step-constant", max_examples=20)
    evidence.record("shrunk counterexample (hypothesis): gamma lam", found, slope=_exact_rate(schedule, found)[0])
    slopes = {}
    for c in sorted({found, *(c for c in (0.25, 0.1) if c >= gamma_lam_min)}, reverse=True):
        slope, e = _harmonic_rate(algorithm, c)
        slopes[c] = slope
        if c <= 0.25:  # k^-2c leads k^-1 by >= k^0.5 over the window: the slope identifies the exponent
            evidence.tight(f"slope of E f at gamma lam = {c:.4g}: -2 gamma lam, not -1", slope, -2 * c, abs=0.02,
                           headline=c == found)
        k_e = CURVE * e / 2
        evidence.lower_bound(f"k E f(x_k) at k = 10^6 over its value at 10^4.5 (> 1: not O(1/k)), "
                             f"gamma lam = {c:.4g}", k_e[-1] / k_e[CURVE == SLOPE_WINDOW[0]][0], 1.0)
    evidence.parameters(gamma_lam=sorted(slopes), lam=1.0, sigma=1.0, window=[int(SLOPE_WINDOW[0]), HORIZON])
    evidence.resolution("detects an exponent deficit >= 0.1 (gamma lam <= 0.45); with every gamma lam >= 0.55 "
                        "(near-miss control, the printed statement true) the search comes back empty")
    evidence.corrects(
        "alpha_k = gamma/(k + m) with gamma lam_min < 1/2 gives E f - f* ~ k^(-2 gamma lam_min), not O(1/k): the "
        "O(1/k) rate needs gamma lam_min > 1/2 (and holds conditioned on converging to the minimiser); the "
        "corrected rate k^-min(1, 2 gamma lam) is verified by test_thm4_corrected_rate.",
        counterexample=(f"f = x^2/2, sigma = 1, alpha_k = {found:.3g}/(k + 1) (O(1/k)): exact E f(x_k) decays like "
                        f"k^{slopes[found]:.3f}, not 1/k (hypothesis-shrunk)"))


@pytest.mark.claim("sgd.q3-thm4-rate", uses=["polynomial_step", "sgd"])
def test_thm4_corrected_rate(evidence, algorithm):
    """Corrected Theorem 4 (p = 1): E f(x_k) - f* ~ k^-min(1, 2 gamma lam); for gamma lam > 1/2,
    k E x_k^2 -> gamma^2 sigma^2/(2 gamma lam - 1). Exact recursion (no Monte Carlo);
    catalogue instances gamma lam in {2, 1, 1/4, 1/10}; slope tolerance 0.02
    (subleading terms of relative weight <= k^-1/2 at k = 10^4.5); limit within
    1% (the O(1/k) and k^(1 - 2 gamma lam) corrections are <= 1e-3 at k = 10^6)."""
    _pathwise_sgd_with_schedule(evidence, algorithm, 1.0)
    evidence.resolution("rejects a slope error >= 0.02 (near miss: schedule exponent 0.9 for 1)")
    measured, curves = {}, {}
    for c in (2.0, 1.0, 0.25, 0.1):
        slope, e = _harmonic_rate(algorithm, c)
        measured[c], curves[c] = slope, e
        evidence.tight(f"slope at gamma lam = {c}: -min(1, 2 gamma lam)", slope, -min(1.0, 2 * c), abs=0.02,
                       headline=c == 1.0)
        if c > 0.5:
            evidence.tight(f"k E x_k^2 -> gamma^2 sigma^2/(2 gamma lam - 1) at gamma lam = {c}",
                           HORIZON * e[-1], c**2 / (2 * c - 1), rel=0.01)
    evidence.parameters(gamma_lam=list(measured), window=[int(SLOPE_WINDOW[0]), HORIZON])
    evidence.record("fitted slopes by gamma lam", {str(k): v for k, v in measured.items()})
    measured[0.5], curves[0.5] = _harmonic_rate(algorithm, 0.5)
    evidence.record("gamma lam = 1/2 (boundary, log k / k): fitted slope", measured[0.5])

    def draw(fig):
        ax = fig.add_subplot(111)
        for c in sorted(curves, reverse=True):
            ax.loglog(CURVE, curves[c] / 2, label=f"gamma lam = {c}")
        ax.loglog(CURVE, 1.0 / CURVE, "k:", label="1/k")
        ax.axvspan(SLOPE_WINDOW[0], HORIZON, color="grey", alpha=0.15)
        ax.set_xlabel("k")
        ax.set_ylabel("E f(x_k) - f* (exact)")
        ax.legend(fontsize=7)
    evidence.figure("rates", draw, "Exact E f(x_k) - f* of SGD with alpha_k = gamma/(k+m) on x^2/2: slope -1 "
                    "only for gamma lam > 1/2; shaded: the fitted window")
