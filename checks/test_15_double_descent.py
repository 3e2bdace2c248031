"""Double descent in model size (slides "A toy example: curve fitting", "Benign
overfitting and double descent", "Double descent curve in practice (I), (III)").

The fit under test is ``algorithm("min_norm_least_squares")`` on features from
``algorithm("legendre_features")``, ``algorithm("random_fourier_features")`` or
``algorithm("random_relu_features")``. Curves are medians over seeds (heavy tails
at the threshold make means useless); seeds derive from (claim, grid point, repetition).

Convention (catalogue dd.belkin-rff): one real feature cos(v^T x + b) per
frequency with a random phase, so the interpolation threshold is N = n.

False alarms: the seeds are fixed, so in CI each verdict is a deterministic
computation; the predicates (peak location in [0.8n, 1.25n], interpolation to
rounding, orders of magnitude between peak and tails) hold with wide margins on
every draw seen (the peak is 10-1000x the tails). Over fresh seeds (--gbu-seed
1..80 for the digits sweeps, 1..10 for the others, 1..5 for ten classes) no check
failed; each states its budget.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

from checks.support import examples
from problems.overparam.datasets import digits_split, one_hot
from problems.overparam.synthetic_regression import SmoothTeacher, curve_fitting_sample, derived_seed, smooth_teachers

EPS = np.finfo(float).eps
WINDOW = (0.8, 1.25)  # peak-location window [0.8 n, 1.25 n] (catalogue §0)


# ---------------------------------------------------------------- shared helpers
def interpolation_tolerance(features: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Largest train MSE a backward-stable solve can leave at an interpolating fit:
    |r_i| <= N eps sum_j |F_ij theta_j| (Higham, Accuracy and Stability, Thm 3.5 applied
    to the residual evaluation plus the solve's backward error, same order), squared."""
    big_n = features.shape[-1]
    scale = np.max(np.abs(features) @ np.abs(theta)[..., None], axis=(-2, -1))
    return (4 * big_n * EPS * scale) ** 2


def peak_in_window(evidence, label: str, grid, curve, n: int) -> int:
    """argmax over the grid of a (median) curve lies in [0.8 n, 1.25 n]."""
    grid = np.asarray(grid)
    at = int(grid[int(np.argmax(curve))])
    evidence.record(f"peak of {label}", float(np.max(curve)), at_N=at, at_N_over_n=at / n)
    evidence.holds(f"argmax_N {label} in [0.8n, 1.25n]", WINDOW[0] * n <= at <= WINDOW[1] * n,
                   f"peak at N = {at} (n = {n})")
    return at


