"""Wasserstein distances, Kantorovich–Rubinstein duality and WGAN critics (slides
"Wasserstein GANs", catalogue 2.5).

The W₁ solver under test is ``algorithm("wasserstein_1")`` (exact OT: POT ``ot.emd2``,
or scipy's assignment for two uniform measures of equal size); the spectral-norm
estimate of spectral normalisation is ``algorithm("spectral_norm_estimate")``. The
references are problems.adversarial.transport (quantisation bound, dual LP, 1-D CDF formula).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from problems.runtime import seed as _seed
from checks.support import examples
from problems.adversarial.transport import (DiscreteMeasure, kr_dual, measure_pairs, measure_triples, nearest_neighbour_mean,
                                quantisation_lower_bound, w1_cdf_1d)




def _w1(w1, m: DiscreteMeasure, n: DiscreteMeasure) -> float:
    return w1(m.support, n.support, m.weights, n.weights)


# ------------------------------------------------------------ wass.slow-empirical-rate
QUERIES = 20_000
ALPHA = 1e-6  # false-alarm budget per (p, ν) cell of the Hoeffding bound below
# The smallest factor on the bound's constant that the check rejects, per p (near-miss controls);
# the grid quantiser is the tightest cell (the bound is an optimal-quantiser bound).
RESOLUTION_SCALE = {3: 1.25, 8: 1.3}  # grid cell: measured/bound 1.03 (p = 3), 1.08 (p = 8), + 14 % MC margin


@pytest.mark.claim("wass.slow-empirical-rate", uses=["wasserstein_1"])
@pytest.mark.parametrize("p", [3, 8])
def test_w1_lower_bound_holds_for_every_sample(evidence, algorithm, p, bound_scale=1.0):
    """For μ = U[0,1]^p and *any* ν on n points, W₁(μ, ν) ≥ E_a minᵢ‖a − xᵢ‖ ≥
    (p/(p+1))(nω_p)^{−1/p} (problems.adversarial.transport): the n^{−1/p} lower bound holds for every
    sample, not only in the worst case. Checked (i) exactly for the solver under test:
    W₁(μ̂_M, ν) ≥ (1/M)Σⱼ minᵢ‖aⱼ − xᵢ‖ (every coupling moves aⱼ to some xᵢ); (ii) the
    Monte-Carlo mean over 2·10⁴ fresh queries ≥ the closed form − a one-sided Hoeffding
    margin √p·√(ln(1/α)/(2M)) (terms in [0, √p]), for random samples and for the grid
    quantiser. False-alarm probability ≤ 1e-6 per cell (3 cells per p).

    ``bound_scale`` multiplies the closed-form bound (its constant): the near-miss control shows
    the smallest scale that the check rejects, i.e. how close the measured distances come to the
    bound (its resolution)."""
    w1 = algorithm("wasserstein_1")
    rng = np.random.default_rng(_seed("wass.slow-empirical-rate", p))
    for n, kind in ((64, "random sample"), (512, "random sample"), (None, "grid")):
        if kind == "grid":
            k = 2
            nu = (np.stack(np.meshgrid(*[np.arange(k)] * p, indexing="ij"), -1).reshape(-1, p) + 0.5) / k
            n = len(nu)
        else:
            nu = rng.random((n, p))
        M = 8 * n if n <= 64 else 2 * n
        a = rng.random((M, p))
        # ν uniform on n points = n groups of M/n copies: an equal-size uniform assignment problem
        value = w1(a, np.repeat(nu, M // n, axis=0))
        nn_same, _ = nearest_neighbour_mean(nu, a)
        evidence.lower_bound(f"W₁(μ̂_M, ν) ≥ mean NN distance ({kind}, n = {n})", value, nn_same, rel=1e-12,
                             headline=kind == "random sample" and n == 64)
        nn_mc, _ = nearest_neighbour_mean(nu, rng.random((QUERIES, p)))
        margin = math.sqrt(p) * math.sqrt(math.log(1 / ALPHA) / (2 * QUERIES))
        bound = bound_scale * float(quantisation_lower_bound(n, p))
        evidence.lower_bound(f"E minᵢ‖a − xᵢ‖ ≥ (p/(p+1))(nω_p)^(−1/p) ({kind}, n = {n})", nn_mc, bound, abs=margin)
        evidence.record(f"W₁(μ̂_M, ν)·n^(1/p), {kind}, n = {n}", value * n ** (1 / p), bound_times_n=bound * n ** (1 / p))
        evidence.record(f"measured mean NN distance / bound ({kind}, n = {n})", nn_mc / bound)
    evidence.parameters(p=p, queries=QUERIES, alpha=ALPHA, bound_scale=bound_scale)
    evidence.record("false_alarm_budget", 3 * ALPHA)
    evidence.resolution(f"rejects the bound's constant scaled by {RESOLUTION_SCALE[p]} (near-miss control): the "
                        "grid quantiser comes that close to it")


SLOPE_N = np.array([64, 128, 256, 512, 1024])


def two_sample_slope(w1, p: int, reps: int, seed: int, ns=SLOPE_N) -> tuple[float, float, np.ndarray]:
    """Least-squares slope of log mean W₁(μ̂_n, μ̂′_n) against log n, μ = U[0,1]^p, with a
    bootstrap standard error over the repetitions."""
    rng = np.random.default_rng(seed)
    vals = np.array([[w1(rng.random((n, p)), rng.random((n, p))) for _ in range(reps)] for n in ns])
    slope = np.polyfit(np.log(ns), np.log(vals.mean(1)), 1)[0]
    boot = [np.polyfit(np.log(ns), np.log(vals[:, rng.integers(0, reps, reps)].mean(1)), 1)[0] for _ in range(200)]
    return float(slope), float(np.std(boot)), vals.mean(1)


@pytest.mark.claim("wass.slow-empirical-rate", uses=["wasserstein_1"])
@pytest.mark.slow
def test_w1_two_sample_slopes(evidence, algorithm):
    """E W₁ ≍ n^(−1/p) for p ≥ 3, n^(−1/2)√log n for p = 2, n^(−1/2) for p = 1 (Dudley 1969;
    Fournier–Guillin 2015; Weed–Bach 2019): fitted log-log slopes of the two-sample W₁ over
    n = 64…1024 lie in the catalogue's bands, [−1/p − 0.07, −1/p + 0.02] for p ≥ 3 (finite-n
    slopes are biased steeper) and [−0.58, −0.40] for p ∈ {1, 2}; the two-sample mean stays
    above the quantisation bound (it is ≥ E W₁(μ, μ̂_n) by convexity)."""
    w1 = algorithm("wasserstein_1")
    slopes = {}
    for p in range(1, 11):
        reps = 32 if p <= 2 else 6
        slope, se, means = two_sample_slope(w1, p, reps, _seed("wass.slope", p))
        slopes[p] = (slope, se)
        lo, hi = (-0.58, -0.40) if p <= 2 else (-1 / p - 0.07, -1 / p + 0.02)
        evidence.lower_bound(f"slope, p = {p} (≥ {lo:.3f})", slope, lo, headline=p == 3)
        evidence.upper_bound(f"slope, p = {p} (≤ {hi:.3f})", slope, hi)
        evidence.lower_bound(f"mean two-sample W₁ ≥ quantisation bound, p = {p}", means,
                             quantisation_lower_bound(SLOPE_N, p))
    evidence.record("fitted slope (bootstrap s.e.) vs the rate's exponent",
                    {p: f"{s:.3f} ({e:.3f}) vs {-1 / max(p, 2):.3f}" for p, (s, e) in slopes.items()})
    # plug-in false-alarm estimate: the chance that a rerun's slope leaves its band, taking the measured
    # slope as the truth and the bootstrap s.e. as its spread (normal approximation), summed over p
    from scipy import stats

    budget = sum(stats.norm.sf((slope - lo) / se) + stats.norm.sf((hi - slope) / se)
                 for p, (slope, se) in slopes.items()
                 for lo, hi in [(-0.58, -0.40) if p <= 2 else (-1 / p - 0.07, -1 / p + 0.02)])
    evidence.record("false_alarm_budget", float(budget), note="plug-in (measured slope as the truth, bootstrap s.e.)")
    evidence.resolution("rejects a transport cost |x − y|^1.3 (slopes −1.3/p: out of the band at p = 3)")

    def draw(fig):
        ax = fig.add_subplot(111)
        ps = np.arange(1, 11)
        ax.errorbar(ps, [slopes[p][0] for p in ps], yerr=[2 * slopes[p][1] for p in ps], fmt="o", label="fitted slope ±2 s.e.")
        ax.plot(ps[2:], -1 / ps[2:], "k--", lw=0.8, label="−1/p")
        ax.plot(ps[:2], [-0.5, -0.5], "k:", lw=0.8, label="−1/2 (p ≤ 2)")
        ax.set_xlabel("dimension p")
        ax.set_ylabel("slope of log W₁ vs log n")
        ax.legend(fontsize=7)
    evidence.figure("slopes", draw, "Two-sample W₁ on U[0,1]^p: fitted slopes over n = 64…1024 against −1/p")


# ------------------------------------------------------------ wass.triangle-plugin
COLLINEAR = tuple(DiscreteMeasure(np.array([[c]]), np.array([1.0])) for c in (0.0, 1.0, 2.0))


@pytest.mark.claim("wass.triangle-plugin", uses=["wasserstein_1"])
@settings(max_examples=examples(8))
@given(triple=measure_triples())
@example(triple=COLLINEAR)
def test_triangle_inequality(evidence, algorithm, triple):
    """W₁(μ♮, h#p) ≤ W₁(μ♮, μ̂ₙ) + W₁(μ̂ₙ, h#p) on random discrete measures (≤ 30 atoms,
    random weights) by exact OT; the network simplex is exact up to rounding (1e-10)."""
    w1 = algorithm("wasserstein_1")
    a, b, c = triple
    ac, ab, bc = _w1(w1, a, c), _w1(w1, a, b), _w1(w1, b, c)
    evidence.upper_bound("W₁(μ, ν) ≤ W₁(μ, ρ) + W₁(ρ, ν)", ac, ab + bc, abs=1e-10, headline=True)
    evidence.tight("symmetry W₁(μ, ν) = W₁(ν, μ)", _w1(w1, c, a), ac, rel=1e-12, abs=1e-12)
    evidence.resolution("rejects a cost |x − y|^q with q = 1 + 1e-6 (collinear Diracs: excess 1.4e-6 ≫ 1e-10)")


# ------------------------------------------------------------------ wass.kr-duality
@pytest.mark.claim("wass.kr-duality", uses=["wasserstein_1"])
@settings(max_examples=examples(12))
@given(pair=measure_pairs())
def test_kantorovich_rubinstein_duality(evidence, algorithm, pair):
    """Primal OT (solver under test) = max{Σ φ(μ − ν) : φ 1-Lipschitz on the union support}
    (dual LP, scipy HiGHS with feasibility tolerances 1e-10); in 1-D both equal ∫|F_μ − F_ν|.
    Metamorphic: the 2-Lipschitz dual is exactly twice the 1-Lipschitz one. Tolerance:
    1e-8 relative (the LP's 1e-10 feasibility times the constraint count ≤ 3600)."""
    w1 = algorithm("wasserstein_1")
    mu, nu = pair
    primal = _w1(w1, mu, nu)
    support = np.vstack([mu.support, nu.support])
    a = np.r_[mu.weights, np.zeros(len(nu.weights))]
    b = np.r_[np.zeros(len(mu.weights)), nu.weights]
    dual, _ = kr_dual(support, a, b)
    evidence.tight("primal OT = KR dual LP", primal, dual, rel=1e-8, abs=1e-10, headline=True)
    evidence.resolution("rejects a W₁ value off by a relative 1e-6 (near-miss control; tolerance 1e-8)")
    dual2, _ = kr_dual(support, a, b, lipschitz=2.0)
    evidence.tight("2-Lipschitz dual = 2 × 1-Lipschitz dual", dual2, 2 * dual, rel=1e-8, abs=1e-10)
    if support.shape[1] == 1:
        evidence.tight("1-D: W₁ = ∫|F_μ − F_ν|", primal, w1_cdf_1d(mu.support, mu.weights, nu.support, nu.weights),
                       rel=1e-10, abs=1e-12)
    keep = np.random.default_rng(_seed("kr-drop", len(support))).random((len(support),) * 2) > 0.3
    relaxed, _ = kr_dual(support, a, b, keep=keep)
    evidence.record("dual with 30% of the Lipschitz constraints dropped (≥ primal, or unbounded)", relaxed,
                    primal=primal)
    evidence.parameters(atoms=(len(mu.weights), len(nu.weights)), dim=support.shape[1])


# ------------------------------------------------------------------ wgan.minimax-form
@pytest.mark.claim("wgan.minimax-form", uses=["wasserstein_1"])
@settings(max_examples=examples(15))
@given(n=st.integers(2, 200), x=st.floats(-3, 3), shift=st.one_of(st.just(None), st.floats(-2, 2)),
       seed=st.integers(0, 2**32 - 1))
@example(n=50, x=0.5, shift=0.3, seed=0)
def test_parametric_critic_gives_a_lower_bound(evidence, algorithm, n, x, shift, seed):
    """WGAN: min_x max_y E_{μ̂ₙ} d_y − E_ω d_y(h_x(ω)). With h_x(ω) = x + ω, ω ~ N(0, 1), and
    the critic class d_y(a) = y·a, |y| ≤ 1, the inner max is |mean(μ̂ₙ) − mean(h_x sample)|
    exactly, and it is ≤ W₁ (the class is only part of the 1-Lipschitz functions), with
    equality when μ̂ₙ is a translate of the generator's sample."""
    w1 = algorithm("wasserstein_1")
    rng = np.random.default_rng(seed)
    fake = x + rng.standard_normal(n)
    real = fake + shift if shift is not None else rng.standard_normal(n) * rng.uniform(0.2, 3) + rng.uniform(-2, 2)
    ys = np.linspace(-1, 1, 2001)  # the critic parameter on a grid containing ±1
    inner = np.max(ys[:, None] * (real.mean() - fake.mean()) * np.ones((1, 1)), axis=0)[0]
    evidence.tight("inner max over |y| ≤ 1 = |mean(μ̂ₙ) − mean(h_x#p)|", inner, abs(real.mean() - fake.mean()),
                   rel=1e-14, abs=1e-14)
    value = w1(real[:, None], fake[:, None])
    evidence.tight("solver agrees with the 1-D formula ∫|F − G|", value,
                   w1_cdf_1d(real, np.full(n, 1 / n), fake, np.full(n, 1 / n)), rel=1e-10, abs=1e-12)
    evidence.upper_bound("parametric critic: inner max ≤ W₁", inner, value, rel=1e-12, abs=1e-12, headline=True)
    evidence.resolution("rejects a W₁ value off by a relative 1e-8 (the 1-D formula, tolerance 1e-10)")
    if shift is not None:
        evidence.tight("translate: inner max = W₁ = |shift|", value, abs(shift), rel=1e-10, abs=1e-12)
    evidence.parameters(n=n, x=x, shift=shift)


# --------------------------------------------------------- wgan.lipschitz-enforcement
def _aligned_linear_stack(widths, spectra, seed):
    """W_l = U_{l} diag(s_l) U_{l−1}ᵀ with the top singular vectors chained, so the product
    has ‖Π W_l‖₂ = Π σ_max(W_l): a deep *linear* net (identity is 1-Lipschitz) whose
    normalised Lipschitz constant is exactly 1, attained by the read-out u = U_L e₁.
    Returns (weights, u)."""
    rng = np.random.default_rng(seed)
    Us = [np.linalg.qr(rng.standard_normal((w, w)))[0] for w in widths]
    out = []
    for l in range(len(widths) - 1):
        s = np.zeros((widths[l + 1], widths[l]))
        k = min(widths)
        s[np.arange(k), np.arange(k)] = spectra[l][:k]
        out.append(Us[l + 1] @ s @ Us[l].T)
    return out, Us[-1][:, 0]


def _critic_and_gradient(weights, readout, X: np.ndarray, relu: bool):
    """The critic x ↦ uᵀ W_L σ(… σ(W_1 x)) (σ = ReLU or identity, both 1-Lipschitz; ‖u‖ = 1)
    and its input gradient by backpropagation, for a batch X (N, d)."""
    h, masks = X, []
    for k, W in enumerate(weights):
        h = h @ W.T
        if k < len(weights) - 1:
            masks.append(h > 0 if relu else np.ones_like(h, dtype=bool))
            h = np.where(masks[-1], h, 0.0)
    g = np.broadcast_to(readout @ weights[-1], (len(X), weights[-1].shape[1]))
    for k in range(len(weights) - 2, -1, -1):
        g = (g * masks[k]) @ weights[k]
    return h @ readout, g


@pytest.mark.claim("wgan.lipschitz-enforcement", uses=["spectral_norm_estimate"])
@settings(max_examples=examples(5))
@given(depth=st.integers(2, 4), width=st.integers(2, 12), gap=st.floats(0.02, 0.5), seed=st.integers(0, 2**32 - 1))
@example(depth=3, width=8, gap=0.05, seed=0)
def test_spectral_normalisation_is_1_lipschitz(evidence, algorithm, depth, width, gap, seed):
    """Spectral normalisation makes an MLP with 1-Lipschitz activations 1-Lipschitz:
    Lip ≤ Π‖W_l/σ(W_l)‖₂ = 1 (Miyato et al., ICLR 2018). (i) Each normalised layer has
    ‖W/σ̂‖₂ ≤ 1 + 1e-6 (exact SVD); (ii) ReLU MLP: input-gradient norms ≤ 1 + 1e-6 at 10⁴
    random points and along segments; (iii) an aligned deep linear stack attains 1, so an
    under-estimated σ̂ shows as a gradient norm > 1. Weight clipping: Lip ≤ Π c√(fan_in·fan_out)
    (loose, ratio recorded); a gradient penalty constrains sampled points only (a critic
    with zero penalty on its samples and Lipschitz constant 1 + Aω is recorded)."""
    # (iii) is what makes the check sensitive: the aligned stack's gradient is exactly Πσ_l/σ̂_l
    estimate = algorithm("spectral_norm_estimate")
    rng = np.random.default_rng(seed)
    widths = [width] * (depth + 1)
    spectra = [np.sort(rng.uniform(0.5, 3.0, width))[::-1] for _ in range(depth)]
    for s in spectra:
        s[1:] = np.minimum(s[1:], s[0] * (1 - gap))  # spectral gap of the top singular value
    weights, readout = _aligned_linear_stack(widths, spectra, seed)
    sn = [W / estimate(W) for W in weights]  # spectral normalisation with the estimator under test
    evidence.upper_bound("‖W_l/σ̂(W_l)‖₂ (exact SVD)", [np.linalg.norm(W, 2) for W in sn], 1.0, abs=1e-6)
    X = rng.standard_normal((10_000, width))
    for name, act in (("aligned linear stack", False), ("ReLU MLP", True)):
        value, grad = _critic_and_gradient(sn, readout, X, act)
        evidence.upper_bound(f"{name}: ‖∇ₓ critic‖ at 10⁴ points", np.linalg.norm(grad, axis=1).max(), 1.0, abs=1e-6,
                             headline=not act)
        t = np.linspace(0, 1, 201)[:, None]
        seg = X[:1] * (1 - t) + X[1:2] * t
        v, _ = _critic_and_gradient(sn, readout, seg, act)
        slope = np.abs(np.diff(v)) / np.linalg.norm(np.diff(seg, axis=0), axis=1)
        evidence.upper_bound(f"{name}: difference quotients along a segment", slope.max(), 1.0, abs=1e-6)
    c = 0.01
    clipped = [np.clip(W, -c, c) for W in weights]
    bound = np.prod([c * math.sqrt(W.shape[0] * W.shape[1]) for W in clipped])
    lip = np.linalg.norm(np.linalg.multi_dot(clipped[::-1]), 2)
    evidence.upper_bound("weight clipping (linear stack): Lip ≤ Π c√(fan_in·fan_out)", lip, bound, rel=1e-12)
    evidence.record("weight clipping: bound / actual Lipschitz constant (looseness)", float(bound / lip))
    A, omega = 0.5, math.pi  # critic d(a) = a + A sin(ωa): d′ = 1 + Aω cos(ωa) = 1 on samples a = k + ½
    samples = np.arange(-5, 5) + 0.5
    penalty = np.mean((1 + A * omega * np.cos(omega * samples) - 1) ** 2)
    evidence.record("gradient penalty on the samples vs the critic's Lipschitz constant", float(penalty),
                    lipschitz=1 + A * omega)
    evidence.parameters(depth=depth, width=width, gap=gap)
    evidence.resolution("rejects a spectral-norm estimate 1e-5 (relative) too small: the aligned stack's "
                        "gradient is then (1 − 1e-5)^(−depth) > 1 + 1e-6")
