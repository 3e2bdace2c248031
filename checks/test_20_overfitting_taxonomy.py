"""Benign, tempered and catastrophic overfitting (Mallinar, Simon, Abedsoltan,
Pandit, Belkin, Nakkiran, NeurIPS 2022; tutorial slide "As n -> infinity and
fixed p, interpolating methods can exhibit three types of overfitting").

1-D regression f*(x) = sin(2 pi x), x ~ U[0, 1], noise sigma = 0.5. R/sigma^2
includes the test noise: R = sigma^2 + E(f_hat - f*)^2, with E over fresh test
points computed on a fixed grid-free sample and averaged over independent
training sets (SE across training sets).

Oracles: every interpolating rule here is linear in the labels, f_hat(x) =
sum_i w_i(x) y_i, so its expected excess is bias(x)^2 + sigma^2 sum_i w_i(x)^2. The
variance coefficient sum_i w_i^2 is exact from the training inputs alone (1/k for
k-NN; (1-t)^2 + t^2 for linear interpolation at relative position t in its gap), and
|bias(x)| <= 2 pi * (distance from x to the farthest point used): the measured excess
must lie in [variance - z SE, variance + bias bound + z SE].
"""
from __future__ import annotations

import numpy as np
import pytest

from problems.overparam.synthetic_regression import GaussianLinear, derived_seed, sine_regression

SIGMA, LIP = 0.5, 2 * np.pi  # noise level; Lipschitz constant of sin(2 pi x)
#: Independent training sets per n. The SE of a mean over them is itself estimated, so the band is a
#: Student-t quantile with (sets - 1) degrees of freedom at the one-sided tail 3.2e-5 of the normal's
#: 4 SE: with 4 sets "4 SE" was a t_3 tail of 1.4 % per comparison (3 of 7 fresh runs failed one).
#: 16 sets: t_15 quantile 5.48, the same 3.2e-5 per side.
TRAINING_SETS = 16
TAIL = 3.17e-5


def z_for(sets: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(1 - TAIL, sets - 1))


def _training_sets(n, reps, tag):
    rng = np.random.default_rng(derived_seed("gen.mallinar-taxonomy", tag, n))
    x, y = sine_regression(n, SIGMA, rng, batch=reps)
    x_test = np.random.default_rng(derived_seed("gen.mallinar-taxonomy", "test", n)).uniform(0, 1, 5_000)
    return x, y, x_test


def knn_oracle(x_train, x_test, k):
    """Variance coefficient 1/k and the Lipschitz bias bound (2 pi d_k(x))^2, averaged."""
    dist = np.sort(np.abs(x_test[:, None] - x_train[None]), axis=1)[:, k - 1] if len(x_train) <= 2000 else None
    if dist is None:
        from scipy.spatial import cKDTree
        d, _ = cKDTree(x_train[:, None]).query(x_test[:, None], k=k)
        dist = d.reshape(len(x_test), k)[:, -1]
    return 1.0 / k, float(np.mean((LIP * dist) ** 2))


def interpolation_oracle(x_train, x_test):
    """Linear interpolation: weights (1 - t, t) inside a gap (sum of squares (1-t)^2 + t^2), a
    single weight 1 beyond the extreme points; bias <= 2 pi * gap length (or distance to the end)."""
    xs = np.sort(x_train)
    j = np.clip(np.searchsorted(xs, x_test), 1, len(xs) - 1)
    left, right = xs[j - 1], xs[j]
    inside = (x_test >= xs[0]) & (x_test <= xs[-1])
    t = np.where(inside, (x_test - left) / (right - left), 0.0)
    var = np.where(inside, (1 - t) ** 2 + t**2, 1.0)
    reach = np.where(inside, right - left, np.maximum(xs[0] - x_test, x_test - xs[-1]))
    return float(var.mean()), float(np.mean((LIP * reach) ** 2))


