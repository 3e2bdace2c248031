"""Controls of the complexity-measure checks: planted bugs in the measures, and, for the
population decision, a wrong world (a measure that does explain generalisation) and a near
miss (a measure just above the criterion's tau = 0.5), on synthetic population tables."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_20_complexity_measures as cm
from checks import complexity_population as cp
from checks.support import control_cases, does_not_verify, on_both_tiers, planted_bug, rejects, run_control, verifies
from problems.overparam.complexity_oracles import synthetic_population


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


def synthetic_table(num, tau, seed):
    """The real measures' names, independent of the gaps except the path-norm, whose rank
    correlation with the gaps is about ``tau``."""
    names = ("Frobenius distance to init", "spectral complexity (Bartlett et al.)", "spectral complexity (as printed)",
             "spectral complexity (Jiang et al. spec-orig)", "parameter Frobenius norm")
    gaps, table = synthetic_population(num, 0.0, seed, names)
    rng = np.random.default_rng(seed + 1)
    z = (gaps - gaps.mean()) / gaps.std()
    rho = np.sin(np.pi * tau / 2)  # Gaussian pairs: tau = (2/pi) arcsin(rho)
    table["path-norm"] = np.exp(rho * z + np.sqrt(1 - rho**2) * rng.standard_normal(num))
    return gaps, table


@pytest.mark.claim("gen.complexity-measures-jiang")
@control_cases(cm.test_complexity_measure_implementations, "path_norm", [
    planted_bug("path_norm_without_squares", path_norm_without_squares)])
@control_cases(cm.test_complexity_measure_implementations, "spectral_complexity", [
    planted_bug("spectral_complexity_with_frobenius_norms", spectral_with_frobenius)])
def test_complexity_measures_jiang_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)


@pytest.mark.claim("gen.complexity-measures-jiang")
@pytest.mark.network
def test_population_path_norm_without_squares_is_rejected():
    exc = rejects(cm.test_complexity_measures_population, "path_norm", path_norm_without_squares,
                  population=cp.TINY)
    assert "output-side evaluation" in str(exc), f"rejected for another reason: {exc}"


@pytest.mark.claim("gen.complexity-measures-jiang")
@pytest.mark.network
@pytest.mark.parametrize("check, scale, power", on_both_tiers(
    "wrong_world", cm.test_complexity_measures_population, cm.test_complexity_measures_population_gpu,
    "a measure that tracks the gap (tau about 0.85) among 72 networks"))
def test_measure_that_explains_generalisation_is_not_verified(check, scale, power):
    verdict = does_not_verify(check, table=synthetic_table(72, 0.85, 3), **scale)
    assert verdict == "refuted", verdict


@pytest.mark.claim("gen.complexity-measures-jiang")
@pytest.mark.network
@pytest.mark.parametrize("check, scale, power", on_both_tiers(
    "near_miss", cm.test_complexity_measures_population, cm.test_complexity_measures_population_gpu,
    "a measure with tau 0.55 (0.05 above the criterion's 0.5) among 400 networks", power=(400, 0.4, 5)))
def test_measure_just_above_the_criterion_is_not_verified(check, scale, power):
    does_not_verify(check, table=synthetic_table(400, 0.55, 5), **scale)
    if power is not None:  # and 0.1 below it is verified: the check's power at 400 networks
        verifies(check, "a measure with tau 0.4 among 400 networks", table=synthetic_table(*power))
