"""Update-rule conformance of the rate table's methods (slide 15, catalogue 2.2): AGD,
AdaGrad, AdaGrad-Norm, Adam, AMSGrad, AcceleGrad, UniXGrad. Each check feeds the
implementation under test a random gradient sequence (six decades of magnitude, zeros, a
zero row) with random step sizes and hyper-parameters, and compares every iterate (and the
reported point, where the method reports another one) with the papers' formulas
(``problems.optim.update_rule_oracles``) to a derived rounding tolerance
(``rounding_tolerance``: ~1e-13 relative over <= 8 steps).

A changed rule fails here even where its rate survives; the rate checks
(checks/test_03_adaptive*.py) cannot tell, e.g., AGD with momentum k/(k+3) from (k-1)/(k+2).
torch.optim's own classes pass where they implement the paper's rule: ``--impl
adam=torch.optim:Adam``, ``adagrad=torch.optim:Adagrad``, and AMSGrad as torch writes it
(``--impl amsgrad=algorithms.torch_optim:AMSGrad``, Adam's debiasing kept; see the check).
Deterministic: no false alarm.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from checks.conformance import OptimizerState, conforms, drive, optimizer_states
from checks.support import examples
from problems.optim import update_rule_oracles as printed

BETA1 = st.floats(0.0, 0.99)
BETA2 = st.floats(0.0, 0.999)
EPS = st.one_of(st.just(1e-8), st.floats(1e-8, 1e-1))  # large eps: its placement shows


@pytest.mark.claim("adaptive.agd-rates", uses=["accelerated_gradient"])
@settings(max_examples=examples(10))
@given(state=optimizer_states())
def test_agd_update_rule(evidence, algorithm, state):
    """x_k = y_k - (1/L) g_k, y_{k+1} = x_k + (k - 1)/(k + 2)(x_k - x_{k-1}) (FISTA, t_k = (k+1)/2):
    the query point y (the parameter) and the reported point x (``solution()``) after every step."""
    run = drive(algorithm("accelerated_gradient"), state, report=True)
    ref = printed.accelerated_gradient(state.x0, state.grads, state.lrs)
    evidence.parameters(steps=state.steps, rows=state.x0.shape[0], dim=state.dim, seed=state.seed)
    # the momentum recursion e_{k+1} = (1 + b) e_k - b e_{k-1} (b <= 1) lets an error grow linearly: factor K
    conforms(evidence, "query points y_k = printed rule", run["x"], ref["x"], dim=state.dim,
             amplification=state.steps)
    conforms(evidence, "reported points x_k = printed rule", run["solution"], ref["solution"], dim=state.dim,
             amplification=state.steps, headline=False)


@pytest.mark.claim("adaptive.adagrad-rates", uses=["adagrad"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(), eps=EPS)
def test_adagrad_update_rule(evidence, algorithm, state, eps):
    """Diagonal AdaGrad (Duchi, Hazan, Singer 2011): s_k = s_{k-1} + g_k^2,
    x_{k+1} = x_k - eta g_k/(delta + sqrt(s_k)), delta = eps (torch.optim.Adagrad's rule)."""
    run = drive(algorithm("adagrad"), state, eps=eps)
    ref = printed.adagrad(state.x0, state.grads, state.lrs, eps)
    evidence.parameters(steps=state.steps, dim=state.dim, eps=eps, seed=state.seed)
    conforms(evidence, "iterates = printed AdaGrad", run["x"], ref["x"], dim=state.dim)


@pytest.mark.claim("adaptive.adagrad-rates", uses=["adagrad_norm"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(), b0=st.one_of(st.just(0.0), st.floats(0.01, 2.0)))
def test_adagrad_norm_update_rule(evidence, algorithm, state, b0):
    """AdaGrad-Norm (Ward, Wu, Bottou 2019, Alg. 1), one b per row: b_{j+1}^2 = b_j^2 + ||G_j||^2,
    x_{j+1} = x_j - eta G_j/b_{j+1}."""
    run = drive(algorithm("adagrad_norm"), state, b0=b0)
    ref = printed.adagrad_norm(state.x0, state.grads, state.lrs, b0)
    evidence.parameters(steps=state.steps, dim=state.dim, b0=b0, seed=state.seed)
    conforms(evidence, "iterates = printed AdaGrad-Norm", run["x"], ref["x"], dim=state.dim)


@pytest.mark.claim("adaptive.adam-counterexample", uses=["adam"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(), beta1=BETA1, beta2=BETA2, eps=EPS)
def test_adam_update_rule(evidence, algorithm, state, beta1, beta2, eps):
    """Adam (Kingma and Ba 2015, Alg. 1): m_t = b1 m + (1 - b1) g, v_t = b2 v + (1 - b2) g^2,
    x_t = x_{t-1} - alpha (m_t/(1 - b1^t))/(sqrt(v_t/(1 - b2^t)) + eps), with eps outside the root
    (torch.optim.Adam's rule)."""
    run = drive(algorithm("adam"), state, betas=(beta1, beta2), eps=eps)
    ref = printed.adam(state.x0, state.grads, state.lrs, beta1, beta2, eps)
    evidence.parameters(steps=state.steps, dim=state.dim, betas=(beta1, beta2), eps=eps, seed=state.seed)
    conforms(evidence, "iterates = printed Adam", run["x"], ref["x"], dim=state.dim)


def _amsgrad_forms(state, beta1, beta2, eps) -> dict[str, np.ndarray]:
    return {form: printed.amsgrad(state.x0, state.grads, state.lrs, beta1, beta2, eps, debiased=form == "debiased")["x"]
            for form in ("as printed", "debiased")}


@pytest.mark.claim("adaptive.amsgrad-rates", uses=["amsgrad"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(), beta1=BETA1, beta2=BETA2, eps=EPS)
def test_amsgrad_update_rule(evidence, algorithm, state, beta1, beta2, eps):
    """AMSGrad (Reddi, Kale, Kumar 2018, Alg. 2): vhat_t = max(vhat_{t-1}, v_t),
    x_{t+1} = x_t - alpha_t m_t/(sqrt(vhat_t) + eps). The paper removes Adam's debiasing for
    simplicity and says (footnote, Sec. 2) that its arguments apply to the debiased version, so
    the check accepts exactly two rules: Algorithm 2 as printed, or the same with Adam's
    debiasing (m_t/(1 - b1^t), vhat_t/(1 - b2^t), the max over the raw v_t: torch.optim.Adam(
    amsgrad=True)). Which one the implementation follows is recorded; it must follow one of them
    at every step. Both differ from a third rule (the max over debiased v_t), which is rejected."""
    run = drive(algorithm("amsgrad"), state, betas=(beta1, beta2), eps=eps)
    forms = _amsgrad_forms(state, beta1, beta2, eps)
    errors = {form: float(np.abs(run["x"] - x).max()) for form, x in forms.items()}
    form = min(errors, key=errors.get)
    evidence.parameters(steps=state.steps, dim=state.dim, betas=(beta1, beta2), eps=eps, seed=state.seed)
    evidence.record("AMSGrad form the implementation follows (closest of the two)", form, errors=errors)
    conforms(evidence, "iterates = AMSGrad (Alg. 2, as printed or debiased)", run["x"], forms[form], dim=state.dim)


@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates", uses=["accelegrad"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(x_scale=0.5), radius=st.floats(0.8, 3.0), G=st.floats(0.1, 3.0))
def test_accelegrad_update_rule(evidence, algorithm, state, radius, G):
    """AcceleGrad (Levy, Yurtsever, Cevher 2018, Alg. 1) on the ball of radius R (start inside):
    the query points x_{t+1} = tau_t z_t + (1 - tau_t) y_t and the reported weighted average ybar."""
    run = drive(algorithm("accelegrad"), state, report=True, radius=radius, G=G)
    ref = printed.accelegrad(state.x0, state.grads, state.lrs, radius, G)
    evidence.parameters(steps=state.steps, dim=state.dim, radius=radius, G=G, seed=state.seed)
    conforms(evidence, "query points = printed AcceleGrad", run["x"], ref["x"], dim=state.dim)
    conforms(evidence, "reported ybar = printed AcceleGrad", run["solution"][1:], ref["solution"][1:], dim=state.dim,
             headline=False)


# The step-size sum's weights alpha_s^2 = s^2 first differ from any other weighting with
# alpha_1 = 1 (e.g. alpha_s) at s = 2, and that term first enters eta_3, used at step 5 (M_3).
# UNIXGRAD_MIN_STEPS = 5 steps make the weights visible; shorter runs are prefixes of these.
UNIXGRAD_MIN_STEPS = 5
# Pinned: R = 1, lr = 0.02, |g_s - M_s| = 1 for s = 1, 2, M_3 = (1, 1); every point stays within
# 0.4 of the origin (no projection), so eta_3 = 0.08/sqrt(1 + 1 + 4) exactly, and a weight
# alpha_2 = 2 instead of 4 moves xb_3 by 3 * 0.02 * 4 * (1/2 - 1/sqrt(6)) / 2 = 1.1e-2, against
# a rounding tolerance of 2.2e-14. Random states can hide the weights (a projection that
# saturates, |g_2 - M_2| six decades below |g_1 - M_1|: ~2% of 5..8-step states); this one cannot.
UNIXGRAD_PINNED = OptimizerState(
    x0=np.array([[0.25, -0.25]]),
    grads=np.array([[[1.0, 0.0]], [[0.0, 0.0]], [[0.0, 1.0]], [[0.0, 0.0]], [[1.0, 1.0]], [[0.0, 0.0]]]),
    lrs=np.full(6, 0.02), seed=0)


@pytest.mark.claim("adaptive.accelegrad-unixgrad-rates", uses=["unixgrad"])
@settings(max_examples=examples(10))
@given(state=optimizer_states(x_scale=0.5, min_steps=UNIXGRAD_MIN_STEPS), radius=st.floats(0.8, 3.0))
@example(state=UNIXGRAD_PINNED, radius=1.0)
def test_unixgrad_update_rule(evidence, algorithm, state, radius):
    """UniXGrad (Kavis, Levy, Bach, Cevher 2019, Alg. 1, Euclidean prox), alternating M- and
    g-queries: every query point (zt_t, xb_t) and the reported xb after every step. At least
    three iterations (5 steps), so that the step-size sum's weights alpha_s^2 show, and a pinned
    state where they show by 1e12 times the tolerance (see UNIXGRAD_PINNED)."""
    run = drive(algorithm("unixgrad"), state, report=True, radius=radius)
    ref = printed.unixgrad(state.x0, state.grads, state.lrs, radius)
    evidence.parameters(steps=state.steps, dim=state.dim, radius=radius, seed=state.seed)
    conforms(evidence, "query points = printed UniXGrad", run["x"], ref["x"], dim=state.dim)
    conforms(evidence, "reported xb = printed UniXGrad", run["solution"][1:], ref["solution"][1:], dim=state.dim,
             headline=False)
