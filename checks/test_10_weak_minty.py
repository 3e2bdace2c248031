"""Slide 38: the weak Minty VI, its constant rho, EG+ (Diakonikolas, Daskalakis,
Jordan, AISTATS 2021) and the matching lower bound (Pethick, Latafat, Patrinos,
Fercoq, Cevher, ICLR 2022, Thm 3.4).

Instances: the linear family Phi = a xy + (b/2)(x^2 - y^2) (L, rho exact by
construction), the polar game and Forsaken (constants reproduced by the oracle
of problems.minimax.minty_oracles). EG+ with gamma = 1/L and damping alpha on the linear
game has |lambda|^2 - 1 = 2 alpha (c + 1)(alpha + 2c - 1), c = -rho L (derived
symbolically in the oracle, checked here).

Lyapunov bound used below (unconstrained EG+, gamma <= 1/L, weak MVI at zbar_k,
L-Lipschitz between z_k and zbar_k; the standard argument of DDJ 2021 and
Pethick et al. 2022):
    ||z_{k+1} - z*||^2 <= ||z_k - z*||^2 - alpha gamma (2 rho + gamma (1 - alpha)) ||V(zbar_k)||^2,
so ||z_k - z*|| is non-increasing and
    sum_{k<K} ||V(zbar_k)||^2 <= ||z_0 - z*||^2 / (alpha gamma (2 rho + gamma (1 - alpha))).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from checks.support import examples, search_counterexample
from problems.minimax.minty_certificates import certified_constants
from problems.minimax.minty_games import (FORSAKEN_RHO, POLAR_REFERENCE, Box, forsaken, global_forsaken,
                                          linear_minty_game, linear_minty_games, polar_game)
from problems.minimax.minty_oracles import (eg_plus_modulus_squared, eg_plus_spectral_radius, lipschitz_on_domain,
                                    weak_minty_ratio, weak_minty_rho_symbolic)

ROUNDING = 1e-12  # relative float64 rounding per step of a 2-D linear recursion (a few ulps, 10x margin)


def lyapunov_terms(traj: np.ndarray, operator, gamma, solution) -> tuple[np.ndarray, np.ndarray]:
    """(||z_k - z*|| for all k, cumulative sum over k of ||V(zbar_k)||^2), zbar_k = z_k - gamma V(z_k).
    The operators of this module evaluate any leading shape (K, B, d)."""
    g = np.asarray(gamma, float)
    g = g[:, None] if g.ndim == 1 else g
    z_bar = traj - g * operator(traj)
    v_bar = operator(z_bar)
    return np.linalg.norm(traj - solution, axis=-1), np.cumsum(np.sum(v_bar[:-1] ** 2, axis=-1), axis=0)


def linear_v(game, z: np.ndarray) -> np.ndarray:
    return np.einsum("bij,kbj->kbi", game.A, z)


def measured_factor(traj: np.ndarray) -> np.ndarray:
    """Per-step factor (||z_K|| / ||z_0||)^(1/K): for the normal 2x2 blocks of the linear
    family, ||M z|| = |lambda| ||z|| exactly, so this *is* the spectral radius."""
    steps = len(traj) - 1
    return (np.linalg.norm(traj[-1], axis=-1) / np.linalg.norm(traj[0], axis=-1)) ** (1.0 / steps)


# ----------------------------------------------------- wmvi.definition-and-rho
@lru_cache(maxsize=1)
def _symbolic_rho_of_linear_family() -> sp.Expr:
    a, b = sp.symbols("a b", real=True, positive=True)
    return sp.simplify(weak_minty_rho_symbolic(sp.Matrix([[-b, a], [-a, -b]])) - (-b) / (a**2 + b**2))


@st.composite
def minty_points(draw):
    """An instance of the linear family (L, rho L drawn) and a point z = z* + t (cos th, sin th), t in [0, 2]."""
    L, rho_L = draw(st.floats(0.5, 5.0)), draw(st.floats(-0.99, 0.0))
    return L, rho_L, draw(st.floats(0.0, 2.0)), draw(st.floats(0.0, 2 * np.pi))


@pytest.mark.claim("wmvi.definition-and-rho", uses=["weak_minty_rho"])
@pytest.mark.no_near_miss("exact: at z = z* both sides are 0, so '>' fails and '>=' holds, for every V and rho")
def test_weak_mvi_strict_inequality_as_printed(evidence, algorithm, strict=True):
    """The slide's definition, as printed: "<V(z), z - z*> > rho ||V(z)||^2 for all z in R^n". Hypothesis
    searches instances of the linear family, with rho' = (oracle's rho) - 0.01/L strictly below the
    infimum of the ratio, and points z, for one where the printed inequality fails, and shrinks it: z = z*,
    where both sides are 0 (0 > 0 is false) — for every V and every rho, so as printed no operator
    satisfies the assumption. Off z* the inequality holds strictly (64 random points on the found
    instance and on three fixed ones, L = 0.5, 2, 5): the slip is '>' for '>=', which test_weak_minty_rho_of_linear_family and
    test_weak_minty_rho_of_polynomial_games verify. ``strict=False`` checks '>=' instead, a world where
    the printed definition holds: the search then finds nothing and the check fails."""
    rho_oracle = algorithm("weak_minty_rho")

    def sides(L, rho_L, z):
        game = linear_minty_game(np.array([L]), np.array([rho_L / L]))
        rho = float(rho_oracle(game.operator, Box(1.0), np.zeros((1, 2))).value[0]) - 0.01 / L
        v = linear_v(game, z[:, None, :])[:, 0]
        return np.sum(v * z, axis=-1), rho * np.sum(v**2, axis=-1)

    def literal_fails(inst):
        L, rho_L, t, th = inst
        lhs, rhs = sides(L, rho_L, t * np.array([[np.cos(th), np.sin(th)]]))
        return not bool((lhs > rhs)[0] if strict else (lhs >= rhs)[0])

    L, rho_L, t, th = search_counterexample(minty_points(), literal_fails, "wmvi.definition-and-rho", "strict",
                                            strict, max_examples=200)
    evidence.record("shrunk counterexample (hypothesis): (L, rho L, |z - z*|, angle)", [L, rho_L, t, th])
    evidence.tight("the counterexample is z = z*", t, 0.0)
    z = np.random.default_rng(0).standard_normal((64, 2))
    for L_off, rho_L_off in ((0.5, -0.9), (2.0, -0.5), (5.0, 0.0), (L, rho_L)):
        lhs, rhs = sides(L_off, rho_L_off, z)
        evidence.lower_bound(f"off z* (L = {L_off:g}, rho L = {rho_L_off:g}): <V(z), z - z*> - rho' ||V(z)||^2 "
                             "= 0.01 L |z|^2 > 0", lhs - rhs, 0.0)
    evidence.parameters(L=L, rho_L=rho_L, strict=strict)
    evidence.corrects(
        "As printed, with '>' for all z, the weak MVI fails at z = z* for every operator and every rho (both sides "
        "are 0): the assumption is unsatisfiable. It reads '>=' (Diakonikolas et al. 2021, Pethick et al. 2022), "
        "the form whose constant rho the oracle checks verify.",
        counterexample=(f"linear game with L = {L:g}, rho L = {rho_L:g}, any rho: at z = z* the printed "
                        "'<V(z), z - z*> > rho ||V(z)||^2' reads 0 > 0 (hypothesis-shrunk)"))


@pytest.mark.claim("wmvi.definition-and-rho", uses=["weak_minty_rho"])
@settings(max_examples=examples(15))
@given(game=linear_minty_games(rho_L=(-0.99, 0.0)))
@example(game=linear_minty_game(3.0, -1 / 9))  # the notebook's lower-bound instance, c = 1/3
def test_weak_minty_rho_of_linear_family(evidence, algorithm, game):
    """Phi = a x.y + (b/2)(|x|^2 - |y|^2), a = sqrt(L^2 - L^4 rho^2), b = L^2 rho: the
    oracle's rho equals b/L^2 (sympy: lambda_min sym(A^-1) = b/(a^2+b^2)), ||A|| = L,
    the value is attained at the reported argmin and no sampled point goes below it.
    The slide's strict '>' fails at z = z* (0 > 0); the condition holds with '>='."""
    evidence.resolution("rejects a rho off by a relative 1e-8 (tolerance 1e-9)")
    rho_oracle = algorithm("weak_minty_rho")
    evidence.holds("sympy: lambda_min(sym(A^-1)) = b/(a^2 + b^2) for A = [[b, a], [-a, b]]",
                   _symbolic_rho_of_linear_family() == 0)
    dim = 2 * game.n
    estimate = rho_oracle(game.operator, Box(1.0), np.zeros((len(game.L), dim)))
    evidence.parameters(L=game.L, rho_L=game.rho * game.L, n=game.n)
    # exact value b/L^2; the oracle's eigen-solve is accurate to ~1e2 ulps of 1/L
    evidence.tight("oracle rho = b / L^2", estimate.value, game.rho, rel=1e-9, abs=1e-12, headline=True)
    evidence.tight("||A||_2 = L", np.linalg.norm(game.A, 2, axis=(-2, -1)), game.L, rel=1e-12)
    at_min = np.sum(linear_v(game, estimate.argmin[None])[0] * estimate.argmin, -1) / np.sum(
        linear_v(game, estimate.argmin[None])[0] ** 2, -1)
    evidence.tight("ratio at the reported argmin equals rho (attained)", at_min, game.rho, rel=1e-9, abs=1e-12)
    samples = np.random.default_rng(0).standard_normal((400, len(game.L), dim))
    v = linear_v(game, samples)
    ratios = np.sum(v * samples, -1) / np.sum(v * v, -1)
    evidence.lower_bound("every sampled ratio >= rho (rho is a lower bound)", ratios.min(0), game.rho, abs=1e-12)
    # the slide's '>' at z = z*: V(z*) = 0, both sides 0
    evidence.holds("'>=' holds at z = z* and '>' fails there (0 > rho * 0 is false)",
                   np.all(linear_v(game, np.zeros((1, len(game.L), dim))) == 0))
    evidence.note("The slide writes <V(z), z - z*> > rho ||V(z)||^2 for all z: at z = z* both sides are 0, so "
                  "the strict form is unsatisfiable; the condition of the papers (and of this check) is '>='.")