def excess_over_sigma2(rule, x, y, x_test, **kw):
    """Per training set: E_test (f_hat - f*)^2 / sigma^2 (test noise excluded: R/sigma^2 = 1 + this)."""
    f = np.sin(2 * np.pi * x_test)
    return np.array([np.mean((rule(x[r], y[r], x_test, **kw) - f) ** 2) for r in range(len(x))]) / SIGMA**2


def check_between(evidence, label, excess, oracle):
    """variance - z SE <= mean excess <= variance + bias bound + z SE."""
    var, bias_bound = oracle
    se = excess.std(ddof=1) / np.sqrt(len(excess))
    evidence.record(f"R/sigma^2 ({label})", 1 + float(excess.mean()), se=float(se), variance_part=1 + var,
                    bias_bound=bias_bound / SIGMA**2)
    z = z_for(len(excess))
    evidence.lower_bound(f"{label}: excess >= exact variance part", excess.mean(), var, abs=z * se)
    evidence.upper_bound(f"{label}: excess <= variance + Lipschitz bias bound", excess.mean(),
                         var + bias_bound / SIGMA**2, abs=z * se)


# ------------------------------------------------------------------------ benign
@pytest.mark.claim("gen.mallinar-taxonomy", uses=["k_nearest_neighbours", "nadaraya_watson"])
@pytest.mark.no_near_miss("the excess is pinned between exact oracles at every n and the benign limit is checked "
                          "against the nearest tempered rule's (1/3 of 3-NN); the wrong world (a fixed k = 1) "
                          "is its control")
def test_benign_knn_log_n_neighbours(evidence, algorithm, neighbours="ceil(ln n)"):
    """Benign: k-NN with k = ceil(ln n) has excess sigma^2/k + O((k/n)^2) -> 0: at
    n = 10^2, 10^3, 10^4 (16 training sets each) the excess lies between its exact
    variance part 1/k and variance + bias bound, and R/sigma^2 decreases with n
    (catalogue R10: 1.23 -> 1.15 -> 1.11). Nadaraya-Watson with the singular kernel
    1/|u| interpolates and is consistent (Devroye et al. 1998): its excess decreases from
    n = 10^2 to 10^3 and is below the 1-NN excess at n = 10^3. Benign, not merely decreasing:
    the excess at n = 10^4 is below 1/3, the tempered limit of 3-NN (every fixed k <= 3 has
    excess >= 1/k). False alarm: a t_15 band (16 training sets) at 3.2e-5 per side, 6 comparisons:
    4e-4. Power: a fixed k = 1 (tempered,
    excess -> 1) is rejected (wrong world)."""
    knn, nw = algorithm("k_nearest_neighbours"), algorithm("nadaraya_watson")
    risks = []
    for n in (100, 1000, 10_000):
        x, y, x_test = _training_sets(n, TRAINING_SETS, "benign")
        k = int(np.ceil(np.log(n))) if neighbours == "ceil(ln n)" else int(neighbours)
        ex = excess_over_sigma2(knn, x, y, x_test, k=k)
        check_between(evidence, f"k-NN, k = {k}, n = {n}", ex, knn_oracle(x[0], x_test, k))
        risks.append(1 + ex.mean())
    evidence.parameters(neighbours=neighbours)
    evidence.monotone(f"k = {neighbours}: R/sigma^2 decreasing in n", np.array(risks), headline=True)
    evidence.upper_bound("benign: excess at n = 10^4 below 3-NN's tempered limit 1/3", risks[-1] - 1, 1 / 3)
    nw_excess = []
    for n in (100, 1000):
        x, y, x_test = _training_sets(n, TRAINING_SETS, "nadaraya-watson")
        nw_excess.append(excess_over_sigma2(nw, x, y, x_test[:1000]).mean())
    one_nn = excess_over_sigma2(knn, x, y, x_test[:1000], k=1).mean()
    evidence.record("Nadaraya-Watson (singular kernel) R/sigma^2 at n = 100, 1000", 1 + np.array(nw_excess))
    evidence.monotone("Nadaraya-Watson: excess decreasing in n", np.array(nw_excess))
    evidence.upper_bound("Nadaraya-Watson excess below 1-NN excess at n = 1000", nw_excess[-1], one_nn)
    evidence.record("false_alarm_budget", 4e-4)
    evidence.resolution("excess between its exact variance part and variance + bias bound (t_15 band, 5.5 SE); "
                        "excess at n = 10^4 below 1/3")


