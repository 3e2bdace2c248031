"""Slides 35-37: limit sets of minimisation vs min-max dynamics and the Robbins-Monro
noise model (Hsieh, Mertikopoulos, Cevher, ICML 2021 [39]; Benaim 1999). The take-home
messages of slide 43 that rest on them are in ``checks/test_13_takehome.py``.

"Limit set" is read off a trajectory's last 10%: it contains a critical point
when min ||V|| there is ~0, and is a spurious attractor when it stays bounded
with min ||V|| bounded away from 0.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.integrate import quad

from checks.support import examples
from problems.minimax.games import AffineOperator
from problems.minimax.minty_games import almost_bilinear, cos_sum_potential, forsaken
from problems.minimax.minty_oracles import NoisyOperator, robbins_monro, tail_summary

SPURIOUS_GAME = almost_bilinear(0.1, "y")  # eps phi on the max player: the van der Pol cycle
FORSAKEN = forsaken(0.45)


def minimisation_limit(evidence, gradient_descent, seed: int, dim: int, steps: int = 300) -> None:
    """GD (= GDA with no max player) at step 1/L on f = sum a_j cos(w_j.x + b_j) + mu|x|^2/2:
    f(x_k) is non-increasing (descent lemma) and min_k ||grad f||^2 <= 2L (f(x_0) - f_low)/K
    with f_low = -sum |a_j| (cos >= -1, mu|x|^2 >= 0), so the limit set holds critical points."""
    f = cos_sum_potential(seed, d=dim)
    L = f.lipschitz
    x0 = np.random.default_rng(seed).uniform(-3, 3, (4, dim))
    traj = gradient_descent(f, x0, 1 / L, steps)
    values = f.value(traj)
    evidence.monotone(f"minimisation (seed {seed}): f(x_k) non-increasing", values, abs=1e-12 * np.abs(values).max())
    grad2 = np.sum(f(traj[:-1]) ** 2, axis=-1).min(axis=0)
    bound = 2 * L * (values[0] - (-np.abs(f.a).sum())) / steps
    evidence.upper_bound(f"minimisation (seed {seed}): min_k ||grad f||^2 <= 2L(f0 - f_low)/K", grad2, bound, rel=1e-12)


def minimax_spurious_limit(evidence, method, operator, start, alpha, steps, label, vmin, radius) -> None:
    """The tail of a min-max trajectory: bounded (||z|| <= radius) and min ||V|| >= vmin."""
    traj = method(operator, np.atleast_2d(start), alpha, steps)
    tail = tail_summary(traj, operator, np.zeros(2))
    evidence.lower_bound(f"{label}: tail min ||V|| (no critical point in the limit set)",
                         tail["min_operator_norm"], vmin)
    evidence.upper_bound(f"{label}: tail max ||z|| (bounded: an attractor)", tail["max_distance"], radius)


# --------------------------------------------------- spurious.min-vs-minimax-ict
@pytest.mark.claim("spurious.min-vs-minimax-ict", uses=["gradient_descent_ascent"])
@settings(max_examples=examples(10))
@given(seed=st.integers(0, 2**16), dim=st.integers(1, 4))
@example(seed=0, dim=2)
def test_limit_sets_of_minimisation_vs_minimax(evidence, algorithm, seed, dim):
    """Minimisation: f is a strict Lyapunov function of GD, so bounded trajectories
    accumulate only at critical points (generated cos-sum fields). Min-max: the same
    method (GDA) has bounded limit sets without any critical point, the van der Pol
    cycle of eps phi(y) (min ||V|| ~ 1.1) and Forsaken's outer cycle (0.485); these
    two fixed games run once, at the pinned example."""
    gda = algorithm("gradient_descent_ascent")
    evidence.parameters(seed=seed, dim=dim)
    minimisation_limit(evidence, gda, seed, dim)
    if (seed, dim) == (0, 2):
        minimax_spurious_limit(evidence, gda, SPURIOUS_GAME, [0.05, 0.0], 0.02, 6000, "min-max, eps phi(y)", 0.5, 2.0)
        minimax_spurious_limit(evidence, gda, FORSAKEN.operator, [1.05, 1.05], 0.05, 1500, "min-max, Forsaken",
                               0.4, 2.5)
    evidence.note("'Solutions' in 'for optimisation, attracting ICT = solutions' should read critical sets: "
                  "the limit sets of GD are critical points (local minima when attracting), not global solutions.")


# ------------------------------------------------------ rm.template-noise-model
@pytest.mark.claim("rm.template-noise-model", uses=["gradient_descent_ascent"])
def test_sub_gaussian_tail_is_stronger_than_bounded_variance(evidence, algorithm):
    """The slide labels P(||U|| >= t) <= 2 exp(-t^2/(2 sigma^2)) 'bounded variance'. That
    tail bound implies E U^2 = int 2t P(|U| > t) dt <= 4 sigma^2, but not conversely:
    Student-t noise (nu = 3) scaled to variance sigma^2 has P(|U| >= 6 sigma) = 1.4e-3,
    against 2 e^-18 = 3.0e-8. The check runs the template z+ = z - a V(z, zeta) (one GDA
    step per sample, V(z) = z) and reads the noise back from the steps: the empirical
    tail exceeds the bound with a one-sided 1 - 1e-6 Clopper-Pearson lower bound (so
    the false-alarm probability is <= 1e-6)."""
    sigma, alpha, samples = 1.0, 0.5, 200_000
    scale = sigma / np.sqrt(3.0)  # Var(t_3) = 3
    exact_tail = 2 * stats.t.sf(6 * sigma / scale, df=3)
    bound = 2 * np.exp(-18.0)
    evidence.lower_bound("exact Student-t(3) tail at 6 sigma exceeds the sub-Gaussian bound", exact_tail, bound)

    class StudentNoise(NoisyOperator):
        def __call__(self, z):
            return self.operator(z) + scale * self.rng.standard_t(3, size=np.shape(z))

    identity = AffineOperator(np.eye(1), dim_x=1)
    z0 = np.zeros((samples, 1))
    z1 = robbins_monro(algorithm("gradient_descent_ascent"), StudentNoise(identity, sigma, np.random.default_rng(31)),
                       z0, [alpha])
    noise = -(z1 - z0) / alpha - z0  # U = (z0 - z1)/a - V(z0)
    # bounded variance holds exactly (the sample variance of t_3 has no 4th moment: no empirical tolerance)
    evidence.tight("Var U = sigma^2 (scipy, exact)", stats.t.var(3, scale=scale), sigma**2, rel=1e-12)
    hits = int(np.sum(np.abs(noise) >= 6 * sigma))
    lower = stats.beta.ppf(1e-6, hits, samples - hits + 1) if hits else 0.0
    evidence.record("empirical P(|U| >= 6 sigma)", hits / samples, exact=exact_tail, bound=bound)
    evidence.lower_bound("Clopper-Pearson lower bound on P(|U| >= 6 sigma) > 2 e^-18", lower, bound, headline=True)
    implied, _ = quad(lambda t: 2 * t * 2 * np.exp(-t**2 / (2 * sigma**2)), 0, np.inf)
    evidence.tight("the tail bound implies E U^2 <= int 4t exp(-t^2/2s^2) dt = 4 sigma^2", implied, 4 * sigma**2,
                   rel=1e-8)
    evidence.note("The inequality on the slide is a sub-Gaussian tail condition: it implies a variance bound "
                  "(<= 4 sigma^2) but is strictly stronger than 'bounded variance' (Student-t counterexample).")
