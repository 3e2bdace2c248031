"""Double descent of min-norm *linear* regression, where the risk is exact
(slides "Typical examples: linear/nonlinear regression [36]", "more data can
hurt", "A bit more on benign overfitting").

The fit under test is ``algorithm("min_norm_least_squares")``. Designs are
Gaussian with a diagonal covariance, so the population risk of any w is exact:
R(w) = sigma^2 + (w - beta)^T Sigma (w - beta) (problems.overparam.synthetic_regression);
only the design is Monte Carlo. Seeds derive from (claim, instance, repetition).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings

from checks.support import examples
from problems.overparam.synthetic_regression import (GaussianLinear, derived_seed, effective_ranks, isotropic_linear_instances,
                                           minnorm_asymptotic_excess_risk, minnorm_expected_excess_risk)

# Confidence multiplier for Monte Carlo means: a normal-approximation z = 5 has
# two-sided tail 6e-7 per comparison. CLT-based, so the design keeps |p - n| >= 8,
# where the inverse-Wishart risk has finite fourth moments (its SE estimate is sound).
Z = 5.0


def _mc_excess(fit, inst: GaussianLinear, n: int, designs: int, seed: int) -> np.ndarray:
    x, y = inst.sample(n, np.random.default_rng(seed), batch=designs)
    return inst.risk(fit(x, y)) - inst.sigma**2


# ------------------------------------------------------- dd.linear-minnorm-closed-form
@pytest.mark.claim("dd.linear-minnorm-closed-form", uses=["min_norm_least_squares"])
@settings(max_examples=examples(2))
@given(instance=isotropic_linear_instances(gap=8))
@example(instance=(40, 32, 0.5, 1.0))
@example(instance=(40, 48, 0.5, 1.0))
@example(instance=(30, 90, 1.0, 1.0))
def test_hastie_minnorm_risk(evidence, algorithm, instance):
    """Hastie, Montanari, Rosset, Tibshirani (Ann. Stat. 2022), isotropic x ~ N(0, I_p),
    exact in finite samples: E[R - sigma^2] = sigma^2 p/(n-p-1) (p <= n-2) and
    ||beta||^2 (1 - n/p) + sigma^2 n/(p-n-1) (p >= n+2). Monte Carlo over 200 designs,
    the risk of each fit exact; |mean - formula| <= 5 SE. False alarm: 5 SE two-sided,
    5.7e-7 per example by the normal approximation (|p - n| >= 8 keeps the risk's fourth
    moment finite), 3e-6 over the 5 examples. Power: the relative tolerance 5 SE / formula is
    recorded (~10-20%); a fit inflated by 10% (variance part +21%) is rejected (near miss);
    an anisotropic design, for which the isotropic formula does not hold, is rejected
    (wrong world)."""
    fit = algorithm("min_norm_least_squares")
    n, p, sigma, beta_norm = instance
    designs = 200
    inst = GaussianLinear.isotropic(p, sigma, beta_norm, derived_seed("dd.linear-minnorm-closed-form", n, p))
    excess = _mc_excess(fit, inst, n, designs, derived_seed("dd.linear-minnorm-closed-form", n, p, "designs"))
    exact = float(minnorm_expected_excess_risk(n, p, sigma**2, beta_norm**2))
    se = float(excess.std(ddof=1) / np.sqrt(designs))
    evidence.parameters(n=n, p=p, sigma=sigma, beta_norm=beta_norm, designs=designs)
    evidence.tight("MC mean excess risk vs Hastie et al. closed form", excess.mean(), exact, abs=Z * se + 1e-12,
                   headline=True)
    evidence.record("relative tolerance 5 SE / formula", Z * se / exact)
    evidence.record("false_alarm_budget", 3e-6)
    evidence.resolution("5 SE of the Monte Carlo mean (~10-20% of the excess risk); rejects a fit 10% too large")
    evidence.record("proportional-limit value at gamma = p/n",
                    float(minnorm_asymptotic_excess_risk(p / n, sigma**2, beta_norm**2)))
    evidence.figure("risk-vs-p", lambda fig: _draw_hastie(fig, fit), "Exact expected excess risk of min-norm "
                    "least squares vs p (n = 30, sigma = 0.5, ||beta|| = 1), Monte Carlo means (100 designs); "
                    "it diverges at p = n +- 1, the interpolation threshold.")


def _draw_hastie(fig, fit):
    n, sigma, beta_norm = 30, 0.5, 1.0
    ps = np.arange(1, 121)
    ax = fig.add_subplot(111)
    exact = minnorm_expected_excess_risk(n, ps, sigma**2, beta_norm**2)
    ax.semilogy(ps, np.where(np.isfinite(exact), exact, np.nan), "-", label="closed form (Hastie et al.)")
    pts = np.array([5, 15, 22, 38, 60, 120])
    mc = [_mc_excess(fit, GaussianLinear.isotropic(p, sigma, beta_norm, 0), n, 100, int(p)) for p in pts]
    ax.semilogy(pts, [m.mean() for m in mc], "o", ms=4, label="Monte Carlo mean")
    ax.axvline(n, color="k", ls="--", lw=0.8, label="interpolation threshold p = n")
    ax.set_xlabel("number of parameters p")
    ax.set_ylabel("E[R] - sigma^2")
    ax.legend(fontsize=7)


# ---------------------------------------------------------- dd.nakkiran-sample-wise
P_FIXED, N1, N2 = 100, 25, 90  # N2 <= 4 N1: "even quadrupling the samples hurts"


@pytest.mark.claim("dd.nakkiran-sample-wise", uses=["min_norm_least_squares"])
def test_more_data_can_hurt(evidence, algorithm, n1=N1, n2=N2):
    """Min-norm linear regression at p = 100, ||beta|| = sigma = 1 (Nakkiran 2019):
    n1 = 25 gives E excess = 0.75 + 25/74 = 1.09, n2 = 90 <= 4 n1 gives 0.1 + 90/9 =
    10.1. Monte Carlo (800 designs each): a lower confidence bound on E R(n2) from the
    truncated risk min(R, c) (truncation only lowers the mean; Hoeffding on [0, c],
    one-sided 1e-6) exceeds the upper bound mean + 5 SE on E R(n1). False alarm: 1e-6 +
    2.9e-7 (Hoeffding one-sided, normal one-sided 5 SE). Power: n2 = 215, where more data
    helps by 10% (E R = 1.88 vs 2.09), is rejected (near miss); n1 = 200, n2 = 400, both past
    the threshold (more data helps), too (wrong world).

    Designs: 800. With 200 the bounds are valid but too wide to separate reliably: over
    3000 resamples of 20000 simulated designs the margin lower2 - upper1 was 0.68 +- 0.39
    (below 0 in 3.2 % of runs, found by the fresh-seed reruns of issue 16); with 800 it is
    4.8 +- 0.19 (25 SD), so the false-alarm budget is the bounds' coverage alone."""
    fit = algorithm("min_norm_least_squares")
    inst = GaussianLinear.isotropic(P_FIXED, 1.0, 1.0, derived_seed("dd.nakkiran-sample-wise", "beta"))
    designs = 800
    r1 = _mc_excess(fit, inst, n1, designs, derived_seed("dd.nakkiran-sample-wise", n1)) + 1.0
    r2 = _mc_excess(fit, inst, n2, designs, derived_seed("dd.nakkiran-sample-wise", n2)) + 1.0
    cap = 4.0 * (1.0 + float(minnorm_expected_excess_risk(n2, P_FIXED, 1.0, 1.0)))
    lower2 = np.minimum(r2, cap).mean() - cap * np.sqrt(np.log(1e6) / (2 * designs))
    upper1 = r1.mean() + Z * r1.std(ddof=1) / np.sqrt(designs)
    evidence.parameters(p=P_FIXED, n1=n1, n2=n2, designs=designs, truncation=cap)
    for n_, r in ((n1, r1), (n2, r2)):
        evidence.record(f"MC mean risk at n = {n_}", float(r.mean()),
                        exact=1.0 + float(minnorm_expected_excess_risk(n_, P_FIXED, 1.0, 1.0)))
    evidence.lower_bound(f"lower bound on E R(n2 = {n2}) minus upper bound on E R(n1 = {n1})", lower2 - upper1, 0.0,
                         headline=True)
    evidence.record("false_alarm_budget", 1.3e-6)
    evidence.resolution("E R(n2) must exceed E R(n1) by the Hoeffding width 0.74 c / sqrt(...) + 5 SE; rejects more "
                        "data helping by 10%")
    measured = {n1: r1.mean(), n2: r2.mean()}
    evidence.figure("risk-vs-n", lambda fig: _draw_sample_wise(fig, measured), "Expected risk of min-norm least "
                    "squares vs the number of samples n at p = 100 (closed form; Monte Carlo points): more "
                    "data hurts on n < p.")


