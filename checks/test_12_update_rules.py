"""Update-rule conformance of the mixed-Nash methods (slides 40-42, catalogue 2.11):

    entropic mirror descent   p_{t+1} ∝ p_t exp(-eta_p G q_t),  q_{t+1} ∝ q_t exp(eta_q G^T p_t),
                              averaged strategies reported                       (finite games)
    mirror descent + Langevin the Gibbs measures exp(-eta sum_s E_{q_s} Phi(., y)) (and the y twin)
                              sampled by projected Langevin, warm-started        (Hsieh, Liu, Cevher 2019)
    projected GDA             z_{k+1} = P(z_k - alpha V(z_k))                    (the pure baseline)

Random payoffs, step sizes and horizons; every recorded output against the printed rule
(``problems.minimax.update_rule_oracles``). The Langevin method draws from the numpy
generator it is given; the printed rule is replayed from the same seed in the printed order
(per t: the x particles' inner steps, then the y particles'), so a correct implementation
that draws its noise in another order fails here (a limitation of a pathwise check).
Deterministic: no false alarm.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.conformance import conforms
from checks.support import examples
from problems.minimax import update_rule_oracles as printed
from problems.minimax.update_rule_oracles import NonlinearOperator
from problems.stochastic_minimax.mixed_games import weird_saddle_payoff


@pytest.mark.claim("mixed.md-finite-games", uses=["entropic_mirror_descent"])
@settings(max_examples=examples(10))
@given(m=st.integers(2, 5), n=st.integers(2, 5), T=st.integers(1, 30), eta_p=st.floats(0.01, 2.0),
       eta_q=st.floats(0.01, 2.0), seed=st.integers(0, 2**32 - 1))
def test_entropic_mirror_descent_update_rule(evidence, algorithm, m, n, T, eta_p, eta_q, seed):
    """Simultaneous multiplicative weights from uniform strategies; the averages at every T.
    The exponent sums carry eta T max|G| relative rounding (softmax of cumulative payoffs)."""
    G = np.random.default_rng(seed).uniform(-1, 1, (3, m, n))
    p, q = algorithm("entropic_mirror_descent")(G, T, (eta_p, eta_q), record=list(range(1, T + 1)))
    ref_p, ref_q = printed.entropic_mirror_descent(G, T, eta_p, eta_q)
    evidence.parameters(m=m, n=n, T=T, eta=(eta_p, eta_q), seed=seed)
    exponent = 1 + T * max(eta_p, eta_q)  # the exponents' size: their rounding is relative to it
    conforms(evidence, "averaged p = printed multiplicative weights", p, ref_p, dim=m + int(exponent))
    conforms(evidence, "averaged q = printed multiplicative weights", q, ref_q, dim=n + int(exponent),
             headline=False)


@pytest.mark.claim("mixed.escaping-traps", uses=["projected_gradient_descent_ascent"])
@settings(max_examples=examples(10))
@given(seed=st.integers(0, 2**32 - 1), K=st.integers(1, 10), fraction=st.floats(0.01, 1.0),
       box=st.floats(0.3, 2.0))
def test_projected_gda_update_rule(evidence, algorithm, seed, K, fraction, box):
    """z_{k+1} = clip(z_k - alpha V(z_k), -box, box) on a nonlinear V, every recorded step."""
    V = NonlinearOperator.random(4, 2, seed)
    z0 = np.random.default_rng(seed + 1).uniform(-box, box, (3, 4))
    alpha = fraction / V.lipschitz
    out = algorithm("projected_gradient_descent_ascent")(V, z0, alpha, K, low=-box, high=box,
                                                         record=list(range(1, K + 1)))
    evidence.parameters(K=K, alpha=alpha, box=box, seed=seed)
    conforms(evidence, "projected GDA = the printed rule", out, printed.projected_gda(V, z0, alpha, K, -box, box),
             dim=4)


@pytest.mark.claim("mixed.md-langevin", uses=["mirror_descent_langevin"])
@settings(max_examples=examples(5))
@given(seed=st.integers(0, 2**32 - 1), T=st.integers(1, 5), eta=st.floats(0.1, 5.0),
       inner=st.integers(1, 4), step=st.floats(1e-3, 0.02))
def test_mirror_descent_langevin_update_rule(evidence, algorithm, seed, T, eta, inner, step):
    """Mirror descent on measures with Langevin particles (the weird saddle's separable payoff),
    from the same generator seed as the printed rule: every particle at every t."""
    payoff = weird_saddle_payoff()
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-1, 1, (16, 1)), rng.uniform(-1, 1, (16, 1))
    X, Y = algorithm("mirror_descent_langevin")(payoff, x0, y0, T, eta, inner, step, np.random.default_rng(seed + 1),
                                                record=list(range(1, T + 1)))
    ref_x, ref_y = printed.mirror_descent_langevin(payoff, x0, y0, T, eta, inner, step, np.random.default_rng(seed + 1))
    evidence.parameters(T=T, eta=eta, inner_steps=inner, step=step, particles=16, seed=seed)
    # an inner step multiplies an earlier rounding by at most 1 + h |U''|: h = step/max(1, eta t) and
    # |U''| <= eta * 2 * 4t (|feature''| <= 2, opponent's feature means <= 4 on [-2, 2], t of them), so
    # 1 + 8 step; the clip is non-expansive
    growth = float((1 + 8 * step) ** (inner * T))
    conforms(evidence, "x particles = printed rule (same draws)", X, ref_x, dim=8, amplification=growth)
    conforms(evidence, "y particles = printed rule (same draws)", Y, ref_y, dim=8, amplification=growth,
             headline=False)
