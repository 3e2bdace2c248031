"""Random features (slides "From neural networks to random features model" and
Liu, Suykens, Cevher, NeurIPS 2022, "On the double descent of random features
models trained with SGD").

Implementations under test: ``random_fourier_features``, ``min_norm_least_squares``,
``gradient_descent_least_squares``, ``sgd_least_squares``, ``bias_variance_decomposition``,
``gaussian_kernel`` and ``kernel_ridge_regression`` from the registry. Seeds
derive from (claim, instance, repetition).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.support import examples
from problems.overparam.datasets import digits
from problems.overparam.synthetic_regression import derived_seed

Z = 5.0  # normal-approximation multiplier: two-sided 6e-7 per comparison


def _log_slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# ------------------------------------------------------------------ rf.nn-to-rf
@pytest.mark.claim("rf.nn-to-rf", uses=["gradient_descent_least_squares", "random_fourier_features"])
@settings(max_examples=examples(3))
@given(p=st.integers(2, 20), bandwidth=st.floats(0.5, 3.0), seed=st.integers(0, 2**16))
@example(p=10, bandwidth=1.0, seed=0)
def test_rff_approximates_gaussian_kernel(evidence, algorithm, p, bandwidth, seed):
    """phi(x) = sqrt(2/m) cos(V^T x + b), V ~ N(0, I/sigma^2), b ~ U[0, 2 pi]:
    (a) E phi(x)^T phi(x') = exp(-||x - x'||^2/(2 sigma^2)) exactly (Bochner): the mean of
    200 draws (m = 50) is within 5 SE of the kernel, entrywise; (b) the Monte Carlo error
    max |K_m - K| decays like m^-1/2: fitted slope over m = 100..3000 (25 draws each) in
    [-0.6, -0.4] (over 30 seeds: mean -0.500, SD 0.014, so the window is 7 SD); (c) training
    the read-out of the frozen two-layer network by GD is
    linear least squares: ``gradient_descent_least_squares`` after K steps equals the
    closed form theta_K = F^T U diag((1 - (1 - eta lambda)^K)/lambda) U^T y (rel 1e-9).
    False alarm: (a) 5 SE two-sided per entry, 5.7e-7 x 100 entries; (b) 7 SD, ~1e-12; per
    example 6e-5, over the 4 examples 2.3e-4. Power: features whose frequencies are drawn
    at a bandwidth 20% off (another Gaussian kernel) miss (a) (near miss); features without
    the random phase (E phi^T phi = k(x - x') + k(x + x'): biased) miss it too (wrong world)."""
    rff = algorithm("random_fourier_features")
    rng = np.random.default_rng(derived_seed("rf.nn-to-rf", p, bandwidth, seed))
    x = rng.standard_normal((10, p)) * bandwidth / np.sqrt(p)  # distances ~ sigma: kernel values spread over (0, 1)
    kernel = np.exp(-np.sum((x[:, None] - x[None]) ** 2, -1) / (2 * bandwidth**2))
    evidence.parameters(p=p, bandwidth=bandwidth, seed=seed)
    f = rff(p, 50, bandwidth, rng, batch=(200,))(x)
    k_hat = f @ np.swapaxes(f, -1, -2)
    se = k_hat.std(axis=0, ddof=1) / np.sqrt(200)
    evidence.tight("(a) unbiased: mean of 200 draws vs exp(-d^2/2 sigma^2)", k_hat.mean(0), kernel, abs=Z * se + 1e-15)
    ms = np.array([100, 300, 1000, 3000])
    err = []
    for m in ms:
        f = rff(p, int(m), bandwidth, rng, batch=(25,))(x)
        err.append(np.mean(np.max(np.abs(f @ np.swapaxes(f, -1, -2) - kernel), axis=(-2, -1))))
    slope = _log_slope(ms, err)
    evidence.record("mean max |K_m - K| at m = 100, 300, 1000, 3000", np.array(err))
    evidence.tight("(b) slope of log max|K_m - K| vs log m", slope, -0.5, abs=0.1, headline=True)

    feats = rff(p, 30, bandwidth, rng)(x)
    y = rng.standard_normal(10)
    lam, u = np.linalg.eigh(feats @ feats.T)
    eta, steps = 1.0 / lam[-1], 50
    gain = np.where(lam > 1e-14 * lam[-1], (1 - (1 - eta * lam) ** steps) / np.where(lam > 0, lam, 1), eta * steps)
    closed = feats.T @ (u @ (gain * (u.T @ y)))
    theta, _ = algorithm("gradient_descent_least_squares")(feats, y, eta, steps)
    evidence.tight("(c) GD on the read-out = closed-form least-squares iterate", theta, closed, rel=1e-9,
                   abs=1e-9 * np.abs(closed).max())
    evidence.record("false_alarm_budget", 2.3e-4)
    evidence.resolution("(a) 5 SE per kernel entry (rejects a bandwidth 20% off); (b) slope within 0.1; (c) 1e-9")


# ------------------------------------------------------------ rf.liu-bias-variance
def _digits_pool():
    x, y = digits()
    keep = np.isin(y, (3, 7))
    x, t = x[keep], np.where(y[keep] == 3, 1.0, -1.0)
    perm = np.random.default_rng(0).permutation(len(t))
    return x, t, perm[:100], perm[100:]  # 100 fixed test points, a pool of 262


def liu_sweep(algorithm, repetitions: int, ratios, n: int = 150, bandwidth: float = 2.8, duplicate_fraction=0.0):
    """Predictions of min-norm RFF fits over T repetitions, each redrawing (W, b) and the
    train subset, at every m/n of ``ratios``; returns the decompositions and the raw predictions.
    ``duplicate_fraction`` > 0 repeats the first points of each subset in place of its last ones
    (a training set of rank (1 - fraction) n: a near-miss world)."""
    rff, fit = algorithm("random_fourier_features"), algorithm("min_norm_least_squares")
    decompose = algorithm("bias_variance_decomposition")
    x, t, test, pool = _digits_pool()
    rng = np.random.default_rng(derived_seed("rf.liu-bias-variance", repetitions, n))
    subsets = np.stack([rng.choice(pool, n, replace=False) for _ in range(repetitions)])
    k = int(round(duplicate_fraction * n))
    if k:
        subsets[:, n - k:] = subsets[:, :k]
    out = []
    for r in ratios:
        phi = rff(x.shape[1], int(round(r * n)), bandwidth, rng, batch=(repetitions,))
        theta = fit(phi(x[subsets]), t[subsets])
        pred = np.einsum("tnm,tm->tn", phi(x[test]), theta)
        out.append((decompose(pred, t[test]), pred))
    return out, t[test]


def check_liu(evidence, algorithm, repetitions, ratios, duplicate_fraction=0.0):
    """(0) the decomposition is unbiased (synthetic predictions of known mean and spread);
    (i) variance unimodal on m >= n/4 with its peak at m/n in {0.9, 1.1}; (ii) bias non-increasing
    within 0.01 + 3 SE; (iii) test MSE = naive bias^2 + variance (ddof 0) exactly."""
    decompose = algorithm("bias_variance_decomposition")
    rng = np.random.default_rng(derived_seed("rf.liu-bias-variance", "synthetic", repetitions))
    mu, y, spread = rng.standard_normal(50), rng.standard_normal(50), rng.uniform(0.5, 2.0, 50)
    sims = mu + spread * rng.standard_normal((4000, repetitions, 50))  # 4000 independent experiments
    est = decompose(sims, y)["bias2"]
    evidence.tight("(0) E[bias^2 estimate] = (E f - y)^2 (4000 synthetic experiments)", est.mean(),
                   np.mean((mu - y) ** 2), abs=Z * est.std(ddof=1) / np.sqrt(len(est)))

    sweep, target = liu_sweep(algorithm, repetitions, ratios, duplicate_fraction=duplicate_fraction)
    ratios = np.asarray(ratios)
    var = np.array([d["variance"] for d, _ in sweep])
    bias = np.array([d["bias2"] for d, _ in sweep])
    var_x = np.array([d["variance_per_point"] for d, _ in sweep])
    bias_x = np.array([d["bias2_per_point"] for d, _ in sweep])
    evidence.record("variance by m/n", var, ratios=ratios)
    evidence.record("debiased bias^2 by m/n", bias, ratios=ratios)
    peak = float(ratios[int(np.argmax(var))])
    evidence.holds("(i) variance peaks at m/n in {0.9, 1.1}", peak in (0.9, 1.1), f"peak at m/n = {peak}")

    def paired_se(values):  # SE of consecutive differences, paired over the 100 test points
        return np.diff(values, axis=0).std(axis=1, ddof=1) / np.sqrt(values.shape[1])

    up = (ratios >= 0.5) & (ratios <= 0.9)
    down = ratios >= 1.1
    evidence.upper_bound("(i) variance increasing on [0.5n, 0.9n] (steps down within 3 SE)",
                         -np.diff(var[up]), 3 * paired_se(var_x[up]))
    evidence.upper_bound("(i) variance decreasing on [1.1n, max] (steps up within 3 SE)",
                         np.diff(var[down]), 3 * paired_se(var_x[down]))
    evidence.upper_bound("(ii) bias^2 non-increasing (steps up within 0.01 + 3 SE)", np.diff(bias),
                         0.01 + 3 * paired_se(bias_x), headline=True)
    pred = np.stack([p for _, p in sweep])
    mse = np.mean((pred - target) ** 2, axis=(1, 2))
    naive = np.mean((pred.mean(1) - target) ** 2, axis=1) + np.mean(pred.var(1), axis=1)
    evidence.tight("(iii) test MSE = naive bias^2 + variance (ddof 0)", mse, naive, rel=1e-10)
    evidence.figure("bias-variance", lambda fig: _draw_liu(fig, ratios, var, bias, mse),
                    f"Min-norm RFF on digits 3-vs-7 (n = 150, T = {repetitions}): variance is unimodal with its "
                    "peak at m = n, the (debiased) bias is non-increasing; dashed: m = n.")


def _draw_liu(fig, ratios, var, bias, mse):
    ax = fig.add_subplot(111)
    ax.loglog(ratios, mse, "k.-", label="test MSE")
    ax.loglog(ratios, var, "o-", label="variance")
    ax.loglog(ratios, np.maximum(bias, 1e-4), "s-", label="bias^2 (debiased)")
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xlabel("m / n")
    ax.legend(fontsize=7)


@pytest.mark.claim("rf.liu-bias-variance", uses=["bias_variance_decomposition", "min_norm_least_squares",
                                                 "random_fourier_features"])
def test_liu_bias_variance(evidence, algorithm, duplicate_fraction=0.0):
    """Proxy of Liu et al.'s shapes with the min-norm estimator: RFF (sigma = 2.8) on digits
    3-vs-7, n = 150 from a 262-point pool, 100 fixed test points, T = 12 repetitions
    redrawing (W, b) and the subset; m/n in 0.27..4 (m = n omitted: infinite variance).
    Unimodality is scoped to m >= n/4 (at m = 0.1n the W-randomness dominates). False
    alarms: paired normal approximation over test points, one-sided 1.3e-3 per step
    comparison, 3 + 4 + 8 of them, plus (0) at 5 SE (5.7e-7): budget 2e-2 (Bonferroni).
    Power: a training set whose last quarter repeats its first (rank 0.75 n) moves the
    variance peak to m/n = 0.73 (rejected); tuned ridge has no variance peak (wrong world)."""
    check_liu(evidence, algorithm, 12, (0.27, 0.5, 0.73, 0.9, 1.1, 1.27, 1.5, 2, 4), duplicate_fraction)
    evidence.parameters(n=150, repetitions=12, duplicate_fraction=duplicate_fraction)
    evidence.record("false_alarm_budget", 2e-2)
    evidence.resolution("a variance peak one grid point off m = n; bias steps up by 0.01 + 3 SE")


@pytest.mark.claim("rf.liu-bias-variance", uses=["bias_variance_decomposition", "min_norm_least_squares",
                                                 "random_fourier_features"])
@pytest.mark.slow
@pytest.mark.no_near_miss("the predicates of test_liu_bias_variance (check_liu) on the catalogue's grid; that "
                          "check's near-miss control sets their resolution")
def test_liu_bias_variance_full(evidence, algorithm):
    """The catalogue's design: T = 40, m/n in 0.27..27 (R3: variance 0.079 -> 0.334 | 0.370 -> 0.009).
    False alarms: 1.3e-3 per step comparison, 3 + 6 + 10 of them, plus (0): budget 2.5e-2."""
    check_liu(evidence, algorithm, 40, (0.27, 0.5, 0.73, 0.9, 1.1, 1.27, 1.5, 2, 4, 10, 27))
    evidence.parameters(n=150, repetitions=40)
    evidence.record("false_alarm_budget", 2.5e-2)
    evidence.resolution("a variance peak one grid point off m = n; bias steps up by 0.01 + 3 SE")


# ------------------------------------------------------------- rf.sgd-vs-minnorm
@pytest.mark.claim("rf.sgd-vs-minnorm", uses=["sgd_least_squares"])
@settings(max_examples=examples(3))
@given(n=st.integers(10, 30), ratio=st.floats(2.0, 4.0), seed=st.integers(0, 2**16))
@example(n=20, ratio=4.0, seed=0)
def test_sgd_converges_to_min_norm(evidence, algorithm, n, ratio, seed):
    """Constant-step SGD theta_t = theta_{t-1} + gamma (y_i - <theta, phi_i>) phi_i from
    theta_0 = 0 on m = ratio * n > n Gaussian features: every iterate stays in row(F),
    so the limit is the min-norm interpolator F^+ y (oracle: LAPACK pinv). Budget from
    the spectrum: E||theta_T - theta*||^2 <= (1 - gamma lambda_min^+(F^T F)/n)^T ||theta*||^2 for
    gamma <= 1/max||phi_i||^2 (interpolation, uniform sampling); T is chosen to make it
    <= 1e-12 ||theta*||^2, so by Markov rel. error > 1e-4 has probability <= 1e-4."""
    sgd = algorithm("sgd_least_squares")
    m = int(ratio * n)
    rng = np.random.default_rng(derived_seed("rf.sgd-vs-minnorm", n, m, seed))
    f = rng.standard_normal((4, n, m)) / np.sqrt(m)
    y = rng.standard_normal((4, n))
    target = np.einsum("bmn,bn->bm", np.linalg.pinv(f), y)
    gamma = 1.0 / np.max(np.sum(f**2, -1), axis=-1)
    lam_min = np.linalg.eigvalsh(f @ np.swapaxes(f, -1, -2))[:, 0]
    steps = np.log(1e12) / np.min(gamma * lam_min / n)
    epochs = int(np.ceil(steps / n))
    theta = sgd(f, y, gamma, epochs, np.random.default_rng(derived_seed("rf.sgd-vs-minnorm", "order", seed)))
    rel = np.linalg.norm(theta - target, axis=-1) / np.linalg.norm(target, axis=-1)
    evidence.parameters(n=n, m=m, epochs=epochs)
    evidence.upper_bound("||theta_SGD - theta_MN|| / ||theta_MN||", rel, 1e-4, headline=True)
    _, _, vt = np.linalg.svd(f)
    null_part = np.linalg.norm(np.einsum("bkm,bm->bk", vt[:, n:], theta), axis=-1)
    evidence.upper_bound("component of theta_SGD in null(F) (rounding)", null_part,
                         100 * epochs * n * np.finfo(float).eps * np.linalg.norm(theta, axis=-1))


CURVE_RATIOS = (0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2.0, 4.0)
CURVE_EPOCHS, CURVE_DRAWS, CURVE_N = 2500, 20, 200
CURVE_TAIL = 100  # epochs whose end-of-epoch test MSEs SGD's is averaged over (see the check's docstring)
C_LEVEL = 1e-3  # one-sided level of the bootstrap bounds on (c)'s margin, per ratio


def _sample_major(features: np.ndarray) -> np.ndarray:
    """The array (…, n, M) with the sample axis outermost: SGD reads one contiguous block per step."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(features, -2, 0)), 0, -2)