def _draw_sample_wise(fig, measured):
    ns = np.arange(5, 400)
    exact = 1.0 + minnorm_expected_excess_risk(ns, P_FIXED, 1.0, 1.0)
    ax = fig.add_subplot(111)
    ax.semilogy(ns, np.where(np.isfinite(exact), exact, np.nan), label="min-norm, closed form")
    ax.semilogy(list(measured), list(measured.values()), "o", color="C1", label="Monte Carlo (800 designs)")
    ax.axvline(P_FIXED, color="k", ls="--", lw=0.8, label="n = p")
    ax.set_xlabel("number of samples n")
    ax.set_ylabel("E[R]")
    ax.legend(fontsize=7)


# ------------------------------------------------------- dd.benign-overfitting-def
#: z = 4: one-sided normal tail 3e-5. Designs per n from a pilot (200 designs): the per-design sd of
#: excess/sigma^2 on the benign spectrum is 0.19, 0.08, 0.042 at n = 30, 60, 120 around means 0.37, 0.20,
#: 0.11. The headline T = (m_30 - m_120) - 4 SE(m_30 - m_120) with 12 designs everywhere failed 3 of 10
#: seed shifts; with 24 everywhere E T = 0.26 - 4 x 0.040 = 0.10, sd 0.040: P(T < 0) ~ 6e-3. With 96 at
#: n = 30 (cheap: D = 328) and 12 at n = 120: E T = 0.26 - 4 x 0.0225 = 0.17, sd 0.0225, P(T < 0) ~ 1e-13.
SIZES, Z_BENIGN = (30, 60, 120), 4.0
BENIGN_DESIGNS = {30: 96, 60: 24, 120: 12}


