"""Slide 45, "Theorem (Linear convergence of GD [22])": Du, Zhai, Póczos, Singh, ICLR 2019.

Model f(W, a, x) = (1/√m) Σ_r a_r σ(w_rᵀx): the registry's ``relu_network`` with weights
[W (m, d), a (1, m)] and α = √m; w_r ~ N(0, I), a_r ~ Unif{−1, +1} fixed; only W is
trained, by the registry's full-batch GD on ½‖u − y‖² with η = 1/λ_max(H(0)), H(0) the
Gram of the W-gradients (the registry's ``ntk_gram``). Oracle: λ₀ = λ_min(H^∞), H^∞ in
closed form (problems.overparam.network_oracles.du_gram_infinity).

Thm 4.1: ‖u(k) − y‖² ≤ (1 − ηλ₀/2)^k ‖u(0) − y‖² for all k, w.h.p., once m is large; and
max_r ‖w_r(k) − w_r(0)‖ ≤ R′ = 4√n‖y − u(0)‖/(√m λ₀) (its proof). Rounding allowance on the
rate: 1e-6 relative (float64 over ≤ 2000 steps of n-term sums).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.support import examples
from problems.overparam.network_oracles import (derived_seed, digits, du_drift_radius, du_gram_infinity, du_lambda0,
                                      sphere_points)

K_CAP = 600
ROUNDING = 1e-6
PINNED = (12, 5, 0)  # n, d, seed: 12 points on S^4, ±1 labels (R9 used 20; fewer steps for the fast tier)
#: A width at which H(0) is far from H^inf and the bound fails (R9 saw it at m = 100). Over 20 seed shifts the
#: bound failed at m = 3 in 20, at m = 5 in 19 and at m = 10 in only 10: m = 10 made a coin-flip contrast.
NARROW = 3


def _instance(n, d, seed, labels="sign"):
    X = sphere_points(n, d, derived_seed("opt.du", n, d, seed))
    rng = np.random.default_rng(derived_seed("opt.du", "labels", n, d, seed))
    y = np.sign(rng.standard_normal(n)) if labels == "sign" else np.sin(3 * X @ rng.standard_normal(d))
    return X, y


def _du_init(m, d, batch, seed, device, alpha_exponent=0.5):
    """Du et al.'s initialisation; the output scale α = m^{alpha_exponent} (theirs: ½, mean field: 1)."""
    g = torch.Generator().manual_seed(derived_seed("opt.du", "init", m, d, seed))
    W = torch.randn((batch, m, d), generator=g, dtype=torch.float64)
    a = (torch.randint(0, 2, (batch, 1, m), generator=g) * 2 - 1).to(torch.float64)
    return [W.to(device), a.to(device)], torch.full((batch,), float(m) ** alpha_exponent, dtype=torch.float64,
                                                    device=device)


def run_du(algorithm, X, y, m, *, batch=2, seed=0, device="cpu", steps=None, lam0=None, alpha_exponent=0.5):
    """GD on W from Du et al.'s initialisation. Returns residuals r_k = ‖u(k) − y‖² (K+1, B),
    η (B,), K, the drift max_r‖w_r(k) − w_r(0)‖ and its mean over the neurons (each the largest over k), and
    flip fractions at the last step."""
    net, gd = algorithm("relu_network"), algorithm("full_batch_gradient_descent")
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)
    weights, alpha = _du_init(m, X.shape[1], batch, seed, device, alpha_exponent)
    H0 = algorithm("ntk_gram")(weights, alpha, Xt, trainable=[True, False], forward=net)
    eta = 1.0 / torch.linalg.eigvalsh(H0)[:, -1]
    lam0 = du_lambda0(X) if lam0 is None else lam0
    K = steps or min(K_CAP, math.ceil(10 / (float(eta.max()) * max(lam0, 1e-12))))
    W0 = weights[0].clone()
    drift = algorithm("neuron_drift")

    def per_neuron(W):  # neuron_drift of one-row layers: each neuron's own drift, (B, m)
        return drift(W.reshape(-1, 1, W.shape[-1]), W0.reshape(-1, 1, W.shape[-1])).reshape(W.shape[:-1])

    res = gd(weights, alpha, Xt, yt, eta, K, trainable=[True, False], keep_snapshots=False, forward=net,
             monitor=lambda ws, out: {"drift": drift(ws[0], W0), "mean_drift": per_neuron(ws[0]).mean(-1)})
    W_K = res["weights"][0]
    return {"r": (2 * res["loss"]).cpu().numpy(), "eta": eta.cpu().numpy(), "K": K, "lam0": lam0,
            "drift": res["monitor"]["drift"].max(0).values.cpu().numpy(),
            "mean_drift": res["monitor"]["mean_drift"].max(0).values.cpu().numpy(),
            "flips": algorithm("activation_flip_fraction")(W_K, W0, Xt).cpu().numpy()}


