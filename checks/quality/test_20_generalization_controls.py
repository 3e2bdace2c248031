"""Planted bugs that the generalisation-theory checks must reject."""
from __future__ import annotations

import numpy as np
import pytest

import checks.test_20_generalization as gen
from algorithms import registry
from checks.support import control_cases, fails, near_miss, planted_bug, rejects, run_control, wrong_world


def bound_without_log_class_size(n, class_size, delta):
    """WRONG WORLD (the catalogue's control): the single-hypothesis Hoeffding bound sqrt(log(2/delta)/(2n)),
    the union over |H| forgotten: false for the sup over a class."""
    return np.sqrt(np.log(2.0 / delta) / (2.0 * np.asarray(n, float)))


def bound_with_n_squared(n, class_size, delta):
    """BUG: 2 n^2 in place of 2 n under the square root."""
    return np.sqrt(np.log(2.0 * class_size / delta) / (2.0 * np.asarray(n, float) ** 2))


def rademacher_one_percent_high(sup_correlation, n, num_draws, rng):
    """NEAR MISS: the estimate 1% high."""
    est, se = registry.reference("empirical_rademacher")(sup_correlation, n, num_draws, rng)
    return 1.01 * est, se


def repeated_cells(rng, cells, samples, n):
    """WRONG WORLD: each sample is one (bin, label) cell repeated n times: not independent draws."""
    one = rng.choice(2 * gen.BINS, size=(samples, 1), p=cells.ravel())
    return np.repeat(one, n, axis=1)


def solver_in_a_ball_one_percent_larger(x, y, spectrum, w_star, radius):
    """NEAR MISS: the supremum over the ball of radius 1.01 B."""
    return registry.reference("one_sided_uniform_convergence")(x, y, spectrum, w_star, 1.01 * radius)


def solver_without_interpolation(x, y, spectrum, w_star, radius):
    """WRONG WORLD: the supremum of (w - w*)^T Sigma (w - w*) over the whole ball ||w|| <= B, the
    interpolation constraint R_n(w) = 0 dropped (uniform convergence over the ball, not one-sided)."""
    lam = np.asarray(spectrum, float)
    top = int(np.argmax(lam))
    w = np.zeros_like(lam)
    w[top] = -radius * (np.sign(w_star[top]) or 1.0)
    return float((w - w_star) @ (lam * (w - w_star))), w, 0.0


def rademacher_fixed_signs(sup_correlation, n, num_draws, rng):
    """BUG (the issue's control): one sign vector drawn once and reused for every draw."""
    v = np.tile(rng.choice(np.array([-1.0, 1.0]), size=(1, int(n))), (int(num_draws), 1))
    s = np.asarray(sup_correlation(v), float)
    return float(s.mean()), float(s.std(ddof=1) / np.sqrt(len(s)))


def rademacher_zero_one_signs(sup_correlation, n, num_draws, rng):
    """WRONG WORLD (the catalogue's control): signs drawn in {0, 1} instead of {-1, +1}."""
    v = rng.integers(0, 2, size=(int(num_draws), int(n))).astype(float)
    s = np.asarray(sup_correlation(v), float)
    return float(s.mean()), float(s.std(ddof=1) / np.sqrt(len(s)))


def rademacher_divided_by_n_twice(sup_correlation, n, num_draws, rng):
    """BUG: the 1/n normalisation applied again on top of sup_correlation's."""
    est, se = registry.reference("empirical_rademacher")(sup_correlation, n, num_draws, rng)
    return est / n, se / n


def solver_returns_min_norm(x, y, spectrum, w_star, radius):
    """BUG: returns the minimum-norm interpolator (no maximisation over the ball)."""
    w = np.linalg.pinv(np.asarray(x, float)) @ np.asarray(y, float)
    lam = np.asarray(spectrum, float)
    return float((w - w_star) @ (lam * (w - w_star))), w, 0.0


def solver_ignores_min_norm_offset(x, y, spectrum, w_star, radius):
    """BUG: the null-space ball gets radius B instead of sqrt(B^2 - ||w_mn||^2), so ||w|| > B."""
    w_mn = np.linalg.pinv(np.asarray(x, float)) @ np.asarray(y, float)
    bigger = np.sqrt(radius**2 + w_mn @ w_mn)
    return registry.reference("one_sided_uniform_convergence")(x, y, spectrum, w_star, bigger)


