"""Slide 38 beyond the normal 2x2 games: the weak-MVI constant, EG+ (DDJ range), the matching
lower bound and CEG+ on non-normal games in higher dimension, at several step sizes, and in
a constrained problem whose solution has an active constraint (Pethick, Latafat, Patrinos,
Fercoq, Cevher, ICLR 2022; Diakonikolas, Daskalakis, Jordan, AISTATS 2021).

Instances (problems.minimax.minty_linear): V = A z with A non-normal, ||A|| = 1, rho = -c
(exact by sympy); 0 in F z + N_H(z) with z* on the boundary of a half-plane H and multiplier
tau > 0, rho of F + N_H exact (rational bisection).

CEG+ Lyapunov inequality (gamma L <= 1, weak MVI of T = F + A with rho, d_k = H z_k - H zbar_k):
since d_k / gamma in T zbar_k and <d_k, z_k - zbar_k> >= |d_k|^2 / 2 (H = I - gamma F with gamma L <= 1),
    ||z_{k+1} - z*||^2 <= ||z_k - z*||^2 - alpha (1 + 2 rho/gamma - alpha) ||d_k||^2,
so ||z_k - z*|| is non-increasing and sum_k ||d_k||^2 <= ||z_0 - z*||^2 / (alpha (1 + 2 rho/gamma - alpha)).
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from checks.support import examples
from problems.minimax.games import AffineOperator
from problems.minimax.minty_games import Box, linear_minty_game
from problems.minimax.minty_linear import (
    HalfPlaneProblem,
    departure_from_normality,
    exact_affine_constants,
    float_constants,
    non_normal_minty_matrix,
)

ROUNDING = 1e-12  # relative float64 rounding per step of a small linear recursion (a few ulps, 10x margin)


def ceg_plus_lyapunov(evidence, label, traj, operator, gamma, damping, rho_lower, solution, prox=None,
                      headline=False):
    """The CEG+ inequality of the module docstring on a trajectory (K+1, B, d)."""
    h_z = traj - gamma * operator(traj)
    z_bar = h_z if prox is None else prox(h_z, gamma)
    d = h_z - (z_bar - gamma * operator(z_bar))
    dist = np.linalg.norm(traj - solution, axis=-1)
    evidence.monotone(f"{label}: ||z_k - z*|| non-increasing (Fejer)", dist, abs=ROUNDING * (1 + dist.max()))
    coefficient = damping * (1 + 2 * rho_lower / gamma - damping)
    bound = dist[0] ** 2 / coefficient
    # each d_k carries a rounding error ~ ROUNDING (|z_k| + gamma |F z_k|): an absolute term for d_k ~ 0
    scale = ROUNDING * (1 + np.abs(traj).max() + gamma * np.abs(operator(traj)).max())
    evidence.upper_bound(f"{label}: sum_k ||H z_k - H zbar_k||^2 <= ||z_0 - z*||^2 / (a (1 + 2 rho/g - a))",
                         np.sum(d[:-1] ** 2, axis=(0, 2)), bound, rel=ROUNDING * len(traj),
                         abs=len(traj) * scale**2 / coefficient, headline=headline)
    return dist


# ------------------------------------------------------- wmvi.definition-and-rho
@pytest.mark.claim("wmvi.definition-and-rho", uses=["weak_minty_rho"])
@settings(max_examples=examples(6), deadline=None)
@given(half=st.integers(1, 2), c=st.floats(0.0, 0.95), seed=st.integers(0, 2**16))
@example(half=1, c=0.3, seed=0)
def test_weak_minty_rho_of_non_normal_games(evidence, algorithm, half, c, seed):
    """V = A z, A non-normal (d = 2, 4): rho = inf <Az, z>/|Az|^2 = lambda_min(sym(A^-1)) exactly
    (sympy, smallest root of the characteristic polynomial, on the binary rationals of A); the
    oracle under test returns it to 1e-9, the ratio at its argmin equals it, and no sampled
    point goes below it."""
    evidence.resolution("rejects a rho off by a relative 1e-8 (tolerance 1e-9)")
    d = 2 * half
    A = non_normal_minty_matrix(d, c, seed)
    rho_exact, lip_exact = exact_affine_constants(A)
    estimate = algorithm("weak_minty_rho")(AffineOperator(A[None], dim_x=half), Box(1.0), np.zeros((1, d)))
    evidence.parameters(d=d, c=c, seed=seed, departure=departure_from_normality(A))
    evidence.lower_bound("departure from normality ||AA^T - A^TA|| / ||A||^2 (a non-normal instance)",
                         departure_from_normality(A), 1e-3 if c > 0 else 0.0)
    rho = float(sp.N(rho_exact, 30))
    evidence.tight("L = ||A|| (exact) = 1", float(sp.N(lip_exact, 30)), 1.0, rel=1e-12)
    # the oracle's inverse and eigen-solve of a d <= 4 matrix with condition number <= 1e3: ~1e3 ulps
    evidence.tight("oracle rho = exact lambda_min(sym(A^-1))", np.asarray(estimate.value).ravel()[0], rho,
                   rel=1e-9, abs=1e-12, headline=True)
    z = np.asarray(estimate.argmin, float).reshape(1, d)
    v = z @ A.T
    evidence.tight("ratio at the reported argmin equals rho (attained)", np.sum(v * z) / np.sum(v * v), rho,
                   rel=1e-9, abs=1e-12)
    samples = np.random.default_rng(seed).standard_normal((2000, d))
    v = samples @ A.T
    evidence.lower_bound("every sampled ratio >= rho", (np.sum(v * samples, -1) / np.sum(v * v, -1)).min(), rho,
                         abs=1e-12)


# ------------------------------------------------------------- wmvi.egplus-ddj
@pytest.mark.claim("wmvi.egplus-ddj", uses=["extragradient_plus"])
@settings(max_examples=examples(8), deadline=None)
@given(half=st.integers(1, 3), c=st.floats(0.0, 0.1249), seed=st.integers(0, 2**16))
@example(half=3, c=0.1249, seed=1)
def test_eg_plus_in_the_ddj_range_on_non_normal_games(evidence, algorithm, half, c, seed):
    """rho > -1/(8L) on non-normal A (d = 2, 4, 6), gamma = 1/L, damping 1/2: EG+ reproduces
    the exact recursion, ||z_k - z*|| is non-increasing, sum_k ||V(zbar_k)||^2 obeys the
    Lyapunov bound (the CEG+ inequality with A = 0) and the iteration map contracts."""
    evidence.resolution("rejects a damping off by a relative 1e-6 (exact recursion)")
    d = 2 * half
    A = non_normal_minty_matrix(d, c, seed)
    rho, L = float_constants(A)
    gamma, damping, steps = 1 / L, 0.5, 120
    z0 = np.random.default_rng(seed + 1).standard_normal((4, d))
    op = AffineOperator(A, dim_x=half)
    traj = algorithm("extragradient_plus")(op, z0, gamma, steps, damping=damping)
    evidence.parameters(d=d, rho_L=rho * L, departure=departure_from_normality(A))
    evidence.upper_bound("rho L > -1/8 (inside DDJ's range)", -rho * L, 1 / 8)
    M = np.eye(d) - damping * gamma * A @ (np.eye(d) - gamma * A)
    exact = z0 @ np.linalg.matrix_power(M, steps).T
    evidence.tight("z_K equals the exact linear recursion M^K z_0", traj[-1], exact, rel=ROUNDING * steps,
                   abs=ROUNDING * steps)
    ceg_plus_lyapunov(evidence, "EG+", traj, op, gamma, damping, rho, 0.0, headline=True)
    evidence.upper_bound("spectral radius of the EG+ map < 1", np.max(np.abs(np.linalg.eigvals(M))), 1.0)


# ------------------------------------------------------------- wmvi.lower-bound
def eg_plus_modulus_excess(c, damping, g):
    """|lambda|^2 - 1 of EG+ (gamma = g/L, damping alpha) on the linear game with c = -rho L."""
    return damping * g * (damping * g * (g * g + 2 * c * g + 1) + 4 * c * c * g + 2 * c - 2 * g)


@pytest.mark.claim("wmvi.lower-bound", uses=["extragradient_plus"])
@pytest.mark.parametrize("max_step", [1.0], ids=["gamma<=1/L"])
@settings(max_examples=examples(25), deadline=None)
@given(c=st.floats(0.01, 0.99), damping=st.floats(0.01, 1.0), g_fraction=st.floats(0.05, 1.0))
@example(c=0.55, damping=0.01, g_fraction=1.0)
@example(c=0.5, damping=0.5, g_fraction=0.25)
@example(c=0.3, damping=0.2, g_fraction=0.75)
def test_eg_plus_lower_bound_at_several_steps(evidence, algorithm, max_step, c, damping, g_fraction):
    """EG+ with any gamma = g/L, g <= 1 (not only 1/L) on the linear game, c = -rho L:
    |lambda|^2 - 1 = alpha g (alpha g (g^2 + 2cg + 1) + 4c^2 g + 2c - 2g) (sympy), so some alpha > 0
    converges iff g > c/(1 - 2c^2), possible with g <= 1 iff c < 1/2: once rho <= -1/(2L) no
    (gamma <= 1/L, alpha) converges, the matching lower bound at every step size."""
    evidence.resolution("rejects a damping off by a relative 1e-6; any gamma > 1/L at which a damping converges with "
                        "rho L <= -1/2")
    g = g_fraction * max_step
    cs, al, gs = sp.symbols("c alpha g", real=True)
    s = sp.sqrt(1 - cs**2)
    lam_re = 1 + al * gs * cs + al * gs**2 * (2 * cs**2 - 1)
    lam_im = -al * gs * s - 2 * al * gs**2 * cs * s
    derived = sp.expand(lam_re**2 + lam_im**2 - 1)
    evidence.holds("sympy: |1 - a g mu + a g^2 mu^2|^2 - 1 (mu = -c + i sqrt(1 - c^2)) = closed form",
                   sp.simplify(derived - eg_plus_modulus_excess(cs, al, gs)) == 0)
    game = linear_minty_game(1.0, -c)
    steps = 40
    traj = algorithm("extragradient_plus")(game.operator, game.starts(seed=7), g, steps, damping=damping)
    factor = (np.linalg.norm(traj[-1], axis=-1) / np.linalg.norm(traj[0], axis=-1)) ** (1 / steps)
    excess = eg_plus_modulus_excess(c, damping, g)
    evidence.parameters(c=c, damping=damping, g=g)
    evidence.tight("measured per-step factor = sqrt(1 + closed form)", factor[0], np.sqrt(1 + excess),
                   rel=ROUNDING * steps)
    if c >= 0.5:
        evidence.lower_bound("rho L <= -1/2: diverges (measured factor >= 1) at this (gamma, alpha)", factor[0], 1.0,
                             headline=True)
    threshold = c / (1 - 2 * c * c) if c < 1 / np.sqrt(2) else np.inf
    evidence.holds("some alpha in (0, 1] converges iff g > c/(1 - 2c^2)",
                   bool(eg_plus_modulus_excess(c, 1e-9, g) < 0) == bool(g > threshold) or abs(g - threshold) < 1e-9,
                   detail=f"g = {g:.4f}, threshold {threshold:.4f}")


# ---------------------------------------------------------- wmvi.cegplus-rho-1-2L
@pytest.mark.claim("wmvi.cegplus-rho-1-2L", uses=["constrained_extragradient_plus"])
@settings(max_examples=examples(8), deadline=None)
@given(half=st.integers(1, 3), c=st.floats(0.01, 0.49), seed=st.integers(0, 2**16),
       gamma_fraction=st.floats(0.05, 1.0), damping_fraction=st.floats(0.05, 0.95))
@example(half=3, c=0.45, seed=2, gamma_fraction=1.0, damping_fraction=0.5)
def test_ceg_plus_on_non_normal_games(evidence, algorithm, half, c, seed, gamma_fraction, damping_fraction):
    """rho = -c/L > -1/(2L) on non-normal A, d = 2, 4, 6: CEG+ (unconstrained) with gamma in
    (-2 rho, 1/L] and damping in (0, 1 + 2 rho/gamma) is Fejer monotone, obeys the Lyapunov
    bound and its map contracts."""
    evidence.resolution("rejects a damping off by a relative 1e-6 (exact recursion)")
    d = 2 * half
    A = non_normal_minty_matrix(d, c, seed)
    rho, L = float_constants(A)
    gamma = -2 * rho + gamma_fraction * (1 / L + 2 * rho)
    damping = damping_fraction * (1 + 2 * rho / gamma)
    op = AffineOperator(A, dim_x=half)
    z0 = np.random.default_rng(seed + 2).standard_normal((4, d))
    traj = algorithm("constrained_extragradient_plus")(op, z0, gamma, 200, damping=damping)
    evidence.parameters(d=d, rho_L=rho * L, gamma=gamma, damping=damping)
    ceg_plus_lyapunov(evidence, "CEG+", traj, op, gamma, damping, rho, 0.0, headline=True)
    M = np.eye(d) - damping * gamma * A @ (np.eye(d) - gamma * A)
    evidence.tight("z_K equals the exact linear recursion M^K z_0", traj[-1],
                   z0 @ np.linalg.matrix_power(M, 200).T, rel=ROUNDING * 200, abs=ROUNDING * 200)
    evidence.upper_bound("spectral radius of the CEG+ map < 1", np.max(np.abs(np.linalg.eigvals(M))), 1.0)


def half_plane_instances(draw, family: str) -> HalfPlaneProblem:
    """Canonical M0 = [[-beta, a], [-a', delta]] (tangent direction e2): ``monotone-along-boundary``
    has delta > 0 and det > 0 (the zero of F lies outside H); ``linear-family`` is
    [[b, a], [-a, b]] with b = rho L^2 < 0, anti-monotone along the boundary."""
    angle = draw(st.floats(0, 2 * np.pi))
    z_star = np.array(draw(st.tuples(st.floats(-1, 1), st.floats(-1, 1))))
    tau = draw(st.floats(0.1, 2.0))
    if family == "linear-family":
        game = linear_minty_game(1.0, -draw(st.floats(0.05, 0.45)))
        return HalfPlaneProblem(game.A[0], tau, angle, z_star)
    beta, delta = draw(st.floats(0.0, 0.6)), draw(st.floats(0.05, 1.0))
    a, a2 = draw(st.floats(0.3, 1.5)), draw(st.floats(0.3, 1.5))
    assume(a * a2 - beta * delta > 0.05)
    return HalfPlaneProblem(np.array([[-beta, a], [-a2, delta]]), tau, angle, z_star)


half_plane_problems = st.composite(half_plane_instances)


@pytest.mark.claim("wmvi.cegplus-rho-1-2L", uses=["constrained_extragradient_plus"])
@pytest.mark.parametrize("family", ["monotone-along-boundary"])
@settings(max_examples=examples(10), deadline=None)
@given(data=st.data(), gamma_fraction=st.floats(0.1, 1.0), damping_fraction=st.floats(0.1, 0.95))
def test_ceg_plus_with_an_active_constraint(evidence, algorithm, family, data, gamma_fraction, damping_fraction):
    """0 in F z + N_H(z): z* on the boundary of the half-plane H with multiplier tau > 0 (the zero
    of F lies outside H, so the projection is active at the solution). With rho of F + N_H
    (exact) > -1/(2L): CEG+ with gamma in (-2 rho, 1/L] and damping in (0, 1 + 2 rho/gamma),
    projecting in the extrapolation, is Fejer monotone, obeys the Lyapunov bound and reaches z*
    (||z_K - z*|| <= 1e-8). The dynamics are asserted before the theory's range, so a problem
    outside the theorem is rejected by what CEG+ does on it."""
    evidence.resolution("rejects a projection overshooting by 1e-5 of the excess (the exact active-piece recursion)")
    problem = data.draw(half_plane_problems(family))
    rho_lo, rho_hi = problem.rho
    L = problem.lipschitz
    in_theory = rho_lo > -1 / (2 * L)
    if family == "monotone-along-boundary":
        assume(in_theory and rho_lo * L > -0.45)  # keep a non-empty step range with room
    gamma = (-2 * rho_lo + gamma_fraction * (1 / L + 2 * rho_lo)) if in_theory else 1 / L
    damping = damping_fraction * (1 + 2 * rho_lo / gamma) if in_theory else 0.5
    angles = np.linspace(0, 2 * np.pi, 6, endpoint=False) + 0.3  # none lands on z* after projection
    z0 = problem.prox(problem.solution + np.stack([np.cos(angles), np.sin(angles)], 1))
    ceg = algorithm("constrained_extragradient_plus")
    G = np.eye(2) - gamma * problem.M
    radius = gamma * problem.tau / np.linalg.norm(G, 2)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run must fail a predicate, not warn
        traj = ceg(problem.operator, z0, gamma, 1000, damping=damping, prox=problem.prox)
        while not np.linalg.norm(traj[-1] - problem.solution, axis=-1).max() < radius and len(traj) < 16001:
            # convergence is asymptotic: extend the run (to 16000 steps) until every start is near z*
            more = ceg(problem.operator, traj[-1], gamma, 1000, damping=damping, prox=problem.prox)
            traj = np.concatenate([traj, more[1:]])
        evidence.parameters(family=family, rho_T=[rho_lo, rho_hi], L=L, gamma=gamma, damping=damping, tau=problem.tau)
        evidence.record("rho of F + N_H (exact enclosure)", [rho_lo, rho_hi], rho_F=float_constants(problem.M0)[0])
        evidence.tight("F(z*) = -tau n, tau > 0: the constraint is active at z* (z* is not a zero of F)",
                       problem.operator(problem.solution[None])[0], -problem.tau * problem.normal, abs=1e-12)
        # Near z* the projection is active (<H z - z*, n> = <G e, n> + gamma tau > 0 for |e| < gamma tau/||G||,
        # G = I - gamma M, e = z - z*), so there CEG+ is linear: e+ = T e, T = I + a G (Pi G - I), Pi = I - n n^T.
        # Fejer monotonicity keeps an iterate that enters that ball inside it: from then on z_k - z* = T^k (...).
        n = problem.normal
        T = np.eye(2) + damping * G @ ((np.eye(2) - np.outer(n, n)) @ G - np.eye(2))
        dist = np.linalg.norm(traj - problem.solution, axis=-1)
        inside = dist < radius
        entered = np.where(inside.any(0), np.argmax(inside, axis=0), -1)
        evidence.holds("every start enters the ball where the projection is active (|e| < gamma tau/||G||)",
                       entered >= 0, f"entry steps {entered}")
        k0 = int(entered.max())
        e0 = traj[k0] - problem.solution
        exact = e0 @ np.linalg.matrix_power(T, len(traj) - 1 - k0).T
        evidence.tight("after entry, z_K - z* = T^(K - k0) (z_k0 - z*) (CEG+ linear with the active projection)",
                       traj[-1] - problem.solution, exact, rel=ROUNDING * len(traj), abs=ROUNDING * len(traj))
        evidence.upper_bound("spectral radius of T < 1 (z_k -> z* on the boundary)",
                             np.max(np.abs(np.linalg.eigvals(T))),
                             1.0, headline=True)
        ceg_plus_lyapunov(evidence, "CEG+ with projection", traj, problem.operator, gamma, damping,
                          rho_lo if in_theory else -1 / (2 * L) * 0.999, problem.solution, problem.prox)
        evidence.lower_bound("rho of F + N_H > -1/(2L) (inside the theorem)", rho_lo, -1 / (2 * L))
