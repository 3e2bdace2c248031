"""Slide 15, "Basic results on adaptive algorithms" (catalogue 2.2): the rate table
(GD/SGD, accelerated GD, AdaGrad, AcceleGrad/UniXGrad, Adam/AMSGrad) and the
Adam counterexample of Reddi, Kale, Kumar (ICLR 2018, Thm 1).

Measures (the slide does not say): convex rows f(x) - f* of the method's
reported point; nonconvex rows min_{i<k} ||grad f(x_i)||^2 (or its average).
Upper-bound rates are checked as bounds where the constant is known and as
fitted log-log slopes (consistency) where it is not; a benign instance cannot
show tightness, so the instances are the hard ones where one is known (per-k
Nesterov chains; a power-law spectrum lam_i = i^-2 whose slow modes keep
gradient methods on their worst-case polynomial rates).
"""
from __future__ import annotations


import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from problems.runtime import seed as _seed
from checks.support import examples
from problems.optim.sgd_oracles import fitted_slope, run_optimizer
from problems.optim.smooth_functions import CosineSum, NesterovChain, Quadratic, ReddiOnline, cosine_sums, quadratics




def _ball(radius: float):
    def project(x):
        return x * np.minimum(1.0, radius / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-300))
    return project


def power_law_quadratic(n: int = 200) -> Quadratic:
    """lam_i = i^-2, x*_i ~ i^-1/2 with ||x*|| = 1/2: mode i converges after ~i^2 (GD)
    or ~i (accelerated) steps, so for T < n the gap decays like 1/T resp. 1/T^2."""
    i = np.arange(1, n + 1)
    x_star = i**-0.5
    return Quadratic.diagonal(1.0 / i**2, 0.5 * x_star / np.linalg.norm(x_star))


POWER_LAW = power_law_quadratic()
POWER_LAW_LONG = power_law_quadratic(2000)  # accelerated methods resolve mode i after ~i steps: n >= T
SCALES = np.array([1e-2, 1.0, 1e2])  # the same problem with L = scale: one batch row each
WORST_DIRECTION = Quadratic.from_spectrum([1.0], seed=0)
QUADRATIC_AS_COSINE_SUM = CosineSum.random(1, 0, 1.0, seed=0)


# ------------------------------------------------------- adaptive.gd-sgd-rates
@pytest.mark.claim("adaptive.gd-sgd-rates", uses=["gradient_descent"])
@settings(max_examples=examples(3))
@given(quad=quadratics(max_dim=5, lam_range=(0.01, 2.0), allow_zero=True), f=cosine_sums(mu_range=(0.0, 0.0)),
       bound_scale=st.just(1.0))
@example(quad=WORST_DIRECTION, f=QUADRATIC_AS_COSINE_SUM, bound_scale=1.0)
def test_gd_deterministic_rates(evidence, algorithm, quad, f, bound_scale):
    """GD, alpha = 1/L. Convex L-smooth: f(x_k) - f* <= L ||x_0 - x*||^2/(2k). Nonconvex
    L-smooth: min_{i<k} ||grad f(x_i)||^2 <= 2L (f(x_0) - f_inf)/k (descent lemma).
    Deterministic; rounding tolerance. The nonconvex bound is attained at k = 1 by f = L x^2/2
    (||grad f(x_0)||^2 = 2L (f(x_0) - f*)), so ``bound_scale`` 0.99 (the constants 1 % small) is rejected;
    the convex bound's exact worst case, L/(4k + 2), is checked over three decades by
    test_gd_worst_case_rate_over_three_decades (checks/test_03_worst_cases.py)."""
    gd = algorithm("gradient_descent")
    steps = 100
    rng = np.random.default_rng(_seed("adaptive.gd-sgd-rates", quad.lam.tolist(), f.a.tolist()))
    x0 = rng.uniform(-2, 2, (8, quad.dim))
    traj = run_optimizer(gd, x0, lambda x, k: quad.gradient(x), steps, lr=1 / quad.L)["x"]
    gap = np.stack([quad.value(x) for x in traj[1:]])
    k = np.arange(1, steps + 1)[:, None]
    dist0 = np.sum((x0 - quad.x_star) ** 2, axis=1)
    evidence.parameters(lam=quad.lam, terms=f.a.size, L_cos=f.L, steps=steps)
    evidence.upper_bound("convex: f(x_k) - f* <= L ||x0 - x*||^2 / (2k)", gap, bound_scale * quad.L * dist0 / (2 * k),
                         rel=1e-12, abs=1e-15, headline=True)
    y0 = rng.uniform(-2, 2, (8, f.dim))
    traj = run_optimizer(gd, y0, lambda x, k: f.gradient(x), steps, lr=1 / f.L)["x"]
    grad_sq = np.stack([np.sum(f.gradient(x) ** 2, axis=1) for x in traj[:-1]])
    evidence.upper_bound("nonconvex: min_{i<k} ||grad f||^2 <= 2L(f0 - f_inf)/k",
                         np.minimum.accumulate(grad_sq, axis=0), bound_scale * 2 * f.L * (f.value(y0) - f.f_lower) / k,
                         rel=1e-12, abs=1e-15)
    evidence.resolution("rejects the bounds' constants 1 % small (the nonconvex bound is attained at k = 1)")
    evidence.record("false_alarm_budget", 0.0, note="deterministic")


