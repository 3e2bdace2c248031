"""Worst-case certificates by performance estimation (PEP; Drori and Teboulle 2014,
Taylor, Hendrickx, Glineur 2017) with PEPit (Goujaud et al. 2022), solved by
Clarabel (no licence needed).

A PEP maximises a performance metric over all operators of a class and all
starting points with ||z_0 - z*||^2 <= 1, by a semidefinite program over the
Gram matrix of the iterates. Its value is

* **tight** (the exact worst case) when the class constraints imposed on the
  visited points are *interpolation* conditions (necessary and sufficient):
  monotone operators, Lipschitz operators (Kirszbraun-Valentine);
* only an **upper bound** when they are merely necessary: the weak-Minty
  condition <F(z), z - z*> >= rho ||F(z)||^2 imposed at the visited points, or
  PEPit's ``...Cheap`` classes.

A certificate counts only when the solver reports ``optimal`` and the primal and
dual values agree (small duality gap); :attr:`Certificate.ok` says so. PEPit
and cvxpy import in about 4 s, so the imports happen inside the functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

SOLVER = "CLARABEL"
GAP_TOLERANCE = 1e-6  # relative primal-dual gap below which a solve counts (Clarabel reaches ~1e-8)


@dataclass(frozen=True)
class Certificate:
    value: float  # dual (upper-bound) value of the PEP: a valid bound when ok
    primal: float  # primal value (a worst-case instance's performance)
    status: str
    kind: str  # "tight" or "upper bound"
    description: str

    @property
    def relative_gap(self) -> float:
        return abs(self.value - self.primal) / max(abs(self.value), 1e-300)

    @property
    def ok(self) -> bool:
        return self.status == "optimal" and self.relative_gap <= GAP_TOLERANCE


def _solve(problem, kind: str, description: str) -> Certificate:
    dual = problem.solve(wrapper="cvxpy", solver=SOLVER, verbose=0)
    if dual is None:
        return Certificate(float("inf"), float("inf"), "unbounded", kind, description)
    prob = problem.wrapper.prob
    primal = float(problem.wrapper.objective.value)
    return Certificate(float(dual), primal, str(prob.status), kind, description)


@lru_cache(maxsize=None)
def pep_proximal_point(n: int, step: float) -> Certificate:
    """PPM z_{k+1} = (I + step A)^{-1} z_k on a maximally monotone A (tight class):
    worst ||z_n - z_{n-1}||^2 / ||z_0 - z*||^2. Known value (1 - 1/n)^{n-1} / n
    (Gu and Yang 2020; PEPit's ``wc_proximal_point``)."""
    from PEPit import PEP
    from PEPit.operators import MonotoneOperator
    from PEPit.primitive_steps import proximal_step

    problem = PEP()
    A = problem.declare_function(MonotoneOperator)
    xs = A.stationary_point()
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    x = x0
    for _ in range(n):
        previous = x
        x, _, _ = proximal_step(previous, A, step)
    problem.set_performance_metric((x - previous) ** 2)
    return _solve(problem, "tight", f"proximal point, monotone, n={n}, step={step}")


@lru_cache(maxsize=None)
def pep_optimistic_gradient(n: int, gamma: float, L: float) -> Certificate:
    """Optimistic gradient on a monotone L-Lipschitz F over a closed convex set C
    (the setting of PEPit's ``wc_optimistic_gradient``; Hsieh et al. 2019, Gorbunov
    et al. 2022), written here:

        xt_t = Proj_C(x_t - gamma F(xt_{t-1})),  x_{t+1} = xt_t + gamma (F(xt_{t-1}) - F(xt_t)),

    worst ||xt_n - xt_{n-1}||^2 / ||x_0 - x*||^2. PEPit models monotone + Lipschitz
    with necessary constraints only (``LipschitzStronglyMonotoneOperatorCheap``): an
    upper bound. PEPit's docstring value for n = 5, gamma = 1/4, L = 1 (MOSEK): 0.0663141."""
    from PEPit import PEP
    from PEPit.functions import ConvexIndicatorFunction
    from PEPit.operators import LipschitzStronglyMonotoneOperatorCheap
    from PEPit.primitive_steps import proximal_step

    problem = PEP()
    indicator = problem.declare_function(ConvexIndicatorFunction)
    F = problem.declare_function(LipschitzStronglyMonotoneOperatorCheap, mu=0, L=L)
    xs = (F + indicator).stationary_point()
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    x, _, _ = proximal_step(x0, indicator, gamma)
    xt = x
    v = F.gradient(xt)
    for _ in range(n):
        previous_xt, previous_v = xt, v
        xt, _, _ = proximal_step(x - gamma * v, indicator, gamma)
        v = F.gradient(xt)
        x = xt + gamma * (previous_v - v)
    problem.set_performance_metric((xt - previous_xt) ** 2)
    return _solve(problem, "upper bound", f"optimistic gradient, monotone L-Lipschitz on a convex set, n={n}")


@lru_cache(maxsize=None)
def pep_extragradient_plus(n: int, gamma: float, damping: float, L: float, rho: float) -> Certificate:
    """EG+ zbar_k = z_k - gamma F z_k, z_{k+1} = z_k - damping gamma F zbar_k on an
    L-Lipschitz F (exact interpolation) satisfying the weak MVI with constant rho,
    imposed at every visited point (necessary only): an **upper bound** on

        min_{k < n} ||F(zbar_k)||^2 / ||z_0 - z*||^2.

    Written for this harness (PEPit ships no extragradient-type example)."""
    from PEPit import PEP
    from PEPit.operators import LipschitzOperator

    problem = PEP()
    F = problem.declare_function(LipschitzOperator, L=L)
    xs = F.stationary_point()
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)

    def weak_minty(point, value):
        problem.add_constraint(value * (point - xs) >= rho * value**2)

    x = x0
    for _ in range(n):
        g = F.gradient(x)
        weak_minty(x, g)
        x_bar = x - gamma * g
        g_bar = F.gradient(x_bar)
        weak_minty(x_bar, g_bar)
        problem.set_performance_metric(g_bar**2)  # several metrics: PEPit bounds their minimum
        x = x - damping * gamma * g_bar
    return _solve(problem, "upper bound", f"EG+, L={L}, rho={rho}, gamma={gamma}, damping={damping}, n={n}")
