"""Worst-case certificates for EG+ under the weak MVI (slide 38, "EG+ converges when
rho > -1/(8L)", Diakonikolas, Daskalakis, Jordan, AISTATS 2021), by performance
estimation (PEPit + Clarabel; problems.minimax.pep_certificates).

* Calibration: the PEP machinery reproduces known worst cases: proximal point on a
  monotone operator, (1 - 1/n)^{n-1}/n (tight class), and optimistic gradient,
  PEPit's docstring value 0.0663141 (MOSEK).
* EG+ (gamma = 1/L, damping 1/2): Lipschitz interpolation is exact but the weak-MVI
  constraints hold only at the visited points, so the PEP value tau(n) is an
  *upper bound* on min_{k<n} ||V(zbar_k)||^2 / ||z_0 - z*||^2. For rho > -1/(8L) it
  must decrease like 1/n: n tau(n) <= 1/(alpha gamma (2 rho + gamma (1 - alpha))).
* Sandwich: the worst value a hypothesis search (with ``target``) finds on linear
  instances of the class, running the registry's EG+, stays <= tau(n).

A certificate counts only with solver status ``optimal`` and relative primal-dual
gap <= 1e-6; otherwise the check reports inconclusive. PEPit imports in ~4 s:
slow tier.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from checks.support import examples
from problems.minimax.games import AffineOperator

pytestmark = pytest.mark.slow

GAMMA, DAMPING, L = 1.0, 0.5, 1.0
RHOS = (0.0, -1 / 16, -0.124)  # inside DDJ's range rho > -1/(8L) = -0.125
HORIZONS = (1, 2, 4, 8)


def _certificates():
    from problems.minimax.pep_certificates import pep_extragradient_plus

    return {rho: [pep_extragradient_plus(n, GAMMA, DAMPING, L, rho) for n in HORIZONS] for rho in RHOS}


def _lyapunov_constant(rho: float) -> float:
    return 1 / (DAMPING * GAMMA * (2 * rho + GAMMA * (1 - DAMPING)))


@pytest.mark.claim("wmvi.egplus-ddj")
@pytest.mark.parametrize("constant_factor", [1.0], ids=["ddj-constant"])
def test_eg_plus_worst_case_certificate(evidence, constant_factor):
    """Calibration (PPM n = 10, OG n = 5), then tau(n) for EG+ at rho in {0, -1/16,
    -0.124}: every solve optimal with a small gap, tau non-increasing in n, and
    n tau(n) below the Lyapunov constant (an O(1/n) certificate); below
    rho = -(1 - alpha) gamma / 2 = -1/4 the bound stops decreasing (recorded). (``constant_factor``
    scales the claimed constant: a near miss for the controls.)"""
    evidence.resolution("rejects an O(1/n) constant 30 % below DDJ's Lyapunov constant (8 tau(8) = 6.03 vs 7.94)")
    from problems.minimax.pep_certificates import pep_extragradient_plus, pep_optimistic_gradient, pep_proximal_point

    ppm = pep_proximal_point(10, 2.0)
    og = pep_optimistic_gradient(5, 0.25, 1.0)
    certificates = _certificates()
    all_ok = ppm.ok and og.ok and all(c.ok for cs in certificates.values() for c in cs)
    if not all_ok:
        evidence.inconclusive("a PEP solve was not optimal or its duality gap exceeded 1e-6")
    # Clarabel's relative accuracy ~1e-8; the quoted references carry 6-7 digits
    evidence.tight("PPM n = 10: PEP = (1 - 1/n)^(n-1)/n (tight class)", ppm.value, (1 - 1 / 10) ** 9 / 10, rel=1e-6)
    evidence.tight("OG n = 5, gamma = 1/4: PEP = 0.0663141 (PEPit docstring, MOSEK)", og.value, 0.0663141, abs=1e-6)
    for rho, cs in certificates.items():
        tau = np.array([c.value for c in cs])
        evidence.record(f"rho = {rho}: tau(n) for n = {HORIZONS}", tau)
        evidence.monotone(f"rho = {rho}: tau(n) non-increasing", tau, abs=1e-7)
        evidence.upper_bound(f"rho = {rho}: n tau(n) <= 1/(a g (2 rho + g (1 - a)))", np.array(HORIZONS) * tau,
                             constant_factor * _lyapunov_constant(rho), rel=1e-6, headline=rho == -0.124)
    stalled = [pep_extragradient_plus(n, GAMMA, DAMPING, L, -0.3) for n in (2, 8)]
    evidence.record("rho = -0.3 (outside rho > -(1 - a) g / 2): tau(2), tau(8)", [c.value for c in stalled],
                    status=[c.status for c in stalled])
    evidence.parameters(gamma=GAMMA, damping=DAMPING, L=L, solver="CLARABEL")


@st.composite
def normal_operators_in_class(draw, rho: float):
    """Block-diagonal normal A with 2x2 blocks [[b, a], [-a, b]] of norm L_i <= L and
    weak-Minty constant b/L_i^2 >= rho: such V = A z is L-Lipschitz and satisfies the
    weak MVI with rho (z* = 0), so it lies in the PEP's class."""
    blocks = draw(st.integers(1, 3))
    mats = []
    for _ in range(blocks):
        Li = draw(st.floats(0.05, L))
        ci = draw(st.floats(-1.0, min(1.0, -rho * Li)))  # c_i = -rho_i L_i <= -rho L_i
        b, a = -ci * Li, Li * np.sqrt(max(1 - ci**2, 0.0))
        mats.append(np.array([[b, a], [-a, b]]))
    A = np.zeros((2 * blocks, 2 * blocks))
    for i, m in enumerate(mats):
        A[2 * i:2 * i + 2, 2 * i:2 * i + 2] = m
    z0 = np.array(draw(st.lists(st.floats(-1, 1), min_size=2 * blocks, max_size=2 * blocks)))
    if np.linalg.norm(z0) < 1e-3:
        z0 = np.ones(2 * blocks)
    return A, z0 / np.linalg.norm(z0)