# --------------------------------------------------------- adaptive.agd-rates
@pytest.mark.claim("adaptive.agd-rates", uses=["accelerated_gradient"])
@settings(max_examples=examples(3))
@given(quad=quadratics(max_dim=6, lam_range=(0.001, 1.0), allow_zero=True), bound_scale=st.just(1.0))
@example(quad=Quadratic.diagonal(POWER_LAW.lam[:50], POWER_LAW.x_star[:50]), bound_scale=1.0)
def test_agd_upper_bound(evidence, algorithm, quad, bound_scale):
    """Nesterov/FISTA with step 1/L and momentum (k-1)/(k+2): f(x_k) - f* <= 2L ||x_0 - x*||^2/(k+1)^2
    on convex quadratics (mu = 0 allowed) for every k <= 100. Deterministic. On quadratics the bound's
    constant is loose: the worst quadratic reaches 0.34 of it (test_agd_worst_quadratic_rate), these
    instances less; ``bound_scale`` 0.05 (the near miss) is rejected."""
    agd = algorithm("accelerated_gradient")
    steps = 100
    x0 = np.random.default_rng(_seed("adaptive.agd-rates", quad.lam.tolist())).uniform(-2, 2, (8, quad.dim))
    sol = run_optimizer(agd, x0, lambda x, k: quad.gradient(x), steps, lr=1 / quad.L, report=True)["solution"]
    gap = np.stack([quad.value(x) for x in sol[1:]])
    k = np.arange(1, steps + 1)[:, None]
    bound = bound_scale * 2 * quad.L * np.sum((x0 - quad.x_star) ** 2, axis=1) / (k + 1) ** 2
    evidence.parameters(lam_max=quad.L, lam_min=quad.mu, dim=quad.dim, steps=steps)
    evidence.upper_bound("f(x_k) - f* <= 2 L ||x0 - x*||^2 / (k+1)^2", gap, bound, rel=1e-12, abs=1e-15,
                         headline=True)
    evidence.record("max measured gap / bound", float(np.max(gap / np.maximum(bound / bound_scale, 1e-300))))
    evidence.resolution("rejects the bound's constant x 0.05 on these instances (the constant is loose on "
                        "quadratics; the worst quadratic's exact rate is test_agd_worst_quadratic_rate's)")
    evidence.record("false_alarm_budget", 0.0, note="deterministic")


CHAIN_K = (10, 40, 160, 640, 2560)  # 2.4 decades