def _rate_ratio(run, constant=0.5):
    """r_k / ((1 - c eta lambda0)^k r_0) with Du et al.'s c = 1/2, and that bound."""
    k = np.arange(run["r"].shape[0])[:, None]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # a diverging run is judged, not a crash
        bound = (1 - constant * run["eta"][None, :] * run["lam0"]) ** k * run["r"][0]
        # saturate at 1e100 (still a violation): reports.evidence divides by the tolerance and a finite
        # 1e300 would overflow there
        return np.minimum(np.nan_to_num(run["r"] / bound, nan=np.inf, posinf=1e100), 1e100), bound


@lru_cache(maxsize=16)
def _pinned_run(gd, net, ntk, drift, flips, m, device, alpha_exponent=0.5):
    algorithm = {"full_batch_gradient_descent": gd, "relu_network": net, "ntk_gram": ntk, "neuron_drift": drift,
                 "activation_flip_fraction": flips}.__getitem__
    X, y = _instance(*PINNED)
    return run_du(algorithm, X, y, m, device=device, alpha_exponent=alpha_exponent)


def pinned(algorithm, m, device, alpha_exponent=0.5):
    return _pinned_run(*(algorithm(n) for n in ("full_batch_gradient_descent", "relu_network", "ntk_gram",
                                                 "neuron_drift", "activation_flip_fraction")), m, device,
                       alpha_exponent)


def _draw_rate(fig, runs):
    ax = fig.add_subplot(111)
    for label, run in runs.items():
        ratio, bound = _rate_ratio(run)
        ax.semilogy(run["r"][:, 0], lw=1, label=f"{label}: ||u(k) - y||^2")
        ax.semilogy(bound[:, 0], "--", lw=0.8, label=f"{label}: (1 - eta lam0/2)^k r0")
    ax.set_xlabel("GD step k")
    ax.legend(fontsize=6)


# ---------------------------------------------------------------- the rate, large width
@pytest.mark.claim("opt.du-linear-convergence", uses=["activation_flip_fraction", "full_batch_gradient_descent",
                                                      "neuron_drift", "ntk_gram", "relu_network"])
