"""Planted bugs that the checks of checks/test_18_robustness.py and checks/test_18_robust_training.py
must reject."""
from __future__ import annotations

import math

import pytest
import torch

import checks.test_18_robust_training as training
import checks.test_18_robustness as robustness
from algorithms import registry
from algorithms.network_measurements import input_gradients, lipschitz_lower_bound, stability_bound
from algorithms.networks import InitScheme
from checks.support import rejects


def upper_bound_frobenius(weights, alpha, *, threat="l2"):
    """Product of Frobenius norms, claimed to be the (tight) spectral product."""
    bound = torch.ones(weights[0].shape[:-2], dtype=weights[0].dtype)
    for X in weights:
        bound = bound * torch.linalg.matrix_norm(X, ord="fro")
    return bound / torch.as_tensor(alpha).abs()


def lower_bound_primal_linf(weights, alpha, *, threat="l2", **kw):
    """Measures ℓ∞-threat robustness with the primal norm max_i |∂h/∂a_i| instead of the dual ℓ1."""
    if threat != "linf":
        return lipschitz_lower_bound(weights, alpha, threat=threat, **kw)
    ws = [w.detach() for w in weights]
    g = torch.Generator().manual_seed(0)
    pts = torch.randn((ws[0].shape[0], 64, ws[0].shape[-1]), generator=g, dtype=torch.float64)
    return input_gradients(ws, alpha, pts, forward=kw.get("forward")).abs().amax((-1, -2))


def _stability_with(sampler):
    def stability(weights, alpha, inputs, eps, *, samples=64, seed=0, output_relu=False, forward=None):
        grads = input_gradients(weights, alpha, inputs, output_relu=output_relu, forward=forward)
        B, n, p = grads.shape
        g = torch.Generator().manual_seed(int(seed))
        delta = sampler((B, n, samples, p), g, eps).to(grads)
        terms = (delta @ grads.unsqueeze(-1)).squeeze(-1).abs().reshape(B, -1)
        return {"P": terms.mean(-1), "se": terms.std(-1) / math.sqrt(terms.shape[-1])}
    return stability


def _sphere(shape, g, eps):
    u = torch.randn(shape, generator=g, dtype=torch.float64)
    return eps * u / u.norm(dim=-1, keepdim=True)


def _gaussian(shape, g, eps):
    return eps * torch.randn(shape, generator=g, dtype=torch.float64) / math.sqrt(shape[-1])


stability_on_sphere = _stability_with(_sphere)
stability_on_sphere.__name__ = "stability_on_sphere"
stability_gaussian = _stability_with(_gaussian)
stability_gaussian.__name__ = "stability_gaussian_same_radius"
stability_gaussian_per_coordinate = _stability_with(lambda shape, g, eps: eps * torch.randn(shape, generator=g,
                                                                                            dtype=torch.float64))
stability_gaussian_per_coordinate.__name__ = "stability_gaussian_per_coordinate"


def bound_with_l_squared(name, m, L, p=None):
    """Mistyped exponent e^{-m/L^2} in Zhu et al.'s bounds."""
    if name.startswith("zhu"):
        return stability_bound(name, m * L, L, p) if not hasattr(m, "free_symbols") else \
            stability_bound(name, m, L, p).subs(m, m * L)
    return stability_bound(name, m, L, p)


def he_bound_without_constant_term(name, m, L, p=None):
    """He's bound without its √(1/p) term."""
    if name == "zhu_he":
        return stability_bound(name, m, L, p) - (1 / p) ** 0.5
    return stability_bound(name, m, L, p)


def huang_with_flipped_exponent(name, m, L, p=None):
    """Huang et al.'s 2^{-(3L-5)/2} √L (sign typo)."""
    if name == "huang2021":
        return 2 ** (-(3 * L - 5) / 2) * L**0.5
    return stability_bound(name, m, L, p)


ntk_without_width_scaling = InitScheme("ntk", lambda p, m: 2, lambda p, m: 2, lambda p, m: 1, lambda p, m: 1,
                                       "planted bug: NTK init without the 1/m")
lecun_with_he_variances = InitScheme("lecun", lambda p, m: 2 / p, lambda p, m: 2 / m, lambda p, m: 2 / m,
                                     lambda p, m: 1, "planted bug: 'LeCun' drawing He variances")


@pytest.mark.claim("robust.lipschitz-def")
@pytest.mark.parametrize("name,bug", [("lipschitz_upper_bound", upper_bound_frobenius),
                                      ("lipschitz_lower_bound", lower_bound_primal_linf)])
def test_lipschitz_check_rejects(name, bug):
    rejects(robustness.test_lipschitz_bounds, name, bug)


@pytest.mark.claim("robust.perturbation-stability-def")
@pytest.mark.parametrize("bug", [stability_on_sphere, stability_gaussian])
def test_stability_check_rejects(bug):
    rejects(robustness.test_perturbation_stability_closed_form, "perturbation_stability", bug)


@pytest.mark.claim("robust.zhu-lazy-bounds")
def test_symbolic_trend_check_rejects_mistyped_exponent():
    rejects(robustness.test_zhu_bound_trends_symbolic, "stability_bound", bound_with_l_squared)


@pytest.mark.claim("robust.zhu-lazy-bounds")
@pytest.mark.parametrize("name,bug", [("init_ntk", ntk_without_width_scaling),
                                      ("stability_bound", he_bound_without_constant_term)])
def test_bounds_at_init_check_rejects(name, bug):
    rejects(robustness.test_zhu_bounds_hold_at_init, name, bug)


@pytest.mark.slow
@pytest.mark.claim("robust.zhu-lazy-bounds")
def test_measured_trend_check_rejects_lecun_with_he_variances():
    rejects(robustness.test_zhu_trends_measured_at_init, "init_lecun", lecun_with_he_variances)


@pytest.mark.gpu
@pytest.mark.claim("robust.zhu-lazy-bounds")
def test_trained_fcnn_sweep_rejects_unnormalised_gaussian():
    rejects(training.test_fcnn_stability_depth_after_training, "perturbation_stability",
            stability_gaussian_per_coordinate, scale="tiny", scheme="he")


@pytest.mark.claim("robust.zhu-vs-prior-bounds")
def test_prior_bounds_check_rejects_flipped_huang_exponent():
    rejects(robustness.test_zhu_vs_prior_bounds, "stability_bound", huang_with_flipped_exponent)


def pgd_descending(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
    """Gradient-sign flipped: the 'attack' descends the loss."""
    return registry.reference("pgd_linf")(lambda z: -loss_fn(z), x, eps, steps, step_size, rng,
                                          restarts=restarts, clip=clip)


@pytest.mark.slow
@pytest.mark.claim("robust.adversarial-examples")
def test_adversarial_check_rejects_descending_attack():
    rejects(training.test_pgd_breaks_a_digits_mlp, "pgd_linf", pgd_descending)


@pytest.mark.slow
@pytest.mark.claim("robust.nonlazy-bound")
def test_nonlazy_bound_check_rejects_sphere_sampling():
    rejects(training.test_nonlazy_stability_bound, "perturbation_stability", stability_on_sphere)


@pytest.mark.gpu
@pytest.mark.claim("robust.cnn-width-depth")
def test_cnn_sweep_rejects_unnormalised_gaussian():
    # at p = 64 the sphere's constant differs from the ball's by 1.6%, below this sweep's Monte Carlo
    # resolution; a N(0, eps^2 I) perturbation (radius ~ eps sqrt(p)) is the detectable sampler bug
    rejects(training.test_cnn_stability_width_depth, "perturbation_stability", stability_gaussian_per_coordinate,
            scale="tiny")