def draw_sweep(fig, grid, curves: dict, n: int, title: str, xlabel="number of random features N"):
    """Test risk (top) and coefficient norm (bottom) against model size, threshold marked."""
    axes = [fig.add_subplot(211), fig.add_subplot(212)]
    for ax, key in zip(axes, ("test MSE", "coefficient norm")):
        for label, c in curves.items():
            ax.loglog(grid, np.median(c[key], axis=1), ".-", label=label, lw=1)
            ax.fill_between(grid, np.min(c[key], axis=1), np.max(c[key], axis=1), alpha=0.15)
        ax.axvline(n, color="k", ls="--", lw=0.8, label="interpolation threshold N = n")
        ax.set_ylabel(key, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_title(title, fontsize=9)
    axes[0].legend(fontsize=6)
    axes[1].set_xlabel(xlabel, fontsize=8)


# ------------------------------------------------------------ dd.poly-curve-fitting
DEGREES = (1, 3, 10, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 30, 100, 1000)
N_POINTS, N_SEEDS = 20, 20
TEST_X = np.linspace(-1.0, 1.0, 1001)


def _poly_sweep(fit, features, sigma: float, seed: int, scale=None, degrees=DEGREES):
    rng = np.random.default_rng(derived_seed("dd.poly-curve-fitting", sigma, seed))
    x, y = curve_fitting_sample(N_POINTS, sigma, rng, batch=N_SEEDS)
    f_test = np.sin(np.pi * TEST_X)
    out = {k: [] for k in ("test MSE", "train MSE", "coefficient norm", "tolerance")}
    # the bases are nested (column k is the k-th basis function whatever d is): build once, slice
    top = max(degrees)
    w_top = np.ones(top + 1) if scale is None else scale(top)
    full, full_test = features(x, top) * w_top, features(TEST_X, top) * w_top
    for d in degrees:
        feats = full[..., : d + 1]
        theta = fit(feats, y)
        out["train MSE"].append(np.mean((np.einsum("snd,sd->sn", feats, theta) - y) ** 2, -1))
        out["test MSE"].append(np.mean((theta @ full_test[:, : d + 1].T - f_test) ** 2, -1))
        out["coefficient norm"].append(np.linalg.norm(theta, axis=-1))
        out["tolerance"].append(interpolation_tolerance(feats, theta))
    return {k: np.array(v) for k, v in out.items()}  # (len(DEGREES), N_SEEDS)


def _orthonormal(d):
    return np.sqrt((2 * np.arange(d + 1) + 1) / 2.0)  # ||sqrt((2k+1)/2) P_k||_{L2[-1,1]} = 1


@pytest.mark.claim("dd.poly-curve-fitting", uses=["legendre_features", "min_norm_least_squares", "monomial_features"])
@pytest.mark.no_near_miss("a qualitative curve with order-of-magnitude margins (10x, 1e-3, 2x) and a peak located "
                          "on the integer degree grid; the catalogue's wrong world (orthonormal basis: not benign) "
                          "is its control")
@settings(max_examples=examples(1))
@given(sigma=st.floats(0.05, 0.2), seed=st.integers(0, 2**16))
@example(sigma=0.1, seed=0)
def test_poly_curve_fitting(evidence, algorithm, sigma, seed):
    """Min-norm least squares on unnormalised Legendre features P_0..P_d, n = 20
    points x ~ U[-1, 1], y = sin(pi x) + sigma eps, medians over 20 draws:
    (i) d = 1 under-fits: test(1) > 10 test(3); (ii) ||w|| and test MSE peak at
    d + 1 = n (d in {n-2, n-1, n}); (iii) d = 1000 interpolates; (iv) ||w(1000)|| <=
    2 ||w(3)||; (v) benign: test(1000) <= 1e-3 test(n-1) and <= 0.15. The same fit in
    the orthonormal Legendre basis at d = 1000 is *not* benign (predicts ~0 off the
    data: test MSE >= ||f||^2/2 = 0.25), and in monomials it is catastrophic
    (recorded): benign overfitting depends on the basis, i.e. on the implicit norm. False
    alarm: medians over 20 draws; 0 failures in 10 seed shifts, margins of orders of magnitude:
    stated 1e-2."""
    fit, legendre = algorithm("min_norm_least_squares"), algorithm("legendre_features")
    evidence.parameters(n=N_POINTS, sigma=sigma, seed=seed, draws=N_SEEDS)
    sweep = _poly_sweep(fit, legendre, sigma, seed)
    med = {k: np.median(v, axis=1) for k, v in sweep.items()}
    at = {d: i for i, d in enumerate(DEGREES)}
    evidence.lower_bound("(i) under-fit: test(d=1) / test(d=3)", med["test MSE"][at[1]] / med["test MSE"][at[3]], 10.0)
    window = [at[d] for d in range(15, 26)]
    for key in ("coefficient norm", "test MSE"):
        peak = DEGREES[window[int(np.argmax(med[key][window]))]]
        evidence.record(f"argmax_d {key} over d in 15..25", peak, height=float(np.max(med[key][window])))
        evidence.holds(f"(ii) {key} peaks at d in {{n-2, n-1, n}}", peak in (N_POINTS - 2, N_POINTS - 1, N_POINTS),
                       f"peak at d = {peak}")
    last = at[1000]
    evidence.upper_bound("(iii) train MSE at d = 1000 (interpolation)", sweep["train MSE"][last],
                         sweep["tolerance"][last])
    norm = med["coefficient norm"]
    evidence.upper_bound("(iv) ||w(1000)|| / ||w(3)||", norm[last] / norm[at[3]], 2.0)
    evidence.upper_bound("(v) benign: test(1000) / test(n-1)", med["test MSE"][last] / med["test MSE"][at[19]], 1e-3)
    evidence.upper_bound("(v) benign: test(1000)", med["test MSE"][last], 0.15, headline=True)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("orders of magnitude (10x, 1e-3) and the peak's degree on the integer grid")
    ortho = _poly_sweep(fit, legendre, sigma, seed, scale=_orthonormal)
    evidence.lower_bound("orthonormal Legendre basis, d = 1000: not benign (test MSE >= ||f||^2/2)",
                         np.median(ortho["test MSE"][last]), 0.25)
    mono = _poly_sweep(fit, algorithm("monomial_features"), sigma, seed, degrees=(3, 1000))
    evidence.record("monomial basis, d = 3 and d = 1000: median test MSE", np.median(mono["test MSE"], axis=1))
    evidence.figure("curve-fitting", lambda fig: draw_sweep(
        fig, np.array(DEGREES) + 1, {"Legendre P_k": sweep, "orthonormal Legendre": ortho}, N_POINTS,
        f"min-norm polynomial fit, n = {N_POINTS}, sigma = {sigma:.2f}", xlabel="number of coefficients d + 1"),
        "Test MSE and coefficient norm vs number of coefficients (medians, band = range over 20 draws); "
        "the peak sits at d + 1 = n; at d = 1000 the Legendre fit is benign, the orthonormal one is not.")


# ------------------------------------------------------------------ dd.belkin-rff
DIGITS_GRID = (10, 25, 50, 100, 150, 180, 190, 200, 210, 220, 250, 400, 1000)
DIGITS_SEEDS = 5


@functools.lru_cache(maxsize=8)
def digits_sweep(fit, make_features, classes=(3, 7), n=200, grid=DIGITS_GRID, seeds=DIGITS_SEEDS,
                 claim="dd.belkin-rff", duplicate_fraction=0.0):
    """Min-norm random-features sweep on digits; arrays (len(grid), seeds). Cached per
    (fit, feature map): the checks of one claim share one sweep, a planted bug gets its own.
    ``duplicate_fraction`` > 0 replaces that fraction of the training points by copies of the
    first ones (labels included): n points of rank (1 - fraction) n (a near-miss world)."""
    split = digits_split(n, classes=classes, seed=0)
    if duplicate_fraction:
        k = int(round(duplicate_fraction * n))
        x, y = split.x.copy(), split.y.copy()
        x[n - k:], y[n - k:] = x[:k], y[:k]
        split = type(split)(x, y, split.x_test, split.y_test)
    # centre by the train mean: RFF are translation invariant in law, and for ReLU features
    # it prevents columns with X v > 0 on every sample (linear in x, rank <= 54) that would
    # make F rank deficient and move the threshold
    mean = split.x.mean(axis=0)
    split = type(split)(split.x - mean, split.y, split.x_test - mean, split.y_test)
    if len(classes) == 2:
        y, y_test = np.where(split.y == 0, 1.0, -1.0), np.where(split.y_test == 0, 1.0, -1.0)
    else:
        y, y_test = one_hot(split.y, len(classes)), one_hot(split.y_test, len(classes))
    bandwidth = float(np.median(pdist(split.x)))  # median pairwise distance (catalogue R1)
    out = {k: [] for k in ("test MSE", "train MSE", "coefficient norm", "test error", "tolerance")}
    for big_n in grid:
        rng = np.random.default_rng(derived_seed(claim, classes, big_n))
        phi = make_features(split.x.shape[1], big_n, bandwidth, rng, batch=(seeds,))
        f, f_test = phi(split.x), phi(split.x_test)
        targets = np.broadcast_to(y, (seeds, *y.shape))
        theta = fit(f, targets)
        th = theta[..., None] if theta.ndim == 2 else theta  # (seeds, N, outputs)
        pred, pred_test = f @ th, f_test @ th
        if y.ndim == 1:
            pred, pred_test = pred[..., 0], pred_test[..., 0]
        axes = (-2, -1) if y.ndim == 2 else (-1,)
        out["train MSE"].append(np.mean((pred - y) ** 2, axis=axes))
        out["test MSE"].append(np.mean((pred_test - y_test) ** 2, axis=axes))
        out["coefficient norm"].append(np.sqrt(np.sum(theta**2, axis=tuple(range(1, theta.ndim)))))
        wrong = (pred_test < 0) != (y_test < 0) if y.ndim == 1 else np.argmax(pred_test, -1) != split.y_test
        out["test error"].append(np.mean(wrong, axis=-1))
        th = theta if theta.ndim == 2 else theta[..., 0]
        out["tolerance"].append(interpolation_tolerance(f, th) * (1 if y.ndim == 1 else len(classes)))
    return {k: np.array(v) for k, v in out.items()}, n


def check_double_descent(evidence, sweep, n, grid, label, sweet_spot=True):
    """The pass criteria of dd.belkin-rff on one sweep."""
    grid = np.asarray(grid)
    med = {k: np.median(v, axis=1) for k, v in sweep.items()}
    peak_in_window(evidence, f"test MSE ({label})", grid, med["test MSE"], n)
    peak_in_window(evidence, f"coefficient norm ({label})", grid, med["coefficient norm"], n)
    past, before = grid >= n, grid <= 0.9 * n
    evidence.upper_bound(f"train MSE = 0 for N >= n ({label})", sweep["train MSE"][past], sweep["tolerance"][past])
    evidence.lower_bound(f"train MSE > 1e-4 for N <= 0.9n ({label})", sweep["train MSE"][before], 1e-4)
    at_n = int(np.argmin(np.abs(grid - n)))
    evidence.upper_bound(f"second descent: test(N_max) / test(n) ({label})",
                         med["test MSE"][-1] / med["test MSE"][at_n], 0.2)
    if sweet_spot:
        evidence.upper_bound(f"below the sweet spot: test(N_max) / min_(N<n) test(N) ({label})",
                             med["test MSE"][-1] / np.min(med["test MSE"][grid < n]), 1.0, headline=True)
    for name, i in (("N = n", at_n), ("N_max", -1)):
        evidence.record(f"median test MSE at {name} ({label})", float(med["test MSE"][i]),
                        norm=float(med["coefficient norm"][i]), test_error=float(med["test error"][i]))


@pytest.mark.claim("dd.belkin-rff", uses=["min_norm_least_squares", "random_fourier_features"])
def test_belkin_rff_digits(evidence, algorithm, duplicate_fraction=0.0):
    """Random Fourier features, min-norm fit, digits 3-vs-7 (n = 200 train, 162 test,
    targets +-1), bandwidth = median distance, 5 feature draws: test MSE and ||a||
    peak in [0.8n, 1.25n]; train MSE = 0 (to rounding) for N >= n and > 1e-4 for
    N <= 0.9n; test(N_max) < 0.2 test(n) and below the classical sweet spot
    (catalogue R1: 0.069 at N = 100, 5.79 at N = n, 0.031 at N = 5000; the grid stops
    at N = 1000 for the fast tier). False alarm: the feature draws are fixed in CI; over 80
    seed shifts (--gbu-seed 1..80) every predicate held (peak 10-1000x the tails), so the
    budget is <= 3/80 = 0.04 at 95% confidence by the rule of three - an upper bound, not an
    estimate. Power: a training set whose last quarter repeats its first (rank 0.75 n) puts
    the peak at N = 0.75 n, outside the window (near-miss control); optimally tuned ridge has
    no peak (wrong world, Nakkiran et al. 2021)."""
    fit, rff = algorithm("min_norm_least_squares"), algorithm("random_fourier_features")
    sweep, n = digits_sweep(fit, rff, duplicate_fraction=duplicate_fraction)
    evidence.parameters(data="digits 3-vs-7", n=n, grid=DIGITS_GRID, seeds=DIGITS_SEEDS,
                        duplicate_fraction=duplicate_fraction)
    evidence.record("false_alarm_budget", 0.04)
    evidence.resolution("a peak 20% off N = n (window [0.8 n, 1.25 n]); rejects the peak at 0.75 n")
    check_double_descent(evidence, sweep, n, DIGITS_GRID, "digits 3-vs-7")
    evidence.figure("double-descent", lambda fig: draw_sweep(
        fig, DIGITS_GRID, {"RFF, min-norm": sweep}, n, "digits 3-vs-7, n = 200: random Fourier features"),
        "Test MSE and coefficient norm vs N (medians over 5 feature draws, band = range); dashed: N = n.")


@pytest.mark.claim("dd.belkin-rff", uses=["min_norm_least_squares", "random_fourier_features"])
@pytest.mark.no_near_miss("the predicates and thresholds of test_belkin_rff_digits (check_double_descent), whose "
                          "near-miss control sets their resolution; this check widens the data, not the criteria")
@settings(max_examples=examples(1))
@given(teacher=smooth_teachers(p_range=(5, 20), sigma_range=(0.3, 0.5)), n=st.integers(50, 100))
@example(teacher=SmoothTeacher(p=10, sigma=0.3, seed=1), n=80)
def test_belkin_rff_synthetic(evidence, algorithm, teacher, n):
    """The same double descent on synthetic data: x ~ N(0, I_p), p >= 5, y = f*(x) + sigma eps
    with a smooth random teacher (in p <= 3 the Gaussian kernel is so ill-conditioned that
    the risk past the threshold stays astronomically large: the catastrophic regime of
    gen.mallinar-taxonomy, not a second descent); grid N/n in {0.25 .. 4}, 3 feature draws; peaks of test
    MSE and of ||a|| in [0.8n, 1.25n], interpolation past n, second descent below test(n)/5.

    Train MSE > 1e-4 for N <= 0.9n is a noise floor: the residual P_perp y has
    ||.||^2 >= sigma^2 chi^2_k in law (noncentral), k = n - N >= 0.1 n, so it fails with probability
    <= P(chi^2_k < 1e-4 n / sigma^2). At sigma = 0.1, n = 40 (k = 4) that is 1.8 % per draw (1 in 20
    fresh runs failed); sigma >= 0.3 and n >= 50 (k >= 5, x <= 0.056) bound it by
    x^2.5 / (2^2.5 Gamma(3.5)) = 4e-5 per feature draw, 1.2e-4 for 3 draws, per example (the drawn
    ones and the pinned one)."""
    evidence.record("false_alarm_budget", 1.2e-4 * (examples(1) + 1))
    fit, rff = algorithm("min_norm_least_squares"), algorithm("random_fourier_features")
    rng = np.random.default_rng(derived_seed("dd.belkin-rff", "synthetic", teacher.p, teacher.seed, n))
    x, y, _ = teacher.sample(n, rng)
    x_test, _, f_test = teacher.sample(300, rng)  # MC error of the risk ~ 8% of it: far below the peak's factor
    grid = np.unique(np.round(n * np.array([0.25, 0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2, 4])).astype(int))
    bandwidth = float(np.sqrt(teacher.p))  # ~ the median distance of N(0, I_p) points / sqrt 2
    out = {k: [] for k in ("test MSE", "train MSE", "coefficient norm", "test error", "tolerance")}
    for big_n in grid:
        phi = rff(teacher.p, int(big_n), bandwidth, rng, batch=(3,))
        f = phi(x)
        theta = fit(f, np.broadcast_to(y, (3, n)))
        out["train MSE"].append(np.mean((np.einsum("snN,sN->sn", f, theta) - y) ** 2, axis=-1))
        pred_test = np.einsum("snN,sN->sn", phi(x_test), theta)
        out["test MSE"].append(teacher.sigma**2 + np.mean((pred_test - f_test) ** 2, axis=-1))
        out["coefficient norm"].append(np.linalg.norm(theta, axis=-1))
        out["test error"].append(np.zeros(3))
        out["tolerance"].append(interpolation_tolerance(f, theta))
    sweep = {k: np.array(v) for k, v in out.items()}
    evidence.parameters(p=teacher.p, sigma=teacher.sigma, teacher_seed=teacher.seed, n=n)
    check_double_descent(evidence, sweep, n, grid, "synthetic", sweet_spot=False)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("a peak 20% off N = n (window [0.8 n, 1.25 n])")


@pytest.mark.claim("dd.belkin-rff", uses=["min_norm_least_squares", "random_fourier_features"])
@pytest.mark.slow
@pytest.mark.no_near_miss("the predicates and thresholds of test_belkin_rff_digits (check_double_descent), whose "
                          "near-miss control sets their resolution; this check widens the data, not the criteria")
def test_belkin_rff_ten_classes(evidence, algorithm):
    """All 10 digit classes, n = 500, one-hot targets (multi-output least squares:
    the outputs decouple, the threshold stays at N = n). Catalogue R2: test MSE
    0.252 at N = 200, 166.6 at N = n, 0.107 at N = 10^4. False alarm: 0 failures in 5 seed
    shifts (--gbu-seed 1..5); the peak is 100-1000x the tails: stated 1e-2."""
    fit, rff = algorithm("min_norm_least_squares"), algorithm("random_fourier_features")
    grid = (50, 100, 200, 300, 400, 450, 500, 550, 600, 1000, 2000, 5000)
    sweep, n = digits_sweep(fit, rff, classes=tuple(range(10)), n=500, grid=grid, seeds=3)
    evidence.parameters(data="digits, 10 classes", n=n, grid=grid, seeds=3)
    check_double_descent(evidence, sweep, n, grid, "digits 10 classes")
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("a peak 20% off N = n (window [0.8 n, 1.25 n])")
    evidence.figure("double-descent-10-classes", lambda fig: draw_sweep(
        fig, grid, {"RFF, min-norm": sweep}, n, "digits, 10 classes, n = 500, one-hot"),
        "Test MSE and coefficient norm vs N, 10-class digits; dashed: N = n.")


# --------------------------------------------------------- dd.belkin-other-models
@pytest.mark.claim("dd.belkin-other-models", uses=["min_norm_least_squares", "random_relu_features"])
def test_belkin_relu_features(evidence, algorithm, duplicate_fraction=0.0):
    """Random ReLU features relu(V^T x)/sqrt(N) (a two-layer ReLU net with a frozen
    first layer), min-norm fit, digits 3-vs-7 (inputs centred), 3 feature draws: the same
    double-descent criteria. False alarm: over 80 seed shifts every predicate held: <= 0.04
    (rule of three, 95%). Power: a training set of rank 0.75 n moves the peak out of the
    window (near miss); tuned ridge has no peak (wrong world)."""
    fit, relu = algorithm("min_norm_least_squares"), algorithm("random_relu_features")
    sweep, n = digits_sweep(fit, relu, seeds=3, claim="dd.belkin-other-models", duplicate_fraction=duplicate_fraction)
    evidence.parameters(data="digits 3-vs-7 (centred)", n=n, grid=DIGITS_GRID, seeds=3,
                        duplicate_fraction=duplicate_fraction)
    check_double_descent(evidence, sweep, n, DIGITS_GRID, "ReLU features")
    evidence.record("false_alarm_budget", 0.04)
    evidence.resolution("a peak 20% off N = n (window [0.8 n, 1.25 n]); rejects the peak at 0.75 n")


# ---------------------------------------------------------------- dd.norm-peak-n-eq-p
NORM_PEAK_PROMINENCE = 2.0


@pytest.mark.claim("dd.norm-peak-n-eq-p", uses=["min_norm_least_squares", "random_fourier_features"])
def test_norm_peak_and_error_vs_norm(evidence, algorithm, duplicate_fraction=0.0):
    """Along the RFF sweep of dd.belkin-rff: argmax_N ||theta|| in [0.8n, 1.25n];
    on the interpolating branch (N >= n) test MSE is increasing in ||theta||
    (Spearman rho >= 0.8), i.e. against the norm the curve is 'classical'. Over the
    whole sweep rho is recorded only (the under-parameterised branch has small norms
    and large bias, so the whole-sweep claim is left open). False alarm: no failure over 80
    seed shifts: <= 0.04 (rule of three, 95%). Power: a training
    set of rank 0.75 n puts the norm peak at 0.75 n (near miss); tuned ridge keeps the norm
    small and has no peak (wrong world)."""
    fit, rff = algorithm("min_norm_least_squares"), algorithm("random_fourier_features")
    sweep, n = digits_sweep(fit, rff, duplicate_fraction=duplicate_fraction)
    evidence.record("false_alarm_budget", 0.04)
    evidence.resolution("a norm peak 20% off N = n; Spearman rho below 0.8 on the interpolating branch")
    grid = np.asarray(DIGITS_GRID)
    norm, test = np.median(sweep["coefficient norm"], 1), np.median(sweep["test MSE"], 1)
    peak_in_window(evidence, "coefficient norm", grid, norm, n)
    # A peak, not a plateau: a flat norm curve (tuned ridge: 1.02-1.05x its ends) puts its argmax in
    # the window by chance under some seeds. Min-norm's norm diverges at N = n: 10.7-74x its larger
    # end over 8 seed shifts; the bar of 2x sits 5x below that and 2x above a plateau.
    evidence.lower_bound("coefficient-norm peak / the larger end of the sweep (a peak, not a plateau)",
                         float(norm.max() / max(norm[0], norm[-1])), NORM_PEAK_PROMINENCE)
    branch = grid >= n
    rho = spearmanr(norm[branch], test[branch]).statistic
    evidence.lower_bound("Spearman rho(test MSE, norm), interpolating branch N >= n", rho, 0.8, headline=True)
    evidence.record("Spearman rho(test MSE, norm), whole sweep", float(spearmanr(norm, test).statistic))

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(norm[~branch], test[~branch], "o-", label="N < n")
        ax.loglog(norm[branch], test[branch], "s-", label="N >= n (interpolating)")
        ax.set_xlabel("coefficient norm ||theta||")
        ax.set_ylabel("test MSE")
        ax.legend(fontsize=7)
    evidence.figure("error-vs-norm", draw, "Test MSE against the coefficient norm along the RFF sweep (digits 3-vs-7).")
