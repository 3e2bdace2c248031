"""Planted bugs that the complexity-measure checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_20_complexity_measures as cm
from checks.support import rejects


def path_norm_without_squares(weights):
    """BUG (the issue's control): the path-norm with |weights| instead of squared weights."""
    h = np.ones(np.asarray(weights[0]).shape[1])
    for w in weights:
        h = np.abs(np.asarray(w)) @ h
    return float(h.sum())


def spectral_with_frobenius(weights, reference=None):
    """BUG: Frobenius norms where Bartlett et al. have spectral norms."""
    ws = [np.asarray(w, float) for w in weights]
    fro = [np.linalg.norm(w) for w in ws]
    inner = sum(np.linalg.norm(w, axis=1).sum() ** (2 / 3) / f ** (2 / 3) for w, f in zip(ws, fro))
    return float(np.prod(fro) * inner ** 1.5)


@pytest.mark.claim("gen.complexity-measures-jiang")
def test_path_norm_without_squares_is_rejected():
    rejects(cm.test_complexity_measure_formulas, "path_norm", path_norm_without_squares)


@pytest.mark.claim("gen.complexity-measures-jiang")
def test_spectral_complexity_with_frobenius_norms_is_rejected():
    rejects(cm.test_complexity_measure_formulas, "spectral_complexity", spectral_with_frobenius)


@pytest.mark.claim("gen.complexity-measures-jiang")
@pytest.mark.slow
def test_population_path_norm_without_squares_is_rejected():
    rejects(cm.test_complexity_measures_population_cpu, "path_norm", path_norm_without_squares)
