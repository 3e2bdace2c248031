"""Rates of the rate table's deterministic rows (slide 15, catalogue 2.2) on their *worst* instances,
over two to three decades of the iteration count, so that a rate or constant that is off shows:

* GD with step 1/L: for each n, Drori and Teboulle's worst function (a Huber function whose kink
  the n steps never reach) gives exactly f(x_n) - f* = L ||x_0 - x*||^2/(4n + 2), the PEP value
  (checks/test_03_adaptive_slow.py certifies it at n = 5); n from 1 to 1000.
* AGD (FISTA, momentum (k-1)/(k+2)): the worst convex quadratic for each k, max over
  lam in [0, L] of the per-mode gap lam r_k(lam)^2/2 (r_k the method's residual polynomial), on a grid
  of 4001 curvatures, against the printed rule replayed exactly (``problems.optim.update_rule_oracles``);
  k from 1 to 2000. Its constant (k + 1)^2 gap/(2L) rises to 0.338: the printed 2L/(k+1)^2 holds with a
  factor ~3 to spare on quadratics (the worst smooth convex function, by PEP, is closer).

Deterministic: no false alarm.
"""
from __future__ import annotations

import numpy as np
import pytest

from problems.optim.sgd_oracles import fitted_slope, run_optimizer

GD_HORIZONS = np.unique(np.geomspace(1, 1000, 13).astype(int))
AGD_HORIZONS = np.unique(np.geomspace(1, 2000, 14).astype(int))
CURVATURES = np.geomspace(1e-9, 1.0, 4001)  # the worst curvature at step k is ~ 1/k^2


@pytest.mark.claim("adaptive.gd-sgd-rates", uses=["gradient_descent"])
def test_gd_worst_case_rate_over_three_decades(evidence, algorithm):
    """GD, step 1/L (L = 1), R = ||x_0 - x*|| = 1: on f_n = h_tau with tau = 1/(2n + 1) (row n of one batch),
    n steps end at exactly f_n(x_n) = 1/(4n + 2) (each step moves by tau on the linear part, which it never
    leaves), for n = 1 ... 1000: the claim f(x_n) - f* <= L R^2/(2n) holds there with ratio 2n/(4n + 2) -> 1/2
    (the printed constant is loose by 2 even on the worst function), and the exact worst case is attained.
    Rounding: x_n = 1 - n tau carries ~n ulps, f_n a relative ~1e-13 at n = 1000. Resolution: a step 5 %
    off (0.95/L, the near miss) leaves the worst case 5-10 % higher: rejected."""
    gd = algorithm("gradient_descent")
    n = GD_HORIZONS
    tau = 1.0 / (2 * n + 1)
    run = run_optimizer(gd, np.ones((n.size, 1)), lambda x, k: np.clip(x, -tau[:, None], tau[:, None]), int(n.max()),
                        lr=1.0, record=n)
    x_n = run["x"][np.arange(n.size), np.arange(n.size), 0]  # row n at step n
    gap = np.where(np.abs(x_n) <= tau, 0.5 * x_n**2, tau * np.abs(x_n) - 0.5 * tau**2)
    evidence.parameters(L=1.0, R=1.0, horizons=n)
    evidence.tight("f_n(x_n) = L R^2/(4n + 2), n = 1 ... 1000 (the exact worst case)", gap, 1 / (4 * n + 2),
                   rel=1e-11, headline=True)
    evidence.upper_bound("f(x_n) - f* <= L R^2/(2n) (the table's bound)", gap, 1 / (2 * n))
    evidence.record("fitted slope of the worst case over n in [10, 1000]", fitted_slope(n[n >= 10], gap[n >= 10]))
    evidence.record("false_alarm_budget", 0.0, note="deterministic")
    evidence.resolution("rejects a step-size rule 5 % off (worst case +5-10 %); the printed constant 1/(2n) is "
                        "loose by 2 on the worst function")


def _worst_quadratic_gaps(solutions: np.ndarray) -> np.ndarray:
    """max over the curvature grid of lam x^2/2 (x* = 0, x_0 = 1 in every mode), per recorded step."""
    return np.max(0.5 * CURVATURES * solutions**2, axis=-1)


def _printed_fista_on_modes(horizons: np.ndarray) -> np.ndarray:
    """The printed FISTA rule (step 1/L = 1) on every mode lam of the grid at once, exactly."""
    y = np.ones_like(CURVATURES)
    x_prev, out = y.copy(), {}
    for k in range(1, int(horizons.max()) + 1):
        x = y - CURVATURES * y
        y = x + (k - 1) / (k + 2) * (x - x_prev)
        x_prev = x
        if k in set(horizons.tolist()):
            out[k] = x
    return np.stack([out[int(k)] for k in horizons])


@pytest.mark.claim("adaptive.agd-rates", uses=["accelerated_gradient"])
def test_agd_worst_quadratic_rate(evidence, algorithm):
    """AGD (step 1/L, L = 1) on the diagonal quadratic with the 4001 curvatures of the grid, each mode from
    x_0 = 1: the worst mode's gap max_lam lam x_k(lam)^2/2 is the worst case over 1-D quadratics with
    ||x_0 - x*|| = 1 (to the grid's resolution). For k = 1 ... 2000 (3.3 decades): (i) the registry's AGD
    equals the printed rule replayed mode by mode (the momentum recursion lets a rounding grow ~k: rel 1e-9);
    (ii) the claim f(x_k) - f* <= 2L/(k + 1)^2 holds (ratio <= 0.34); (iii) the rate is k^-2: fitted slope
    over k in [10, 2000] <= -1.9 (the constant (k + 1)^2 gap/(2L) rises from 0.28 to its limit 0.338, which
    alone gives -1.94). Resolution: a step 5 % off (the near miss) is rejected by (i)."""
    agd = algorithm("accelerated_gradient")
    k = AGD_HORIZONS
    run = run_optimizer(agd, np.ones((1, CURVATURES.size)), lambda x, _: CURVATURES * x, int(k.max()), lr=1.0,
                        record=k, report=True)
    gaps = _worst_quadratic_gaps(run["solution"][:, 0])
    exact = _worst_quadratic_gaps(_printed_fista_on_modes(k))
    evidence.parameters(L=1.0, curvatures=f"{CURVATURES.size} in [1e-9, 1] (log grid)", horizons=k)
    evidence.tight("worst-mode gap = the printed rule's, k = 1 ... 2000", gaps, exact, rel=1e-9, abs=1e-300)
    evidence.upper_bound("f(x_k) - f* <= 2L ||x0 - x*||^2/(k+1)^2 (worst quadratic)", gaps, 2 / (k + 1.0) ** 2)
    late = k >= 10
    evidence.upper_bound("rate: fitted slope of the worst quadratic's gap over k in [10, 2000]",
                         fitted_slope(k[late], gaps[late]), -1.9, headline=True)
    evidence.record("(k+1)^2 gap / (2L) by k (-> 0.338)", (k + 1.0) ** 2 * gaps / 2)
    evidence.record("false_alarm_budget", 0.0, note="deterministic")
    evidence.resolution("rejects a step-size rule 5 % off (exact replay) and a rate slower than k^-1.9")
