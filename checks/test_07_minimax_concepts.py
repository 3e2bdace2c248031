"""Min-max solution concepts (slides 30–33, catalogue 2.6): the second-order conditions of a
local Nash equilibrium (LNE), the monkey saddle (necessary but not sufficient), and the weird
saddle's degenerate LNE with the dynamics around it.

The classifier under test is ``algorithm("second_derivative_test")``, judged against a
sampling certificate (see ``checks/test_04_critical_points.py``); the dynamics are
``algorithm("gradient_descent_ascent")``, ``"extragradient"`` and ``"optimistic_gda"``.
Convention: z = (x, y), x minimises, y maximises, V = (Φ_x, −Φ_y).
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings

from checks.support import examples
from problems.minimax.games import SympyGame, weird_saddle
from problems.minimax.minty_games import weird_saddle_fast
from problems.optim.critical_points import (
    MONKEY_GAME_PHI,
    Q_,
    QuadraticGame,
    X,
    Y,
    quadratic_games,
)
from problems.optim.critical_points_oracles import (
    eigenvalue_tolerance,
    family_difference,
    lne_certificate,
    lne_conditions,
    lne_necessary,
    taylor_difference,
)
from problems.runtime import seed as _seed


def _label(classify, hessian: np.ndarray) -> tuple[str, np.ndarray, float]:
    """The classifier's label from the float eigenvalues of a float Hessian."""
    eig = np.linalg.eigvalsh(hessian)
    tol = eigenvalue_tolerance(hessian)
    return str(classify(eig[None, :], tol)[0]), eig, tol


