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

    @property
    def usable(self) -> bool:
        """Solved (Clarabel's "optimal" or "optimal_inaccurate") with primal and dual values within
        the gap tolerance: the duality gap, not the status flag, bounds the value's error."""
        return self.status in ("optimal", "optimal_inaccurate") and self.relative_gap <= GAP_TOLERANCE


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


# ------------------------------------------------ bilinear games: the skew-symmetric class
def _skew_problem(L: float):
    from PEPit import PEP
    from PEPit.operators import SkewSymmetricLinearOperator

    problem = PEP()
    A = problem.declare_function(SkewSymmetricLinearOperator, L=L)
    zs = A.stationary_point()
    z0 = problem.set_initial_point()
    problem.set_initial_condition((z0 - zs) ** 2 <= 1)
    return problem, A, z0


@lru_cache(maxsize=None)
def pep_extragradient_bilinear(n: int, alpha: float, L: float) -> Certificate:
    """EG z_{k+1} = z_k - alpha A(z_k - alpha A z_k) over every bilinear game min_x max_y x^T B y with
    ||B|| <= L, i.e. V = A skew-symmetric linear with ||A|| <= L: the worst ||V(z_n)||^2 / ||z_0 - z*||^2.
    The class's interpolation conditions are exact (Bousselmi, Hendrickx, Glineur 2023), so the
    PEP is **tight**: it must equal :func:`extragradient_bilinear_worst_case`. Written for this
    harness (PEPit ships no extragradient example)."""
    problem, A, z = _skew_problem(L)
    for _ in range(n):
        z = z - alpha * A.gradient(z - alpha * A.gradient(z))
    problem.set_performance_metric(A.gradient(z) ** 2)
    return _solve(problem, "tight", f"EG on bilinear games, ||B|| <= {L}, alpha={alpha}, n={n}")


@lru_cache(maxsize=None)
def pep_optimistic_gda_bilinear(n: int, alpha: float, L: float) -> Certificate:
    """OGDA z_{k+1} = z_k - alpha [2 A z_k - A z_{k-1}], z_{-1} = z_0, over every bilinear game with
    ||B|| <= L: the worst ||V(z_n)||^2 / ||z_0 - z*||^2 (tight class; it must equal
    :func:`optimistic_gda_bilinear_worst_case`). PEPit's own optimistic-gradient example is for
    monotone Lipschitz operators on a convex set (an upper bound), not this class."""
    problem, A, z = _skew_problem(L)
    previous = z
    for _ in range(n):
        z, previous = z - alpha * (2 * A.gradient(z) - A.gradient(previous)), z
    problem.set_performance_metric(A.gradient(z) ** 2)
    return _solve(problem, "tight", f"OGDA on bilinear games, ||B|| <= {L}, alpha={alpha}, n={n}")


