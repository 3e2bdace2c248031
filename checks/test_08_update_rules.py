"""Update-rule conformance of the basic min-max methods as slide 19 prints them (catalogue
2.7), on *nonlinear* operators V(z) = A z + b + c tanh(W z + e):

    GDA   z_{k+1} = z_k - alpha V(z_k)
    PPM   z_{k+1} = z_k - alpha V(z_{k+1})                  (checked as an equation)
    EG    z_{k+1} = z_k - alpha V(z_k - alpha V(z_k))        (Korpelevich; the slide's formula 3 is
          z_{k+1} = z_k - alpha V(z_k - alpha V(z_{k-1})), checked as printed)
    OGDA  z_{k+1} = z_k - alpha [2 V(z_k) - V(z_{k-1})]
    RFBS  z_{k+1} = z_k - alpha V(2 z_k - z_{k-1})
    Popov zbar_k = z_k - alpha V(zbar_{k-1}), z_{k+1} = z_k - alpha V(zbar_k)

The bilinear checks (checks/test_08_bilinear.py) run on *linear* V, where OGDA and RFBS are
the same map and a rule evaluated at a different point of the same line can agree: a
nonlinear V tells them apart. Random states: z_0, z_{-1}, one step per row, K <= 4 steps.
Tolerance: ``rounding_tolerance`` times the rule's own amplification (1 + 3 alpha L)^K (PPM: per
step, plus the resolvent's 1e-14 relative accuracy).
Deterministic: no false alarm.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.conformance import RESOLUTION, conforms
from checks.support import examples
from problems.minimax import update_rule_oracles as printed
from problems.minimax.update_rule_oracles import NonlinearOperator
from problems.optim.update_rule_oracles import rounding_tolerance


@st.composite
def minimax_states(draw, max_fraction: float = 1.0, max_steps: int = 4):
    """A nonlinear operator (dimension 2..6), z_0 and z_{-1} (B <= 4 rows), a step per row (or one
    for all) alpha = fraction / L with fraction in [0.05, max_fraction], K in 1..max_steps."""
    d = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    V = NonlinearOperator.random(d, draw(st.integers(1, d - 1)), seed, c=draw(st.floats(0.1, 2.0)))
    rng = np.random.default_rng(seed + 1)
    B, K = draw(st.integers(1, 4)), draw(st.integers(1, max_steps))
    fractions = rng.uniform(0.05, max_fraction, B) if draw(st.booleans()) else rng.uniform(0.05, max_fraction)
    return V, rng.uniform(-2, 2, (B, d)), rng.uniform(-2, 2, (B, d)), fractions / V.lipschitz, K, seed


def amplification(V, alpha, K: int, evaluations: int = 3) -> float:
    """How much K steps of a rule through V can magnify an earlier rounding: each step is
    z -> z - alpha (a combination of <= ``evaluations`` values of V at points within that much
    of z), Lipschitz <= 1 + evaluations alpha L; K steps: (1 + evaluations alpha L)^K."""
    return float((1 + evaluations * np.max(alpha) * V.lipschitz) ** K)


EXPLICIT = {  # registry name -> (printed rule, claim)
    "gradient_descent_ascent": (printed.gda, "bilinear.gda-diverges"),
    "extragradient": (printed.extragradient, "bilinear.eg-converges"),
    "optimistic_gda": (printed.optimistic_gda, "bilinear.ogda-converges"),
    "reflected_forward_backward": (printed.reflected_forward_backward, "bilinear.rfbs-converges"),
    "slide_third_formula": (printed.slide_third_formula, "bilinear.slide-formula-3"),
    "past_extragradient": (printed.past_extragradient, "bilinear.slide-formula-3"),
}


def check_explicit_rule(evidence, algorithm, name, state):
    V, z0, z_prev, alpha, K, seed = state
    two_step = name not in ("gradient_descent_ascent", "extragradient")
    kwargs = {"z_prev": z_prev} if two_step else {}
    traj = algorithm(name)(V, z0, alpha, K, **kwargs)
    ref = EXPLICIT[name][0](V, z0, alpha, K, **kwargs)
    evidence.parameters(method=name, dim=V.dim, rows=len(z0), steps=K, seed=seed)
    evidence.holds("trajectory shape (K + 1, B, d)", np.shape(traj) == ref.shape, str(np.shape(traj)))
    conforms(evidence, f"{name}: iterates = the printed rule (nonlinear V)", traj, ref, dim=V.dim,
             amplification=amplification(V, alpha, K))


@pytest.mark.claim("bilinear.gda-diverges", uses=["gradient_descent_ascent"])
@settings(max_examples=examples(10))
@given(state=minimax_states())
def test_gda_update_rule(evidence, algorithm, state):
    """GDA: z_{k+1} = z_k - alpha V(z_k) on a nonlinear V."""
    check_explicit_rule(evidence, algorithm, "gradient_descent_ascent", state)


@pytest.mark.claim("bilinear.eg-converges", uses=["extragradient"])
@settings(max_examples=examples(10))
@given(state=minimax_states())
def test_eg_update_rule(evidence, algorithm, state):
    """EG: zbar_k = z_k - alpha V(z_k), z_{k+1} = z_k - alpha V(zbar_k) on a nonlinear V."""
    check_explicit_rule(evidence, algorithm, "extragradient", state)


@pytest.mark.claim("bilinear.ogda-converges", uses=["optimistic_gda"])
@settings(max_examples=examples(10))
@given(state=minimax_states())
def test_ogda_update_rule(evidence, algorithm, state):
    """OGDA: z_{k+1} = z_k - alpha [2 V(z_k) - V(z_{k-1})] from a history z_{-1} != z_0."""
    check_explicit_rule(evidence, algorithm, "optimistic_gda", state)


@pytest.mark.claim("bilinear.rfbs-converges", uses=["reflected_forward_backward"])
@settings(max_examples=examples(10))
@given(state=minimax_states())
def test_rfbs_update_rule(evidence, algorithm, state):
    """RFBS: z_{k+1} = z_k - alpha V(2 z_k - z_{k-1}) from a history z_{-1} != z_0."""
    check_explicit_rule(evidence, algorithm, "reflected_forward_backward", state)


@pytest.mark.claim("bilinear.slide-formula-3", uses=["slide_third_formula"])
@settings(max_examples=examples(10))
@given(state=minimax_states())
def test_slide_formula_update_rule(evidence, algorithm, state):
    """The slide's third formula as printed: z_{k+1} = z_k - alpha V(z_k - alpha V(z_{k-1}))."""
    check_explicit_rule(evidence, algorithm, "slide_third_formula", state)