# (instance, the catalogue's section-1 value, half a unit of its last quoted digit)
POLYNOMIAL_INSTANCES = [
    pytest.param(forsaken(0.45), -1.52057, 5e-6, id="forsaken-0.45"),
    # section 1 quotes the 801^2 grid value -1.76661 for c = 0.5, 3.1e-4 above the infimum: the reference
    # here is this harness's refined value (catalogue notes), the grid value is recorded beside it
    pytest.param(forsaken(0.5), FORSAKEN_RHO[0.5][0], 5e-7, id="forsaken-0.5", marks=pytest.mark.slow),
    pytest.param(global_forsaken("ball"), -0.119732, 5e-7, id="global-forsaken-ball", marks=pytest.mark.slow),
    pytest.param(global_forsaken("box"), -0.119732, 5e-7, id="global-forsaken-box"),
    *[pytest.param(polar_game(a), POLAR_REFERENCE[a][0], 0.0, id=f"polar-{a}", marks=pytest.mark.slow)
      for a in (sp.Integer(1), sp.Rational(3, 4), sp.Rational(1, 3))],
]


@pytest.mark.claim("wmvi.definition-and-rho", uses=["weak_minty_rho"])
@pytest.mark.parametrize("instance, reference, tolerance", POLYNOMIAL_INSTANCES)
def test_weak_minty_rho_of_polynomial_games(evidence, algorithm, instance, reference, tolerance):
    """rho = inf_D <V(z), z - z*>/||V(z)||^2 of Forsaken, GlobalForsaken and the polar games,
    *certified* in both directions (problems.minimax.minty_certificates: exact ratio at a point
    above, branch and bound with a mean-value box around z* below; the polar game in closed
    form): the catalogue's value lies in the certified interval to its quoted precision
    (the polar rationals exactly), the oracle under test (grid + L-BFGS-B, an upper-bound
    estimate) lands inside the interval, the ratio at its argmin equals its value, and the
    Lipschitz oracle lies in the certified interval of L."""
    evidence.resolution("rejects a catalogue value two quoted digits off the certified interval; an oracle value "
                        "1e-7 above the certified upper bound")
    certified = certified_constants(instance)
    lo, hi = certified.rho.as_list()
    evidence.record("rho", [lo, hi], how=certified.rho.detail)
    evidence.record("L", certified.lipschitz.as_list(), how=certified.lipschitz.detail)
    evidence.parameters(instance=instance.name, domain=repr(instance.domain), reference=reference)
    evidence.lower_bound("certified lower bound on rho is finite (the proof closed)", lo, -1e3)
    evidence.tight(f"catalogue value {reference} vs the certified interval (distance to it)",
                   reference, float(np.clip(reference, lo, hi)), abs=tolerance, headline=True)
    rho_oracle = algorithm("weak_minty_rho")
    grid = 401 if instance.name.startswith("Forsaken c=0.45") else 801  # 401^2 keeps the fast tier fast
    estimate = rho_oracle(instance.operator, instance.domain, instance.solution, grid=grid)
    value = float(estimate.value)
    # the oracle returns a ratio it evaluated (>= the infimum up to float rounding ~1e-15 of the ratio);
    # its L-BFGS-B refinement stops at ftol 1e-15, gtol 1e-11: within 1e-9 of the minimum
    evidence.lower_bound("oracle rho >= certified lower bound", value, lo, abs=1e-12 * (1 + abs(lo)))
    evidence.upper_bound("oracle rho <= certified upper bound + its refinement accuracy", value, hi,
                         abs=1e-9 * (1 + abs(hi)))
    evidence.record("oracle argmin", np.asarray(estimate.argmin), reference=instance.rho_argmin)
    attained = weak_minty_ratio(instance.operator, np.asarray(estimate.argmin, float)[None], instance.solution)[0][0]
    evidence.tight("ratio at the reported argmin equals the reported rho", attained, value, rel=1e-12, abs=1e-12)
    h = instance.domain.half_width
    pts = np.random.default_rng(1).uniform(-h, h, (20000, 2))
    pts = pts[instance.domain.contains(pts)]
    sampled = weak_minty_ratio(instance.operator, pts, instance.solution)[0]
    evidence.lower_bound("min over 20000 random points >= certified lower bound", sampled.min(), lo, abs=1e-12)
    lip, _ = lipschitz_on_domain(instance.operator, instance.domain)
    l_lo, l_hi = certified.lipschitz.as_list()
    # the Lipschitz oracle evaluates ||DV|| at a point: <= the certified sup; its refinement reaches 1e-9
    evidence.upper_bound("Lipschitz oracle <= certified upper bound on L", lip, l_hi, rel=1e-12)
    evidence.lower_bound("Lipschitz oracle >= certified lower bound on L (refinement accuracy 1e-9)", lip, l_lo,
                         rel=1e-9)
    if instance.name == "Forsaken c=0.5":
        evidence.record("section 1's grid value -1.76661 minus the certified upper bound", -1.76661 - hi)


