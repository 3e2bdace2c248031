"""Slide "Basic algorithms for minimax": GDA, PPM, EG, OGDA, RFBS on min_x max_y x^T B y.

Every check compares the implementation under test (from the registry) with the
exact linear-map oracle of problems.minimax.linear_maps on games of known singular
spectrum. Tolerances are float64 rounding accumulated over the steps run (a
few ulps per step and per coordinate), unless a comment says otherwise.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.support import examples, search_counterexample
from problems.minimax.bilinear import BilinearGame, bilinear_games
from problems.minimax.games import AffineOperator, weird_saddle
from problems.minimax.linear_maps import convergence_threshold, one_step_modulus, spectral_radius

UNIT = BilinearGame.from_spectrum([1.0], 1, 1, seed=0)  # the slide's game min_x max_y xy
STARTS = 8  # starting points per instance, one batch
ROUNDING = 1e-12  # relative: ~1e2 ulps, covers the rounding of <= 40 steps in dimension <= 12
# The near-miss controls (checks/quality/test_08_bilinear_controls.py) run each method with its step
# off by this relative amount: 1e6 times the rounding tolerance, far below any threshold effect.
STEP_RESOLUTION = 1e-6
RESOLUTION = (f"rejects a relative step-size error >= {STEP_RESOLUTION:g} (near-miss control); "
              "the thresholds themselves are exact (sympy)")


def _block_prediction(game: BilinearGame, z0: np.ndarray, method: str, alpha: float, k: int):
    """Exact energies after k steps of a one-step method: e_j(k) = e_j(0) |mu(alpha sigma_j)|^(2k)."""
    e0, kernel = game.block_energies(z0)
    factor = one_step_modulus(method, alpha * game.sigma) ** 2
    return e0 * factor**k, kernel


def _one_step_check(evidence, game, run, method, alpha, steps):
    z0 = game.unit_sphere_points(STARTS, seed=1)
    # one step size per batch row (the contract allows both): exercises the batched path
    traj = run(game.operator, z0, np.full(STARTS, alpha), steps)
    e_pred, kernel_pred = _block_prediction(game, z0, method, alpha, steps)
    e_meas, kernel_meas = game.block_energies(traj[-1])
    # Rounding leaks ~eps * cond * d of the largest norm between blocks at every step; a block
    # that has decayed far below the others sees that leak as an absolute error in its amplitude.
    leak = steps * 1e-13 * np.sqrt(np.max(np.sum(traj**2, axis=-1)))
    evidence.tight("pair amplitudes after K steps", np.sqrt(e_meas), np.sqrt(e_pred), rel=ROUNDING * steps,
                   abs=leak)
    evidence.tight("kernel amplitude is invariant", np.sqrt(kernel_meas), np.sqrt(kernel_pred), rel=ROUNDING,
                   abs=leak)
    e0, _ = game.block_energies(z0)
    measured = (e_meas[:, 0] / e0[:, 0]) ** (1 / (2 * steps))  # per-step factor of the top singular pair
    predicted = one_step_modulus(method, alpha * game.sigma[0])
    amp0, amp_k = np.sqrt(e0[:, 0]), np.sqrt(e_pred[:, 0])
    # a relative error r in the K-th amplitude is a relative error r/K in its K-th root
    evidence.tight("per-step factor of the top singular pair", measured, predicted,
                   rel=ROUNDING * steps, abs=predicted * (leak / amp_k + leak / amp0) / steps, headline=True)
    evidence.resolution(RESOLUTION)
    return traj, predicted


def _draw_orbits(fig, trajectories: dict[str, np.ndarray], title: str):
    ax = fig.add_subplot(111)
    for label, tr in trajectories.items():
        ax.plot(tr[:, 0, 0], tr[:, 0, 1], ".-", ms=2, lw=0.8, label=label)
    ax.plot([0], [0], "k*", ms=8, label="saddle point z*")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal", "datalim")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


# ------------------------------------------------------------------- GDA
@pytest.mark.claim("bilinear.gda-diverges", uses=["gradient_descent_ascent"])
@settings(max_examples=examples(25))
@given(game=bilinear_games(), step=st.floats(0.01, 1.5))
@example(game=UNIT, step=0.1)
def test_gda_growth_factor(evidence, algorithm, game, step):
    """||z_{k+1}||^2 = ||z_k||^2 + alpha^2 ||A z_k||^2 exactly (A skew), so along
    each singular pair GDA grows by exactly sqrt(1 + alpha^2 sigma^2) per step."""
    gda = algorithm("gradient_descent_ascent")
    alpha = step / game.sigma[0]
    evidence.parameters(n=game.n, m=game.m, sigma=game.sigma, alpha=alpha)
    traj, factor = _one_step_check(evidence, game, gda, "gradient_descent_ascent", alpha, steps=30)
    az = traj[:-1] @ game.A.T
    evidence.tight("per-step identity ||z+||^2 = ||z||^2 + a^2||Az||^2", np.sum(traj[1:] ** 2, -1),
                   np.sum(traj[:-1] ** 2, -1) + alpha**2 * np.sum(az**2, -1), rel=ROUNDING)
    evidence.lower_bound("top-pair factor exceeds 1 (divergence)", factor - 1, 0.0, abs=0.0)
    evidence.figure("orbit", lambda fig: _draw_orbits(
        fig, {"GDA": gda(UNIT.operator, np.array([[1.0, 0.0]]), 0.1, 60)},
        "GDA on min_x max_y xy, alpha = 0.1: spirals out"))


# ------------------------------------------------------------------- PPM
@pytest.mark.claim("bilinear.ppm-converges", uses=["proximal_point"])
@settings(max_examples=examples(25))
@given(game=bilinear_games(), step=st.floats(0.05, 20.0))
@example(game=UNIT, step=0.1)
def test_ppm_contraction(evidence, algorithm, game, step):
    """z_{k+1} = (I + alpha A)^{-1} z_k contracts each pair by exactly
    1/sqrt(1 + alpha^2 sigma^2), for every alpha > 0."""
    ppm = algorithm("proximal_point")
    alpha = step / game.sigma[0]
    evidence.parameters(n=game.n, m=game.m, sigma=game.sigma, alpha=alpha)
    traj, factor = _one_step_check(evidence, game, ppm, "proximal_point", alpha, steps=10)
    evidence.upper_bound("top-pair factor below 1 (convergence)", factor, 1.0)
    norms = np.linalg.norm(traj, axis=-1)
    # a kernel component does not contract: once the rest has decayed, ||z_k|| is flat up to one step's
    # rounding, the per-step leak of _one_step_check (eps * cond * d <= 1e-13 of the norm; abs 1e-15 failed
    # at 1.1e-15 under a fresh seed)
    evidence.monotone("||z_k|| decreases", norms, abs=1e-13 * float(norms.max()))
    evidence.figure("orbit", lambda fig: _draw_orbits(
        fig, {"PPM": ppm(UNIT.operator, np.array([[1.0, 0.0]]), 0.1, 60)},
        "PPM on min_x max_y xy, alpha = 0.1: spirals in"))


# -------------------------------------------------------------------- EG
@pytest.mark.claim("bilinear.eg-converges", "bilinear.slide-formula-3", uses=["extragradient",
                                                                              "gradient_descent_ascent"])
@settings(max_examples=examples(25))
@given(game=bilinear_games(), fraction=st.one_of(st.floats(0.05, 0.95), st.floats(1.05, 1.5)))
@example(game=UNIT, fraction=0.5)
@example(game=UNIT, fraction=1.2)
def test_eg_rate(evidence, algorithm, game, fraction):
    """EG's map I - alpha A + alpha^2 A^2 is normal with |lambda|^2 = 1 - s^2 + s^4,
    s = alpha sigma: EG converges iff alpha sigma_max < 1 (threshold from the
    oracle), checked on both sides of it."""
    eg = algorithm("extragradient")
    threshold = float(convergence_threshold("extragradient"))
    alpha = fraction * threshold / game.sigma[0]
    evidence.parameters(sigma=game.sigma, alpha_sigma_max=fraction * threshold, threshold=threshold)
    traj, factor = _one_step_check(evidence, game, eg, "extragradient", alpha, steps=30)
    if fraction < 1:
        evidence.upper_bound("top-pair factor below 1 when alpha sigma < 1", factor, 1.0)
    else:
        evidence.lower_bound("top-pair factor above 1 when alpha sigma > 1", factor, 1.0)
    evidence.figure("orbit", lambda fig: _draw_orbits(
        fig, {"EG, alpha = 0.5": eg(UNIT.operator, np.array([[1.0, 0.0]]), 0.5, 40),
              "GDA, alpha = 0.5": algorithm("gradient_descent_ascent")(UNIT.operator, np.array([[1.0, 0.0]]), 0.5, 8)},
        "EG converges on xy, GDA does not"))


# ------------------------------------------------------ two-step methods
def _companion(A: np.ndarray, current: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """[z_{k+1}; z_k] = M [z_k; z_{k-1}] for z_{k+1} = current z_k + previous z_{k-1}."""
    d = A.shape[0]
    return np.block([[current, previous], [np.eye(d), np.zeros((d, d))]])


COMPANIONS = {
    # z+ = z - a(2Az - Az_prev)
    "optimistic_gda": lambda A, a: _companion(A, np.eye(len(A)) - 2 * a * A, a * A),
    # z+ = z - aA(2z - z_prev): the same map for linear V
    "reflected_forward_backward": lambda A, a: _companion(A, np.eye(len(A)) - 2 * a * A, a * A),
    # z+ = z - aA(z - aA z_prev)
    "slide_third_formula": lambda A, a: _companion(A, np.eye(len(A)) - a * A, a * a * A @ A),
}


def _two_step_check(evidence, algorithm, method, game, fraction, threshold):
    """The implementation reproduces the exact linear recursion, and converges
    (diverges) below (above) the oracle's threshold at the predicted rate."""
    run = algorithm(method)
    alpha = fraction * threshold / game.sigma[0]
    rho = float(spectral_radius(method, alpha * game.sigma).max())
    # enough steps that convergence/divergence is unmistakable (rho^K beyond 1e-6 or 1e6)
    steps = int(np.ceil(14.0 / abs(np.log(rho))))
    evidence.parameters(sigma=game.sigma, alpha_sigma_max=fraction * threshold, threshold=threshold, steps=steps)
    z0 = game.unit_sphere_points(STARTS, seed=2)
    z_prev = game.unit_sphere_points(STARTS, seed=3)  # a history distinct from z0 exercises z_{-1}
    traj = run(game.operator, z0, np.full(STARTS, alpha), steps, z_prev=z_prev)
    evidence.holds("trajectory shape (K + 1, B, d)", traj.shape == (steps + 1, *z0.shape), str(traj.shape))

    short = min(steps, 30)
    m = np.linalg.matrix_power(COMPANIONS[method](game.A, alpha), short)
    exact = (np.concatenate([z0, z_prev], axis=1) @ m.T)[:, : z0.shape[1]]
    evidence.tight("first 30 steps equal the exact linear recursion", traj[short], exact,
                   rel=ROUNDING * short, abs=ROUNDING * short * np.abs(exact).max())
    evidence.resolution(RESOLUTION)

    # distance to the solution set (the kernel directions never move): the non-kernel amplitude
    dist = np.sqrt(game.block_energies(traj[[steps // 2, steps]])[0].sum(-1))
    rate = np.log(dist[1] / dist[0]) / (steps - steps // 2)
    evidence.record("late-time log-rate per step (median over starts) vs log spectral radius",
                    float(np.median(rate)), log_spectral_radius=float(np.log(rho)))
    final = dist[1]
    if fraction < 1:
        evidence.upper_bound("dist(z_K, solutions) -> 0 below the threshold", final, 1e-3, headline=True)
    else:
        evidence.lower_bound("dist(z_K, solutions) -> infinity above the threshold", final, 1e3, headline=True)
    return rho


def _draw_radii(fig):
    ax = fig.add_subplot(111)
    s = np.linspace(0.01, 1.3, 400)
    for method, label in [("gradient_descent_ascent", "GDA"), ("proximal_point", "PPM"),
                          ("extragradient", "EG"), ("optimistic_gda", "OGDA = RFBS"),
                          ("slide_third_formula", "slide formula 3 (as printed)")]:
        ax.plot(s, spectral_radius(method, s), label=label)
    for method in ("extragradient", "optimistic_gda", "slide_third_formula"):
        ax.axvline(float(convergence_threshold(method)), color="grey", lw=0.6, ls=":")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xlabel("alpha * sigma")
    ax.set_ylabel("spectral radius of the iteration map")
    ax.set_ylim(0.5, 1.6)
    ax.legend(fontsize=7)


@pytest.mark.claim("bilinear.ogda-converges", uses=["optimistic_gda"])
@settings(max_examples=examples(20))
@given(game=bilinear_games(), fraction=st.one_of(st.floats(0.3, 0.95), st.floats(1.05, 1.5)))
@example(game=UNIT, fraction=0.56 * 3**0.5)  # catalogue: alpha sigma = 0.56 converges
@example(game=UNIT, fraction=0.60 * 3**0.5)  # and 0.60 diverges
def test_ogda_threshold(evidence, algorithm, game, fraction):
    """OGDA z+ = z - alpha[2V(z) - V(z_prev)] on xy: characteristic polynomial
    mu^2 - (1 - 2 i s) mu - i s; converges iff s = alpha sigma < 1/sqrt(3)."""
    threshold = convergence_threshold("optimistic_gda")
    evidence.record("threshold (sympy)", str(threshold), value_float=float(threshold))
    evidence.tight("threshold equals 1/sqrt(3)", float(threshold), 3**-0.5, rel=1e-15)
    evidence.tight("spectral radius at alpha sigma = 1/2 is 1/sqrt(2)",
                   spectral_radius("optimistic_gda", 0.5)[0], 2**-0.5, rel=1e-12)
    _two_step_check(evidence, algorithm, "optimistic_gda", game, fraction, float(threshold))
    evidence.figure("spectral-radius", _draw_radii, "Spectral radius per singular pair vs alpha*sigma; "
                    "dotted lines: exact thresholds 1 (EG), 1/sqrt(3) (OGDA/RFBS), 0.44038 (slide formula 3)")


@pytest.mark.claim("bilinear.rfbs-converges", uses=["reflected_forward_backward"])
@settings(max_examples=examples(20))
@given(game=bilinear_games(), fraction=st.one_of(st.floats(0.3, 0.95), st.floats(1.05, 1.5)))
@example(game=UNIT, fraction=0.5)
def test_rfbs_threshold(evidence, algorithm, game, fraction):
    """RFBS z+ = z - alpha V(2z - z_prev) has the OGDA threshold 1/sqrt(3) on xy."""
    threshold = float(convergence_threshold("reflected_forward_backward"))
    _two_step_check(evidence, algorithm, "reflected_forward_backward", game, fraction, threshold)


@pytest.mark.claim("bilinear.rfbs-converges", uses=["optimistic_gda", "reflected_forward_backward"])
@settings(max_examples=examples(15))
@given(game=bilinear_games(), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_rfbs_equals_ogda_on_affine_only(evidence, algorithm, game, fraction, seed):
    """For affine V, 2V(z_k) - V(z_{k-1}) = V(2z_k - z_{k-1}): RFBS and OGDA give
    identical iterates; for nonlinear V (the weird saddle) they differ."""
    rfbs, ogda = algorithm("reflected_forward_backward"), algorithm("optimistic_gda")
    alpha = fraction * 3**-0.5 / game.sigma[0]
    z0 = game.unit_sphere_points(STARTS, seed)
    b = np.random.default_rng(seed).standard_normal(z0.shape[1])
    affine = AffineOperator(game.A, game.n, b)  # affine, not just linear
    t1, t2 = rfbs(affine, z0, alpha, 20), ogda(affine, z0, alpha, 20)
    evidence.tight("affine V: RFBS iterates = OGDA iterates", t1, t2, rel=ROUNDING * 20,
                   abs=ROUNDING * 20 * np.abs(t2).max())
    evidence.resolution(RESOLUTION.split(";")[0])
    ws = weird_saddle()
    # starts in the annulus 0.25 <= |w0| <= 0.5, away from the stationary origin: there the two rules differ
    # by alpha D^2V(z)[d, d] per step (V is cubic: the second difference is exact), d ~ alpha V(z), i.e.
    # ~1e-6 per step at |z| = 0.25 (measured minimum over 24000 starts after 10 steps: 2e-5); near the
    # origin the difference vanishes like |z|^3 and a start there says nothing
    rng = np.random.default_rng(seed)
    radius, angle = rng.uniform(0.25, 0.5, STARTS), rng.uniform(0, 2 * np.pi, STARTS)
    w0 = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    gap = np.abs(rfbs(ws, w0, 0.05, 10)[-1] - ogda(ws, w0, 0.05, 10)[-1]).max(axis=-1)
    evidence.lower_bound("nonlinear V (weird saddle): iterates differ after 10 steps", gap, 1e-6)


# ------------------------------------------------- EG and OGDA vs PPM
def _one_step_map(run, op: AffineOperator, alpha: float, z_prev_map: np.ndarray | None = None) -> np.ndarray:
    """T with z_1 = T z_0, read off by running one step from each basis vector."""
    eye = np.eye(op.dim)
    z_prev = None if z_prev_map is None else eye @ z_prev_map.T
    return run(op, eye, alpha, 1, z_prev=z_prev)[1].T if z_prev is not None else run(op, eye, alpha, 1)[1].T


@pytest.mark.claim("bilinear.eg-ogda-approximate-ppm", uses=["extragradient", "gradient_descent_ascent",
                                                             "optimistic_gda", "proximal_point"])
@settings(max_examples=examples(10))
@given(game=bilinear_games())
@example(game=UNIT)
def test_eg_and_ogda_approximate_ppm(evidence, algorithm, game):
    """T_EG - T_PPM = (alpha A)^3 (I + alpha A)^{-1}: ||.|| = max s^3/sqrt(1+s^2), O(alpha^3);
    OGDA with the PPM-consistent history z_{-1} = (I + alpha A) z_0 has the same map as EG;
    GDA's local error is O(alpha^2)."""
    op = game.operator
    alphas = np.logspace(-3, -1, 7) / game.sigma[0] * 2  # alpha sigma_max in [2e-3, 0.2]
    errs = {"extragradient": [], "optimistic_gda": [], "gradient_descent_ascent": []}
    for a in alphas:
        t_ppm = _one_step_map(algorithm("proximal_point"), op, a)
        errs["extragradient"].append(np.linalg.norm(_one_step_map(algorithm("extragradient"), op, a) - t_ppm, 2))
        errs["gradient_descent_ascent"].append(
            np.linalg.norm(_one_step_map(algorithm("gradient_descent_ascent"), op, a) - t_ppm, 2))
        history = np.eye(op.dim) + a * game.A
        errs["optimistic_gda"].append(
            np.linalg.norm(_one_step_map(algorithm("optimistic_gda"), op, a, history) - t_ppm, 2))
    s = alphas[:, None] * game.sigma[None, :]
    exact = {"extragradient": np.max(s**3 / np.sqrt(1 + s**2), axis=1),
             "optimistic_gda": np.max(s**3 / np.sqrt(1 + s**2), axis=1),
             "gradient_descent_ascent": np.max(s**2 / np.sqrt(1 + s**2), axis=1)}
    order = {"extragradient": 3, "optimistic_gda": 3, "gradient_descent_ascent": 2}
    for method, e in errs.items():
        e = np.asarray(e)
        # the difference of two O(1) maps carries ~1e2 ulps of absolute rounding
        evidence.tight(f"||T_{method} - T_PPM|| (exact closed form)", e, exact[method], rel=1e-9, abs=1e-13)
        slope = np.polyfit(np.log(alphas), np.log(e), 1)[0]
        # exact slope of log(s^p/sqrt(1+s^2)) is p - s^2/(1+s^2) on average: within 0.05 of p for s <= 0.2
        evidence.tight(f"local-error order of {method}", slope, order[method], abs=0.05,
                       headline=method == "extragradient")
    evidence.parameters(sigma=game.sigma, alpha_sigma_max=[float(a * game.sigma[0]) for a in alphas[[0, -1]]])
    evidence.resolution(RESOLUTION.split(";")[0] + " (the one-step map then misses the closed form by ~1e-6 alpha sigma)")

    def draw(fig):
        ax = fig.add_subplot(111)
        for method, label in [("extragradient", "EG"), ("optimistic_gda", "OGDA (PPM history)"),
                              ("gradient_descent_ascent", "GDA")]:
            ax.loglog(alphas * game.sigma[0], errs[method], "o-", label=f"{label} - PPM")
        ax.set_xlabel("alpha * sigma_max")
        ax.set_ylabel("||T_method - T_PPM||")
        ax.legend(fontsize=7)
    evidence.figure("local-error", draw, "One-step map error against PPM: slope 3 for EG/OGDA, 2 for GDA")


# -------------------------------------------------- slide formula 3
@pytest.mark.claim("bilinear.slide-formula-3", uses=["extragradient", "slide_third_formula"])
@pytest.mark.no_near_miss("the search compares convergence (spectral radius vs 1) of two exact linear maps; the "
                          "registry runs are judged beyond 1e3 / below 1e-3, far from any boundary")
def test_slide_formula_as_printed_is_not_eg(evidence, algorithm, formula="slide_third_formula"):
    """The slide's list "GDA, PPM, EG, OGDA, RFBS" prints EG's update as z+ = z - alpha V(z - alpha V(z_{k-1})).
    As printed it is not EG: hypothesis searches s = alpha sigma in [0.01, 0.99], where EG converges on xy
    (|lambda|^2 = 1 - s^2 + s^4 < 1), for one where the printed recursion does not (exact spectral radius of its
    companion map >= 1), and shrinks it. At the shrunk s the registry's implementations confirm it on xy:
    the printed recursion's distance to z* exceeds 1e3, EG's falls below 1e-3. The corrected formula,
    EG's z+ = z - alpha V(z - alpha V(z)), is verified by test_eg_rate. ``formula="extragradient"``
    searches EG against itself, a world where the printed formula is EG: the check then fails."""
    # s in [0.01, 0.99]: below 0.01 both radii are 1 - O(s^2) ~ 1 - 1e-4, and s -> 0 would only probe rounding;
    # "does not converge": radius above 1 by more than the rounding of a 4x4 eigen-solve (1e-12)
    found = search_counterexample(st.floats(0.01, 0.99),
                                  lambda x: float(spectral_radius(formula, np.array([x]))[0]) > 1.0 + 1e-12,
                                  "bilinear.slide-formula-3", formula, max_examples=100)
    rho_printed = float(spectral_radius(formula, np.array([found]))[0])
    rho_eg = float(spectral_radius("extragradient", np.array([found]))[0])
    evidence.record("shrunk counterexample (hypothesis): alpha sigma", found, printed_radius=rho_printed,
                    eg_radius=rho_eg)
    steps = int(np.ceil(14.0 / min(abs(np.log(rho_printed)), abs(np.log(rho_eg)))))
    z0 = np.array([[1.0, 0.0]])
    printed = algorithm(formula)(UNIT.operator, z0, found, steps, z_prev=z0)
    eg = algorithm("extragradient")(UNIT.operator, z0, found, steps)
    evidence.lower_bound(f"printed formula at alpha sigma = {found:g}: |z_K - z*| (diverges)",
                         np.linalg.norm(printed[-1]), 1e3, headline=True)
    evidence.upper_bound(f"EG at alpha sigma = {found:g}: |z_K - z*| (converges)", np.linalg.norm(eg[-1]), 1e-3)
    evidence.parameters(alpha_sigma=found, steps=steps, formula=formula)
    evidence.corrects(
        "The third formula of the slide's list (GDA, PPM, EG, OGDA, RFBS) is printed with V(z_{k-1}) inside: that "
        "recursion is neither EG nor Popov and converges on xy only for alpha sigma < 0.4404; EG's update "
        "z+ = z - alpha V(z - alpha V(z)) converges for alpha sigma < 1 (test_eg_rate).",
        counterexample=(f"min_x max_y xy, alpha = {found:g}: the printed recursion has spectral radius "
                        f"{rho_printed:.4f} > 1 and diverges, EG's {rho_eg:.4f} < 1 (hypothesis-shrunk)"))


@pytest.mark.claim("bilinear.slide-formula-3", uses=["slide_third_formula"])
@settings(max_examples=examples(15))
@given(game=bilinear_games(), fraction=st.one_of(st.floats(0.3, 0.95), st.floats(1.05, 1.5)))
@example(game=UNIT, fraction=0.9)
def test_slide_formula_as_printed(evidence, algorithm, game, fraction):
    """z+ = z - alpha V(z - alpha V(z_prev)), as printed: on xy its characteristic
    polynomial is mu^2 - (1 - i s) mu + s^2, and it converges iff s < s*, s*^2 the
    smallest positive root of t^3 - t^2 - 5t + 1 (s* = 0.440382...)."""
    threshold = convergence_threshold("slide_third_formula")
    value = float(threshold.evalf(20))
    evidence.record("threshold (sympy, exact root)", str(threshold), value_float=value)
    evidence.tight("threshold s*", value, 0.4403822958233340, rel=1e-14)
    evidence.note("The catalogue's 0.44048 came from a coarse scan; the exact threshold is "
                  "0.4403823 (spectral radius at 0.44048 is 1.00005 > 1).")
    _two_step_check(evidence, algorithm, "slide_third_formula", game, fraction, value)


@pytest.mark.claim("bilinear.slide-formula-3", uses=["optimistic_gda", "past_extragradient"])
@settings(max_examples=examples(10))
@given(seed=st.integers(0, 2**16), alpha=st.floats(0.01, 0.2))
def test_popov_extrapolation_sequence_is_ogda(evidence, algorithm, seed, alpha):
    """Popov: zbar_k = z_k - alpha V(zbar_{k-1}), z_{k+1} = z_k - alpha V(zbar_k). Its
    zbar-sequence satisfies zbar_{k+1} = zbar_k - 2 alpha V(zbar_k) + alpha V(zbar_{k-1}),
    i.e. it *is* OGDA, for any V (checked on the nonlinear weird saddle). The starts are drawn in
    [-0.5, 0.5]^2: the saddle's field is cubic and unprojected iterates from [-0.8, 0.8]^2 overflowed
    within 25 steps for 62 of 12000 (seed, alpha) pairs (a fresh-seed error, not a test of the
    identity); from [-0.5, 0.5]^2, 2e4 starts x 8 steps in [0.01, 0.2] stayed within |z| <= 0.74."""
    popov, ogda = algorithm("past_extragradient"), algorithm("optimistic_gda")
    ws = weird_saddle()
    rng = np.random.default_rng(seed)
    z0 = rng.uniform(-0.5, 0.5, (STARTS, 2))
    bar_prev = rng.uniform(-0.5, 0.5, (STARTS, 2))
    steps = 25
    z = popov(ws, z0, alpha, steps, z_prev=bar_prev)
    bars = [bar_prev]
    for k in range(steps):  # recover zbar_k = z_k - alpha V(zbar_{k-1}) from the z-sequence
        bars.append(z[k] - alpha * ws(bars[-1]))
    bars = np.stack(bars[1:])
    via_ogda = ogda(ws, bars[0], alpha, steps - 1, z_prev=bar_prev)
    evidence.holds("trajectory shape (K + 1, B, d)", z.shape == (steps + 1, *z0.shape), str(z.shape))
    evidence.tight("Popov's zbar-sequence equals OGDA's iterates", via_ogda, bars, rel=1e-12, abs=1e-14)
    # default history zbar_{-1} = z_0: the same identity from that start
    z_default = popov(ws, z0, alpha, steps)
    first_bar = z_default[0] - alpha * ws(z0)
    evidence.tight("default zbar_{-1} = z_0", z_default[1], z0 - alpha * ws(first_bar), rel=1e-12, abs=1e-14)
    evidence.resolution(RESOLUTION.split(";")[0])
    evidence.parameters(alpha=alpha, seed=seed, steps=steps)