def _sgd_with_tail_mse(sgd, F, y, gamma, epochs, order, draw_mse, tail=CURVE_TAIL):
    """SGD for ``epochs`` epochs (one order generator, continued); the last iterate and the mean of
    ``draw_mse`` over the end-of-epoch iterates of the last ``tail``."""
    tail = min(tail, epochs)
    features = _sample_major(F)
    theta, total = sgd(features, y, gamma, epochs - tail, order) if epochs > tail else None, 0.0
    for _ in range(tail):
        theta = sgd(features, y, gamma, 1, order, theta0=theta)
        total = total + draw_mse(theta)
    return theta, total / tail


@pytest.mark.claim("rf.sgd-vs-minnorm", uses=["min_norm_least_squares", "random_fourier_features",
                                              "sgd_least_squares"])
@pytest.mark.slow
def test_sgd_curve_versus_min_norm_curve(evidence, algorithm, epochs: int = CURVE_EPOCHS,
                                         ratios=CURVE_RATIOS, draws: int = CURVE_DRAWS):
    """The tutorial's panel "(a) SGD vs. min-norm solution" (Liu et al. 2022: test MSE vs m/n, MNIST
    3 vs 7, Gaussian kernel; here digits 3 vs 7, n = 200, 100 test points, RFF σ = 2.8, 20 feature
    draws, m/n ∈ {0.5 … 4}): the min-norm interpolator and constant-step SGD (γ = 1/max_i‖φ_i‖²,
    θ₀ = 0, 2500 epochs, one sample per step; all ratios batched, features zero-padded, which
    leaves SGD unchanged). SGD's test MSE at a draw is the mean over its end-of-epoch iterates in the
    last 100 epochs (at m < n it samples a noise ball). Criteria fixed before the run (criteria log):
    (a) budget adequacy: median ‖θ_SGD − θ_MN‖/‖θ_MN‖ ≤ 0.05 at m/n ∈ {2, 4} (well conditioned);
    (b) SGD's median curve peaks at m/n ∈ {0.9, 1, 1.1}, ≥ 3× its minimum — recorded; inconclusive:
        under fresh randomness the argmax moved to 0.8 (criteria log);
    (c) "no loss": SGD's median test MSE ≤ 1.1 × min-norm's + 0.01 at every ratio;
    (d) the min-norm curve peaks at ≥ 10× its minimum.
    (c) is decided on the data (issue 16): at m = n/2, the only ratio where it is thin, the per-draw
    margin 1.1·MN + 0.01 − SGD is +0.0050 ± 0.0030 (500 draws; SGD's test MSE averaged over the
    last 100 epochs, because one iterate is one draw from the noise ball), and a fresh seed put the
    20-draw point estimate at −0.0009. The check fails only if a paired bootstrap over the draws puts
    the margin's upper 1e-3 bound below 0 at some ratio (false alarm ≤ 8e-3, approximate); where a
    lower bound is ≤ 0, (c) is reported open. Resolution: a margin below about −0.006 (3.1 bootstrap
    SE of 0.0017) is ruled out; a smaller violation stays open. One-pass averaged SGD (Liu et al.'s
    estimator, γ = 0.5) is recorded. ``epochs`` is the controls' world; (d) and (a) are asserted
    before the rest of the budget is paid."""
    rff, fit, sgd = (algorithm(k) for k in ("random_fourier_features", "min_norm_least_squares", "sgd_least_squares"))
    x, t, test, pool = _digits_pool()
    train, n = pool[:CURVE_N], CURVE_N
    ratios = np.asarray(ratios, float)
    widths = [int(round(r * n)) for r in ratios]
    M = max(widths)
    F = np.zeros((n, len(ratios), draws, M))  # sample axis first: SGD reads one contiguous block per step
    F_test = np.zeros((len(ratios), draws, len(test), M))
    for i, (r, m) in enumerate(zip(ratios, widths)):
        phi = rff(x.shape[1], m, 2.8, np.random.default_rng(derived_seed("rf.sgd-vs-minnorm", "curve", r)),
                  batch=(draws,))
        F[:, i, :, :m] = np.moveaxis(phi(x[train]), -2, 0)
        F_test[i, :, :, :m] = phi(x[test])
    F = F.transpose(1, 2, 0, 3)  # (ratios, draws, n, M), a view
    y = np.broadcast_to(t[train], (len(ratios), draws, n))
    evidence.parameters(n=n, ratios=list(ratios), draws=draws, epochs=epochs, bandwidth=2.8, step="1/max||phi||^2")

    def draw_mse(th, rows=slice(None), cols=None):  # test MSE per (ratio, draw)
        return np.mean((np.einsum("rdnm,rdm->rdn", F_test[rows][..., :cols], th) - t[test]) ** 2, -1)

    theta = {"min-norm": fit(np.ascontiguousarray(F), y)}
    mn_curve = np.median(draw_mse(theta["min-norm"]), 1)
    evidence.lower_bound("(d) min-norm peak / minimum >= 10", float(mn_curve.max() / mn_curve.min()), 10.0)
    # the well-conditioned ratios first: a budget that cannot converge there is rejected before the rest is paid for
    well = ratios >= 2
    gamma = 1.0 / np.max(np.sum(F**2, -1), -1)
    order = np.random.default_rng(derived_seed("rf.sgd-vs-minnorm", "order"))
    th_sgd, sgd_mse = np.zeros_like(theta["min-norm"]), np.zeros((len(ratios), draws))
    th_sgd[well], sgd_mse[well] = _sgd_with_tail_mse(sgd, F[well], y[well], gamma[well], epochs, order,
                                                     lambda th: draw_mse(th, well))
    rel = np.median(np.linalg.norm(th_sgd - theta["min-norm"], axis=-1)
                    / np.linalg.norm(theta["min-norm"], axis=-1), axis=1)
    evidence.record("median ||theta_SGD - theta_MN|| / ||theta_MN|| at m/n >= 2", rel[well])
    evidence.upper_bound("(a) SGD converged where well conditioned (m/n >= 2): rel. distance to min-norm", rel[well],
                         0.05)
    cols = max(w for w, ok in zip(widths, well) if not ok)  # the other ratios' features need no padding beyond this
    th_rest, sgd_mse[~well] = _sgd_with_tail_mse(sgd, F[~well][..., :cols], y[~well], gamma[~well], epochs, order,
                                                 lambda th: draw_mse(th, ~well, cols))
    th_sgd[~well, :, :cols] = th_rest
    theta["SGD (constant step)"] = th_sgd
    theta["averaged SGD, 1 pass"] = sgd(F, y, np.full_like(gamma, 0.5), 1,
                                        np.random.default_rng(derived_seed("rf.sgd-vs-minnorm", "one-pass")),
                                        average=True)
    curves = {k: np.median(draw_mse(v), 1) for k, v in theta.items()}
    last_iterate_curve = curves.pop("SGD (constant step)")
    curves["SGD (constant step)"] = np.median(sgd_mse, 1)
    train_mse = np.median(np.mean((np.einsum("rdnm,rdm->rdn", F, theta["SGD (constant step)"]) - y) ** 2, -1), 1)
    sgd_curve = curves["SGD (constant step)"]
    for k, v in curves.items():
        evidence.record(f"median test MSE by m/n: {k}", v, ratios=ratios)
    evidence.record("median test MSE by m/n: SGD's last iterate (not (c)'s statistic)", last_iterate_curve,
                    ratios=ratios)
    evidence.record("SGD train MSE by m/n", train_mse)
    peak_at = float(ratios[int(np.argmax(sgd_curve))])
    evidence.record("(b) argmax of the SGD curve (m/n) and peak / minimum", [peak_at, float(sgd_curve.max()
                                                                                     / sgd_curve.min())])
    # (c) on the data, not the point estimate (its margin at m = n/2 is thin: see the docstring)
    mn_draws = draw_mse(theta["min-norm"])
    resample = np.random.default_rng(derived_seed("rf.sgd-vs-minnorm", "bootstrap")).integers(0, draws, (20000, draws))
    margins = 1.1 * np.median(mn_draws[:, resample], -1) + 0.01 - np.median(sgd_mse[:, resample], -1)
    low, high = np.quantile(margins, C_LEVEL, axis=1), np.quantile(margins, 1 - C_LEVEL, axis=1)
    evidence.record("(c) margin 1.1 x min-norm + 0.01 - SGD (medians over draws), bootstrap 1e-3 bounds",
                    1.1 * mn_curve + 0.01 - sgd_curve, lower=low, upper=high, ratios=ratios)
    evidence.lower_bound("(c) no loss: upper 1e-3 bound of 1.1 x min-norm + 0.01 - SGD", high, 0.0)
    c_open = [float(r) for r, lo in zip(ratios, low) if lo <= 0]
    evidence.record("false_alarm_budget", 8e-3, note="(c): a one-sided 1e-3 bootstrap bound per ratio (approximate)")
    evidence.resolution("rejects a budget of 1000 epochs (rel. distance 0.12 at m = 2n: near-miss control) and "
                        "early-stopped SGD (50 epochs: wrong-world control)")
    evidence.inconclusive("(b) is not decidable at this scale: at a budget that has converged where interpolation is "
                          "well conditioned, SGD's curve is a broad hump of 3-4x its minimum whose argmax sat at "
                          "m/n = 0.9 (CI seeds, 5 draws) but at 0.8 under --gbu-seed 1 with 5 and with 10 draws "
                          "(0.156 vs 0.154 at 0.9); the pre-registered location criterion (argmax in {0.9, 1, 1.1}) "
                          "is not stable. The implicit bias (fast check) holds; 'no loss' (c) is "
                          + (f"not established at m/n = {c_open} (bootstrap lower bound <= 0), not ruled out anywhere"
                             if c_open else "established at every ratio (bootstrap lower bounds > 0)") + ".")
    evidence.figure("sgd-vs-min-norm", lambda fig: _draw_curves(fig, ratios, curves), "Test MSE vs m/n on digits "
                    f"3-vs-7 (n = {n}): min-norm and constant-step SGD ({epochs} epochs) both peak at m = n; SGD's "
                    "peak is lower (it stops short of interpolating the ill-conditioned directions).")