def spike_plus_junk(n: int, sigma: float, junk_trace_exponent: float = 0.5) -> GaussianLinear:
    """5 signal directions (variance 1, ||beta|| = 1) + D = 2 n^1.5 junk directions with
    Tr Sigma_2 = n^e (e = 1/2): r_0 = 5 + sqrt(n) = o(n), k* = 5, n/R_k* = n/D -> 0 (benign).
    With e = 1, r_0 ~ n is not o(n): the junk acts as a ridge of order one, not benign."""
    d = int(2 * n**1.5)
    spectrum = np.concatenate([np.ones(5), np.full(d, n**junk_trace_exponent / d)])
    beta = np.zeros(5 + d)
    beta[:5] = 1 / np.sqrt(5)
    return GaussianLinear(spectrum, beta, sigma)


@pytest.mark.claim("dd.benign-overfitting-def", uses=["min_norm_least_squares"])
@pytest.mark.no_near_miss("an asymptotic (n -> infinity) condition checked as a trend at n = 30, 60, 120 with 4-SE "
                          "bounds; the wrong world (junk of total variance n^1.25: r_0/n grows) is its control")
def test_benign_vs_non_benign_spectra(evidence, algorithm, junk_trace_exponent=0.5):
    """Benign overfitting (Bartlett, Long, Lugosi, Tsigler, PNAS 2020): min-norm
    interpolation of noisy data is consistent iff the effective ranks satisfy
    r_0 = o(n), k*/n -> 0, n/R_k* -> 0. (a) spike + junk spectrum (5 signal
    directions, D = 2 n^1.5 junk ones of total variance sqrt(n)): every fit
    interpolates and the excess risk decreases with n (no step up beyond 4 SE, and
    the excess at n = 120 below that at n = 30 by 4 SE of the difference); (b) lambda_i = i^-2
    (r_k ~ k, so k* ~ n: not benign): excess / sigma^2 >= 0.3 (lower 4-SE bound).
    Means over 96, 24, 12 designs at n = 30, 60, 120 (see BENIGN_DESIGNS). (Koehler's D = 20 n has n/R_k* = 1/20 fixed: its excess
    plateaus near 0.05 sigma^2, so it is not used here.) False alarm: z = 4 one-sided (3.2e-5)
    per comparison, 2 + 1 + 3 comparisons: 2e-4 (normal approximation; the headline's own
    probability is ~1e-13 at these design counts); 12 designs everywhere failed 3 of 10 seed shifts. Power:
    junk of total variance n^1.25 (r_0/n -> infinity) keeps the excess from falling (wrong world);
    the boundary case, total variance n (r_0 ~ n), is not resolved at n <= 120."""
    fit = algorithm("min_norm_least_squares")
    sigma = 0.5
    labels = ("spike + junk (benign)", "i^-2 (not benign)")
    mean, se = {k: [] for k in labels}, {k: [] for k in labels}
    for n in SIZES:
        instances = (spike_plus_junk(n, sigma, junk_trace_exponent),
                     GaussianLinear.power_law(int(2 * n**1.5), 2.0, sigma))
        for label, inst in zip(labels, instances):
            rng = np.random.default_rng(derived_seed("dd.benign-overfitting-def", label, n))
            x, y = inst.sample(n, rng, batch=BENIGN_DESIGNS[n])
            w = fit(x, y)
            resid = np.einsum("bnd,bd->bn", x, w) - y
            scale = np.max(np.abs(x) @ np.abs(w)[..., None])
            evidence.upper_bound(f"interpolation: max train residual ({label})", np.abs(resid).max(),
                                 4 * x.shape[-1] * np.finfo(float).eps * scale)
            excess = (inst.risk(w) - sigma**2) / sigma**2
            mean[label].append(excess.mean())
            se[label].append(excess.std(ddof=1) / np.sqrt(BENIGN_DESIGNS[n]))
            k_star = next((k for k in range(inst.dim) if effective_ranks(inst.spectrum, k)[0] >= n), inst.dim - 1)
            evidence.record(f"effective ranks at n = {n} ({label})", {
                "r_0/n": effective_ranks(inst.spectrum, 0)[0] / n, "k*/n": k_star / n,
                "n/R_k*": n / effective_ranks(inst.spectrum, k_star)[1]})
    m, s_ = np.array(mean[labels[0]]), np.array(se[labels[0]])
    evidence.record("excess risk / sigma^2 vs n (benign spectrum)", m, se=s_)
    evidence.record("excess risk / sigma^2 vs n (i^-2 spectrum)", np.array(mean[labels[1]]), se=np.array(se[labels[1]]))
    evidence.upper_bound("(a) no significant increase between consecutive n", np.diff(m),
                         Z_BENIGN * np.sqrt(s_[1:] ** 2 + s_[:-1] ** 2))
    evidence.lower_bound("(a) benign: excess(n = 30) - excess(n = 120) - 4 SE of the difference",
                         (m[0] - m[-1]) - Z_BENIGN * np.sqrt(s_[0] ** 2 + s_[-1] ** 2), 0.0, headline=True)
    bad = np.array(mean[labels[1]]) - Z_BENIGN * np.array(se[labels[1]])
    evidence.lower_bound("(b) i^-2: lower bound of excess risk / sigma^2 stays >= 0.3", bad, 0.3)
    evidence.record("false_alarm_budget", 2e-4)
    evidence.resolution("a rise of 4 SE between consecutive n; a fall from n = 30 to 120 smaller than 4 SE of the "
                        "difference")