# ----------------------------------------------------------------------- tempered
@pytest.mark.claim("gen.mallinar-taxonomy", uses=["k_nearest_neighbours", "kernel_ridge_regression", "laplace_kernel",
                                                  "linear_interpolation", "relu_ntk_kernel"])
def test_tempered_nearest_neighbour_and_interpolation(evidence, algorithm, interpolation_limit=5 / 3):
    """Tempered: 1-NN -> 2 sigma^2, 3-NN -> 4/3 sigma^2, linear (simplicial) interpolation
    -> (1 + int_0^1 t^2 + (1-t)^2 dt) sigma^2 = 5/3 sigma^2, at n = 10^4 (16 training sets):
    each between its exact variance part and variance + bias bound; the Laplace kernel
    (h = 0.5) and the ReLU NTK (inputs on the circle (cos 2 pi x, sin 2 pi x, 1)/sqrt 2)
    ridgeless interpolants have R/sigma^2 in [1.3, 2.5] and [1.2, 3] at n = 200, 400, 800
    with no trend (|slope of log R in log n| < 0.1). False alarm: a t_15 band (16 training sets)
    at 3.2e-5 per side, 6 comparisons; the kernel ranges hold with margins >= 0.25 and the slope's
    sd is 0.013 with 8 training sets per n (38 seed shifts: max |slope| 0.032, 0.1 is 7.5 sd away; sets
    with a near-duplicate input are excluded by construction, see GAP_MIN): stated 1e-3. Power: a
    limit 10% off 5/3 (11/6) is rejected by the 5% tolerance
    (near miss); a spiky Gaussian kernel in place of the Laplace one (R/sigma^2 -> 3, not
    tempered) is rejected (wrong world)."""
    knn, interp = algorithm("k_nearest_neighbours"), algorithm("linear_interpolation")
    x, y, x_test = _training_sets(10_000, TRAINING_SETS, "tempered")
    for k, limit in ((1, 2.0), (3, 4 / 3)):
        ex = excess_over_sigma2(knn, x, y, x_test, k=k)
        check_between(evidence, f"{k}-NN (limit {limit:.3f})", ex, knn_oracle(x[0], x_test, k))
    ex = excess_over_sigma2(interp, x, y, x_test)
    check_between(evidence, "linear interpolation (limit 5/3)", ex, interpolation_oracle(x[0], x_test))
    evidence.tight(f"linear interpolation: R/sigma^2 -> {interpolation_limit:.3f}", 1 + ex.mean(), interpolation_limit,
                   rel=0.05, headline=True)
    check_kernel_tempered(evidence, algorithm, (200, 400, 800))
    evidence.record("false_alarm_budget", 1e-3)
    evidence.resolution("a tempered limit 5% off (the interpolation's 5/3); rejects 11/6")


def _circle(x):
    return np.stack([np.cos(2 * np.pi * x), np.sin(2 * np.pi * x), np.ones_like(x)], -1) / np.sqrt(2)


#: Training sets per n for the kernel interpolants. With 2, the log-slope's sd over seed shifts was ~0.035
#: and |slope| < 0.1 failed under a fresh seed (0.116); with 8 the sd is 0.013 (38 shifts, max |slope| 0.032).
KERNEL_SETS = 8
#: Ridgeless interpolation is solved in float64: the Laplace/NTK Gram matrix of 1-D inputs has condition
#: number ~ 230 / (smallest gap) (measured, n = 800), so a pair closer than ~2e-8 makes it singular to
#: rounding and the computed "interpolant" explodes (risk 8e5 at a gap of 3.3e-9, where the exact one is
#: ordinary). Sets are drawn away from that exceptional set by construction: a set whose smallest gap is
#: below GAP_MIN (condition number > ~1e10; probability ~ n^2 GAP_MIN, 1.6 % a set at n = 800) is replaced
#: by the next draw, before any risk is computed.
GAP_MIN = 2.5e-8


