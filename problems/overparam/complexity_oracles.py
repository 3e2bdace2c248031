"""Independent references for the complexity measures of the tutorial's table (Jiang et al.,
ICLR 2020): the tutorial's spectral formula as printed, exact (sympy) values on a hand-sized
network, explicit path enumeration, and a synthetic population for the decision's controls.

Nothing here imports ``algorithms``.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

#: A 2-2-1 network X_1 = [[1, 2], [3, 4]], X_2 = [[1, -1]] (no biases), worked by hand and by sympy.
HAND = ([[1, 2], [3, 4]], [[1, -1]])


def spectral_complexity_as_printed(weights) -> float:
    """The tutorial's table, literally: prod_i ||X_i|| (sum_i ||X_i||_{2,1}^{3/2} / ||X_i||^{3/2})^{2/3},
    ||.|| the spectral norm, ||X||_{2,1} = sum of the column norms of X^T (Bartlett et al.'s
    convention for ||A^T||_{2,1})."""
    ws = [np.asarray(w, float) for w in weights]
    spec = [np.linalg.norm(w, 2) for w in ws]
    inner = sum(np.linalg.norm(w, axis=1).sum() ** 1.5 / s**1.5 for w, s in zip(ws, spec))
    return float(np.prod(spec) * inner ** (2 / 3))


@lru_cache(maxsize=None)
def hand_values() -> dict[str, float]:
    """Exact values on HAND from sympy (singular values from the characteristic polynomial of
    X^T X, norms as radicals): path-norm, parameter norm, Bartlett et al.'s spectral complexity,
    the printed one, and Jiang et al.'s spec-orig (margin 1)."""
    import sympy as sp

    mats = [sp.Matrix(m) for m in HAND]

    def spectral(m):
        lam = sp.symbols("lam")
        roots = sp.solve(sp.det(m.T * m - lam * sp.eye(m.shape[1])), lam)
        return sp.sqrt(sp.Max(*roots))

    def two_one(m):  # ||A^T||_{2,1}: sum over rows of A of their Euclidean norms
        return sum(sp.sqrt(sum(v**2 for v in m.row(i))) for i in range(m.shape[0]))

    spec = [spectral(m) for m in mats]
    frob2 = [sum(v**2 for v in m) for m in mats]
    path = sum(sp.Mul(*[mats[l][p[l + 1], p[l]] ** 2 for l in range(len(mats))])
               for p in itertools.product(*[range(d) for d in [mats[0].shape[1]] + [m.shape[0] for m in mats]]))
    bft = sp.Mul(*spec) * sum((two_one(m) / s) ** sp.Rational(2, 3) for m, s in zip(mats, spec)) ** sp.Rational(3, 2)
    printed = sp.Mul(*spec) * sum(two_one(m) ** sp.Rational(3, 2) / s ** sp.Rational(3, 2)
                                  for m, s in zip(mats, spec)) ** sp.Rational(2, 3)
    orig = sp.Mul(*[s**2 for s in spec]) * sum(f / s**2 for f, s in zip(frob2, spec))
    return {"path_norm": float(path), "parameter_norm": float(sum(frob2)), "bartlett": float(sp.N(bft, 30)),
            "printed": float(sp.N(printed, 30)), "spec_orig": float(sp.N(orig, 30))}


def enumerate_path_norm(weights) -> float:
    """sum over all input -> ... -> output index paths of prod_l X_l[i_l, i_{l-1}]^2, by enumeration."""
    dims = [np.shape(weights[0])[1]] + [np.shape(w)[0] for w in weights]
    total = 0.0
    for path in itertools.product(*[range(d) for d in dims]):
        total += float(np.prod([np.asarray(weights[l])[path[l + 1], path[l]] ** 2 for l in range(len(weights))]))
    return total


def synthetic_population(num: int, tau_target: float, seed: int, measures=("a", "b", "c", "d")):
    """Gaps and measures with a chosen rank correlation: measure = gap-rank signal mixed with
    noise so that Kendall's tau is about ``tau_target`` (for Gaussian pairs tau = (2/pi) arcsin(rho))."""
    rng = np.random.default_rng(seed)
    gap = rng.uniform(0.2, 0.5, num)
    z = (gap - gap.mean()) / gap.std()
    rho = np.sin(np.pi * tau_target / 2)
    table = {}
    for k, name in enumerate(measures):
        table[name] = np.exp(rho * z + np.sqrt(max(1 - rho**2, 0.0)) * rng.standard_normal(num))
    return gap, table