def _maximise_over_sigma(values, L: float, grid: int = 20001):
    """max over sigma in [0, L] of values(sigma) (vectorised): a grid, then golden-section refinement
    around the best grid point (the maximisers are interior and isolated)."""
    import numpy as np

    sigma = np.linspace(0.0, L, grid)
    v = values(sigma)
    i = int(np.argmax(v))
    lo, hi = sigma[max(i - 1, 0)], sigma[min(i + 1, grid - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(80):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if values(np.array([a]))[0] >= values(np.array([b]))[0]:
            hi = b
        else:
            lo = a
    best = 0.5 * (lo + hi)
    return float(max(values(np.array([best]))[0], v[i])), float(best if values(np.array([best]))[0] >= v[i]
                                                               else sigma[i])


def extragradient_bilinear_worst_case(n: int, alpha: float, L: float) -> tuple[float, float]:
    """Closed form of the EG worst case over bilinear games with ||B|| <= L: along a singular pair sigma
    the map is multiplication by 1 - i s - s^2 (s = alpha sigma, |.|^2 = 1 - s^2 + s^4) and V by i sigma,
    so the worst ||V(z_n)||^2/||z_0 - z*||^2 = max_{sigma <= L} sigma^2 (1 - s^2 + s^4)^n. Returns
    (value, maximising sigma)."""
    return _maximise_over_sigma(lambda s: s**2 * (1 - (alpha * s) ** 2 + (alpha * s) ** 4) ** n, L)


def optimistic_gda_bilinear_worst_case(n: int, alpha: float, L: float) -> tuple[float, float]:
    """The OGDA worst case over bilinear games with ||B|| <= L: along a singular pair sigma, in the complex
    coordinate w = p + i q, OGDA is w_{k+1} = (1 - 2 i s) w_k + i s w_{k-1} (s = alpha sigma), w_{-1} = w_0 = 1;
    the worst ||V(z_n)||^2/||z_0 - z*||^2 = max_{sigma <= L} sigma^2 |w_n|^2 (recursion, exact).
    Returns (value, maximising sigma)."""
    import numpy as np

    def values(sigma):
        s = alpha * np.asarray(sigma, dtype=float)
        w_prev, w = np.ones_like(s, dtype=complex), np.ones_like(s, dtype=complex)
        for _ in range(n):
            w, w_prev = (1 - 2j * s) * w + 1j * s * w_prev, w
        return np.asarray(sigma, float) ** 2 * np.abs(w) ** 2

    return _maximise_over_sigma(values, L)


# ----------------------------------------- CEG+ under the weak MVI, with a constraint
@lru_cache(maxsize=None)
def pep_constrained_extragradient_plus(n: int, gamma: float, damping: float, L: float, rho: float,
                                       constrained: bool = True) -> Certificate:
    """CEG+ (Pethick, Latafat, Patrinos, Fercoq, Cevher, ICLR 2022, Alg. 1) for 0 in F z + N_C(z):
    zbar_k = P_C(z_k - gamma F z_k), z_{k+1} = z_k + damping (H zbar_k - H z_k), H = I - gamma F, with F
    L-Lipschitz (exact interpolation) and the weak MVI <F(z) + u, z - z*> >= rho ||F(z) + u||^2 imposed
    at the visited points zbar_k (u the normal-cone element the projection produced; necessary only,
    so an **upper bound**) on

        min_{k < n} ||H zbar_k - H z_k||^2 / (gamma^2 ||z_0 - z*||^2)

    (the fixed-point residual of the paper's analysis; zero exactly at a solution). ``constrained``:
    C a closed convex set (PEPit's ConvexIndicatorFunction), else C = R^d (CEG+ is then EG+).
    Calibration: with constrained=False and rho = 0 the value is an upper bound for EG+ on monotone
    Lipschitz F. Machinery for section 10's checks (catalogue wmvi.cegplus-rho-1-2L)."""
    from PEPit import PEP
    from PEPit.functions import ConvexIndicatorFunction
    from PEPit.operators import LipschitzOperator
    from PEPit.primitive_steps import proximal_step

    problem = PEP()
    F = problem.declare_function(LipschitzOperator, L=L)
    indicator = problem.declare_function(ConvexIndicatorFunction) if constrained else None
    zs = (F + indicator).stationary_point() if constrained else F.stationary_point()
    z0 = problem.set_initial_point()
    problem.set_initial_condition((z0 - zs) ** 2 <= 1)
    z = z0
    for _ in range(n):
        fz = F.gradient(z)
        hz = z - gamma * fz
        if constrained:
            zbar, u, _ = proximal_step(hz, indicator, gamma)  # u in N_C(zbar), zbar = hz - gamma u
        else:
            zbar, u = hz, None
        fbar = F.gradient(zbar)
        residual_operator = fbar if u is None else fbar + u
        problem.add_constraint(residual_operator * (zbar - zs) >= rho * residual_operator**2)
        hbar = zbar - gamma * fbar
        problem.set_performance_metric((hbar - hz) ** 2 / gamma**2)
        z = z + damping * (hbar - hz)
    kind = "upper bound"
    where = "on a convex set" if constrained else "unconstrained"
    return _solve(problem, kind, f"CEG+ {where}, L={L}, rho={rho}, gamma={gamma}, damping={damping}, n={n}")