def _separated_sets(n, reps, tag):
    x, y, x_test = _training_sets(n, 2 * reps, tag)
    keep = np.flatnonzero(np.diff(np.sort(x, axis=1), axis=1).min(axis=1) >= GAP_MIN)[:reps]
    if len(keep) < reps:  # ~ (n^2 GAP_MIN)^(reps + 1): never at these n
        raise RuntimeError(f"only {len(keep)} of {2 * reps} training sets at n = {n} have gaps >= {GAP_MIN}")
    return x[keep], y[keep], x_test


def check_kernel_tempered(evidence, algorithm, sizes):
    krr = algorithm("kernel_ridge_regression")
    kernels = {"Laplace (h = 0.5)": (lambda a, b: algorithm("laplace_kernel")(a[:, None], b[:, None], 0.5), (1.3, 2.5)),
               "ReLU NTK": (lambda a, b: algorithm("relu_ntk_kernel")(_circle(a), _circle(b)), (1.2, 3.0))}
    for label, (kern, (lo, hi)) in kernels.items():
        risks = []
        for n in sizes:
            x, y, x_test = _separated_sets(n, KERNEL_SETS, "kernel")
            x_test = x_test[:2000]
            ex = [np.mean((kern(x_test, x[r]) @ krr(kern(x[r], x[r]), y[r], 0.0) - np.sin(2 * np.pi * x_test)) ** 2)
                  for r in range(len(x))]
            risks.append(1 + np.mean(ex) / SIGMA**2)
        risks = np.array(risks)
        evidence.record(f"{label}: R/sigma^2 by n", risks, n=sizes)
        evidence.lower_bound(f"{label}: R/sigma^2 >= {lo}", risks, lo)
        evidence.upper_bound(f"{label}: R/sigma^2 <= {hi}", risks, hi)
        slope = float(np.polyfit(np.log(sizes), np.log(risks), 1)[0])
        evidence.upper_bound(f"{label}: no trend, |slope of log R vs log n|", abs(slope), 0.1)


@pytest.mark.claim("gen.mallinar-taxonomy", uses=["k_nearest_neighbours", "kernel_ridge_regression", "laplace_kernel",
                                                  "relu_ntk_kernel"])
@pytest.mark.slow
@pytest.mark.no_near_miss("the predicates of the fast tempered and benign checks (check_between, kernel ranges) at "
                          "larger n; their near-miss and wrong-world controls set the resolution")
def test_tempered_and_benign_at_scale(evidence, algorithm):
    """The same at the catalogue's scale: k-NN at n = 10^5 (1-NN 2.01, 3-NN 1.33, ln n-NN
    1.08 in R10) and the kernels at n = 500, 1000, 2000."""
    knn = algorithm("k_nearest_neighbours")
    x, y, x_test = _training_sets(100_000, 8, "scale")
    for k in (1, 3, int(np.ceil(np.log(100_000)))):
        check_between(evidence, f"{k}-NN, n = 10^5", excess_over_sigma2(knn, x, y, x_test, k=k),
                      knn_oracle(x[0], x_test, k))
    check_kernel_tempered(evidence, algorithm, (500, 1000, 2000))
    evidence.record("false_alarm_budget", 1e-3)


# ------------------------------------------------------------------- catastrophic
#: Training sets per n. One draw is heavy-tailed (R/sigma^2 at n = 10 ranged 1.8 to 7.6e7 over 12 seed
#: shifts: two close points make a huge interpolant), so R(20) < 10 R(10) for 12 % of single-draw pairs
#: (240 draws per n). The median over 15 draws fails that way with probability ~2e-4 (bootstrap of the
#: same 240 draws; 5 draws: 1.4e-2, 9: 2.6e-3).
CATASTROPHIC_DRAWS = 15