def test_du_geometric_rate(evidence, algorithm, device, width=2000, rate_constant=0.5):
    """At width m = 2000 (pinned instance, 2 seeds) the squared residual never exceeds
    (1 − ηλ₀/2)^k ‖u(0) − y‖², for k ≤ K = min(600, ⌈10/(ηλ₀)⌉) (the bound falls by e^{−5}); at
    m = 3 the same bound is violated (the width condition is not vacuous; at m = 10 it held in
    half of 20 seed shifts, so m = 3, violated in all 20, is the contrast). False alarm: the
    theorem's "w.p. ≥ 1 − δ" over the initialisation; the 2 seeds satisfy the bound with the
    measured ratio ≤ 1 everywhere (its slack is the factor-4 gap between ηλ₀/2 and the kernel
    regime's 2ηλ₀): 0 of 10 seed shifts failed it: stated ≤ 1e-2. Power: width 3 (the wrong
    world: H(0) far from H^∞) violates it. Resolution: near H^∞ the squared residual decays at
    (1 − ηλ₀)^{2k} ≈ (1 − 2ηλ₀)^k along the slowest direction, so the claimed c = ½ holds with a
    factor-4 slack and no bound check can reject a constant below 2. A constant c > 2 is exposed by
    the factor p e^{(c − 2)·10} at k = K, p the slowest direction's share of the initial residual:
    over 42 instance shifts c = 2.5 held on 7 (p < e^{-5}), c = 3 failed on all 42 (smallest factor
    2.4), c = 3.5 (the near-miss control) on all 42 by a factor ≥ 720 (a miss needs p < e^{-14}).
    A longer horizon (30/(ηλ₀)) was tried and not taken: on 1 of 40 shifts the claimed c = ½ then
    failed at m = 2000 after k ≈ 700 (late decay 0.3 ηλ₀: H(t) moves at a width far below the
    theorem's), a finding of the catalogue entry, not of this check's horizon."""
    wide, narrow = pinned(algorithm, width, device), pinned(algorithm, NARROW, device)
    ratio, _ = _rate_ratio(wide, rate_constant)
    evidence.parameters(n=PINNED[0], d=PINNED[1], m=width, eta=wide["eta"], lam0=wide["lam0"], K=wide["K"],
                        rate_constant=rate_constant)
    evidence.upper_bound(f"||u(k)-y||^2 / ((1 - {rate_constant:g} eta lam0)^k ||u(0)-y||^2), m = {width}",
                         ratio.max(0), 1.0, rel=ROUNDING, headline=True)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("rounding 1e-6 on the bound; rejects the rate constant 3.5 (1.75x the asymptotic 2 eta lambda0)")
    narrow_ratio, _ = _rate_ratio(narrow)
    evidence.record(f"max ratio at m = {NARROW}", narrow_ratio.max(0))
    evidence.lower_bound(f"the bound fails at m = {NARROW} for some k (beyond rounding)", narrow_ratio.max(),
                         1 + 100 * ROUNDING)
    evidence.figure("rate", lambda fig: _draw_rate(fig, {"m=2000": wide, f"m={NARROW}": narrow}),
                    "Squared training residual vs the Du et al. bound (1 − ηλ₀/2)^k r₀.")


@pytest.mark.slow
@pytest.mark.claim("opt.du-linear-convergence", uses=["activation_flip_fraction", "full_batch_gradient_descent",
                                                      "neuron_drift", "ntk_gram", "relu_network"])
@pytest.mark.no_near_miss("the predicate of test_du_geometric_rate (its near-miss control, the rate constant 1.5, "
                          "sets the resolution) on hypothesis-drawn instances")
@settings(max_examples=examples(8))
@given(n=st.integers(5, 20), d=st.integers(4, 10), seed=st.integers(0, 2**16),
       labels=st.sampled_from(["sign", "sin"]))
@example(n=20, d=5, seed=0, labels="sign")
def test_du_geometric_rate_random_instances(evidence, algorithm, device, n, d, seed, labels):
    """The same bound on hypothesis-drawn instances (n ≤ 20 points on S^{d−1}, d ≥ 4, ±1 or
    sin labels) at m = 2000, 2 seeds. False alarm: the theorem's δ over the initialisation
    (the factor-2 slack of the pinned instance), not derived: stated ≤ 1e-2 over the 9
    examples."""
    X, y = _instance(n, d, seed, labels)
    run = run_du(algorithm, X, y, 2000, device=device)
    evidence.parameters(n=n, d=d, labels=labels, lam0=run["lam0"], K=run["K"])
    evidence.record("false_alarm_budget", 1e-2)
    evidence.upper_bound("||u(k)-y||^2 / ((1 - eta lam0/2)^k ||u(0)-y||^2)", _rate_ratio(run)[0].max(0), 1.0,
                         rel=ROUNDING, headline=True)


@pytest.mark.claim("opt.du-linear-convergence", uses=["activation_flip_fraction", "full_batch_gradient_descent",
                                                      "neuron_drift", "ntk_gram", "relu_network"])
@pytest.mark.no_near_miss("no instance of the theorem's class comes near the printed rate: (1 - eta)^k would need "
                          "lambda0 >= 2, and unit-norm inputs have lambda0 <= H_ii = 1/2")