def _draw_curves(fig, ratios, curves):
    ax = fig.add_subplot(111)
    for k, v in curves.items():
        ax.semilogy(ratios, v, "o-", label=k)
    ax.axvline(1.0, color="k", ls="--", lw=0.8, label="m = n")
    ax.set_xlabel("m / n")
    ax.set_ylabel("test MSE")
    ax.legend(fontsize=7)


# ------------------------------------------------------- rf.risk-converges-order-one
#: Feature draws per m. With 5 the median's spread let |R(50n) - R(20n)| reach 0.14 R(20n) (bound
#: 0.1; measured 0.12) under 1 of 6 seed shifts, and the near miss (bandwidth x 1.3) land inside the 15 % window
#: under 1 of 6. With 20, over the same 6 shifts: R(50n)/K - 1 in [0, +0.03], the plateau step
#: <= 0.065, the near miss at +0.17..+0.21 (rejected in 6 of 6).
PLATEAU_DRAWS = 20
@pytest.mark.claim("rf.risk-converges-order-one", uses=["gaussian_kernel", "kernel_ridge_regression",
                                                        "min_norm_least_squares", "random_fourier_features"])
def test_risk_plateaus_at_kernel_risk(evidence, algorithm, feature_bandwidth=2.8):
    """As m -> infinity the min-norm RFF risk converges to an O(1) constant, the risk of
    Gaussian-kernel ridgeless regression: digits 3-vs-7, n = 100, sigma = 2.8, medians
    over 20 feature draws (PLATEAU_DRAWS): |R(50n) - R(20n)| <= 0.1 R(20n), R(50n) within 15% of the
    kernel risk, and R(n) at least 10x the plateau (the peak is not the limit). False alarm:
    the Monte Carlo error of R(50n) around the kernel risk is O((50n)^-1/2) relative (~1.4%);
    measured over 6 seed shifts: within 3% of the kernel risk, plateau step <= 0.065; stated 1e-3,
    not derived.
    Power: features drawn at a bandwidth 30% above the kernel's converge to another kernel's
    risk, 20% off (near miss; 30% below is not resolved: the risk is flat there); features of
    twice the bandwidth plateau 56% off (wrong world)."""
    rff, fit = algorithm("random_fourier_features"), algorithm("min_norm_least_squares")
    x, t, test, pool = _digits_pool()
    train, n, h = pool[:100], 100, 2.8
    risk = {}
    for mult in (1, 20, 50):
        rng = np.random.default_rng(derived_seed("rf.risk-converges-order-one", mult))
        phi = rff(x.shape[1], mult * n, feature_bandwidth, rng, batch=(PLATEAU_DRAWS,))
        theta = fit(phi(x[train]), np.broadcast_to(t[train], (PLATEAU_DRAWS, n)))
        risk[mult] = float(np.median(np.mean((np.einsum("tnm,tm->tn", phi(x[test]), theta) - t[test]) ** 2, -1)))
    kern = algorithm("gaussian_kernel")
    alpha = algorithm("kernel_ridge_regression")(kern(x[train], x[train], h), t[train], 0.0)
    kernel_risk = float(np.mean((kern(x[test], x[train], h) @ alpha - t[test]) ** 2))
    evidence.record("test MSE at m = n, 20n, 50n", [risk[1], risk[20], risk[50]], kernel_ridgeless=kernel_risk)
    evidence.upper_bound("plateau: |R(50n) - R(20n)| / R(20n)", abs(risk[50] - risk[20]) / risk[20], 0.1)
    evidence.tight("R(50n) vs Gaussian-kernel ridgeless risk", risk[50], kernel_risk, rel=0.15, headline=True)
    evidence.lower_bound("R(n) / R(50n) (the threshold is not the limit)", risk[1] / risk[50], 10.0)
    evidence.parameters(feature_bandwidth=feature_bandwidth, kernel_bandwidth=h)
    evidence.record("false_alarm_budget", 1e-3)
    evidence.resolution("R(50n) within 15% of the kernel risk: rejects features 30% above the kernel's bandwidth")