def check_catastrophic(evidence, algorithm, sizes, test_points):
    interp = algorithm("kernel_interpolation_high_precision")
    x_test = np.linspace(0, 1, test_points)
    risks = []
    for n in sizes:
        x, y, _ = _training_sets(n, CATASTROPHIC_DRAWS, "gaussian")
        draws = [1 + np.mean((interp(x[r], y[r], x_test, "gaussian", 0.1, digits=60) - np.sin(2 * np.pi * x_test)) ** 2)
                 / SIGMA**2 for r in range(len(x))]
        risks.append(float(np.median(draws)))
        k64 = np.exp(-((x[0][:, None] - x[0][None]) ** 2) / 0.02)
        evidence.record(f"Gaussian kernel (h = 0.1), n = {n}: median R/sigma^2 over {len(x)} training sets",
                        risks[-1], quartiles=np.quantile(draws, [0.25, 0.75]), cond_float64=np.linalg.cond(k64))
    risks = np.array(risks)
    evidence.lower_bound("Gaussian ridgeless: median R(n = 20) / median R(n = 10)", risks[1] / risks[0], 10.0,
                         headline=True)
    evidence.monotone("Gaussian ridgeless: median R increasing in n", risks, decreasing=False)
    evidence.record("false_alarm_budget", 1e-3)
    evidence.resolution("growth of the median by 10x between n = 10 and 20 (measured ~2e5)")
    return risks


@pytest.mark.claim("gen.mallinar-taxonomy", uses=["kernel_interpolation_high_precision", "min_norm_least_squares"])
@pytest.mark.no_near_miss("catastrophic means growth without bound: the risk grows ~1e6x from n = 10 to 20, far "
                          "from the 10x threshold; a hidden ridge 1e-4 (the wrong world) removes the growth entirely")
def test_catastrophic_gaussian_kernel(evidence, algorithm):
    """Catastrophic: ridgeless Gaussian-kernel regression at a fixed bandwidth h = 0.1;
    R/sigma^2 explodes with n (R10: 210, 1.8e8, 1.75e11 at n = 10, 20, 40). cond(K) passes
    1/eps_float64 near n = 40, where float64 round-off would act as a hidden ridge, so the
    interpolant is solved and evaluated in 60-digit arithmetic. Also critically
    parameterised least squares (p = n - 2, isotropic): E excess/sigma^2 = p/(n-p-1) = n - 2
    -> infinity; the Monte Carlo median grows with n. False alarm: medians over 15 training sets
    per n (one set per n failed in 12 % of draws, see CATASTROPHIC_DRAWS): ~2e-4, stated 1e-3.
    Power: a 1e-4 jitter on the Gram matrix (a hidden ridge) removes the growth
    (wrong world)."""
    check_catastrophic(evidence, algorithm, (10, 20), 100)
    fit = algorithm("min_norm_least_squares")
    medians = []
    for n in (10, 20, 40):
        inst = GaussianLinear.isotropic(n - 2, SIGMA, 1.0, derived_seed("gen.mallinar-taxonomy", "critical", n))
        xs, ys = inst.sample(n, np.random.default_rng(derived_seed("gen.mallinar-taxonomy", "designs", n)), batch=200)
        medians.append(np.median(inst.risk(fit(xs, ys))) / SIGMA**2)
    evidence.record("critically parameterised (p = n - 2): median R/sigma^2 at n = 10, 20, 40", np.array(medians))
    evidence.monotone("critically parameterised: median R increasing in n", np.array(medians), decreasing=False)


@pytest.mark.claim("gen.mallinar-taxonomy", uses=["kernel_interpolation_high_precision"])
@pytest.mark.slow
@pytest.mark.no_near_miss("the predicates of test_catastrophic_gaussian_kernel, continued to n = 40")
def test_catastrophic_gaussian_kernel_to_n40(evidence, algorithm):
    """The catastrophic sweep continued to n = 40 (cond(K) ~ 1e17-1e18 in float64)."""
    check_catastrophic(evidence, algorithm, (10, 20, 40), 200)
