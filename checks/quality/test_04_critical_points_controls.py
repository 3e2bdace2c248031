"""Planted bugs that the critical-point checks must reject.

Each control substitutes a deliberately broken second-derivative test for
``second_derivative_test`` and runs the *same* check (``checks.support.rejects``);
the control passes only if the check fails. The local-Nash controls, which reuse
these bugs, are in ``test_07_minimax_concepts_controls.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import checks.test_04_critical_points as cp
from algorithms import registry
from checks.support import control_cases, planted_bug, rejects, run_control, wrong_world
from problems.optim.critical_points import DEGENERATE, MONKEY_SADDLE, NamedCriticalPoint, X, Y
from reports.evidence import Evidence

NAME = "second_derivative_test"


def _classify(lam: np.ndarray, tol: float, *, is_min, is_max, is_saddle) -> np.ndarray:
    out = np.full(lam.shape[0], "inconclusive", dtype=object)
    out[is_saddle] = "saddle"
    out[is_min] = "min"
    out[is_max] = "max"
    return out


def psd_hessian_is_min(hessian_eigenvalues, tol):
    """BUG: λᵢ ≥ 0 for all i ⇒ 'min' (positive *semi*definite is not enough)."""
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    pos, neg = lam > tol, lam < -tol
    return _classify(lam, tol, is_min=~neg.any(1), is_max=neg.all(1),
                     is_saddle=pos.any(1) & neg.any(1) & (pos | neg).all(1))


def ignores_zero_eigenvalues(hessian_eigenvalues, tol):
    """BUG: classifies by the nonzero eigenvalues only (drops the λᵢ ≠ 0 condition)."""
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    pos, neg = lam > tol, lam < -tol
    some = (pos | neg).any(1)
    return _classify(lam, tol, is_min=some & ~neg.any(1), is_max=some & ~pos.any(1),
                     is_saddle=pos.any(1) & neg.any(1))


def min_max_swapped(hessian_eigenvalues, tol):
    """BUG: all λ > 0 ⇒ 'max' and all λ < 0 ⇒ 'min'."""
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    pos, neg = lam > tol, lam < -tol
    return _classify(lam, tol, is_min=neg.all(1), is_max=pos.all(1),
                     is_saddle=pos.any(1) & neg.any(1) & (pos | neg).all(1))


def not_extremum_is_saddle(hessian_eigenvalues, tol):
    """BUG: every case that is not min or max is a 'saddle' (the caption's reading of
    the monkey saddle: a zero Hessian taken for a min-max structure)."""
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    pos, neg = lam > tol, lam < -tol
    return _classify(lam, tol, is_min=pos.all(1), is_max=neg.all(1), is_saddle=np.ones(lam.shape[0], bool))


# ------------------------------------------------------------ crit.hessian-classification
@pytest.mark.claim("crit.hessian-classification")
@pytest.mark.parametrize("bug", [psd_hessian_is_min, ignores_zero_eigenvalues, min_max_swapped],
                         ids=lambda b: b.__name__)
def test_classification_check_rejects(bug):
    rejects(cp.test_second_derivative_test_matches_certificate, NAME, bug)


@pytest.mark.claim("crit.hessian-classification")
def test_psd_is_min_rejected_by_the_certificate_on_x2_minus_y4():
    # The catalogue's control, made specific: on x² − y⁴ the *sampling certificate*
    # (soundness), not only the exact rule, contradicts the label 'min'.
    with pytest.raises(AssertionError, match="confirmed by the certificate"):
        cp.check_critical_point(Evidence(), psd_hessian_is_min, DEGENERATE[1])


# -------------------------------------------------------------------- crit.monkey-saddle
@pytest.mark.claim("crit.monkey-saddle")
@control_cases(cp.test_monkey_saddle_hessian_is_zero, NAME, [
    *(planted_bug(bug.__name__, bug) for bug in (not_extremum_is_saddle, psd_hessian_is_min)),
    wrong_world("a_convexified_saddle", "f = x³ − 3xy² + (x² + y²)/1000: a strict min at 0, Hessian 2e-3 I",
                instance=NamedCriticalPoint("monkey saddle + (x²+y²)/1000",
                                            MONKEY_SADDLE.expr + sp.Rational(1, 1000) * (X**2 + Y**2), (X, Y), (0, 0),
                                            "min", MONKEY_SADDLE.radius, "a strict minimum at 0"))])
def test_monkey_saddle_check_rejects(check, substitute, arguments):
    run_control(check, substitute, arguments)


# -------------------------------------------------------------------------- crit.gutter
@pytest.mark.claim("crit.gutter")
@control_cases(cp.test_gutter_ring_of_minima, NAME, [
    *(planted_bug(bug.__name__, bug) for bug in (psd_hessian_is_min, ignores_zero_eigenvalues,
                                                 min_max_swapped)),
    wrong_world("a_shifted_ring",
                "f = (x² + y² − 1)² + (x² + y²)/1000: the ring of minima moves off the unit circle",
                expr=(X**2 + Y**2 - 1) ** 2 + sp.Rational(1, 1000) * (X**2 + Y**2))])
def test_gutter_check_rejects(check, substitute, arguments):
    run_control(check, substitute, arguments)


def labels_from_first_row(hessian_eigenvalues, tol):
    """Not batched: classifies the first critical point and copies its label to every row."""
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    first = registry.reference(NAME)(lam[:1], tol)[0]
    return np.full(lam.shape[0], first, dtype=object)


@pytest.mark.claim("crit.hessian-classification")
@pytest.mark.parametrize("bug", [labels_from_first_row, ignores_zero_eigenvalues])
def test_batched_check_rejects(bug):
    rejects(cp.test_second_derivative_test_is_batched, NAME, bug)


# ------------------------------------------------------------------ wrong worlds
@pytest.mark.claim("crit.hessian-classification")
@pytest.mark.control("wrong_world", of=cp.test_second_derivative_test_matches_certificate,
                     margin="the rule with its strictness dropped: lambda_i >= 0 for all i => min")
def test_classification_check_rejects_the_rule_without_strictness():
    """The world where the slide's rule read 'λᵢ ≥ 0 ⇒ min': x² − y⁴ (a saddle, Hessian diag(2, 0)) falsifies
    it, and the same check says so."""
    rejects(cp.test_second_derivative_test_matches_certificate, NAME, psd_hessian_is_min)