@pytest.mark.claim("wmvi.egplus-ddj", uses=["extragradient_plus"])
@pytest.mark.no_near_miss("a one-sided consistency bound: linear members of the class reach at most 0.26 of tau(4) "
                          "(targeted search), so nothing near the bound exists to miss it by a small margin; its "
                          "power is shown by the planted stale-second-step bug")
@settings(max_examples=examples(60))
@given(rho=st.sampled_from(RHOS), data=st.data())
def test_eg_plus_sandwich(evidence, algorithm, rho, data):
    """Measured worst case <= certified worst case: the registry's EG+ run n = 4 steps
    on generated members of the class (L = 1, weak MVI rho) never beats tau(4)."""
    from problems.minimax.pep_certificates import pep_extragradient_plus

    certificate = pep_extragradient_plus(4, GAMMA, DAMPING, L, rho)
    if not certificate.ok:
        evidence.inconclusive("the EG+ PEP solve was not optimal")
    A, z0 = data.draw(normal_operators_in_class(rho))
    op = AffineOperator(A[None], dim_x=A.shape[0] // 2)
    traj = algorithm("extragradient_plus")(op, z0[None], GAMMA, 4, damping=DAMPING)
    v = np.einsum("ij,kbj->kbi", A, traj)
    z_bar = traj - GAMMA * v
    measured = np.min(np.sum(np.einsum("ij,kbj->kbi", A, z_bar[:-1]) ** 2, axis=-1))
    target(measured / certificate.value, label="measured / PEP bound")
    evidence.parameters(rho=rho, blocks=A.shape[0] // 2)
    evidence.upper_bound("min_k ||V(zbar_k)||^2 (measured) <= PEP tau(4)", measured, certificate.value, rel=1e-6,
                         abs=1e-12, headline=True)
    # A named member where a wrong update provably overshoots, so that the power does not rest on
    # the draw (a fresh seed's members all stayed below tau(4) under a stale second step): the
    # rotation V(z) = (y, -x) (L = 1, rho = 0: in the class for every rho <= 0) from z0 = e1.
    # Correct EG+: 0.25 (<= 0.31 tau(4)); the GDA-like stale second step: 2.0 (>= 1.65 tau(4)).
    rotation = np.array([[0.0, 1.0], [-1.0, 0.0]])
    traj = algorithm("extragradient_plus")(AffineOperator(rotation[None], dim_x=1), np.array([[1.0, 0.0]]), GAMMA,
                                           4, damping=DAMPING)
    z_bar = traj - GAMMA * np.einsum("ij,kbj->kbi", rotation, traj)
    named = np.min(np.sum(np.einsum("ij,kbj->kbi", rotation, z_bar[:-1]) ** 2, axis=-1))
    evidence.upper_bound("named member (rotation, z0 = e1): min_k ||V(zbar_k)||^2 <= PEP tau(4)", named,
                         certificate.value, rel=1e-6, abs=1e-12)