def test_du_rate_as_printed(evidence, algorithm, device, rate="printed"):
    """As printed: "the empirical risk converges to zero with a geometric rate of (1 − η)". With
    the step used here (η = 1/λ_max(H(0)) ≈ 0.5, within the theorem's O(·) up to constants) the
    squared residual exceeds (1 − η)^k r₀ by orders of magnitude: the rate is (1 − ηλ₀/2) (Du et al.,
    Thm 4.1), verified by test_du_geometric_rate. ``rate="du"`` compares with that rate instead, a
    world where the printed statement holds (the check then fails)."""
    run = pinned(algorithm, 2000, device)
    k = np.arange(run["r"].shape[0])[:, None]
    factor = 1.0 if rate == "printed" else run["lam0"] / 2
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        printed = (1 - factor * run["eta"][None, :]) ** k * run["r"][0]
        excess = np.nan_to_num(run["r"] / printed, nan=0.0).max(0)
    evidence.parameters(eta=run["eta"], lam0=run["lam0"], rate=rate)
    evidence.record("max_k r_k / ((1 - eta)^k r_0)", excess)
    evidence.lower_bound("the printed rate (1 - eta)^k is violated", excess.min(), 10.0, headline=True)
    evidence.corrects(f"with eta = {run['eta'][0]:.3f} the residual exceeds (1 - eta)^k r0 by up to "
                      f"{excess.max():.1e}x; Du et al.'s rate is (1 - eta lambda0/2), lambda0 = {run['lam0']:.4f}. "
                      "The printed init X2 ~ Unif[-1,1] should read Unif{-1,+1}.",
                      counterexample=(f"12 points on S^4, width 2000, eta = {run['eta'][0]:.3f}: "
                                      f"||u(k) - y||^2 exceeds (1 - eta)^k ||u(0) - y||^2 by up to {excess.max():.1e}x "
                                      f"(lambda0 = {run['lam0']:.4f})"))


# ----------------------------------------------------------- duplicate / collinear inputs
@pytest.mark.claim("opt.du-linear-convergence", uses=["activation_flip_fraction", "full_batch_gradient_descent",
                                                      "neuron_drift", "ntk_gram", "relu_network"])
def test_du_degenerate_inputs_stall(evidence, algorithm, device, offset=0.0):
    """Where λ₀ = 0 the theorem says nothing and GD must stall at the unavoidable floor:
    (i) a duplicated input with labels ±1: f(x_i) = f(x_j) forces Σ res² ≥ (y_i − y_j)²/2 = 2;
    (ii) x_j = c x_i (c = 2) with y_j ≠ c y_i: f is positively homogeneous, so
    f(x_j) = c f(x_i) and Σ res² ≥ (c y_i − y_j)²/(1 + c²). Width 500: the residual reaches the
    floor within 1e-3 and never goes below it. The other directions converge at Du et al.'s rate with
    λ₊, the smallest non-zero eigenvalue of H^∞, so K = ⌈ln(10⁴ · 2n / floor)/(ηλ₊/2)⌉ steps
    (η = 1/λ_max(H^∞), r₀ ≤ 2n) would leave a transient below 1e-4 × floor; on draws with a small
    λ₊ the decay is slower (activation patterns near the twin inputs move), so 4K steps are run
    (measured over 10 seed shifts: K left up to 1.2e-2 above the floor, 4K 9e-8). 300 fixed steps
    missed the band (1.806 vs 1.8). Deterministic given the draw.
    Power: ``offset`` moves the repeated input off x_i (then renormalised): at 1e-3 λ₀ = 1.4e-4
    is no longer 0 (near miss), at 0.5 the inputs are distinct (λ₀ = 0.08) and the floor is no
    floor (wrong world)."""
    X, y = _instance(12, 5, 1)
    twin = X[0] + offset * np.roll(X[0], 1)  # a direction not parallel to x_i (generic points)
    twin = twin / np.linalg.norm(twin)
    cases = {}
    Xd, yd = np.vstack([X, twin]), np.append(y, -y[0])
    cases["duplicate"] = (Xd, yd, (yd[0] - yd[-1]) ** 2 / 2)
    Xc, yc = np.vstack([X, 2 * twin]), np.append(y, -y[0])
    cases["collinear"] = (Xc, yc, (2 * yc[0] - yc[-1]) ** 2 / 5)
    for name, (Xs, ys, floor) in cases.items():
        lam0 = float(np.linalg.eigvalsh(du_gram_infinity(Xs))[0])
        evidence.upper_bound(f"{name}: lambda0 = 0 (H^inf singular)", abs(lam0), 1e-12)
        spectrum = np.linalg.eigvalsh(du_gram_infinity(Xs))
        lam_plus = float(spectrum[spectrum > 1e-9 * spectrum[-1]][0])
        # 4 x the lambda_+ estimate: on draws with a small lambda_+ the transient decays slower than
        # that rate (over 10 seed shifts, K steps left the residual up to 1.2e-2 above the floor,
        # 2K up to 2.2e-4, 4K up to 9e-8)
        steps = min(10000, 4 * math.ceil(math.log(1e4 * 2 * len(ys) / floor) / (lam_plus / spectrum[-1] / 2)))
        evidence.record(f"{name}: lambda_+ and steps", lam_plus, steps=steps)
        run = run_du(algorithm, Xs, ys, 500, device=device, steps=steps, lam0=lam0)
        evidence.lower_bound(f"{name}: residual never below the floor", run["r"].min(0), floor, rel=1e-12)
        evidence.tight(f"{name}: residual stalls at the floor {floor:.3f}", run["r"][-1], floor, rel=1e-3,
                       headline=name == "duplicate")
    evidence.parameters(offset=offset)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("lambda0 above 1e-12: rejects a twin input 1e-3 away")