# ---------------------------------------------------------- wmvi.egplus-ddj
def _eg_plus_exact(game, z0, gamma, damping, steps):
    A = game.A
    eye = np.eye(A.shape[-1])
    g = gamma[:, None, None]
    M = eye - damping * g * A @ (eye - g * A)
    return np.einsum("bij,bj->bi", np.linalg.matrix_power(M, steps), z0)


@pytest.mark.claim("wmvi.egplus-ddj", uses=["extragradient_plus"])
@pytest.mark.parametrize("c_shift", [0.0], ids=["ddj-range"])
@settings(max_examples=examples(15))
@given(game=linear_minty_games(rho_L=(-0.124999, 0.0)))
@example(game=linear_minty_game([1.0, 2.0, 0.5], [-0.1249, -0.06, 0.0]))
def test_eg_plus_in_the_ddj_range_on_linear_games(evidence, algorithm, c_shift, game):
    """rho > -1/(8L), gamma = 1/L, damping 1/2: EG+ reproduces the exact linear
    recursion, contracts at the closed-form rate sqrt(1 + 2a(c+1)(a+2c-1)) < 1,
    ||z_k - z*|| is non-increasing and sum ||V(zbar_k)||^2 obeys the Lyapunov bound.
    (``c_shift`` moves every drawn c = -rho L by that much: a wrong world for the controls.)"""
    evidence.resolution("rejects a damping off by a relative 1e-6 (exact recursion to 1e-12 per step)")
    if c_shift:
        game = linear_minty_game(game.L, game.rho - c_shift / game.L, game.n)
    eg_plus = algorithm("extragradient_plus")
    gamma, damping, steps = 1 / game.L, 0.5, 60
    z0 = game.starts(seed=3)
    traj = eg_plus(game.operator, z0, gamma, steps, damping=damping)
    evidence.parameters(L=game.L, c=game.c, gamma=gamma, damping=damping, steps=steps)
    exact = _eg_plus_exact(game, z0, gamma, damping, steps)
    evidence.tight("z_K equals the exact linear recursion M^K z_0", traj[-1], exact, rel=ROUNDING * steps,
                   abs=ROUNDING * steps)
    radius = eg_plus_spectral_radius(game.c, damping)
    evidence.tight("per-step factor = |1 - a mu + a mu^2|", measured_factor(traj), radius, rel=ROUNDING * steps)
    evidence.upper_bound("spectral radius < 1 (converges)", radius, 1.0, headline=True)
    dist, cumulative = lyapunov_terms(traj, game.operator, gamma, 0.0)
    evidence.monotone("||z_k - z*|| non-increasing (Fejer)", dist, abs=ROUNDING)
    bound = np.linalg.norm(z0, axis=-1) ** 2 / (damping * gamma * (2 * game.rho + gamma * (1 - damping)))
    evidence.upper_bound("sum_k ||V(zbar_k)||^2 <= Lyapunov bound", cumulative[-1], bound, rel=ROUNDING * steps)
    # beyond DDJ: with damping 1/2 the exact threshold on this family is c < 1/4 (rho > -1/(4L))
    c = np.array([0.2, 0.24, 0.26, 0.3])
    probe = linear_minty_game(1.0, -c)
    factor = measured_factor(eg_plus(probe.operator, probe.starts(seed=4), 1.0, 40, damping=0.5))
    evidence.holds("damping 1/2 converges iff c < 1/4 (so -1/(8L) is sufficient, not tight)",
                   (factor < 1) == (c < 0.25), detail=f"factors {np.round(factor, 6)} at c = {c}")
    evidence.record("per-step factor at c = 0.2, 0.24, 0.26, 0.3", factor)


