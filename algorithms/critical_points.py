"""The second-derivative test for critical points (tutorial, slide "Solving the
outer problem: Solution concepts", box "Classification of critical points")."""
from __future__ import annotations

import numpy as np

from algorithms.registry import register

LABELS = ("min", "max", "saddle", "inconclusive")


def second_derivative_test(hessian_eigenvalues, tol: float) -> np.ndarray:
    """Classify critical points from the eigenvalues of their Hessians.

    Let f: R^p -> R be twice differentiable, x̄ a critical point (∇f(x̄) = 0) and
    {λ_i} the eigenvalues of ∇²f(x̄). The slide's test:

    * λ_i > 0 for all i                                  ⇒ x̄ is a local minimum
    * λ_i < 0 for all i                                  ⇒ x̄ is a local maximum
    * λ_i > 0, λ_j < 0 for some i, j and λ_i ≠ 0 for all i ⇒ x̄ is a saddle point
    * other cases                                        ⇒ inconclusive

    Guarantee (f ∈ C², Taylor with Peano remainder): the first case gives a
    *strict* local minimum, the second a *strict* local maximum, the third a
    saddle with a min-max structure (strict local min along the eigenvectors of
    positive, strict local max along those of negative eigenvalues). With a zero
    eigenvalue the quadratic model decides nothing (x²±y⁴, x²+y³ share
    Hess = diag(2, 0)). Reference: e.g. Nocedal & Wright, *Numerical
    Optimization*, 2nd ed., Thm 2.3-2.4; Liu, Suykens, Cevher, ICASSP 2023 tutorial.

    Floating-point eigenvalues are never exactly zero, so ``|λ| <= tol`` counts
    as zero, ``λ > tol`` as positive and ``λ < -tol`` as negative.

    Args:
        hessian_eigenvalues: array (B, n), the real eigenvalues at B critical points.
        tol: the zero threshold, >= 0.

    Returns:
        array (B,) of labels among 'min', 'max', 'saddle', 'inconclusive'.
    """
    lam = np.asarray(hessian_eigenvalues, dtype=float)
    if lam.ndim != 2:
        raise ValueError(f"hessian_eigenvalues must have shape (B, n); got shape {lam.shape}. "
                         "Wrap a single point's eigenvalues as [eigenvalues].")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    positive = lam > tol
    negative = lam < -tol
    nonzero = positive | negative
    labels = np.full(lam.shape[0], "inconclusive", dtype=object)
    labels[positive.all(axis=1)] = "min"
    labels[negative.all(axis=1)] = "max"
    labels[positive.any(axis=1) & negative.any(axis=1) & nonzero.all(axis=1)] = "saddle"
    return labels


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("second_derivative_test", family="critical_point_test")(second_derivative_test)