# -------------------------------------------------------------- opt.du-stays-near-init
DRIFT_WIDTHS = (250, 1000, 4000)


@pytest.mark.claim("opt.du-stays-near-init", uses=["activation_flip_fraction", "full_batch_gradient_descent",
                                                   "neuron_drift", "ntk_gram", "relu_network"])
@pytest.mark.no_near_miss("a slope decision with the window 1/4 around -1/2: it separates Du et al.'s alpha = m^1/2 "
                          "(mean drift -0.53 +- 0.04 over 82 instances) from mean field (alpha = m: -0.13..+0.02); "
                          "alpha = m^0.8 is not resolved (-0.43 on the max); the mean-field wrong world is its control")
def test_du_weights_stay_near_init(evidence, algorithm, device, alpha_exponent=0.5):
    """max_r ‖w_r(k) − w_r(0)‖ ≤ R′ = 4√n‖y − u(0)‖/(√m λ₀), and the drift shrinks like m^{−1/2}: the
    slope of log(mean over neurons of ‖w_r(k) − w_r(0)‖) vs log m is within ¼ of −½; the fraction
    of (input, neuron) activation flips decreases with m. Pinned instance, widths 250, 1000,
    4000, 2 seeds. The slope is decided on the mean neuron, not the max: in the kernel limit
    √m (w_r(k) − w_r(0)) has one law for every m, but the max over m neurons also grows with m
    as rarer activation regions get a neuron (an extreme-value effect, instance-dependent): the
    max's slope ranged −0.60..−0.35 over 39 instance shifts and was −0.24 under one fresh seed
    (outside the window); over 82 shifts the mean's ranged −0.65..−0.45 (mean −0.53, sd 0.043) and
    the flip fraction always decreased. False alarm: the window's nearer edge is 5 sd from the mean;
    0 of 82: stated ≤ 1e-3. Power: the mean-field output scale α = m (mean-drift slope −0.13..+0.02
    over 6 shifts) is rejected (wrong world); intermediate scales are not resolved at these widths."""
    runs = [pinned(algorithm, m, device, alpha_exponent) for m in DRIFT_WIDTHS]
    n = PINNED[0]
    drift = np.array([r["drift"].mean() for r in runs])
    mean_drift = np.array([r["mean_drift"].mean() for r in runs])
    flips = np.array([r["flips"].mean() for r in runs])
    radius = np.array([[du_drift_radius(n, m, math.sqrt(r0), r["lam0"]) for r0 in r["r"][0]]
                       for m, r in zip(DRIFT_WIDTHS, runs)])
    slope = float(np.polyfit(np.log(DRIFT_WIDTHS), np.log(mean_drift), 1)[0])
    evidence.parameters(widths=DRIFT_WIDTHS, n=n, alpha_exponent=alpha_exponent)
    evidence.record("max-neuron drift per width", drift)
    evidence.record("slope of log max-neuron drift vs log m (extreme-value biased; not decided)",
                    float(np.polyfit(np.log(DRIFT_WIDTHS), np.log(drift), 1)[0]))
    evidence.record("mean-neuron drift per width", mean_drift)
    evidence.record("activation-flip fraction per width", flips)
    evidence.tight("slope of log mean drift vs log m = -1/2", slope, -0.5, abs=0.25, headline=True)
    evidence.upper_bound("drift <= R' (Du et al.)", np.array([r["drift"] for r in runs]), radius)
    evidence.monotone("flip fraction decreases with width", flips, abs=0.0)
    evidence.record("false_alarm_budget", 1e-3)
    evidence.resolution("a drift slope 1/4 off -1/2: separates alpha = m^1/2 from mean field, not intermediate scales")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(DRIFT_WIDTHS, drift, "o-", label="max_r ||w_r(K) - w_r(0)||")
        ax.loglog(DRIFT_WIDTHS, mean_drift, "^-", label=f"mean_r ||w_r(K) - w_r(0)|| (slope {slope:.2f})")
        ax.loglog(DRIFT_WIDTHS, flips, "s-", label="activation-flip fraction")
        ax.set_xlabel("width m")
        ax.legend(fontsize=7)

    evidence.figure("drift", draw, "Weights stay near initialisation as width grows (Du et al.).")