@pytest.mark.claim("adaptive.agd-rates", uses=["accelerated_gradient", "gradient_descent"])
def test_agd_on_nesterov_chains(evidence, algorithm, upper_scale=1.0, chain_size=None):
    """On Nesterov's chain for k (dimension 2k+1, one instance per k), every Krylov method
    has f(x_k) - f* >= 3L||x0 - x*||^2/(32(k+1)^2) (checked for GD and AGD, k from 10 to 2560); AGD stays
    below its upper bound 2L||x0 - x*||^2/(k+1)^2, which GD exceeds by k = 640 (its rate is 1/k).
    The normalised AGD gap is squeezed between two multiples of (k+1)^-2 (slope recorded).
    Deterministic: no false alarm. Resolution: the chains sit at 0.16 of the upper bound (``upper_scale``
    0.12, the near miss, is rejected: the printed constant is loose by ~6 on them). ``chain_size`` n: one
    fixed chain of dimension n for every k instead of one per k: the wrong world of the lower bound
    (it fails for k << n, as the catalogue found)."""
    agd, gd = algorithm("accelerated_gradient"), algorithm("gradient_descent")
    rows = {"AGD": [], "GD": []}
    for k in CHAIN_K:
        chain = NesterovChain(k) if chain_size is None else NesterovChain((chain_size - 1) // 2)
        dist0 = float(chain.x_star @ chain.x_star)
        for name, method in (("AGD", agd), ("GD", gd)):
            run = run_optimizer(method, np.zeros((1, chain.n)), lambda x, _: chain.gradient(x), k, lr=1 / chain.L,
                                record=[k], report=True)
            rows[name].append((chain.value(run["solution"][-1])[0] - chain.f_star,
                               3 * chain.L * dist0 / (32 * (k + 1) ** 2), upper_scale * 2 * chain.L * dist0 / (k + 1) ** 2,
                               dist0))
    agd_rows, gd_rows = np.array(rows["AGD"]), np.array(rows["GD"])
    evidence.parameters(k=list(CHAIN_K), L=1.0)
    for name, r in (("AGD", agd_rows), ("GD", gd_rows)):
        evidence.lower_bound(f"{name}: f(x_k) - f* >= 3L||x0 - x*||^2/(32(k+1)^2)", r[:, 0], r[:, 1], rel=1e-9)
    evidence.upper_bound("AGD: f(x_k) - f* <= 2L||x0 - x*||^2/(k+1)^2 on the chains", agd_rows[:, 0], agd_rows[:, 2],
                         rel=1e-9, headline=True)
    norm_slope = fitted_slope(CHAIN_K, agd_rows[:, 0] / agd_rows[:, 3])
    evidence.record("slope of the normalised AGD gap (f - f*)/(L||x*||^2) over k (catalogue: -1.9)", norm_slope)
    evidence.record("slope of the normalised GD gap (catalogue: -1.4)", fitted_slope(CHAIN_K, gd_rows[:, 0] / gd_rows[:, 3]))
    evidence.record("GD gap / AGD upper bound at k = 640", float(gd_rows[3, 0] / gd_rows[3, 2] * upper_scale))
    evidence.record("AGD gap / upper bound, max over k", float(np.max(agd_rows[:, 0] / agd_rows[:, 2] * upper_scale)))
    evidence.record("false_alarm_budget", 0.0, note="deterministic")
    evidence.resolution("rejects the upper bound's constant x 0.12 (the chains reach 0.16 of it) and a fixed chain "
                        "for all k (the lower bound's wrong world)")


# ------------------------------------------------------- adaptive.adagrad-rates
@pytest.mark.claim("adaptive.adagrad-rates", uses=["adagrad"])
@settings(max_examples=examples(2))
@given(dim=st.integers(1, 4), eta=st.floats(0.2, 2.0), drift=st.floats(0.0, 0.5), bound_scale=st.just(1.0))
@example(dim=2, eta=2**0.5, drift=0.2, bound_scale=1.0)
def test_adagrad_online_regret_bound(evidence, algorithm, dim, eta, drift, bound_scale):
    """Diagonal AdaGrad on the box [-1, 1]^d (l_inf diameter D = 2, projection = clip) against
    online linear losses <g_t, x>: for every t, regret against the best point in hindsight
    R_t <= (D^2/(2 eta) + eta) sum_i ||g_{1:t,i}||_2 (Duchi, Hazan, Singer 2011). The bound
    holds for every loss sequence: deterministic check on 16 random sequences and 2 alternating ones,
    g_t = ±(-1)^t (1, ..., 1). The alternating ones are the hard case for a step that does not shrink: a
    non-accumulating (sign) step of size eta bounces across the box and pays ~0.7 eta-scaled loss a
    step (regret ~ T) against a bound ~ sqrt(T); random sequences alone let that bug pass under some
    seeds. The bound is loose (Duchi et al.'s constant): the regret reaches ~0.3 of it on random
    sequences; ``bound_scale`` 0.1 (the near miss) is rejected."""
    adagrad = algorithm("adagrad")
    T, B, D = 200, 16, 2.0
    rng = np.random.default_rng(_seed("adaptive.adagrad-rates", dim, eta, drift))
    g = drift * rng.choice([-1.0, 1.0], (1, B, dim)) + rng.standard_normal((T, B, dim))
    alternating = (-1.0) ** np.arange(T)[:, None, None] * np.array([1.0, -1.0])[None, :, None] * np.ones(dim)
    g = np.concatenate([g, alternating], axis=1)
    x = run_optimizer(adagrad, np.zeros(g.shape[1:]), lambda x, k: g[k], T, lr=eta,
                      project=lambda x: np.clip(x, -1, 1))["x"][:-1]
    cum = np.cumsum(g, axis=0)
    regret = np.cumsum(np.sum(g * x, axis=-1), axis=0) + np.sum(np.abs(cum), axis=-1)  # best: x* = -sign(cum)
    bound = bound_scale * (D**2 / (2 * eta) + eta) * np.sum(np.sqrt(np.cumsum(g**2, axis=0)), axis=-1)
    evidence.parameters(dim=dim, eta=eta, drift=drift, T=T, sequences=B + 2)
    evidence.upper_bound("R_t <= (D^2/(2 eta) + eta) sum_i ||g_{1:t,i}||_2, all t", regret, bound, rel=1e-6,
                         headline=True)
    evidence.record("R_T / bound (median over sequences)", float(np.median(regret[-1] / bound[-1] * bound_scale)))
    evidence.record("max_t R_t / bound (over sequences)", float(np.max(regret[10:] / bound[10:] * bound_scale)))
    evidence.record("false_alarm_budget", 0.0, note="deterministic (a bound for every sequence)")
    evidence.resolution("rejects the bound's constant x 0.1 (the regret reaches ~0.3 of Duchi et al.'s bound)")


@pytest.mark.claim("adaptive.adagrad-rates", uses=["adagrad_norm"])
def test_adagrad_norm_adapts_to_smoothness(evidence, algorithm):
    """AdaGrad of Levy, Yurtsever, Cevher (2018): AdaGrad-Norm with eta = D/sqrt(2), b_0 = 0,
    projected on the unit ball (D = 2), output the average xbar_T, *one* setting for
    L in {1e-2, 1, 1e2} (the power-law quadratic scaled by L). b_0 = 0 makes the method
    invariant under f -> c f, so the iterates must agree across L to rounding, and
    the normalised gap (f(xbar_T) - f*)/(L D^2) decays at the smooth rate O(1/T):
    fitted slope over T in [40, 4000] (two decades) <= -1 + 0.1 (the catalogue's tolerance).
    Deterministic. Resolution: a step decaying like k^-0.2 on top (rate T^-0.8, the near miss) is rejected."""
    adagrad_norm = algorithm("adagrad_norm")
    T, D = 4000, 2.0
    run = run_optimizer(adagrad_norm, np.zeros((SCALES.size, POWER_LAW.dim)),
                        lambda x, k: SCALES[:, None] * POWER_LAW.gradient(x), T, lr=D / np.sqrt(2),
                        project=_ball(1.0), b0=0.0)
    x = run["x"][:-1]
    evidence.tight("iterates identical across L (scale invariance: no knowledge of L needed)", x,
                   np.broadcast_to(x[:, 1:2], x.shape), rel=1e-10, abs=1e-12)
    xbar = np.cumsum(x, axis=0) / np.arange(1, T + 1)[:, None, None]
    ks = np.unique(np.geomspace(40, T, 12).astype(int))
    gap = np.stack([POWER_LAW.value(xbar[k - 1]) for k in ks])  # normalised: scale cancels
    slope = fitted_slope(ks, gap[:, 0])
    evidence.parameters(T=T, eta=D / np.sqrt(2), L=SCALES, instance="lam_i = i^-2, n = 200")
    evidence.upper_bound("slope of (f(xbar_T) - f*)/(L D^2) over T in [40, 4000], O(1/T)", slope, -1.0, abs=0.1,
                         headline=True)
    evidence.resolution("rejects a rate T^-0.8 (a step decaying like k^-0.2 on top of AdaGrad-Norm's)")
    evidence.record("false_alarm_budget", 0.0, note="deterministic")


@pytest.mark.claim("adaptive.adagrad-rates", uses=["adagrad_norm"])
def test_adagrad_norm_nonconvex_deterministic(evidence, algorithm):
    """AdaGrad-Norm (eta = 1, b_0 = 0.1) on a cos-sum scaled by L in {1e-2, 1, 1e2}, same
    setting for all: min_{k<N} ||grad f(x_k)||^2 / L^2 decays at least like 1/N
    (Ward, Wu, Bottou 2019, deterministic O(1/N)): fitted slope over N in [20, 4000] (2.3 decades)
    <= -1 + 0.1. Deterministic. This instance is benign: near its strict local minimum the method
    converges linearly (slope ~ -4), so the bound holds with room and only a stalled method (steps
    decaying like 1/k, the near miss) is rejected; a tight nonconvex instance would be a zero-chain
    (Carmon, Duchi, Hinder, Sidford 2020), not built here."""
    adagrad_norm = algorithm("adagrad_norm")
    f = CosineSum.random(3, 5, 0.0, seed=11)
    N = 4000
    x0 = np.tile(np.array([[0.5, -1.0, 2.0]]), (SCALES.size, 1))
    traj = run_optimizer(adagrad_norm, x0, lambda x, k: SCALES[:, None] * f.gradient(x), N, lr=1.0, b0=0.1)["x"]
    grad_sq = np.stack([np.sum(f.gradient(x) ** 2, axis=1) for x in traj[:-1]])
    best = np.minimum.accumulate(grad_sq, axis=0)
    ks = np.unique(np.geomspace(20, N, 12).astype(int))
    slopes = np.array([fitted_slope(ks, np.maximum(best[ks - 1, b], 1e-300)) for b in range(SCALES.size)])
    evidence.parameters(N=N, eta=1.0, b0=0.1, L_scales=SCALES)
    evidence.upper_bound("slope of min_{k<N} ||grad f||^2 over N in [20, 4000], every L", slopes, -1.0, abs=0.1,
                         headline=True)
    evidence.resolution("rejects a stalled method (steps decaying like 1/k); the instance converges linearly "
                        "(slope ~ -4), so finer rate errors pass")
    evidence.record("false_alarm_budget", 0.0, note="deterministic")


# ------------------------------------------- adaptive.accelegrad-unixgrad-rates
@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates", uses=["{method}"])
@pytest.mark.parametrize("method, queries", [("accelegrad", 1), ("unixgrad", 2)])
def test_universal_methods_accelerate(evidence, algorithm, method, queries):
    """AcceleGrad / UniXGrad on the unit ball (D = 2), one setting (lr = 1, the papers')
    for L in {1e-2, 1, 1e2}: on the power-law quadratic (n = 2000, modes resolved one per step, so
    the gap is ~ sum_{i > T} i^-3 ~ T^-2 for an accelerated method) the normalised gap
    (f(out_T) - f*)/(L D^2) of the reported point decays at the accelerated rate, fitted slope over
    T in [20, 2000] (two decades) <= -1.7 (catalogue; 1/T would give -1; measured -1.96, -1.97).
    Deterministic. Resolution: averaging weights t^0.6 instead of t (rate T^-1.6, the near miss) are
    rejected."""
    name, method = method, algorithm(method)
    T = 2000
    run = run_optimizer(method, np.zeros((SCALES.size, POWER_LAW_LONG.dim)),
                        lambda x, k: SCALES[:, None] * POWER_LAW_LONG.gradient(x), queries * T, lr=1.0, radius=1.0,
                        report=True, record=np.arange(0, queries * T + 1, queries))
    ks = np.unique(np.geomspace(20, T, 10).astype(int))
    gap = np.stack([POWER_LAW_LONG.value(run["solution"][k]) for k in ks]) / 4.0
    slopes = np.array([fitted_slope(ks, gap[:, b]) for b in range(SCALES.size)])
    evidence.parameters(method=name, T=T, L=SCALES, instance="lam_i = i^-2, n = 2000")
    evidence.upper_bound("slope of the normalised gap over T in [20, 2000], every L", slopes, -1.7, headline=True)
    evidence.record("normalised gap at T = 2000 by L", gap[-1])
    evidence.resolution("rejects a rate T^-1.6 (averaging weights t^0.6 for t)")
    evidence.record("false_alarm_budget", 0.0, note="deterministic")


# ---------------------------------------------------- adaptive.adam-counterexample
def _reddi_run(algorithm, name: str, C: float, alpha: float, T: int) -> tuple[ReddiOnline, np.ndarray, np.ndarray]:
    """Iterates x_1..x_T (x_t used in round t) of ``name`` on Reddi's instance, from x_1 in {-1, 0, 1}."""
    problem = ReddiOnline(C)
    g = problem.gradients(T)
    hyper = {} if name == "adagrad" else dict(betas=(0.0, problem.beta2))
    schedule = None if name == "adagrad" else alpha / np.sqrt(np.arange(1, T + 1))  # AdaGrad: constant eta
    run = run_optimizer(algorithm(name), np.array([[-1.0], [0.0], [1.0]]), lambda x, k: np.full_like(x, g[k]),
                        T, lr=alpha, schedule=schedule, project=lambda x: np.clip(x, -1, 1), **hyper)
    return problem, g, run["x"][:-1, :, 0]


@pytest.mark.claim("adaptive.adam-counterexample", uses=["adagrad", "adam", "amsgrad"])
@pytest.mark.parametrize("C", [3.0, pytest.param(5.0, marks=pytest.mark.slow)])
def test_adam_fails_where_amsgrad_and_adagrad_converge(evidence, algorithm, C, limit_scale=1.0):
    """Reddi et al. (2018, Thm 1): f_t = C x (t = 1 mod 3), -x otherwise, on [-1, 1];
    beta1 = 0, beta2 = 1/(1 + C^2), alpha_t = alpha/sqrt(t). Over the window of rounds
    (T/2, T] (transients over by round 250 for alpha = 1/2):
    * Adam sits at x = +1 at every C-round, so its average regret per round lies in
      [2(C-2)/3, 2(C-2)/3 + 2 alpha_{T/2}/(3 sqrt(1 - beta2))] (the two -1 rounds after each C-round
      cost at most one C-step alpha_t C/sqrt(v_t) <= alpha_t/sqrt(1 - beta2) each);
    * AMSGrad and AdaGrad (eta = alpha) are back at x* = -1 after every C-round, so their
      average regret is at most 2C delta/3, delta the largest -1 step: alpha_t/(C sqrt(1 - beta2))
      (AMSGrad: vhat >= (1 - beta2) C^2) and alpha sqrt(3)/(C sqrt(t)) (AdaGrad: s_t >= C^2 t/3).
    Deterministic; rounding tolerance. Resolution: the window's band is 1.5 % of the limit at C = 3, so
    a limiting regret 5 % off (``limit_scale`` 1.05, the near miss) is rejected."""
    alpha, T = 0.5, 600
    t0 = T // 2  # window = rounds t0+1..T; t0 and T multiples of 3
    window = np.arange(t0, T)  # 0-based indices of those rounds
    c_rounds = window[window % 3 == 0]  # rounds t = 1 mod 3
    alpha_t0 = alpha / np.sqrt(t0 + 1)
    problem, g, adam = _reddi_run(algorithm, "adam", C, alpha, T)
    lim, b2 = limit_scale * problem.limit_average_regret, problem.beta2
    evidence.parameters(C=C, beta2=b2, alpha=alpha, T=T, window=[t0 + 1, T], starts=[-1, 0, 1])

    def average_regret(x):
        return np.sum(g[window, None] * (x[window] - problem.x_star), axis=0) / window.size

    evidence.holds("Adam: x_t = +1 at every C-round of the window", np.abs(adam[c_rounds] - 1) <= 1e-12,
                   "Adam should sit at the worst point")
    evidence.tight("Adam: average regret per round -> 2(C-2)/3", average_regret(adam), lim + alpha_t0 / (3 * np.sqrt(1 - b2)),
                   abs=alpha_t0 / (3 * np.sqrt(1 - b2)) + 1e-12, headline=True)
    evidence.record("Adam: average regret over the window vs 2(C-2)/3", float(np.mean(average_regret(adam))), limit=lim)
    evidence.record("false_alarm_budget", 0.0, note="deterministic")
    evidence.resolution("rejects a limiting average regret 5 % off 2(C - 2)/3 (band 1.5 % of it at C = 3)")
    bounds = {"amsgrad": 2 * alpha_t0 / (3 * np.sqrt(1 - b2)), "adagrad": 2 * alpha * np.sqrt(3) / (3 * np.sqrt(t0))}
    for name, bound in bounds.items():
        _, _, x = _reddi_run(algorithm, name, C, alpha, T)
        evidence.holds(f"{name}: x = x* = -1 right after every C-round of the window",
                       np.abs(x[c_rounds + 1] + 1) <= 1e-12, f"{name} should have converged to x* = -1")
        evidence.upper_bound(f"{name}: average regret per round (-> 0)", average_regret(x), bound, abs=1e-12)


# ----------------------------------------------------------- adaptive.amsgrad-rates
REGRET_T = 5000
REDDI_FAMILY = ((3.0, 0.0), (5.0, 0.5))  # (C, beta1 / sqrt(beta2)): beta1 < sqrt(beta2) as the theorems need


@pytest.mark.claim("adaptive.amsgrad-rates", uses=["amsgrad"])
def test_amsgrad_regret_is_sublinear(evidence, algorithm):
    """AMSGrad's regret is O(sqrt(T)) up to a log factor (Reddi et al. 2018, Thm 4: sqrt(T log T);
    constant beta1 < sqrt(beta2): Alacaoglu et al. 2020), checked on the worst-case family where plain
    Adam's regret is *linear*: Reddi's sequences f_t = C x (t = 1 mod 3), -x otherwise, on [-1, 1] (x* = -1),
    beta2 = 1/(1 + C^2), C in {3, 5}, beta1 in {0, sqrt(beta2)/2}, alpha_t = 1/(2 sqrt(t)), from x_1 = x* and
    x_1 = 0, T = 5000: the fitted slope of log(R_T/sqrt(1 + log T)) against log T over T in [50, 5000]
    (two decades) is <= 1/2. From x* the regret is driven only by the oscillation every C-round forces
    (measured slope 0.46; from 0 the start's transient lowers it). Random online losses, where
    non-convergent methods also have sublinear regret, are not used. Deterministic. Resolution: Adam
    on the same sequences (slope ~1) is the wrong world; a step decaying like t^-0.4 (slope ~0.55) is
    the near miss."""
    T = REGRET_T
    ks = np.unique(np.geomspace(50, T, 10).astype(int))
    slopes = []
    for C, ratio in REDDI_FAMILY:
        problem = ReddiOnline(C)
        g = problem.gradients(T)
        x = run_optimizer(algorithm("amsgrad"), np.array([[problem.x_star], [0.0]]), lambda x, k: np.full_like(x, g[k]),
                          T, lr=0.5, schedule=0.5 / np.sqrt(np.arange(1, T + 1)), project=lambda x: np.clip(x, -1, 1),
                          betas=(ratio * np.sqrt(problem.beta2), problem.beta2))["x"][:-1, :, 0]
        regret = problem.regret(x, g)
        slopes.append([fitted_slope(ks, np.maximum(regret[ks - 1, b], 1e-12) / np.sqrt(1 + np.log(ks)))
                       for b in range(2)])
    slopes = np.array(slopes)
    evidence.parameters(T=T, family=[dict(C=C, beta1_over_sqrt_beta2=r) for C, r in REDDI_FAMILY], starts=["x*", 0])
    evidence.upper_bound("slope of log(R_T / sqrt(1 + log T)) vs log T over [50, 5000], Reddi's sequences",
                         slopes, 0.5, headline=True)
    evidence.record("slopes by instance (rows) and start (x*, 0)", slopes)
    evidence.record("false_alarm_budget", 0.0, note="deterministic")
    evidence.resolution("rejects a regret exponent >= 0.5 on Reddi's sequences (near miss: a step ~ t^-0.4, "
                        "slope 0.55; Adam: ~1)")
    evidence.note("The table's 'Adam/AMSGrad' column holds for AMSGrad-type methods only; Adam itself fails "
                  "(adaptive.adam-counterexample).")
