"""Exact oracles for SGD-type methods on quadratics, confidence bounds for the
stochastic checks, and the harness side of the ``optimizer`` contract
(:func:`run_optimizer`).

On f(x) = lam x^2 / 2 with gradient noise of variance sigma^2, SGD is the
linear recursion x_{k+1} = (1 - alpha_k lam) x_k - alpha_k sigma xi_k, so its
second moment e_k = E x_k^2 obeys exactly

    e_{k+1} = (1 - alpha_k lam)^2 e_k + alpha_k^2 sigma^2,

and a multi-dimensional quadratic decouples into one such recursion per
eigen-direction. No Monte Carlo is needed for the rates.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from scipy import stats

from problems.runtime import threads

# ------------------------------------------------------- exact recursions
def second_moment(alpha: np.ndarray, lam: float, sigma2: float, e0: float,
                  at: np.ndarray) -> np.ndarray:
    """e_k for k in ``at`` of e_{k+1} = (1 - alpha_k lam)^2 e_k + alpha_k^2 sigma2.

    Closed form e_K = A_K (e_s + sum_{s<=j<K} b_j / A_{j+1}), A the product of the a_i since
    the segment start s, evaluated with cumulative sums of logs. A segment ends where
    A would leave the float64 range (|log A| > 600) or where a_k = 0 (alpha_k lam = 1:
    the recursion forgets its past, e_{k+1} = b_k); exact to rounding (relative error
    ~ K * 1e-16) for any schedule."""
    alpha = np.asarray(alpha, dtype=float)
    at = np.asarray(at, dtype=int)
    if at.size and (at.min() < 0 or at.max() > alpha.size):
        raise ValueError(f"requested steps must lie in [0, {alpha.size}] (len(alpha) steps were given)")
    a = (1.0 - alpha * lam) ** 2
    b = alpha**2 * sigma2
    todo = np.unique(at)
    results: dict[int, float] = {0: float(e0)}
    e_start, start = float(e0), 0
    while start < alpha.size and todo.size and todo.max() > start:
        if a[start] == 0:  # e_{start+1} = b_start, whatever came before
            e_start, start = float(b[start]), start + 1
            results[start] = e_start
            continue
        zeros = np.flatnonzero(a[start:] == 0)
        end = start + (int(zeros[0]) if zeros.size else alpha.size - start)
        logA = np.cumsum(np.log(a[start:end]))  # log A_{start+j+1} relative to A_start
        bad = np.flatnonzero(np.abs(logA) > 600)
        stop = start + max(int(bad[0]) if bad.size else logA.size, 1)
        logA = logA[: stop - start]
        S = np.cumsum(b[start:stop] * np.exp(-logA))  # sum_{j<K} b_j / A_{j+1}
        e_seg = np.exp(logA) * (e_start + S)  # e_{start+1}, ..., e_stop
        inside = todo[(todo > start) & (todo <= stop)]
        results.update({int(t): float(e_seg[t - start - 1]) for t in inside})
        e_start, start = float(e_seg[-1]), stop
    return np.array([results[int(t)] for t in at.ravel()]).reshape(at.shape)


def constant_step_second_moment(lam, alpha, sigma2, e0, k) -> np.ndarray:
    """Constant step: e_k = rho^(2k) e0 + v_inf (1 - rho^(2k)), rho = 1 - alpha lam."""
    lam, alpha, k = np.asarray(lam, float), np.asarray(alpha, float), np.asarray(k, float)
    rho2 = (1 - alpha * lam) ** 2
    v_inf = alpha**2 * sigma2 / (1 - rho2)
    return rho2**k * e0 + v_inf * (1 - rho2**k)


def sgd_stationary_variance(lam, alpha, sigma2) -> np.ndarray:
    """Constant-step SGD on lam x^2/2 with noise variance sigma2:
    v_inf = alpha sigma2 / (lam (2 - alpha lam))  (needs 0 < alpha lam < 2)."""
    lam, alpha = np.asarray(lam, float), np.asarray(alpha, float)
    return alpha * sigma2 / (lam * (2 - alpha * lam))


def sgld_stationary_variance(lam, alpha, sigma2=0.0, temperature=1.0) -> np.ndarray:
    """SGLD x+ = x - alpha(lam x + sigma xi') + sqrt(2 alpha T) xi on lam x^2/2:
    v_inf = (2T + alpha sigma2) / (lam (2 - alpha lam)) -> T/lam (the Gibbs law) as alpha -> 0."""
    lam, alpha = np.asarray(lam, float), np.asarray(alpha, float)
    return (2 * temperature + alpha * sigma2) / (lam * (2 - alpha * lam))


def psgd_stationary_variance(lam, alpha, dim: int, sigma2=0.0) -> np.ndarray:
    """PSGD x+ = x - alpha(lam x + sigma xi' + xi), xi uniform on the unit sphere of R^dim
    (E xi_i^2 = 1/dim): per coordinate v_inf = alpha (sigma2 + 1/dim) / (lam (2 - alpha lam))."""
    return sgd_stationary_variance(lam, alpha, np.asarray(sigma2, float) + 1.0 / dim)


def fitted_slope(k, values) -> float:
    """Least-squares slope of log(values) against log(k)."""
    return float(np.polyfit(np.log(np.asarray(k, float)), np.log(np.asarray(values, float)), 1)[0])


# ----------------------------------------------------- confidence bounds
def chi2_variance_band(samples: int, false_alarm: float) -> tuple[float, float]:
    """For n i.i.d. Gaussian draws with known mean, sum x^2 / (n v) ~ chi^2_n / n: the
    two-sided band [lo, hi] of the ratio (measured second moment)/(true) that holds
    with probability 1 - false_alarm."""
    lo = stats.chi2.ppf(false_alarm / 2, samples) / samples
    hi = stats.chi2.isf(false_alarm / 2, samples) / samples
    return float(lo), float(hi)


def hoeffding_radius(samples: int, value_range: float, false_alarm: float) -> float:
    """One-sided Hoeffding: P(mean - E >= t) <= exp(-2 n t^2 / range^2) = false_alarm."""
    return float(value_range * np.sqrt(np.log(1 / false_alarm) / (2 * samples)))


def empirical_bernstein_radius(values: np.ndarray, value_range: float, false_alarm: float) -> float:
    """One-sided empirical Bernstein bound (Maurer and Pontil, COLT 2009, Thm 4): for n i.i.d. values
    in [0, R], with probability >= 1 - false_alarm, E X <= mean + sqrt(2 V ln(2/d)/n) + 7 R ln(2/d)/(3(n - 1)),
    V the sample variance. Far tighter than Hoeffding when the values spread much less than R."""
    x = np.asarray(values, float)
    n = x.size
    log_term = np.log(2 / false_alarm)
    return float(np.sqrt(2 * x.var(ddof=1) * log_term / n) + 7 * value_range * log_term / (3 * (n - 1)))


def slope_with_standard_error(k, per_seed: np.ndarray, rng: np.random.Generator, resamples: int = 400,
                              transform=None) -> tuple[float, float]:
    """Least-squares log-log slope of the mean over seeds (``per_seed``: (len(k), S)) against k, and
    its bootstrap standard error over the seeds (``transform`` applied to the mean curve first)."""
    f = transform or (lambda m: m)
    slope = fitted_slope(k, f(per_seed.mean(axis=1)))
    S = per_seed.shape[1]
    boot = [fitted_slope(k, f(per_seed[:, rng.integers(0, S, S)].mean(axis=1))) for _ in range(resamples)]
    return slope, float(np.std(boot, ddof=1))


def quantile_upper_confidence(values: np.ndarray, q: float, false_alarm: float) -> float:
    """A distribution-free upper confidence bound for the q-quantile: the order
    statistic X_(j) with P(Binomial(n, q) >= j) <= false_alarm (+inf if n is too small)."""
    x = np.sort(np.asarray(values, float))
    n = x.size
    j = int(stats.binom.isf(false_alarm, n, q)) + 1  # P(Bin >= j) <= false_alarm
    return float(x[j - 1]) if j <= n else float("inf")


# ------------------------------------------------ the optimizer contract
def run_optimizer(make: Callable[..., Any], x0: np.ndarray, gradient: Callable[[np.ndarray, int], np.ndarray],
                  steps: int, *, lr: float, schedule: np.ndarray | None = None,
                  project: Callable[[np.ndarray], np.ndarray] | None = None,
                  record: np.ndarray | None = None, report: bool = False,
                  observe: Callable[[int, np.ndarray], bool | None] | None = None,
                  **hyper: Any) -> dict[str, np.ndarray]:
    """Drive an ``optimizer``-family object the way the contract says.

    ``make(params, lr=lr, **hyper)`` builds it on one float64 tensor x (B, d)
    initialised to ``x0``; for k = 0..steps-1: set the lr to ``schedule[k]`` (if
    given), zero_grad(), x.grad = gradient(x_k, k), step(), then
    x <- project(x) (if given). Returns {"k": recorded steps, "x": the parameter
    at those steps (n, B, d), "solution": opt.solution() there (if ``report``),
    "steps": the steps run}. ``record``: the steps to record (default: every
    step 0..steps). ``observe(k, x)`` is called after step k (x read-only); a
    True return stops the run early.

    Runs with one intra-op thread (restored afterwards): the tensors are tiny, and
    with more threads than free cores (pytest-xdist, a shared machine) torch's
    thread pool spins; measured 0.8 vs 71 ms per step on 2 oversubscribed cores."""
    import torch

    with threads(1):
        return _drive(torch, make, x0, gradient, steps, lr, schedule, project, record, report, observe, hyper)


def _drive(torch, make, x0, gradient, steps, lr, schedule, project, record, report, observe, hyper):
    x = torch.tensor(np.asarray(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = make([x], lr=float(lr if schedule is None else schedule[0]), **hyper)
    rec = np.arange(steps + 1) if record is None else np.asarray(record, dtype=int)
    want = np.zeros(steps + 1, dtype=bool)
    want[rec] = True
    xs, sols, ks = [], [], []

    def snapshot(k: int) -> None:
        ks.append(k)
        xs.append(x.detach().numpy().copy())
        if report:
            sol = opt.solution()[0] if hasattr(opt, "solution") else x
            sols.append(sol.detach().numpy().copy())

    if want[0]:
        snapshot(0)
    for k in range(steps):
        if schedule is not None:
            for group in opt.param_groups:
                group["lr"] = float(schedule[k])
        opt.zero_grad()
        x.grad = torch.from_numpy(np.ascontiguousarray(gradient(x.detach().numpy(), k), dtype=float))
        opt.step()
        if project is not None:
            with torch.no_grad():
                x.copy_(torch.from_numpy(project(x.detach().numpy().copy())))
        if want[k + 1]:
            snapshot(k + 1)
        if observe is not None and observe(k + 1, x.detach().numpy()):
            steps = k + 1
            break
    out = {"k": np.asarray(ks), "x": np.stack(xs) if xs else np.empty((0, *np.shape(x0))), "steps": steps}
    if report:
        out["solution"] = np.stack(sols)
    return out