# ------------------------------------------------------------ opt.random-labels-slower
LABEL_WIDTHS = (500, 2000, 8000)
LABEL_STEPS = 150


def _digits_3_vs_7(n=80, dims=16, second_labels="permuted"):
    """Digits 3-vs-7, centred, projected on the top ``dims`` principal directions, rows normalised
    (Du et al.'s unit-norm inputs); labels ±1 by class and a permutation of them (balanced), or
    (``second_labels="H^inf eigenvector"``) H^inf's top eigenvector itself, scaled to norm sqrt(n):
    a labelling whose kernel energy is lambda_max, the largest any labelling has (Rayleigh), so it
    fits fastest of all (a wrong world for 'random labels fit slower'). Its signs alone were not
    enough: energy 7.4 against the true labels' 7.2, and under a fresh seed below them."""
    X_all, y_all = digits()
    idx = np.flatnonzero((y_all == 3) | (y_all == 7))
    idx = np.random.default_rng(derived_seed("opt.random-labels-slower")).permutation(idx)[:n]
    Xc = X_all[idx] - X_all[idx].mean(0)
    Xp = Xc @ np.linalg.svd(Xc, full_matrices=False)[2][:dims].T
    y_true = np.where(y_all[idx] == 3, 1.0, -1.0)
    y_rand = np.random.default_rng(derived_seed("opt.random-labels-slower", "perm")).permutation(y_true)
    X = Xp / np.linalg.norm(Xp, axis=1, keepdims=True)
    if second_labels == "H^inf eigenvector":
        top = np.linalg.eigh(du_gram_infinity(X))[1][:, -1]
        y_rand = np.sqrt(n) * top * np.sign(top.sum())
    elif second_labels != "permuted":
        raise ValueError(f"second_labels {second_labels!r}: 'permuted' or 'H^inf eigenvector'")
    return X, np.stack([y_true, y_rand])


@pytest.mark.slow
@pytest.mark.claim("opt.random-labels-slower", uses=["full_batch_gradient_descent", "ntk_gram", "relu_network"])
@pytest.mark.no_near_miss("orderings (kernel energy, area under the residual curve) and a trend sign; the wrong "
                          "world (a second labelling on a top eigenvector of H^inf) reverses them")