@pytest.mark.claim("wmvi.egplus-ddj", uses=["extragradient_plus"])
def test_eg_plus_on_the_polar_game_in_the_ddj_range(evidence, algorithm):
    """Polar game a = 1/3 (rho L = -0.1006 > -1/8): EG+ with gamma = 1/L, damping 1/2
    from 24 starts in the box stays in the box (so the weak MVI and L apply), is
    Fejer monotone, obeys the Lyapunov bound at every k (so
    min_{i<=k} ||V(zbar_i)||^2 <= bound/(k+1), the O(1/k) rate) and converges."""
    evidence.resolution("rejects an increase of ||z_k - z*|| by 1e-9 at one step (Fejer, to 1e-13)")
    eg_plus = algorithm("extragradient_plus")
    game = polar_game(sp.Rational(1, 3))
    gamma, damping, steps = 1 / game.lipschitz, 0.5, 1500
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    z0 = np.concatenate([r * np.stack([np.cos(angles), np.sin(angles)], 1) for r in (0.5, 0.9, 1.05)])
    traj = eg_plus(game.operator, z0, gamma, steps, damping=damping)
    z_bar = traj - gamma * game.operator(traj)
    evidence.parameters(rho_L=game.rho_times_L, gamma=gamma, damping=damping, steps=steps, starts=len(z0))
    evidence.holds("z_k and zbar_k stay in the box [-1.1, 1.1]^2 (the theory's domain)",
                   game.domain.contains(traj).all() & game.domain.contains(z_bar).all())
    dist, cumulative = lyapunov_terms(traj, game.operator, gamma, 0.0)
    evidence.monotone("||z_k - z*|| non-increasing (Fejer)", dist, abs=1e-13)
    bound = np.linalg.norm(z0, axis=-1) ** 2 / (damping * gamma * (2 * game.rho + gamma * (1 - damping)))
    evidence.upper_bound("sum_{i<=k} ||V(zbar_i)||^2 <= Lyapunov bound, every k", cumulative, bound, rel=1e-12)
    final = np.linalg.norm(game.operator(traj[-1]), axis=-1)
    evidence.upper_bound("||V(z_K)|| -> 0", final, 1e-8, headline=True)


