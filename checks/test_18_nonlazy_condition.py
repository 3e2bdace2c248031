"""The non-lazy sufficient condition of the robustness section (catalogue: robust.nonlazy-condition):
DNNs are non-lazy if α ≫ (m^{3/2} Σ_l β_l)^L. The width sweeps are those of the lazy-training
checks (``checks/test_17_lazy.py``), shared through its cached helpers.
"""
from __future__ import annotations

import pytest
import sympy as sp

from checks.test_17_lazy import chizat_slopes, draw_chizat


@pytest.mark.slow
@pytest.mark.claim("robust.nonlazy-condition", uses=["full_batch_gradient_descent", "lazy_training_ratio", "ntk_gram",
                                                     "relu_network"])
@pytest.mark.no_near_miss("an exact sympy limit and slope signs with the margin 1/8 of the lazy checks; a world "
                          "where the grid's c = 3/4 is lazy (alpha = 1/m) is its wrong-world control")
def test_nonlazy_sufficient_condition(evidence, algorithm, device):
    """Tutorial: DNNs are non-lazy if α ≫ (m^{3/2} Σ_l β_l)^L; for L = 2, α = 1, β₁ = β₂ = m^{−c}:
    (2 m^{3/2−c})² → 0 iff c > 3/2 (sympy). Dynamics: κ → ∞ (slope ≥ 1/8) for every c > ½ of the
    grid — c = ¾, 1, 1.5, 2 — so the condition is sufficient but far from necessary; c = ¼
    stays lazy (slope < 0). No world can satisfy the condition and be lazy (κ ~ α/(mβ²) ≥ 4m²
    when α ≫ (2m^{3/2}β)²); the wrong-world control instead makes c = ¾ lazy (α = 1/m). False
    alarm: the sweep of test_chizat_condition_corrected (slopes ≥ 0.2 above the 1/8 margin):
    stated ≤ 1e-2, not derived."""
    m, c = sp.symbols("m c", positive=True)
    condition = {cv: sp.limit((2 * m ** (sp.Rational(3, 2) - cv)) ** 2, m, sp.oo) == 0
                 for cv in (sp.Integer(1), sp.Rational(3, 2), sp.Rational(8, 5), sp.Integer(2))}
    evidence.holds("(2 m^(3/2-c))^2 -> 0 exactly for c > 3/2",
                   [condition[cv] == (cv > sp.Rational(3, 2)) for cv in condition], str(condition))
    runs, kappa, slopes = chizat_slopes(algorithm, device)
    evidence.record("slopes for c = 3/4, 1, 3/2, 2", [slopes[v] for v in (0.75, 1.0, 1.5, 2.0)])
    evidence.lower_bound("non-lazy (kappa -> inf) for c in {3/4, 1, 3/2, 2}",
                         [slopes[v] for v in (0.75, 1.0, 1.5, 2.0)], 0.125, headline=True)
    evidence.upper_bound("c = 1/4 stays lazy", slopes[0.25], 0.0)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("slope signs with margin 1/8; exact sympy limits")
    evidence.note("κ → ∞ already for c > ½: the sufficient condition c > 3/2 is loose by a full unit of c.")
    evidence.figure("kappa-vs-width-by-c", lambda fig: draw_chizat(fig, kappa, slopes),
                    "κ vs width: non-lazy for every c > ½, the printed sufficient condition asks c > 3/2.")