@pytest.mark.claim("bilinear.slide-formula-3", uses=["past_extragradient"])
@settings(max_examples=examples(10))
@given(state=minimax_states())
def test_popov_update_rule(evidence, algorithm, state):
    """Popov's past extragradient: zbar_k = z_k - alpha V(zbar_{k-1}), z_{k+1} = z_k - alpha V(zbar_k),
    zbar_{-1} = z_prev: the z-sequence."""
    check_explicit_rule(evidence, algorithm, "past_extragradient", state)


@pytest.mark.claim("bilinear.ppm-converges", uses=["proximal_point"])
@settings(max_examples=examples(10))
@given(state=minimax_states(max_fraction=0.9))
def test_ppm_update_rule(evidence, algorithm, state):
    """PPM: z_{k+1} + alpha V(z_{k+1}) = z_k at every step (alpha L <= 0.9: the implicit step is a
    contraction, the equation has one solution). The operator's resolvent is exact to 1e-14
    relative; the residual carries that plus the rounding of z + alpha V(z)."""
    V, z0, _, alpha, K, seed = state
    traj = algorithm("proximal_point")(V, z0, alpha, K)
    residual = printed.proximal_point_residual(V, traj, alpha)
    scale = float(np.abs(traj).max() + 1.0)
    tol = rounding_tolerance(K, scale, V.dim) + 4 * V.RESOLVENT_TOL * scale
    evidence.parameters(dim=V.dim, rows=len(z0), steps=K, seed=seed)
    evidence.holds("trajectory shape (K + 1, B, d)", np.shape(traj) == (K + 1, *z0.shape), str(np.shape(traj)))
    evidence.tight("z_{k+1} + alpha V(z_{k+1}) - z_k = 0 (implicit rule)", residual, 0.0, abs=tol, headline=True)
    evidence.resolution(RESOLUTION.replace("any step", "any step (the residual is then ~1e-8 |alpha V|)"))