def test_random_labels_fit_slower(evidence, algorithm, device, second_labels="permuted"):
    """Kernel regime (Arora, Du, Hu, Li, Wang, ICML 2019): ‖u(k) − y‖² ≈ Σ_i (1 − ηλ_i)^{2k}
    (v_iᵀ(u(0) − y))², (λ_i, v_i) the eigenpairs of H^∞; random labels put their mass on small
    λ_i and fit slower. Digits 3-vs-7 (80 points, 16 principal components, unit rows), true and
    permuted labels, widths 500…8000, 150 GD steps. Pass: the kernel energy Σλ_i(v_iᵀy)²/‖y‖²
    is lower for random labels (oracle); the area under the measured residual curve is larger
    for random labels at every width; the kernel prediction's relative error (mean over k) on
    the random labels shrinks with width (slope ≤ −¼; the O(m^{−1/2}) kernel fluctuation
    predicts −½). That error is still O(1) at these widths (max over k ≈ 7 → 1.5 from m = 1000
    to 16000 in our runs): the catalogue's "tight, rel 0.1 at m = 8000" does not hold at
    CPU-sized widths. False alarm: one labelling and one initialisation per width; the orderings
    hold by factors 3-18 (energy 0.39 vs 7.2, area 21-27 vs 2.4-2.8): not derived, stated
    ≤ 1e-2. Power: a second labelling along H^∞'s top eigenvector (it loads the largest
    eigenvalue) reverses the orderings (wrong world)."""
    X, Y = _digits_3_vs_7(second_labels=second_labels)
    lam, V = np.linalg.eigh(du_gram_infinity(X))
    energy = (lam[None] * (Y @ V) ** 2).sum(-1) / (Y**2).sum(-1)
    evidence.record("kernel energy of the labels (true, random)", energy)
    evidence.upper_bound("random labels load small eigenvalues: lower kernel energy", energy[1], energy[0])
    net, gd = algorithm("relu_network"), algorithm("full_batch_gradient_descent")
    Xt = torch.tensor(X, device=device)
    errors, aucs, curves = [], [], {}
    for m in LABEL_WIDTHS:
        weights, alpha = _du_init(m, X.shape[1], 1, 0, device)
        weights, alpha = [torch.cat([w, w]) for w in weights], torch.cat([alpha, alpha])
        H0 = algorithm("ntk_gram")(weights, alpha, Xt, trainable=[True, False], forward=net)
        eta = 1.0 / torch.linalg.eigvalsh(H0)[:, -1]
        res = gd(weights, alpha, Xt, torch.tensor(Y, device=device), eta, LABEL_STEPS, trainable=[True, False],
                 keep_snapshots=False, forward=net, monitor=lambda ws, out: {"u": out})
        u = res["monitor"]["u"].cpu().numpy()
        measured = ((u - Y[None]) ** 2).sum(-1)
        k = np.arange(u.shape[0])[:, None, None]
        proj = (u[0] - Y) @ V
        predicted = ((1 - eta.cpu().numpy()[None, :, None] * lam[None, None, :]) ** (2 * k) * proj[None] ** 2).sum(-1)
        errors.append((np.abs(measured - predicted) / predicted).mean(0))  # mean over k: the max is one step's noise
        aucs.append(measured.sum(0) / measured[0])
        curves[m] = (measured, predicted)
    errors, aucs = np.array(errors), np.array(aucs)
    slopes = [float(np.polyfit(np.log(LABEL_WIDTHS), np.log(errors[:, j]), 1)[0]) for j in range(2)]
    evidence.parameters(n=len(X), dims=X.shape[1], widths=LABEL_WIDTHS, steps=LABEL_STEPS)
    evidence.record("mean relative error of the kernel prediction over k, per width (true, random)", errors)
    evidence.record("area under the relative residual curve per width (true, random)", aucs)
    evidence.lower_bound("random labels: larger area under the residual curve", aucs[:, 1], aucs[:, 0],
                         headline=True)
    evidence.record("slopes of log prediction error vs log m (true, random)", slopes)
    # true labels are predicted within ~10% already at m = 500 and their error's width trend drowns in the
    # one-seed fluctuation; the random labels' error (O(1) at small m) carries the m^{-1/2} trend
    evidence.upper_bound("random labels: kernel-prediction error shrinks with width (slope <= -1/4)", slopes[1],
                         -0.25)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("orderings by any margin; error slope above -1/4")

    def draw(fig):
        ax = fig.add_subplot(111)
        measured, predicted = curves[LABEL_WIDTHS[-1]]
        for j, name in enumerate(("true labels", "random labels")):
            ax.semilogy(measured[:, j], label=f"{name}: GD, m={LABEL_WIDTHS[-1]}")
            ax.semilogy(predicted[:, j], "--", label=f"{name}: H^inf prediction")
        ax.set_xlabel("GD step k")
        ax.set_ylabel("||u(k) - y||^2")
        ax.legend(fontsize=7)

    evidence.figure("random-labels", draw, "Random labels load small eigenvalues of H^∞ and fit slower.")