def interpolator_not_min_norm(features, targets):
    """BUG: min-norm solution plus a null-space component (still interpolates)."""
    f = np.asarray(features, float)
    theta = registry.reference("min_norm_least_squares")(f, targets)
    z = 0.3 * np.random.default_rng(0).standard_normal(theta.shape)
    ft = np.swapaxes(f, -1, -2)
    fz = np.einsum("...nm,...m->...n", f, z)[..., None]
    return theta + z - np.einsum("...mn,...n->...m", ft, np.linalg.solve(f @ ft, fz)[..., 0])


def squared_distance_laplace(x, z, bandwidth):
    """BUG: 'Laplace' kernel written with the squared distance, exp(-||x - z||^2 / h): a Gaussian."""
    x, z = np.atleast_2d(x), np.atleast_2d(z)
    d2 = np.maximum(np.sum(x**2, 1)[:, None] + np.sum(z**2, 1)[None] - 2 * x @ z.T, 0)
    return np.exp(-d2 / bandwidth)


@pytest.mark.claim("gen.rademacher-bound")
def test_double_normalisation_is_rejected():
    rejects(gen.test_rademacher_generalisation_bound, "empirical_rademacher", rademacher_divided_by_n_twice)


@pytest.mark.claim("gen.rademacher-bound")
@pytest.mark.control("wrong_world", of=gen.test_rademacher_generalisation_bound,
                     margin="each sample one cell repeated n times: the i.i.d. premise fails")
def test_dependent_samples_break_the_bound(monkeypatch):
    monkeypatch.setattr(gen, "draw_cells", repeated_cells)
    fails(gen.test_rademacher_generalisation_bound)


@control_cases(gen.test_finite_class_uniform_convergence, "hoeffding_union_bound", [
    wrong_world("bound_without_union_term",
                "the single-hypothesis bound (no log|H|): violated by the sup over 4..256 classifiers",
                bug=bound_without_log_class_size),
    planted_bug("bound_with_n_squared", bound_with_n_squared)], claim="gen.erm-uniform-convergence")
@control_cases(gen.test_rademacher_complexity_properties, "empirical_rademacher", [
    planted_bug("fixed_sign_vector", rademacher_fixed_signs),
    wrong_world("zero_one_signs", "signs in {0, 1}: another complexity (E sup of half-sums), not Rademacher's",
                bug=rademacher_zero_one_signs),
    near_miss("estimate_one_percent_high", "an estimate 1% high", bug=rademacher_one_percent_high)],
    claim="gen.rademacher-def")
@control_cases(gen.test_koehler_norm_bound, "min_norm_least_squares", [
    planted_bug("non_minimal_interpolator_breaks_the_bound", interpolator_not_min_norm, marks=pytest.mark.slow),
    wrong_world("too_few_junk_features_are_not_benign",
                "D = n junk features (n/R_k* of order one): min-norm interpolation is not benign",
                junk_per_sample=1)], claim="gen.koehler-bound")
@control_cases(gen.test_interpolation_of_noisy_labels_generalises, "laplace_kernel", [
    planted_bug("gaussian_in_place_of_laplace", squared_distance_laplace),
    wrong_world("labels_mostly_corrupted", "90% of the labels corrupted: the interpolant's test error 0.89 > 0.45",
                noise_levels=(0.9,))], claim="gen.uniform-convergence-fails")
@control_cases(gen.test_one_sided_uniform_convergence_solver, "one_sided_uniform_convergence", [
    planted_bug("solver_without_maximisation", solver_returns_min_norm),
    planted_bug("solver_outside_the_ball", solver_ignores_min_norm_offset),
    near_miss("ball_one_percent_larger", "the supremum over a ball 1% larger than B",
              bug=solver_in_a_ball_one_percent_larger),
    wrong_world("supremum_without_interpolation",
                "the interpolation constraint dropped: the two-sided supremum over the ball",
                bug=solver_without_interpolation)], claim="gen.one-sided-uc-def")
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
