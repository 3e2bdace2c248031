"""Slides 34-37: the spurious attractors of min-max dynamics (Hsieh, Mertikopoulos, Cevher, ICML 2021 [39]):
the "almost bilinear" game and the "forsaken" solutions.

Convention: z = (x, y), x minimises, y maximises, V = (Phi_x, -Phi_y), flow
dz/dt = -V(z); z* is attracting when the eigenvalues of DV(z*) have positive real
part. A *spurious attractor* is a bounded attracting set containing no critical
point (min ||V|| on it bounded away from 0).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from checks.seed_counts import count_test
from checks.support import examples
from problems.minimax.games import SympyGame
from problems.minimax.minty_games import (
    almost_bilinear,
    almost_bilinear_params,
    forsaken,
    forsaken_stationary_points_numeric,
)
from problems.minimax.minty_oracles import (
    NoisyOperator,
    flow_limit_cycle,
    robbins_monro,
    tail_summary,
)
from problems.runtime import seed

START = np.array([[0.05, 0.0]])  # near the critical point 0 of the almost-bilinear game


def _jacobian_eigenvalues(operator, z: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(operator.jacobian(np.asarray(z, float)[None])[0])


# ---------------------------------------------------- spurious.almost-bilinear
@pytest.mark.claim("spurious.almost-bilinear", uses=["extragradient"])
@pytest.mark.parametrize("on, sign", [("x", 1.0)], ids=["as-printed"])
@settings(max_examples=examples(20))
@given(eps=st.floats(0.01, 1.0))
@example(eps=0.1)
def test_almost_bilinear_as_printed_has_no_spurious_attractor(evidence, algorithm, on, sign, eps):
    """The sign of eps decides (the slide gives none): Phi = xy + eps phi(x), phi = x^2/2 - x^4/4,
    with eps > 0 on the *min* player has DV(0) = [[eps, 1], [-1, 0]], Re eig = eps/2 > 0, so 0
    attracts the flow and is an LNE (Phi(x, 0) = eps phi(x) >= 0 for |x| <= sqrt 2, Phi(0, y) = 0);
    the limit set of EG from (0.05, 0) is {0}. The slide's spurious attractor is the eps < 0
    reading (next check), which is the one that holds: this check pins the sign convention.
    (``on``, ``sign`` place eps phi on another player or flip its sign: the worlds of the controls.)"""
    evidence.resolution("rejects the opposite sign of eps at |eps| >= 0.01, or eps phi on the max player")
    game = almost_bilinear(sign * eps, on)
    evidence.note("eps > 0 on the min player: no spurious attractor; the slide's claim holds for eps < 0 "
                  "(or eps phi on the max player), test_almost_bilinear_corrected_has_a_spurious_cycle")
    eig = _jacobian_eigenvalues(game, [0.0, 0.0])
    evidence.tight("Re eig DV(0) = eps/2 (attracting)", eig.real, eps / 2, rel=1e-12)
    xs = np.linspace(-np.sqrt(2), np.sqrt(2), 201)
    evidence.lower_bound("Phi(x, 0) - Phi(0, 0) >= 0 near 0 (min player cannot improve)",
                         float(on == "x") * sign * eps * (xs**2 / 2 - xs**4 / 4), 0.0, abs=1e-15)
    if eps == 0.1:
        # EG's linearised contraction at a = 0.05: (eps a)/2 + a^2/2 per step -> e^{-15} over 4000 steps
        traj = algorithm("extragradient")(game, START, 0.05, 4000)
        evidence.upper_bound("EG from (0.05, 0): ||z_K|| (limit set = {0}, a critical point)",
                             np.linalg.norm(traj[-1]), 1e-6, headline=True)


def _is_corrected(eps: float, on: str) -> bool:
    return (on == "y" and eps > 0) or (on == "x" and eps < 0)


@pytest.mark.claim("spurious.almost-bilinear", uses=["gradient_descent_ascent"])
@pytest.mark.no_near_miss("qualitative: the limit set contains a critical point (min ||V|| -> 0) or not (min ||V|| "
                          ">= 1.06 on the cycle at |eps| = 0.1); no instance family links the two at fixed eps "
                          "without a bifurcation, whose sign is the exact predicate (rel 1e-12). Power: the "
                          "wrong-world control runs the printed game through the same tail predicates")
@pytest.mark.parametrize("cycle_game", [(0.1, "y")], ids=["eps-phi-on-y"])
@settings(max_examples=examples(20))
@given(params=almost_bilinear_params())
@example(params=(0.1, "y"))
@example(params=(-0.1, "x"))
def test_almost_bilinear_corrected_has_a_spurious_cycle(evidence, algorithm, cycle_game, params):
    """With eps phi on the max player y (eps > 0), or eps < 0 on x, Re eig DV(0) =
    -|eps|/2: the critical point repels (both placements and signs checked). For
    |eps| = 0.1, GDA (a = 0.02) from (0.05, 0) leaves 0 and its limit set is bounded
    (||z|| <= 2) with min ||V|| >= 0.5: an attractor with no critical point
    (van der Pol; the flow's cycle has amplitude -> 2/sqrt 3, slow tier)."""
    eps, on = params
    game = almost_bilinear(eps, on)
    eig = _jacobian_eigenvalues(game, [0.0, 0.0])
    sign = -1.0 if _is_corrected(eps, on) else 1.0
    evidence.parameters(eps=eps, on=on)
    evidence.tight("Re eig DV(0) = -|eps|/2 when corrected, +|eps|/2 as printed", eig.real, sign * abs(eps) / 2,
                   rel=1e-12)
    if (eps, on) == (0.1, "y"):
        game = almost_bilinear(*cycle_game)
        z = np.random.default_rng(2).uniform(-2, 2, (20, 2))
        evidence.tight("Horner V equals the symbolic V of Phi", game(z), SympyGame.__call__(game, z), abs=1e-13)
        traj = algorithm("gradient_descent_ascent")(game, START, 0.02, 6000)
        tail = tail_summary(traj, game, np.zeros(2))
        evidence.lower_bound("tail min ||V|| (no critical point in the limit set)", tail["min_operator_norm"], 0.5,
                             headline=True)
        evidence.upper_bound("tail max ||z|| (bounded: an attractor)", tail["max_distance"], 2.0)
        evidence.record("tail radius range", [float(tail["min_distance"][0]), float(tail["max_distance"][0])])

        def draw(fig):
            ax = fig.add_subplot(111)
            ax.plot(traj[:, 0, 0], traj[:, 0, 1], "-", lw=0.5, label="GDA from (0.05, 0)")
            t = np.linspace(0, 2 * np.pi, 200)
            r = 2 / np.sqrt(3)
            ax.plot(r * np.cos(t), r * np.sin(t), "k--", lw=0.8, label="radius 2/sqrt 3")
            ax.plot([0], [0], "r*", ms=8, label="critical point")
            ax.set_aspect("equal")
            ax.legend(fontsize=7)
        evidence.figure("spurious-cycle", draw, f"Phi = xy + eps phi(u), eps = {eps} on {on}: GDA leaves the "
                        "critical point and circles on an attractor that contains none.")


# ------------------------------------------------------------ spurious.forsaken
REFERENCE_EIGENVALUES = {0.45: (0.04475, 0.90803, 5e-6), 0.5: (-0.0598, 0.8370, 5e-5)}  # quoted digits -> tolerance


def _forsaken_phi(c: float, x: float, y: float) -> float:
    def phi(u):
        return u**2 / 4 - u**4 / 2 + u**6 / 6
    return x * (y - c) + phi(x) - phi(y)


@lru_cache(maxsize=1)
def _hopf_value() -> float:
    return brentq(_real_part_at_stationary_point, 0.45, 0.5, xtol=1e-12)


def _real_part_at_stationary_point(c: float) -> float:
    pts = forsaken_stationary_points_numeric(c)
    z_star = pts[np.all(np.abs(pts) <= 1.5, axis=1)][0]
    return float(_jacobian_eigenvalues(forsaken(0.45).operator, z_star).real[0])  # DV does not depend on c


@pytest.mark.claim("spurious.forsaken", uses=["extragradient", "gradient_descent_ascent"])
@pytest.mark.parametrize("reference", [REFERENCE_EIGENVALUES], ids=["section-1"])
@settings(max_examples=examples(15))
@given(c=st.floats(0.3, 0.6))
@example(c=0.45)
@example(c=0.5)
def test_forsaken_stationary_point_and_its_stability(evidence, algorithm, reference, c):
    """Phi = x(y - c) + phi(x) - phi(y): a single stationary point z* in the box; at
    c = 0.45 and 0.5 it is not an LNE (Phi_yy(z*) > 0: the max player sits at a local
    *min*); it attracts
    (Re eig > 0) for c below a Hopf value c_H in (0.45, 0.5) and repels above. At
    c = 0.45 (the papers') EG and GDA started 0.07 from z* converge to it; at the
    tutorial's c = 0.5 they leave it for the outer cycle. (``reference``: the section-1
    eigenvalues with half a unit of their last digit.)"""
    evidence.resolution("rejects a quoted eigenvalue off by one unit of its last digit (1e-5 at c = 0.45)")
    c_hopf = _hopf_value()
    evidence.record("Hopf value c_H (Re eig DV(z*) = 0)", c_hopf)
    evidence.holds("0.45 < c_H < 0.5: the tutorial's 0.5 and the papers' 0.45 differ qualitatively",
                   0.45 < c_hopf < 0.5)
    evidence.note(f"Tutorial's c = 0.5: z* repels (Re eig DV(z*) = -0.0598) and every other trajectory ends on the "
                  f"outer cycle; papers' c = 0.45: z* attracts locally but a repelling cycle shields it. Both show "
                  f"the forsaken solution; the stability of z* flips at the Hopf value c_H = {c_hopf:.6f}.")
    pts = forsaken_stationary_points_numeric(c)
    inside = pts[np.all(np.abs(pts) <= 1.5, axis=1)]
    evidence.holds("exactly one stationary point in the box", len(inside) == 1)
    z_star = inside[0]
    x, y = z_star
    phi_yy = -(0.5 - 6 * y**2 + 5 * y**4)  # Phi_yy = -phi''(y)
    evidence.parameters(c=c, z_star=z_star)
    real = _real_part_at_stationary_point(c)
    if abs(c - c_hopf) > 1e-6:
        evidence.holds("attracting iff c < c_H", (real > 0) == (c < c_hopf), detail=f"Re eig = {real:.5f}")
    if c in reference:
        inst = forsaken(c)
        # (for c below about 0.33 Phi_yy(z*) turns negative: only the two constants are claimed)
        evidence.lower_bound(f"c = {c}: Phi_yy(z*) > 0, the max player sits at a local min: not an LNE",
                             phi_yy, 0.0)
        t = 1e-3
        evidence.lower_bound(f"c = {c}: witness Phi(x*, y* + t) - Phi(z*) > 0 (the max player improves)",
                             _forsaken_phi(c, x, y + t) - _forsaken_phi(c, x, y), 0.0)
        evidence.tight("z* (exact polynomial root) = numeric root", inst.solution, z_star, abs=1e-10)
        re_ref, im_ref, tol = reference[c]
        eig = _jacobian_eigenvalues(inst.operator, z_star)
        evidence.tight(f"c = {c}: Re eig DV(z*)", eig.real, re_ref, abs=tol)
        evidence.tight(f"c = {c}: |Im eig DV(z*)|", np.abs(eig.imag), im_ref, abs=tol)
        start = z_star + 0.05
        # linearised contraction per step: EG (a = 0.2) 0.975 -> 0.07 * 0.975^1500 ~ 1e-18; GDA (a = 0.05)
        # 0.99879 -> 0.07 * 0.99879^6000 = 5e-5; bounds 1e-6 and 1e-3 leave room for the nonlinear transient
        for name, alpha, steps, tol in (("extragradient", 0.2, 1500, 1e-6),
                                        ("gradient_descent_ascent", 0.05, 6000, 1e-3)):
            steps = steps if c == 0.45 else 1500  # leaving z* (rate 0.003 per step at c = 0.5) takes ~900 steps
            traj = algorithm(name)(inst.operator, start[None], alpha, steps)
            dist = np.linalg.norm(traj[-1, 0] - z_star)
            if c == 0.45:
                evidence.upper_bound(f"c = 0.45: {name} from z* + 0.05 converges to z*", dist, tol,
                                     headline=name == "extragradient")
            else:
                tail = tail_summary(traj, inst.operator, z_star)
                evidence.lower_bound(f"c = 0.5: {name} leaves z* (tail min ||V||)", tail["min_operator_norm"], 0.4)


# ------------------------------------------------------------------ slow tier
STOCHASTIC_SEEDS = 256
RADIUS_TABLE = {0.01: (1.1535, 1.1560), 0.1: (1.1426, 1.1676), 0.3: (1.1207, 1.1961), 1.0: (1.0645, 1.3280)}
FORSAKEN_CYCLES = {"outer 0.45": (0.923, 1.917, 0.485), "inner 0.45": (0.121, 0.299, None),
                   "outer 0.5": (0.851, 1.991, 0.435)}


def _rm_final_points(method, operator, start, steps, *seed_parts) -> np.ndarray:
    noisy = NoisyOperator(operator, 0.1, np.random.default_rng(seed(*seed_parts)))
    return robbins_monro(method, noisy, np.tile(start, (STOCHASTIC_SEEDS, 1)), steps)


@pytest.mark.slow
@pytest.mark.claim("spurious.almost-bilinear", uses=["extragradient", "gradient_descent_ascent"])
@pytest.mark.parametrize("spurious, table", [((0.1, "y"), RADIUS_TABLE)], ids=["eps-phi-on-y"])
def test_almost_bilinear_cycles_and_noisy_dynamics(evidence, algorithm, spurious, table):
    """Flow oracle (solve_ivp, rtol 1e-10): the corrected game's attracting cycle and the
    literal game's repelling cycle have the radii of the reference table (eps = 0.01,
    0.1, 0.3, 1; amplitude -> 2/sqrt 3), min ||V|| on them > 0.8. Robbins-Monro (sigma =
    0.1, a_k = 0.08 (1 + k/100)^-0.6, 2e4 steps, 256 seeds from (0.05, 0)): SGDA and SEG
    end within 0.1 of the cycle with ||V|| > 0.5 for eps phi(y), eps = 0.1, and within
    0.1 of 0 for the literal eps phi(x), each in at least 244 of 256 seeds (95 %).
    Statistics (seed_counts): if each seed succeeds with probability >= 0.99, each of the 4
    count tests fails with probability 2.5e-6: false-alarm budget 1.0e-5; a world where seeds
    succeed with probability <= 0.8 passes a count test with probability 1.5e-12 (power ~1).
    The flow table is deterministic (tolerance: 1e-3 = the table's 4 decimals plus the orbit's
    sampling)."""
    evidence.resolution("rejects a cycle radius 2e-3 off the table; a count of successes below 95 % of seeds")
    cycles = {}
    for eps, (lo, hi) in table.items():
        orbit = flow_limit_cycle(almost_bilinear(eps, "y"), START[0], np.zeros(2),
                                 t_transient=max(300.0, 30 / eps), t_record=20.0)
        evidence.tight(f"eps = {eps}: attracting-cycle radius range", orbit.radius_range, (lo, hi), abs=1e-3)
        evidence.upper_bound(f"eps = {eps}: the orbit has settled (window agreement)", orbit.window_agreement, 1e-4)
        evidence.lower_bound(f"eps = {eps}: min ||V|| on the cycle", orbit.min_operator_norm, 0.8)
        cycles[eps] = orbit
    evidence.tight("eps = 0.01: mean radius -> 2/sqrt 3", np.mean(cycles[0.01].radius_range), 2 / np.sqrt(3),
                   abs=1e-2, headline=True)
    literal = flow_limit_cycle(almost_bilinear(0.1, "x"), START[0], np.zeros(2), backward=True, t_record=20.0)
    evidence.tight("literal eps = 0.1: the repelling cycle (backward flow) has the same radii",
                   literal.radius_range, table[0.1], abs=1e-3)
    steps = 0.08 / (1 + np.arange(20_000) / 100) ** 0.6  # final step 3e-3: GDA's O(a/eps) radius bias < 0.03
    cycle_points = cycles[0.1].points
    budget = 0.0
    for name in ("gradient_descent_ascent", "extragradient"):
        game = almost_bilinear(*spurious)
        end = _rm_final_points(algorithm(name), game, START[0], steps, "spurious.almost-bilinear", name, "phi(y)")
        to_cycle = np.min(np.linalg.norm(end[:, None] - cycle_points[None], axis=-1), axis=1)
        on_cycle = (to_cycle < 0.1) & (np.linalg.norm(game(end), axis=-1) > 0.5)
        budget += count_test(evidence, f"{name}, eps phi(y): on the cycle", on_cycle, 244, p_true=0.99, p_false=0.8)
        literal_end = _rm_final_points(algorithm(name), almost_bilinear(0.1, "x"), START[0], steps,
                                       "spurious.almost-bilinear", name, "literal")
        budget += count_test(evidence, f"{name}, literal eps phi(x): within 0.1 of 0",
                             np.linalg.norm(literal_end, axis=-1) < 0.1, 244, p_true=0.99, p_false=0.8)
    evidence.record("false_alarm_budget", budget)


@pytest.mark.slow
@pytest.mark.claim("spurious.forsaken", uses=["extragradient", "gradient_descent_ascent"])
@pytest.mark.parametrize("instance, cycles", [(forsaken(0.45), FORSAKEN_CYCLES)], ids=["forsaken-0.45"])
def test_forsaken_cycles_and_noisy_escape(evidence, algorithm, instance, cycles):
    """c = 0.45: a repelling cycle (distance to z* 0.121-0.299) shields z*, inside an
    attracting cycle (0.923-1.917, min ||V|| = 0.485); c = 0.5: only the outer cycle
    (0.851-1.991, min ||V|| = 0.435). Noisy dynamics started *at* z* (sigma = 0.1,
    a_k = 0.08 (1 + k/1e4)^-0.6, 2e4 steps, 256 seeds): SGDA and SEG end on the outer cycle
    (distance > 0.5, ||V|| > 0.4) in at least 205 of 256 seeds (the catalogue's 80 %).
    Statistics: if each seed escapes with probability >= 0.95 a count test fails with
    probability 6e-18 (budget 1.3e-17 for the two); a world where seeds escape with
    probability <= 0.6 passes with probability 5e-12. The noisy runs come first, so a game
    whose solution is not forsaken fails on them."""
    evidence.resolution("rejects escape in fewer than 80 % of 256 seeds; a cycle's distance range 2e-3 off")
    steps = 0.08 / (1 + np.arange(20_000) / 10_000) ** 0.6
    budget = 0.0
    for name in ("gradient_descent_ascent", "extragradient"):
        end = _rm_final_points(algorithm(name), instance.operator, instance.solution, steps, "spurious.forsaken", name)
        escaped = ((np.linalg.norm(end - instance.solution, axis=-1) > 0.5)
                   & (np.linalg.norm(instance.operator(end), axis=-1) > 0.4))
        budget += count_test(evidence, f"{name}: started at z*, ends on the outer cycle", escaped, 205, p_true=0.95,
                             p_false=0.6, headline=name == "gradient_descent_ascent")
    evidence.record("false_alarm_budget", budget)
    for label, (lo, hi, vmin) in cycles.items():
        inst = forsaken(float(label.split()[1]))
        inner = label.startswith("inner")
        start = inst.solution + 0.05 if inner else np.array([1.0, 1.0])
        orbit = flow_limit_cycle(inst.operator, start, inst.solution, backward=inner, t_transient=300.0,
                                 t_record=30.0)
        # 3 quoted decimals plus the sampling of the orbit (4000 points over 30 time units)
        evidence.tight(f"{label}: distance range to z*", orbit.distance_range, (lo, hi), abs=1e-3)
        if vmin is not None:
            evidence.tight(f"{label}: min ||V|| on the cycle", orbit.min_operator_norm, vmin, abs=1e-3)