# ---------------------------------------------------------- wmvi.lower-bound
@pytest.mark.claim("wmvi.lower-bound", uses=["extragradient_plus"])
@settings(max_examples=examples(20))
@given(c=st.floats(0.01, 0.99), damping=st.floats(0.01, 0.99), L=st.floats(0.5, 5.0))
@example(c=1 / 3, damping=0.5, L=3.0)  # Lowerbounds.nb: diverges, 1.105542
@example(c=1 / 3, damping=0.25, L=3.0)  # converges, 0.971825
def test_eg_plus_lower_bound_on_the_linear_game(evidence, algorithm, c, damping, L):
    """EG+ (gamma = 1/L) on the linear game with rho = -c/L: |lambda|^2 - 1 =
    2 alpha (c + 1)(alpha + 2c - 1) (sympy factorisation), so it diverges iff
    rho <= -(1 - alpha)/(2L), and for every alpha once rho <= -1/(2L)."""
    evidence.resolution("rejects a damping off by a relative 1e-6 (per-step factor to 4e-11)")
    assume(abs(damping + 2 * c - 1) > 1e-6)
    eg_plus = algorithm("extragradient_plus")
    excess, factored, (cs, al) = eg_plus_modulus_squared()
    evidence.holds("sympy: |lambda|^2 - 1 factors as 2 alpha (c + 1)(alpha + 2c - 1)",
                   sp.simplify(factored - 2 * al * (cs + 1) * (al + 2 * cs - 1)) == 0, detail=str(factored))
    game = linear_minty_game(L, -c / L)
    steps = 40
    factor = measured_factor(eg_plus(game.operator, game.starts(seed=5), 1 / L, steps, damping=damping))[0]
    predicted = np.sqrt(1 + 2 * damping * (c + 1) * (damping + 2 * c - 1))
    evidence.parameters(c=c, damping=damping, L=L)
    evidence.tight("measured per-step factor = sqrt(1 + 2a(c+1)(a+2c-1))", factor, predicted, rel=ROUNDING * steps,
                   headline=True)
    evidence.holds("diverges iff alpha + 2c - 1 > 0", (factor > 1) == (damping + 2 * c - 1 > 0),
                   detail=f"factor {factor:.9f}, alpha + 2c - 1 = {damping + 2 * c - 1:.3g}")
    if (c, damping, L) == (1 / 3, 0.5, 3.0):
        evidence.tight("notebook instance alpha = 1/2: 1.105542", factor, 1.105542, abs=5e-7)  # 6 quoted digits
    if (c, damping, L) == (1 / 3, 0.25, 3.0):
        evidence.tight("notebook instance alpha = 1/4: 0.971825", factor, 0.971825, abs=5e-7)
    evidence.figure("eg-plus-threshold", _draw_lower_bound,
                    "Spectral radius of EG+ (gamma = 1/L) on the linear game vs c = -rho L and the damping alpha; "
                    "dashed: alpha + 2c = 1 (radius 1). DDJ's point c = 1/8, alpha = 1/2 lies well inside.")


def _draw_lower_bound(fig):
    ax = fig.add_subplot(111)
    c, a = np.meshgrid(np.linspace(0, 0.99, 200), np.linspace(0.01, 1, 200))
    mesh = ax.pcolormesh(c, a, eg_plus_spectral_radius(c, a), shading="auto", cmap="RdBu_r", vmin=0.7, vmax=1.3)
    fig.colorbar(mesh, ax=ax, label="spectral radius")
    ax.plot([0, 0.5], [1, 0], "k--", lw=1.2)
    ax.plot([1 / 3, 1 / 3, 1 / 8], [0.5, 0.25, 0.5], "ko", ms=4)
    ax.set_xlabel("c = -rho L")
    ax.set_ylabel("damping alpha")
