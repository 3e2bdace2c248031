"""Question Q3 of the outer-problem slides: "SGD with constant alpha can obtain objective value
epsilon-close to a Hurwicz minimiser in O(1/eps^2) iterations" (catalogue 2.1, [29, 30]), as the
exponent of the exact first-hitting time over three decades of eps, with a wrong world (minimisers
whose curvature vanishes with eps) that the same check rejects.
"""
from __future__ import annotations

import numpy as np
import pytest

from problems.optim.sgd_oracles import constant_step_second_moment, fitted_slope, run_optimizer
from problems.runtime import seed as _seed


# -------------------------------------------------- sgd.q3-constant-step-eps-close
EPS_GRID = np.logspace(-4, -1, 7)  # three decades of epsilon
EXPONENT_TOLERANCE = 0.05  # see the docstring


def first_hitting_time(lam: float, alpha: float, sigma: float, x0: float, eps: float) -> int:
    """The first k with E f(x_k) - f* <= eps for SGD on lam x^2/2 (noise variance sigma^2, step alpha),
    in closed form from e_k = rho^(2k) x0^2 + v (1 - rho^(2k)), rho = 1 - alpha lam, v = alpha sigma^2/(lam(2 - alpha lam)):
    k* = ceil(log((2 eps/lam - v)/(x0^2 - v)) / log(rho^2)) (needs lam v/2 < eps < lam x0^2/2)."""
    rho2 = (1 - alpha * lam) ** 2
    v = alpha * sigma**2 / (lam * (2 - alpha * lam))
    return max(int(np.ceil(np.log((2 * eps / lam - v) / (x0**2 - v)) / np.log(rho2))), 0)


@pytest.mark.claim("sgd.q3-constant-step-eps-close", uses=["sgd"])
def test_constant_step_reaches_eps_in_o_one_over_eps_squared(evidence, algorithm, curvature_exponent=0.0):
    """On f = lam x^2/2 (a Hurwicz minimiser) with noise variance sigma^2, constant-step SGD with
    alpha = eps/sigma^2 has E f - f* = lam e_k/2 with the exact recursion e_k; its floor
    alpha sigma^2/(2(2 - alpha lam)) < eps/2. The registry's SGD is first shown to *be* that recursion,
    pathwise (rounding). The first k with E f - f* <= eps, k*(eps), is computed in closed form and
    confirmed on the exact recursion (gap(k*) <= eps < gap(k* - 1)) for eps over three decades,
    [1e-4, 1e-1]. The claim O(1/eps^2) is that log k* grows at most like 2 log(1/eps): the fitted
    exponent of k* against 1/eps must be <= 2 (tolerance 0.05: the exponent of a c/eps^2 law with
    a log factor bounded on the window, which k* ~ log(1/eps)/eps is far inside; measured 1.14).

    ``curvature_exponent`` q gives the instance family lam(eps) = (eps/0.1)^q (q = 0: one fixed
    instance). q > 1 is a world where the claim fails (the minimiser's curvature vanishes faster than
    eps, k* ~ eps^-(1+q)): q = 1.1 is the near miss (exponent 2.1), q = 1.2 the wrong world."""
    sgd = algorithm("sgd")
    lam, sigma, x0 = 1.0, 1.0, 3.0
    rng = np.random.default_rng(_seed("sgd.q3-constant-step-eps-close"))
    zeta = rng.standard_normal((64, 8, 1))
    run = run_optimizer(sgd, np.full((8, 1), x0), lambda x, k: lam * x + sigma * zeta[k], 64, lr=0.05)
    expected = [np.full((8, 1), x0)]
    for k in range(64):
        expected.append((1 - 0.05 * lam) * expected[-1] - 0.05 * sigma * zeta[k])
    evidence.tight("pathwise: x_{k+1} = (1 - alpha lam) x_k - alpha sigma zeta_k", run["x"], np.stack(expected),
                   rel=1e-13, abs=1e-13 * x0 * 64)
    lams = lam * (EPS_GRID / 0.1) ** curvature_exponent
    first = np.array([first_hitting_time(l, e / sigma**2, sigma, x0, e) for l, e in zip(lams, EPS_GRID)], float)
    gaps = np.array([[l * constant_step_second_moment(l, e / sigma**2, sigma**2, x0**2, k) / 2 for k in (kk, kk - 1)]
                     for l, e, kk in zip(lams, EPS_GRID, first.astype(int))])
    evidence.upper_bound("exact recursion at k*: E f - f* <= eps", gaps[:, 0], EPS_GRID, rel=1e-12)
    evidence.lower_bound("exact recursion at k* - 1: E f - f* > eps (k* is the first)", gaps[:, 1], EPS_GRID,
                         rel=-1e-12)
    exponent = fitted_slope(1 / EPS_GRID, first)
    evidence.parameters(lam=lam, sigma=sigma, x0=x0, eps=EPS_GRID, curvature_exponent=curvature_exponent)
    evidence.record("iterations k*(eps) to E f - f* <= eps", first)
    evidence.record("k*(eps) eps^2 (O(1/eps^2): bounded; here it tends to 0)", first * EPS_GRID**2)
    evidence.upper_bound("fitted exponent of k*(eps) in 1/eps over eps in [1e-4, 1e-1] (O(1/eps^2): <= 2)",
                         exponent, 2.0, abs=EXPONENT_TOLERANCE, headline=True)
    evidence.resolution("rejects an iteration-count exponent >= 2.05 (near miss: curvature ~ eps^1.1, exponent 2.1)")
    evidence.record("false_alarm_budget", 0.0, note="deterministic (exact recursion)")
    evidence.note("'epsilon-close' holds in expectation only: the iterates never converge at a constant step. "
                  "The measured Theta(log(1/eps)/eps) is far below O(1/eps^2): the bound is an upper bound.")
