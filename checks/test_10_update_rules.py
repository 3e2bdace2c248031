"""Update-rule conformance of EG+, CEG+ and CurvatureEG+ (slides 38-39, catalogue 2.9) on
nonlinear operators V(z) = A z + b + c tanh(W z + e), with and without a constraint (a box,
whose projection is the resolvent of its indicator):

    EG+          zbar_k = z_k - gamma V(z_k),  z_{k+1} = z_k - alpha gamma V(zbar_k)      (slide 38)
    CEG+         zbar_k = P(z_k - gamma V z_k),  z_{k+1} = z_k + alpha (H zbar_k - H z_k),  H = I - gamma V
                 (Pethick, Latafat, Patrinos, Fercoq, Cevher, ICLR 2022, Alg. 1)
    CurvatureEG+ gamma from the curvature guess nu/||DV|| with backtracking, a_k = sigma/gamma +
                 <zbar - z, dH>/||dH||^2, z_{k+1} = z_k + lambda a_k dH (their Sec. 6)

Random states and hyper-parameters (gamma, the damping alpha, nu, tau, the relaxation); every
iterate against the printed rule (``problems.minimax.update_rule_oracles``) to a derived
rounding tolerance. Deterministic: no false alarm.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.conformance import conforms
from checks.support import examples
from checks.test_08_update_rules import amplification, minimax_states
from problems.minimax import update_rule_oracles as printed

DAMPING = st.floats(0.05, 1.0)


@pytest.mark.claim("wmvi.egplus-ddj", uses=["extragradient_plus"])
@settings(max_examples=examples(10))
@given(state=minimax_states(), damping=DAMPING)
def test_eg_plus_update_rule(evidence, algorithm, state, damping):
    """EG+: zbar_k = z_k - gamma V(z_k), z_{k+1} = z_k - alpha gamma V(zbar_k), alpha = ``damping``."""
    V, z0, _, gamma, K, seed = state
    traj = algorithm("extragradient_plus")(V, z0, gamma, K, damping=damping)
    evidence.parameters(dim=V.dim, rows=len(z0), steps=K, damping=damping, seed=seed)
    conforms(evidence, "EG+ iterates = the printed rule", traj, printed.extragradient_plus(V, z0, gamma, K, damping),
             dim=V.dim, amplification=amplification(V, gamma, K))


@pytest.mark.claim("wmvi.cegplus-rho-1-2L", uses=["constrained_extragradient_plus"])
@settings(max_examples=examples(10))
@given(state=minimax_states(), damping=DAMPING, box=st.one_of(st.none(), st.floats(0.2, 1.5)))
def test_ceg_plus_update_rule(evidence, algorithm, state, damping, box):
    """CEG+: zbar_k = P(z_k - gamma V z_k), z_{k+1} = z_k + alpha(zbar_k - gamma V zbar_k - z_k + gamma V z_k),
    P the projection onto [-box, box]^d (an active constraint for most rows) or the identity."""
    V, z0, _, gamma, K, seed = state
    prox = None if box is None else printed.box_projection(-box, box)
    traj = algorithm("constrained_extragradient_plus")(V, z0, gamma, K, damping=damping, prox=prox)
    evidence.parameters(dim=V.dim, rows=len(z0), steps=K, damping=damping, box=box, seed=seed)
    conforms(evidence, "CEG+ iterates = the printed rule",
             traj, printed.constrained_extragradient_plus(V, z0, gamma, K, damping, prox), dim=V.dim,
             amplification=amplification(V, gamma, K))


@pytest.mark.claim("wmvi.adaptive-handles-39", uses=["curvature_extragradient_plus"])
@settings(max_examples=examples(10))
@given(state=minimax_states(max_fraction=1.5, max_steps=3), nu=st.floats(0.5, 0.95), tau=st.floats(0.3, 0.9),
       relaxation=st.floats(0.5, 1.5), box=st.one_of(st.none(), st.floats(0.2, 1.5)))
def test_curvature_eg_plus_update_rule(evidence, algorithm, state, nu, tau, relaxation, box):
    """CurvatureEG+ with random nu, tau, relaxation lambda, step cap (up to 1.5/L, so that the line
    search backtracks) and an optional box: every iterate against the printed rule."""
    V, z0, _, cap, K, seed = state
    prox = None if box is None else printed.box_projection(-box, box)
    traj = algorithm("curvature_extragradient_plus")(V, z0, cap, K, nu=nu, tau=tau, relaxation=relaxation,
                                                     prox=prox)
    ref = printed.curvature_extragradient_plus(V, z0, cap, K, nu, tau, relaxation, -0.99 / 2, prox)
    evidence.parameters(dim=V.dim, rows=len(z0), steps=K, nu=nu, tau=tau, relaxation=relaxation, box=box, seed=seed)
    # a_k divides by ||dH||^2: a relative rounding of dH is amplified at most by ||zbar - z|| / ||dH||
    # <= 1/(1 - nu) (the line search's guarantee gamma ||V(zbar) - V(z)|| <= nu ||zbar - z||)
    conforms(evidence, "CurvatureEG+ iterates = the printed rule", traj, ref, dim=int(V.dim / (1 - nu)) + V.dim,
             amplification=amplification(V, cap, K, evaluations=3 * (1 + int(relaxation))))
