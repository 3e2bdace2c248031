"""Generalisation theory (slides "Generalization guarantees", "Rademacher
complexity", "Why uniform convergence fails", "one-sided uniform convergence",
Koehler et al.'s bound).

Implementations under test: ``hoeffding_union_bound``, ``empirical_rademacher``,
``rademacher_exact_enumeration``, ``one_sided_uniform_convergence``,
``min_norm_least_squares``, ``laplace_kernel``, ``kernel_ridge_regression``.
Oracles: exact risks (finite classes on bins, Gaussian designs), exact
enumeration of sign vectors, Hoeffding and binomial tail bounds, the
More-Sorensen optimality certificate of the trust-region problem.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import pdist
from scipy.stats import binom

from algorithms.complexity import finite_class_sup, linear_class_sup
from checks.support import examples
from problems.overparam.datasets import digits_split, one_hot
from problems.overparam.synthetic_regression import GaussianLinear, derived_seed

ALPHA = 1e-6  # per-predicate false-alarm level of the Hoeffding / binomial bounds below
BINS = 1000


# -------------------------------------------------- finite classes on 1000 bins
def random_classifier_problem(num_classifiers: int, eta: float, seed: int):
    """K independent random +-1 labellings of 1000 equal bins of [0, 1]; x ~ U[0, 1],
    y = sign(0.3 - x) flipped with probability eta. Returns (H (K, BINS), cell
    probabilities (BINS, 2) for (y = +1, y = -1), exact risks R(h) (K,))."""
    rng = np.random.default_rng(seed)
    h = rng.choice(np.array([-1.0, 1.0]), size=(num_classifiers, BINS))
    clean = np.where((np.arange(BINS) + 0.5) / BINS <= 0.3, 1.0, -1.0)
    p_pos = np.where(clean > 0, 1 - eta, eta) / BINS
    cells = np.stack([p_pos, 1.0 / BINS - p_pos], axis=1)
    risk = (h < 0) @ cells[:, 0] + (h > 0) @ cells[:, 1]
    return h, cells, risk


def empirical_risks(h, cells, n, trials, rng):
    """Empirical 0-1 risks R_n(h) of every classifier on ``trials`` samples of size n (trials, K),
    from multinomial counts of (bin, label) cells."""
    counts = rng.multinomial(n, cells.ravel(), size=trials).reshape(trials, BINS, 2)
    return (counts[..., 0] @ (h < 0).T + counts[..., 1] @ (h > 0).T) / n


@pytest.mark.claim("gen.erm-uniform-convergence", uses=["hoeffding_union_bound"])
@pytest.mark.no_near_miss("a probability bound checked by a binomial count: with 300 samples the count resolves a "
                          "violation rate of about 2.5 delta (stated as the resolution), not a bound a few % off; the "
                          "wrong world (the single-hypothesis bound, no union over H) is its control")
@settings(max_examples=examples(2))
@given(n=st.integers(100, 2000), log2_k=st.integers(2, 8), delta=st.floats(0.02, 0.2), eta=st.floats(0.0, 0.3))
@example(n=500, log2_k=8, delta=0.05, eta=0.1)
def test_finite_class_uniform_convergence(evidence, algorithm, n, log2_k, delta, eta):
    """Finite class, 0-1 loss: P(sup_h |R(h) - R_n(h)| > sqrt(log(2|H|/delta)/(2n))) <= delta
    (Hoeffding + union bound; c* = log|H|). 300 independent samples; the number of
    violations must not exceed the binomial(300, delta) upper 1e-6 quantile. False alarm:
    1e-6 per example (the binomial quantile), 3e-6 over the 3 examples. Power: a bound whose
    true violation rate is >= 2.5 delta (delta = 0.05: 0.125) exceeds the quantile with
    probability >= 0.5; the single-hypothesis bound (no log|H|) is rejected (wrong world)."""
    bound_fn = algorithm("hoeffding_union_bound")
    k, trials = 2**log2_k, 300
    seed = derived_seed("gen.erm-uniform-convergence", n, k, eta)
    h, cells, risk = random_classifier_problem(k, eta, seed)
    dev = np.max(np.abs(empirical_risks(h, cells, n, trials, np.random.default_rng(seed + 1)) - risk), axis=1)
    bound = float(bound_fn(n, k, delta))
    violations = int(np.sum(dev > bound))
    evidence.parameters(n=n, K=k, delta=delta, eta=eta, trials=trials)
    evidence.record("median sup deviation", float(np.median(dev)), bound=bound)
    evidence.upper_bound("violations of the uniform bound in 300 samples", violations,
                         float(binom.isf(ALPHA, trials, delta)), headline=True)
    evidence.record("false_alarm_budget", 3e-6)
    evidence.resolution("a violation rate of about 2.5 delta (binomial 1e-6 quantile over 300 samples)")


# ----------------------------------------------------------- gen.rademacher-def
def _hoeffding(value_range: float, draws: int) -> float:
    """Two-sided Hoeffding deviation of a mean of ``draws`` values in an interval of
    length ``value_range``, at level ALPHA."""
    return value_range * np.sqrt(np.log(2 / ALPHA) / (2 * draws))


@pytest.mark.claim("gen.rademacher-def", uses=["empirical_rademacher", "rademacher_exact_enumeration"])
@settings(max_examples=examples(4))
@given(n=st.integers(4, 12), d=st.integers(1, 6), radius=st.floats(0.1, 3.0), c=st.floats(-3.0, 3.0),
       k=st.integers(2, 30), seed=st.integers(0, 2**16))
@example(n=10, d=3, radius=1.0, c=2.0, k=8, seed=0)
def test_rademacher_complexity_properties(evidence, algorithm, n, d, radius, c, k, seed):
    """R_A(H) = E_v sup_h (1/n) sum v_i h(a_i), v uniform on {+-1}^n (Bartlett and Mendelson
    2002), estimated by ``empirical_rademacher`` (4000 sign draws) against exact
    enumeration of all 2^n sign vectors, within a Hoeffding band (level 1e-6):
    linear ball {<w, .>: ||w|| <= B} (closed-form sup B||A^T v||/n; Khintchine-Kahane:
    (B/n) sqrt(sum||a_i||^2 / 2) <= R <= (B/n) sqrt(sum||a_i||^2)); a finite class
    (Massart: R <= max_h ||h(A)|| sqrt(2 log K)/n); scaling R(cH) = |c| R(H) for a
    symmetric class; a constant class (R = 0); all sign patterns (R = 1). False alarm: five
    two-sided Hoeffding bands at 1e-6 per example: 5e-6 x 5 examples = 2.5e-5. Power: an
    estimator 1% high misses R = 1 of the all-sign class (exact, rel 1e-12; near miss);
    signs in {0, 1} (another complexity) miss the Hoeffding bands (wrong world)."""
    estimate, exact = algorithm("empirical_rademacher"), algorithm("rademacher_exact_enumeration")
    rng = np.random.default_rng(derived_seed("gen.rademacher-def", n, d, k, seed))
    a = rng.standard_normal((n, d))
    draws = 4000
    mc_rng = np.random.default_rng(derived_seed("gen.rademacher-def", "signs", seed))
    evidence.parameters(n=n, d=d, radius=radius, c=c, K=k)

    lin = linear_class_sup(a, radius)
    lin_exact = exact(lin, n)
    lin_range = radius * np.linalg.norm(a, axis=1).sum() / n  # sup <= B sum ||a_i|| / n
    evidence.tight("linear class: Monte Carlo vs exact", estimate(lin, n, draws, mc_rng)[0], lin_exact,
                   abs=_hoeffding(lin_range, draws), headline=True)
    frob = np.sqrt(np.sum(a**2))
    evidence.lower_bound("linear class: Khintchine-Kahane lower bound", lin_exact, radius * frob / (np.sqrt(2) * n),
                         rel=1e-12)
    evidence.upper_bound("linear class: Jensen upper bound", lin_exact, radius * frob / n, rel=1e-12)

    outputs = rng.standard_normal((k, n))
    fin_exact = exact(finite_class_sup(outputs), n)
    evidence.upper_bound("finite class: Massart", fin_exact,
                         np.max(np.linalg.norm(outputs, axis=1)) * np.sqrt(2 * np.log(k)) / n, rel=1e-12)
    sym = np.concatenate([outputs, -outputs])  # a symmetric class: R(cH) = |c| R(H) exactly
    scaled = estimate(finite_class_sup(c * sym), n, draws, mc_rng)[0]
    rng_sym = np.abs(c) * np.abs(sym).sum(1).max() / n * 2
    evidence.tight("scaling: R(cH) = |c| R(H)", scaled, abs(c) * exact(finite_class_sup(sym), n),
                   abs=_hoeffding(rng_sym, draws))
    constant = estimate(lambda v: c * v.sum(1) / n, n, draws, mc_rng)[0]
    evidence.tight("constant class: R = 0", constant, 0.0, abs=_hoeffding(2 * abs(c), draws) + 1e-15)
    evidence.tight("all sign patterns: R = 1", estimate(lambda v: np.abs(v).sum(1) / n, n, draws, mc_rng)[0], 1.0,
                   rel=1e-12)
    evidence.record("false_alarm_budget", 2.5e-5)
    evidence.resolution("a relative bias above 1e-12 (all-sign class); Hoeffding bands at 1e-6 elsewhere")


# ---------------------------------------------------------- gen.rademacher-bound
def draw_cells(rng, cells, samples, n):
    """``samples`` i.i.d. samples of n (bin, label) cells from the cell probabilities (the bounds' premise)."""
    return rng.choice(2 * BINS, size=(samples, n), p=cells.ravel())


@pytest.mark.claim("gen.rademacher-bound", uses=["empirical_rademacher"])
@pytest.mark.no_near_miss("(a) compares two Monte Carlo means with a 5-SE margin, (b) counts violations of a "
                          "probability bound: their resolutions (5 SE; a violation rate ~2.8 delta) are stated; the "
                          "wrong world (samples that are not independent) is the control")
@settings(max_examples=examples(2))
@given(n=st.integers(100, 400), log2_k=st.integers(4, 7), eta=st.floats(0.0, 0.3))
@example(n=200, log2_k=6, eta=0.1)
def test_rademacher_generalisation_bound(evidence, algorithm, n, log2_k, eta):
    """Loss class l o H of K random classifiers (0-1 loss in [0, 1]): (a) expectation form
    E sup_h (R - R_n) <= 2 E R_A(l o H) (symmetrisation), both sides Monte Carlo over 200
    samples, compared with a 5-SE margin; (b) high-probability form: sup_h |R - R_n| <=
    2 R_A(l o H) + 3 sqrt(log(2/delta)/(2n)) fails in at most the binomial(200, delta)
    upper 1e-6 quantile of the samples (delta = 0.05). False alarm: (a) 2.9e-7 (5 SE one-sided,
    normal), (b) 1e-6, per example; 6e-6 over the 4 examples. Power: samples made of one cell
    repeated n times (not independent: the premise fails) break both (wrong world)."""
    estimate = algorithm("empirical_rademacher")
    k, samples, delta = 2**log2_k, 200, 0.05
    seed = derived_seed("gen.rademacher-bound", n, k, eta)
    h, cells, risk = random_classifier_problem(k, eta, seed)
    rng = np.random.default_rng(seed + 1)
    cell = draw_cells(rng, cells, samples, n)  # cell = 2 bin + (0: y = +1, 1: y = -1)
    bins, label = cell // 2, np.where(cell % 2 == 0, 1.0, -1.0)
    losses = (h[:, bins] != label[None]).astype(float)  # (K, samples, n)
    sup_dev = np.max(risk[:, None] - losses.mean(-1), axis=0)  # sup_h (R - R_n), per sample
    sup_abs = np.max(np.abs(risk[:, None] - losses.mean(-1)), axis=0)
    rad = np.array([estimate(finite_class_sup(losses[:, s]), n, 200, rng)[0] for s in range(samples)])
    margin = 5 * np.sqrt(sup_dev.var(ddof=1) + 4 * rad.var(ddof=1)) / np.sqrt(samples)
    evidence.parameters(n=n, K=k, eta=eta, samples=samples)
    evidence.record("E sup (R - R_n) / E R_A", float(sup_dev.mean() / rad.mean()))
    evidence.upper_bound("(a) E sup_h (R - R_n) - 2 E R_A(loss class)", sup_dev.mean() - 2 * rad.mean(), margin,
                         headline=True)
    bound = 2 * rad + 3 * np.sqrt(np.log(2 / delta) / (2 * n))
    evidence.record("tightness sup|R - R_n| / bound (median)", float(np.median(sup_abs / bound)))
    evidence.upper_bound("(b) violations of the high-probability bound", int(np.sum(sup_abs > bound)),
                         float(binom.isf(ALPHA, samples, delta)))
    evidence.record("false_alarm_budget", 6e-6)
    evidence.resolution("(a) 5 SE of the difference of means; (b) a violation rate of about 2.8 delta")


# ------------------------------------------------------- junk-feature sweep (shared)
JUNK_SIZES = (50, 100, 200)


@functools.lru_cache(maxsize=4)
def junk_sweep(fit, designs: int = 8, junk_per_sample: int = 20):
    """Min-norm fits in Koehler et al.'s junk-feature model (D = 20 n, Tr Sigma_2 = sqrt(n),
    sigma^2 = 1/4) at n = 50, 100, 200: exact risks, norms and the bound B^2 Tr Sigma / n."""
    out = {"risk": [], "norm": [], "bound": []}
    for n in JUNK_SIZES:
        inst = GaussianLinear.junk_features(n, junk_per_sample=junk_per_sample, sigma=0.5)
        x, y = inst.sample(n, np.random.default_rng(derived_seed("gen.koehler-bound", n)), batch=designs)
        w = fit(x, y)
        norm = np.linalg.norm(w, axis=-1)
        out["risk"].append(inst.risk(w))
        out["norm"].append(norm)
        out["bound"].append(norm**2 * inst.spectrum.sum() / n)
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.claim("gen.koehler-bound", uses=["min_norm_least_squares", "one_sided_uniform_convergence"])
@pytest.mark.no_near_miss("upper bounds with the catalogue's slack (1.1, 1.3, 1.25) on exact risks; the measured "
                          "ratios 0.63-0.78 leave no nearby world short of leaving the junk-feature model, which "
                          "the wrong world (D = n junk features: not benign) does")
def test_koehler_norm_bound(evidence, algorithm, junk_per_sample=20):
    """Koehler, Zhou, Sutherland, Srebro (NeurIPS 2021), junk-feature model (5 signal
    directions, ||w*|| = 1; D = 20n junk ones, Tr Sigma_2 = sqrt(n); sigma^2 = 0.25):
    (i) L(w_MN) <= 1.1 ||w_MN||^2 Tr(Sigma)/n for every design (n = 50, 100, 200; 8 designs;
    R13 ratios 0.63-0.78); (ii) over *all* interpolators with ||w|| <= B = 1.1 ||w_MN||
    (the one-sided uniform-convergence value, n = 50, D = 8n), sup L <= 1.3 B^2 Tr(Sigma)/n;
    (iii) benign: L(w_MN)/sigma^2 <= 1.25 at n = 200 (R13: 1.06). Risks are exact given the
    designs (8 per n); false alarm: the design draws, ratios 0.63-0.78 against 1.1 in our runs:
    not derived, stated <= 1e-2. Power: D = n junk features (n/R_k* of order one: not benign)
    fails (iii) (wrong world)."""
    fit = algorithm("min_norm_least_squares")
    sweep = junk_sweep(fit, junk_per_sample=junk_per_sample)
    ratio = sweep["risk"] / sweep["bound"]
    evidence.record("L(w_MN) / (||w_MN||^2 Tr Sigma / n) by n (max over designs)", ratio.max(axis=1), n=JUNK_SIZES)
    evidence.upper_bound("(i) L(w_MN) / (||w_MN||^2 Tr Sigma / n)", ratio, 1.1, headline=True)
    evidence.upper_bound("(iii) benign: mean L(w_MN) / sigma^2 at n = 200", sweep["risk"][-1].mean() / 0.25, 1.25)
    inst = GaussianLinear.junk_features(50, junk_per_sample=8, sigma=0.5)
    x, y = inst.sample(50, np.random.default_rng(derived_seed("gen.koehler-bound", "ball")))
    w = fit(x[0], y[0])
    radius = 1.1 * np.linalg.norm(w)
    value, _, _ = algorithm("one_sided_uniform_convergence")(x[0], y[0], inst.spectrum, inst.beta, radius)
    evidence.upper_bound("(ii) sup over interpolators in the ball / (B^2 Tr Sigma / n)",
                         (value + inst.sigma**2) / (radius**2 * inst.spectrum.sum() / 50), 1.3)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("ratios above 1.1 (i), 1.3 (ii), 1.25 (iii)")


# ---------------------------------------------------- gen.uniform-convergence-fails
NOISE_LEVELS = (0.1, 0.2, 0.4)


@pytest.mark.claim("gen.uniform-convergence-fails", uses=["kernel_ridge_regression", "laplace_kernel",
                                                          "min_norm_least_squares"])
@pytest.mark.no_near_miss("test error <= eta/2 holds with a 7-SE margin at the claim's eta <= 0.4; the nearest "
                          "violating world (eta ~ 0.6, error 0.315 vs 0.3) crosses within one SE, not a stable "
                          "control; the wrong world eta = 0.9 (labels nearly random) is")
def test_interpolation_of_noisy_labels_generalises(evidence, algorithm, noise_levels=NOISE_LEVELS):
    """(a) Belkin, Ma, Mandal (ICML 2018): the Laplace-kernel interpolant (h = median
    distance) of digits labels corrupted at rate eta (a fraction eta of the 1000 train
    labels replaced by a different class) fits every noisy train label and has test
    error <= eta/2 (catalogue R14: 0.012 / 0.023 / 0.084 at eta 0.1 / 0.2 / 0.4).
    (b) Nagarajan and Kolter, Zhou et al.: in the junk-feature model the min-norm
    interpolator's norm grows with n (1.7 -> 2.1 -> 2.6), so norm-based uniform bounds
    decay far more slowly than the actual excess risk. False alarm: the test error's SE is
    <= 0.016 (797 test digits), the margin at eta = 0.4 is 0.116 (7 SE): < 1e-9 per level
    (normal tail), stated 1e-6. Power: labels 90% corrupted (test error 0.89 > 0.45) are
    rejected (wrong world)."""
    kern, krr = algorithm("laplace_kernel"), algorithm("kernel_ridge_regression")
    split = digits_split(1000, seed=derived_seed("gen.uniform-convergence-fails", "split") % 2**31)
    h = float(np.median(pdist(split.x)))
    rng = np.random.default_rng(derived_seed("gen.uniform-convergence-fails", "noise"))
    noisy = []
    for eta in noise_levels:
        y = split.y.copy()
        flip = rng.choice(len(y), int(round(eta * len(y))), replace=False)
        y[flip] = (y[flip] + rng.integers(1, 10, len(flip))) % 10  # a different class, uniformly
        noisy.append(y)
    targets = np.concatenate([one_hot(y, 10) for y in noisy], axis=1)  # one factorisation, 3 x 10 columns
    alpha = krr(kern(split.x, split.x, h), targets, 0.0)
    train_pred = kern(split.x, split.x, h) @ alpha
    test_pred = kern(split.x_test, split.x, h) @ alpha
    for i, (eta, y) in enumerate(zip(noise_levels, noisy)):
        cols = slice(10 * i, 10 * i + 10)
        train_acc = np.mean(np.argmax(train_pred[:, cols], 1) == y)
        test_err = np.mean(np.argmax(test_pred[:, cols], 1) != split.y_test)
        evidence.lower_bound(f"(a) eta = {eta}: noisy train labels all fitted", train_acc, 1.0)
        evidence.upper_bound(f"(a) eta = {eta}: test error <= eta/2", test_err, eta / 2, headline=eta == 0.2)
    norms = junk_sweep(algorithm("min_norm_least_squares"))["norm"].mean(axis=1)
    evidence.record("(b) mean ||w_MN|| at n = 50, 100, 200", norms)
    evidence.monotone("(b) ||w_MN|| increases with n", norms, decreasing=False)
    evidence.record("false_alarm_budget", 1e-6)
    evidence.resolution("a test error above eta/2 by the estimate (SE <= 0.016)")


# ------------------------------------------------------------- gen.one-sided-uc-def
@pytest.mark.claim("gen.one-sided-uc-def", uses=["one_sided_uniform_convergence"])
@settings(max_examples=examples(4))
@given(n=st.integers(3, 12), extra=st.integers(2, 30), slack=st.floats(0.01, 1.0), seed=st.integers(0, 2**16))
@example(n=10, extra=20, slack=0.1, seed=0)
def test_one_sided_uniform_convergence_solver(evidence, algorithm, n, extra, slack, seed):
    """sup { R(w) - R_n(w) : ||w|| <= B, R_n(w) = 0 } for linear regression (Zhou et al.,
    NeurIPS 2020) = max (w - w*)^T Sigma (w - w*) s.t. Xw = y, ||w|| <= B (+ sigma^2).
    Certificates: the returned w is feasible; with z its null-space coordinates, there is
    mu >= lambda_max(Q) with (mu I - Q) z = g and ||z|| = r (More-Sorensen, global
    optimality of the trust-region maximum); 2000 random feasible points never exceed it."""
    solver = algorithm("one_sided_uniform_convergence")
    d = n + extra
    rng = np.random.default_rng(derived_seed("gen.one-sided-uc-def", n, d, seed))
    lam, w_star = rng.uniform(0.1, 2.0, d), rng.standard_normal(d)
    x = rng.standard_normal((n, d))
    y = x @ w_star + 0.5 * rng.standard_normal(n)
    w_mn = np.linalg.pinv(x) @ y
    radius = (1 + slack) * np.linalg.norm(w_mn)
    value, w, _ = solver(x, y, lam, w_star, radius)
    evidence.parameters(n=n, d=d, slack=slack)
    scale = np.abs(x) @ np.abs(w) + np.abs(y)
    evidence.upper_bound("feasible: |X w - y|", np.abs(x @ w - y), 1e3 * np.finfo(float).eps * scale)
    evidence.upper_bound("feasible: ||w|| <= B", np.linalg.norm(w), radius, rel=1e-9)
    evidence.tight("value = (w - w*)^T Sigma (w - w*)", value, (w - w_star) @ (lam * (w - w_star)), rel=1e-10)
    null = np.linalg.svd(x)[2][n:].T
    q, g = null.T @ (lam[:, None] * null), null.T @ (lam * (w_mn - w_star))
    z = null.T @ (w - w_mn)
    top = np.linalg.eigvalsh(q)[-1]
    r = np.sqrt(radius**2 - w_mn @ w_mn)
    # a convex objective (Q >= 0) attains its maximum over the ball on the sphere ||z|| = r
    evidence.tight("maximiser on the boundary ||z|| = r", np.linalg.norm(z), r, rel=1e-7)
    mu = float(z @ (q @ z + g) / (z @ z))
    resid = np.linalg.norm(mu * z - q @ z - g) / (np.linalg.norm(q @ z) + np.linalg.norm(g))
    evidence.upper_bound("certificate: ||(mu I - Q) z - g|| (relative)", resid, 1e-7, headline=True)
    evidence.lower_bound("certificate: mu >= lambda_max(Q)", mu, top, rel=1e-8)
    u = rng.standard_normal((2000, null.shape[1]))
    u *= (r * rng.uniform(0, 1, (2000, 1)) ** (1 / null.shape[1])) / np.linalg.norm(u, axis=1, keepdims=True)
    pts = w_mn + u @ null.T
    sampled = np.einsum("sd,d,sd->s", pts - w_star, lam, pts - w_star)
    evidence.upper_bound("no random feasible point exceeds the value", sampled.max(), value, rel=1e-10)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("feasibility to 1e3 eps, optimality certificate to 1e-7 relative")
