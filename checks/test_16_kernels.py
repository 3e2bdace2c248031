"""Kernels vs neural networks (slides "Kernel methods vs neural networks",
"Neural tangent kernel (NTK)", "feature mapping: linear non-separable -> separable").

Implementations under test: ``random_fourier_features``, ``relu_ntk_kernel``,
``two_layer_relu_gradient_descent`` and ``empirical_ntk`` from the registry.
Oracles: a linear-programming feasibility test (scipy ``linprog``) for linear
separability, and the empirical NTK written out as an explicit sum.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from checks.support import examples
from problems.overparam.synthetic_regression import derived_seed


def linearly_separable(features: np.ndarray, labels: np.ndarray) -> bool:
    """Hard-margin feasibility: is there (w, b) with y_i (<w, phi_i> + b) >= 1 for all i?
    An LP with zero objective (HiGHS); infeasible (status 2) means not separable."""
    n, d = features.shape
    a_ub = -labels[:, None] * np.hstack([features, np.ones((n, 1))])
    res = linprog(np.zeros(d + 1), A_ub=a_ub, b_ub=-np.ones(n), bounds=[(None, None)] * (d + 1), method="highs")
    if res.status not in (0, 2):
        raise RuntimeError(f"linprog ended with status {res.status}: {res.message}")
    return res.status == 0


def concentric_circles(n_per_class: int, r_inner: float, r_outer: float, noise: float, seed: int):
    """Two rings (labels -1 inside, +1 outside) at equally spaced angles with a random
    offset and radial noise in [-noise, noise]: every inner point lies strictly inside the
    convex hull of the outer ring as long as r_inner + noise < (r_outer - noise) cos(pi/n)."""
    rng = np.random.default_rng(seed)
    pts, labels = [], []
    for radius, label in ((r_inner, -1.0), (r_outer, 1.0)):
        angle = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(n_per_class) / n_per_class
        r = radius + rng.uniform(-noise, noise, n_per_class)
        pts.append(np.stack([r * np.cos(angle), r * np.sin(angle)], 1))
        labels.append(np.full(n_per_class, label))
    return np.concatenate(pts), np.concatenate(labels)


@pytest.mark.claim("kernel.feature-map-separability", uses=["random_fourier_features"])
@pytest.mark.no_near_miss("linear separability is a yes/no LP feasibility question; the wrong world (a map with "
                          "too few features) is its control")
@settings(max_examples=examples(4))
@given(n=st.integers(20, 50), r_inner=st.floats(0.3, 1.0), gap=st.floats(0.6, 2.0), noise_frac=st.floats(0.0, 0.24),
       seed=st.integers(0, 2**16))
@example(n=30, r_inner=1.0, gap=1.0, noise_frac=0.1, seed=0)
def test_feature_map_makes_circles_separable(evidence, algorithm, n, r_inner, gap, noise_frac, seed):
    """Concentric circles are not linearly separable in R^2 (the LP is infeasible), but
    are after phi(x) = (x, ||x||^2) and after random Fourier features (N = 300 >= the
    number of points, Gaussian kernel of bandwidth r_outer)."""
    r_outer, noise = r_inner + gap, noise_frac * gap
    x, y = concentric_circles(n, r_inner, r_outer, noise, derived_seed("kernel.feature-map-separability", seed))
    evidence.parameters(n_per_class=n, r_inner=r_inner, r_outer=r_outer, noise=noise)
    evidence.holds("not linearly separable in R^2", not linearly_separable(x, y))
    evidence.holds("separable after phi(x) = (x, ||x||^2)",
                   linearly_separable(np.hstack([x, np.sum(x**2, 1, keepdims=True)]), y))
    rng = np.random.default_rng(derived_seed("kernel.feature-map-separability", "rff", seed))
    phi = algorithm("random_fourier_features")(2, 300, r_outer, rng)
    evidence.holds("separable after random Fourier features (N = 300)", linearly_separable(phi(x), y),
                   headline=True)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("exact (LP feasibility, HiGHS)")


# ---------------------------------------------------------------- kernel.ntk-limit
def explicit_empirical_ntk(x, w, v, m):
    """Theta_m(a, a') = (1/m) sum_j [relu(w_j a) relu(w_j a') + v_j^2 1(w_j a > 0) 1(w_j a' > 0) a.a']
    for f = m^-1/2 sum_j v_j relu(w_j^T a): gradients w.r.t. v_j and w_j, written out."""
    pre = np.einsum("np,smp->snm", x, w)
    act, on = np.maximum(pre, 0), (pre > 0).astype(float)
    return (act @ np.swapaxes(act, -1, -2) + ((on * v[:, None, :] ** 2) @ np.swapaxes(on, -1, -2)) * (x @ x.T)) / m


NTK_NETS = 20


@pytest.mark.claim("kernel.ntk-limit", uses=["relu_ntk_kernel"])
@settings(max_examples=examples(3))
@given(p=st.integers(2, 20), seed=st.integers(0, 2**16))
@example(p=10, seed=0)
def test_ntk_infinite_width_limit(evidence, algorithm, p, seed):
    """Jacot et al. (NeurIPS 2018): the empirical NTK of a width-m two-layer ReLU net
    (both layers trained, standard Gaussian init, 1/sqrt(m) read-out) converges to
    ||a|| ||a'|| (sin t + (pi - t) cos t)/(2 pi) + a.a' (pi - t)/(2 pi), with O(m^-1/2)
    fluctuations: the relative Frobenius error (mean over NTK_NETS = 20 nets) has log-log slope
    -0.5 +- 0.15 in m = 100..10^4 and is < 0.05 at m = 10^4. False alarms: over 60 (p, seed)
    pairs, p in {2, 3, 5, 10, 20}, the slope's SD per p was at most 0.037 (p = 2, 3; mean -0.500),
    so +-0.15 is >= 4 SD (two-sided 6e-5 per example, normal approx.). With 5 nets the SD at
    p = 2 was 0.06 (2.5 SD: ~1 %; one of 7 fresh runs failed at slope -0.34). The error at
    m = 10^4 is below 0.05 by far more: budget 1e-4 per example, 4e-4 over the 4 examples. Power: a limit kernel 5% off (its
    arc-cosine read-out term 10% high) leaves an error floor that flattens the slope and is
    rejected (near-miss control); the kernel of training the read-out only (a different limit)
    is rejected (wrong world)."""
    ntk = algorithm("relu_ntk_kernel")
    rng = np.random.default_rng(derived_seed("kernel.ntk-limit", p, seed))
    x = rng.standard_normal((10, p))
    limit = ntk(x, x)
    ms, errs = np.array([100, 1000, 10000]), []
    for m in ms:
        w, v = rng.standard_normal((NTK_NETS, m, p)), rng.standard_normal((NTK_NETS, m))
        theta = explicit_empirical_ntk(x, w, v, m)
        errs.append(np.mean(np.linalg.norm(theta - limit, axis=(-2, -1)) / np.linalg.norm(limit)))
    slope = float(np.polyfit(np.log(ms), np.log(errs), 1)[0])
    evidence.parameters(p=p, seed=seed)
    evidence.record("relative Frobenius error at m = 100, 1000, 10000", np.array(errs))
    evidence.tight("slope of log error vs log m", slope, -0.5, abs=0.15)
    evidence.upper_bound("relative error at m = 10^4", errs[-1], 0.05, headline=True)
    evidence.record("false_alarm_budget", 4e-4)
    evidence.resolution("slope within 0.15 of -1/2 (about 4 SD); rejects a limit kernel 5% off")


# --------------------------------------------------- kernel.ntk-constancy-lazy-vs-mf
WIDTHS = (100, 400, 1600, 3200)


def _train(algorithm, x, y, m, scale, c, rng):
    gd, ntk = algorithm("two_layer_relu_gradient_descent"), algorithm("empirical_ntk")
    w0, v0 = rng.standard_normal((m, x.shape[1])), rng.standard_normal(m)
    k0 = ntk(x, w0, v0, scale)
    loss0 = 0.5 * np.sum((scale * np.maximum(x @ w0.T, 0) @ v0 - y) ** 2)
    lazy = c == 1.0
    w, v, losses = gd(x, y, w0, v0, scale, c / np.linalg.eigvalsh(k0)[-1], 4000,
                      tol=1e-3 * loss0 if lazy else 1e-2 * len(y) / 2)
    k1 = ntk(x, w, v, scale)
    return np.linalg.norm(k1 - k0) / np.linalg.norm(k0), losses


@pytest.mark.claim("kernel.ntk-constancy-lazy-vs-mf", uses=["empirical_ntk", "two_layer_relu_gradient_descent"])
@settings(max_examples=examples(2))
@given(seed=st.integers(0, 2**16))
@example(seed=0)
def test_ntk_constant_when_lazy_not_in_mean_field(evidence, algorithm, seed):
    """n = 20 points on S^9, +-1 labels, two-layer ReLU net trained by full-batch GD with
    lr = c / lambda_max(Theta_0) until the loss is 1e-3 L_0 (NTK parametrisation s = m^-1/2,
    c = 1) or 1e-2 n/2 (mean field s = 1/m, c = 1/2): the relative change of the empirical
    NTK, ||Theta_T - Theta_0||_F / ||Theta_0||_F, decays with slope <= -0.35 in m (lazy: a
    fixed kernel) but stays >= 0.1 with |slope| <= 0.15 in mean field (features learned).
    False alarms: the seeds fix the data and the initialisations; the measured slopes (-0.98
    and ~0) sit 0.6 and 0.15 inside their thresholds, and a fresh seed (the second example)
    moved them by < 0.1 in our runs: budget not derived (one seed per example), stated as
    <= 1e-2 from the margins. Power: with the lazy run's output scale m^-0.85 (between the
    two parametrisations) the lazy slope (~ -0.2) is rejected (near miss); both runs in mean
    field are rejected (wrong world)."""
    rng = np.random.default_rng(derived_seed("kernel.ntk-constancy-lazy-vs-mf", seed))
    x = rng.standard_normal((20, 10))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.sign(rng.standard_normal(20))
    change = {"NTK (s = m^-1/2)": [], "mean field (s = 1/m)": []}
    reached = {k: [] for k in change}
    for m in WIDTHS:
        for label, scale, c in (("NTK (s = m^-1/2)", m**-0.5, 1.0), ("mean field (s = 1/m)", 1.0 / m, 0.5)):
            rel, losses = _train(algorithm, x, y, m, scale, c, rng)
            reached[label].append((losses[-1], 1e-3 * losses[0] if c == 1.0 else 1e-2 * 10))
            change[label].append(rel)
    slopes = {k: float(np.polyfit(np.log(WIDTHS), np.log(v), 1)[0]) for k, v in change.items()}
    evidence.record("relative NTK change by width", {k: np.array(v) for k, v in change.items()}, widths=WIDTHS)
    evidence.upper_bound("NTK parametrisation: slope of log change vs log m", slopes["NTK (s = m^-1/2)"], -0.35,
                         headline=True)
    evidence.lower_bound("mean field: relative change >= 0.1 at every width", change["mean field (s = 1/m)"], 0.1)
    evidence.upper_bound("mean field: |slope| <= 0.15", abs(slopes["mean field (s = 1/m)"]), 0.15)
    for label, pairs in reached.items():  # last: the kernels above are those of fitted networks
        evidence.upper_bound(f"{label}: training reached its target loss", [a for a, _ in pairs],
                             [b for _, b in pairs])
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("rejects the lazy run at output scale m^-0.85 (slope -0.22 > -0.35)")
