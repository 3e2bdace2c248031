"""Update-rule conformance of SEG, SEG+ and BC-SEG+ as slide 39 prints them (catalogue 2.10),
on nonlinear operators with additive noise V(z, zeta) = F(z) + u_zeta:

    SEG     zbar_k = z_k - beta_k gamma V(z_k, zeta_k),  z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k)
    SEG+    zbar_k = z_k - gamma V(z_k, zeta_k),         z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k)
    BC-SEG+ zbar_k = H(z_k, zeta_k) + (1 - alpha_k)(zbar_{k-1} - H(z_{k-1}, zeta_k)),  H(z, zeta) = z - gamma V(z, zeta),
            z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k)

and their projected forms (Hsieh et al. 2020; Pethick et al. ICLR 2023, P1SEG+/P1BC-SEG+). The
samples are *tokens* handed out in call order (``TokenOracle``): the implementation's own
draws decide which noise vector enters where, and the printed rule replayed with the same
order of draws (zeta_k before zetabar_k, as printed; BC-SEG+ evaluates its one zeta_k at z_k
and at z_{k-1}) must give the same iterates to rounding. Random schedules (alpha_k, beta_k).
Deterministic: no false alarm.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.conformance import conforms
from checks.support import examples
from checks.test_08_update_rules import amplification, minimax_states
from problems.minimax import update_rule_oracles as printed
from problems.minimax.update_rule_oracles import TokenOracle

METHODS = {  # registry name -> (printed rule, claim)
    "stochastic_extragradient": (printed.stochastic_extragradient, "seg.two-timescale"),
    "stochastic_extragradient_plus": (printed.stochastic_extragradient_plus, "segplus.affine"),
    "bias_corrected_seg_plus": (printed.bias_corrected_seg_plus, "bcsegplus.convergence"),
}


@st.composite
def stochastic_states(draw):
    """A minimax state, a token oracle over its operator, a random schedule k -> (alpha_k, beta_k)
    with alpha_k, beta_k in (0, 1], and an optional box projection."""
    V, z0, _, gamma, K, seed = draw(minimax_states(max_steps=3))
    oracle = TokenOracle.random(V, tokens=4 * K * len(z0), seed=seed + 2)
    rng = np.random.default_rng(seed + 3)
    alphas, betas = rng.uniform(0.05, 1.0, K), rng.uniform(0.05, 1.0, K)
    box = draw(st.one_of(st.none(), st.floats(0.3, 1.5)))
    gamma = float(np.min(gamma))  # the contract's gamma is one scale for all rows
    return oracle, z0, gamma, (lambda k: (alphas[k], betas[k])), K, box, seed, amplification(V, gamma, K, 6)


def check_stochastic_rule(evidence, algorithm, name, state):
    oracle, z0, gamma, schedule, K, box, seed, growth = state
    projection = None if box is None else printed.box_projection(-box, box)
    out = algorithm(name)(oracle.fresh(), z0, gamma, schedule, K, np.random.default_rng(seed),
                          projection=projection)
    ref = METHODS[name][0](oracle.fresh(), z0, gamma, schedule, K, projection)
    evidence.parameters(method=name, dim=z0.shape[1], rows=len(z0), steps=K, box=box, seed=seed)
    evidence.holds("trajectory shape (K + 1, B, d)", np.shape(out) == ref.shape, str(np.shape(out)))
    # BC-SEG+ carries zbar_{k-1} and z_{k-1} along: two more copies of an error per step (6 evaluations)
    conforms(evidence, f"{name}: iterates = the printed rule (same samples)", out, ref, dim=z0.shape[1],
             amplification=growth)


@pytest.mark.claim("seg.two-timescale", uses=["stochastic_extragradient"])
@settings(max_examples=examples(10))
@given(state=stochastic_states())
def test_seg_update_rule(evidence, algorithm, state):
    """SEG with two step sizes beta_k (extrapolation) and alpha_k (update), independent samples."""
    check_stochastic_rule(evidence, algorithm, "stochastic_extragradient", state)


@pytest.mark.claim("segplus.affine", uses=["stochastic_extragradient_plus"])
@settings(max_examples=examples(10))
@given(state=stochastic_states())
def test_seg_plus_update_rule(evidence, algorithm, state):
    """SEG+: a fixed extrapolation gamma, the update alpha_k gamma."""
    check_stochastic_rule(evidence, algorithm, "stochastic_extragradient_plus", state)


@pytest.mark.claim("bcsegplus.convergence", uses=["bias_corrected_seg_plus"])
@settings(max_examples=examples(10))
@given(state=stochastic_states())
def test_bc_seg_plus_update_rule(evidence, algorithm, state):
    """BC-SEG+: the bias-corrected extrapolation with one sample zeta_k at z_k and at z_{k-1}."""
    check_stochastic_rule(evidence, algorithm, "bias_corrected_seg_plus", state)