def _jacobian_eigenvalues(operator, z: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(operator.jacobian(np.asarray(z, float)[None])[0])


# -------------------------------------------------------------- lne.necessary-conditions
# d ≤ 2 per player: the guaranteed cone of a saddle direction (λ = (3, −1/10)) is
# |cos| < 0.127 of the negative eigenvector, 8% of pairs, so 2000 pairs miss with
# probability < e^-160.
N_PAIRS_LNE = 2_000


PD_GAME = QuadraticGame.build([Q_(1), Q_(2, 5)], [Q_(3, 2)], Q_(1, 2), seed=21)


INDEFINITE_A_GAME = QuadraticGame.build([Q_(1), Q_(-1, 2)], [Q_(1)], Q_(1, 3), seed=22)


PSD_A_GAME = QuadraticGame.build([Q_(1), Q_(0)], [Q_(1), Q_(1, 2)], Q_(1, 2), seed=23)


INDEFINITE_B_GAME = QuadraticGame.build([Q_(2)], [Q_(1), Q_(-3, 10)], Q_(-1, 2), seed=24)


# eps = 0 and A singular: 0 is an LNE but not a strict one (a deviation along ker A leaves Phi unchanged)
DEGENERATE_LNE_GAME = QuadraticGame.build([Q_(1), Q_(0)], [Q_(1)], Q_(0), seed=25)


def check_lne_game(evidence, classify, game: QuadraticGame, necessary=lne_necessary) -> None:
    """The LNE property on one game, at z* = 0 (``necessary`` is the rule under
    test: a planted wrong rule must make this fail, see the controls)."""
    dx, dy = game.dx, game.dy
    conds = lne_conditions(game.expr, game.x_vars, game.y_vars, (0,) * (dx + dy), necessary)
    evidence.holds("∇Φ(0) = 0 exactly (sympy)", conds.gradient_zero)
    evidence.holds("oracle's ∇ₓₓΦ(0) = A and ∇ᵧᵧΦ(0) = −B exactly", conds.hxx == game.a and conds.hyy == -game.b)
    lab_x, eig_x, _ = _label(classify, np.array(conds.hxx.tolist(), dtype=float))
    lab_y, eig_y, _ = _label(classify, np.array(conds.hyy.tolist(), dtype=float))
    evidence.holds("test labels ('min' for x, 'max' for y) ⇔ exact sufficient conditions",
                   ((lab_x, lab_y) == ("min", "max")) == conds.sufficient,
                   f"labels ({lab_x}, {lab_y}), eig ∇ₓₓΦ {eig_x}, eig ∇ᵧᵧΦ {eig_y}, sufficient {conds.sufficient}")
    cert = lne_certificate(family_difference(game.a, game.eps, 0), dx, family_difference(-game.b, game.eps, 0), dy,
                           game.radius, N_PAIRS_LNE, _seed("lne.necessary-conditions", game.seed))
    evidence.holds("∇ₓₓΦ ≻ 0, ∇ᵧᵧΦ ≺ 0 ⇒ sampling confirms a strict LNE on the ball",
                   not conds.sufficient or cert.confirms_strict_lne, f"{cert}")
    evidence.holds("A has λ < 0 ⇒ the min player finds a lower Φ",
                   not any(v < 0 for v in game.eig_a) or cert.x_violation, f"{cert.x_side}")
    evidence.holds("B has λ < 0 ⇒ the max player finds a higher Φ",
                   not any(v < 0 for v in game.eig_b) or cert.y_violation, f"{cert.y_side}")
    evidence.holds("sampled LNE ⇒ the necessary conditions hold", not cert.confirms_lne or conds.necessary,
                   f"certificate confirms an LNE but the necessary rule says {conds.necessary}", headline=True)
    evidence.parameters(eig_a=[str(v) for v in game.eig_a], eig_b=[str(v) for v in game.eig_b],
                        eps=str(game.eps), radius=game.radius)


@pytest.mark.claim("lne.necessary-conditions", uses=["second_derivative_test"])
@pytest.mark.no_near_miss("exact: the conditions are sympy identities and signs of rational eigenvalues; the "
                          "sampling certificate's resolution is fixed by its cone-miss probability (< e^-160)")
@pytest.mark.parametrize("necessary", [lne_necessary], ids=["slide-rule"])
@settings(max_examples=examples(20))
@given(game=quadratic_games())
@example(game=PD_GAME)
@example(game=INDEFINITE_A_GAME)
@example(game=PSD_A_GAME)
@example(game=INDEFINITE_B_GAME)
@example(game=DEGENERATE_LNE_GAME)
def test_lne_second_order_conditions(evidence, algorithm, necessary, game):
    """Φ = ½xᵀAx − ½yᵀBy + xᵀCy + ε·Σ cubic monomials, z* = 0 (x minimises, y maximises).
    An LNE (Φ(x*, y) ≤ Φ(x*, y*) ≤ Φ(x, y*) near z*) implies ∇Φ = 0, ∇ₓₓΦ ⪰ 0,
    ∇ᵧᵧΦ ⪯ 0 (Taylor in each player separately); the strict versions imply a strict
    LNE. Checked against sampling on the ball of radius ``game.radius``."""
    check_lne_game(evidence, algorithm("second_derivative_test"), game, necessary)
    evidence.note("The slide writes the conditions at (x, y); they hold at the equilibrium (x*, y*). "
                  "The coupling C plays no role: each player deviates alone.")


# --------------------------------------------------------------------- lne.monkey-saddle
@pytest.mark.claim("lne.monkey-saddle", uses=["second_derivative_test"])
@pytest.mark.no_near_miss("exact: sympy identities (gradient, Hessians, the witness -r^3 < 0 for every r > 0)")
@pytest.mark.parametrize("phi", [MONKEY_GAME_PHI], ids=["x^3-3xy^2"])
def test_lne_monkey_saddle_necessary_not_sufficient(evidence, algorithm, phi):
    """Φ = x³ − 3xy², x minimises, y maximises: at 0 the necessary conditions hold
    (gradient 0, Φₓₓ = Φᵧᵧ = 0) yet 0 is not an LNE, since Φ(x, 0) = x³ < 0 = Φ(0, 0)
    for x < 0: the necessary conditions are not sufficient."""
    classify = algorithm("second_derivative_test")
    conds = lne_conditions(phi, (X,), (Y,), (0, 0))
    evidence.holds("necessary conditions hold at 0 (exact)", conds.necessary, f"{conds}")
    evidence.holds("sufficient conditions fail at 0 (exact)", not conds.sufficient)
    lab_x, _, _ = _label(classify, np.array(conds.hxx.tolist(), dtype=float))
    lab_y, _, _ = _label(classify, np.array(conds.hyy.tolist(), dtype=float))
    evidence.holds("test is inconclusive for both players", (lab_x, lab_y) == ("inconclusive", "inconclusive"),
                   f"labels ({lab_x}, {lab_y})")
    r = sp.Symbol("r", positive=True)
    witness = sp.expand(phi.subs({X: -r, Y: 0}) - phi.subs({X: 0, Y: 0}))
    evidence.holds("witness Φ(−r, 0) − Φ(0, 0) < 0 for every r > 0 (sympy; −r³ for the monkey saddle)",
                   bool(witness.is_negative), detail=str(witness), headline=True)
    cert = lne_certificate(taylor_difference(phi.subs(Y, 0), (X,), (0,)), 1,
                           taylor_difference(phi.subs(X, 0), (Y,), (0,)), 1,
                           radius=1e-2, n_pairs=N_PAIRS_LNE, seed=_seed("lne.monkey-saddle"))
    evidence.holds("sampling: the min player improves, the max player cannot",
                   cert.x_violation and not cert.y_violation, f"{cert}")
    evidence.record("Φ(−1e-2, 0)", float(phi.subs({X: Q_(-1, 100), Y: 0})))


# ------------------------------------------------------------ lne.weird-saddle
def _weird_saddle_game(delta: float):
    """Phi = -x^2 y^2 + x y + (delta/2)(y^2 - x^2): the weird saddle (delta = 0) or a perturbation that
    makes 0 a non-LNE with DV(0) = [[-delta, 1], [-1, -delta]] (EG's local contraction weakens)."""
    if delta == 0:
        return weird_saddle(), weird_saddle_fast()
    x, y = sp.symbols("x y", real=True)
    game = SympyGame(-(x**2) * y**2 + x * y + sp.Rational(delta) * (y**2 - x**2) / 2, [x], [y],
                     name=f"weird saddle + {delta}(y^2 - x^2)/2")
    return game, game


@pytest.mark.claim("lne.weird-saddle", uses=["extragradient", "gradient_descent_ascent", "optimistic_gda"])
@pytest.mark.parametrize("alpha, delta", [(0.05, 0.0)], ids=["alpha=0.05"])
def test_weird_saddle_local_nash_and_dynamics(evidence, algorithm, alpha, delta):
    """Phi = -x^2 y^2 + x y: V = (y(1 - 2xy), -x(1 - 2xy)) so the stationary set is
    {0} U {xy = 1/2}; 0 is a degenerate LNE (Phi(x, 0) = Phi(0, y) = 0, Hessians 0);
    on xy = 1/2, Phi_xx = -2y^2 < 0: no LNE. DV(0) = [[0, 1], [-1, 0]]: GDA grows by
    sqrt(1 + a^2) per step near 0, EG contracts by sqrt(1 - a^2 + a^4). From
    (0.3, 0.3), (0.5, -0.2), (0.9, 0.2) with a = 0.05, GDA ends on xy = 1/2 while EG
    and OGDA approach 0. (``alpha`` and ``delta`` put the check in the worlds of the controls.)"""
    evidence.resolution("rejects Phi + (delta/2)(y^2 - x^2) for any delta != 0 (exact identities of V and Phi)")
    game, fast = _weird_saddle_game(delta)
    x, y = game.x[0], game.y[0]
    v1, v2 = game.operator_expr
    evidence.holds("V factors as (y(1 - 2xy), -x(1 - 2xy)): stationary set {0} U {xy = 1/2}",
                   sp.simplify(v1 - y * (1 - 2 * x * y)) == 0 and sp.simplify(v2 + x * (1 - 2 * x * y)) == 0)
    phi = game.phi
    evidence.holds("Phi(x, 0) = Phi(0, y) = 0: 0 is a (degenerate) LNE",
                   phi.subs(y, 0) == 0 and phi.subs(x, 0) == 0)
    hess_x, hess_y = sp.diff(phi, x, 2), sp.diff(phi, y, 2)
    evidence.holds("Phi_xx = Phi_yy = 0 at 0 (necessary conditions hold, test inconclusive)",
                   hess_x.subs({x: 0, y: 0}) == 0 and hess_y.subs({x: 0, y: 0}) == 0)
    s = np.linspace(0.2, 5.0, 50)  # points (s, 1/(2s)) of xy = 1/2
    phi_xx = np.array([float(hess_x.subs({x: si, y: 1 / (2 * si)})) for si in s[::7]])
    evidence.upper_bound("Phi_xx = -2y^2 < 0 on xy = 1/2 (the min player is at a local max)", phi_xx, 0.0)
    # witness: the min player lowers Phi by moving off the curve
    f = sp.lambdify((x, y), phi, "numpy")
    t = 1e-3
    evidence.upper_bound("witness Phi(x* + t, y*) - Phi(x*, y*) < 0", f(s + t, 1 / (2 * s)) - f(s, 1 / (2 * s)), 0.0)
    z = np.random.default_rng(0).uniform(-2, 2, (50, 2))
    evidence.tight("closed-form V equals the symbolic V", fast(z), game(z), abs=1e-13)
    eig = _jacobian_eigenvalues(fast, [0.0, 0.0])
    evidence.tight("DV(0) has eigenvalues +-i (a centre)", np.sort(eig.imag), [-1.0, 1.0], abs=1e-15)
    evidence.tight("... with real part 0", eig.real, 0.0, abs=1e-15)
    starts = np.array([[0.3, 0.3], [0.5, -0.2], [0.9, 0.2]])
    steps = 5000
    evidence.parameters(alpha=alpha, steps=steps, starts=starts)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run (controls) must fail a predicate
        gda = algorithm("gradient_descent_ascent")(fast, starts, alpha, steps)
        runs = {name: algorithm(name)(fast, starts, alpha, steps) for name in ("extragradient", "optimistic_gda")}
    evidence.tight("GDA ends on xy = 1/2", gda[-1, :, 0] * gda[-1, :, 1], 0.5, abs=1e-8)
    for name, traj in runs.items():
        # linearised EG contracts by (1 - a^2 + a^4)^(1/2) = e^{-0.00125} per step: e^{-6.2} over 5000 steps;
        # OGDA's slowest mode contracts at the same order; 1e-2 of the start radius leaves room for both
        evidence.upper_bound(f"{name}: ||z_K|| <= 1e-2 ||z_0|| (approaches the LNE 0)",
                             np.linalg.norm(traj[-1], axis=-1), 1e-2 * np.linalg.norm(starts, axis=-1),
                             headline=name == "extragradient")
    evidence.note("0 is a local Nash equilibrium (degenerate: all second derivatives vanish); the tutorial "
                  "does not say so. The stationary curve xy = 1/2 attracts GDA but contains no LNE.")


@pytest.mark.slow
@pytest.mark.claim("lne.weird-saddle", uses=["extragradient", "gradient_descent_ascent", "optimistic_gda"])
@pytest.mark.parametrize("delta", [0.0], ids=["weird-saddle"])
def test_weird_saddle_simulation_table(evidence, algorithm, delta):
    """The catalogue's table: a = 0.05, 3e4 steps (the catalogue ran 1e5; EG's linearised
    contraction e^{-0.00125 k} is already 1e-16 at 3e4). From (0.3, 0.3), (0.5, -0.2), (0.9, 0.2):
    GDA ends on xy = 1/2, EG and OGDA converge to 0; from (1, -1) (outside the unit
    circle) all three end on xy = 1/2. Iterates stay in [-2, 2]^2, so the catalogue's
    projection onto the box is never active (checked). (``delta``: the perturbed game of the controls.)"""
    evidence.resolution("rejects Phi + (delta/2)(y^2 - x^2) with delta = 0.0125: EG's contraction e^-18.75 "
                        "misses 1e-10")
    _, fast = _weird_saddle_game(delta)
    starts = np.array([[0.3, 0.3], [0.5, -0.2], [0.9, 0.2], [1.0, -1.0]])
    final = {}
    for name in ("gradient_descent_ascent", "extragradient", "optimistic_gda"):
        with np.errstate(over="ignore", invalid="ignore"):
            traj = algorithm(name)(fast, starts, 0.05, 30_000)
        evidence.upper_bound(f"{name}: max |coordinate| (the projection on [-2, 2]^2 is inactive)",
                             np.abs(traj).max(), 2.0)
        final[name] = traj[-1]
        evidence.record(f"{name}: final points", traj[-1])
    evidence.tight("GDA: all four end on xy = 1/2", final["gradient_descent_ascent"].prod(-1), 0.5, abs=1e-10)
    for name in ("extragradient", "optimistic_gda"):
        evidence.upper_bound(f"{name}: inner starts converge to 0", np.linalg.norm(final[name][:3], axis=-1), 1e-10)
        evidence.tight(f"{name}: (1, -1) ends on xy = 1/2", final[name][3].prod(), 0.5, abs=1e-10)
