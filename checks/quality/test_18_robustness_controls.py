"""Planted bugs, wrong worlds and near misses that the checks of checks/test_18_robustness.py,
test_18_robust_training.py, test_18_zhu_trends.py and test_18_cnn_stability.py must reject."""
from __future__ import annotations

import math

import pytest
import torch

import checks.test_18_cnn_stability as cnn
import checks.test_18_robust_training as training
import checks.test_18_robustness as robustness
import checks.test_18_zhu_trends as zhu
from algorithms import registry
from algorithms.network_measurements import input_gradients, lipschitz_lower_bound, stability_bound
from algorithms.networks import InitScheme
from checks.support import control_cases, fails, near_miss, planted_bug, rejects, run_control, wrong_world


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
@pytest.mark.parametrize("name,bug", [("init_ntk", ntk_without_width_scaling),
                                      ("stability_bound", he_bound_without_constant_term)])
def test_bounds_at_init_check_rejects(name, bug):
    rejects(robustness.test_zhu_bounds_hold_at_init, name, bug)


def pgd_descending(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
    """Gradient-sign flipped: the 'attack' descends the loss."""
    return registry.reference("pgd_linf")(lambda z: -loss_fn(z), x, eps, steps, step_size, rng,
                                          restarts=restarts, clip=clip)


@pytest.mark.slow
@pytest.mark.claim("robust.adversarial-examples")
def test_adversarial_check_rejects_descending_attack():
    rejects(training.test_pgd_breaks_a_digits_mlp, "pgd_linf", pgd_descending)


def gradients_of_the_linearised_network(weights, alpha, inputs, *, output_relu=False, forward=None):
    """BUG: ∇h of the network with every ReLU replaced by the identity (the masks dropped)."""
    ws = [w.detach() for w in weights]
    g = ws[-1]
    for X in reversed(ws[:-1]):
        g = g @ X
    a = torch.as_tensor(alpha, dtype=g.dtype)
    out = (g / (a[:, None, None] if a.dim() == 1 else a)).expand(-1, inputs.shape[-2], -1)
    return out.clone()


# ------------------------------------------------------ robust.zhu-lazy-bounds: bound and quantity
def he_bound_with_faster_p_decay(name, m, L, p=None):
    """NEAR MISS: He's bound with p^-0.6 where sqrt(1/p) = p^-0.5 is printed."""
    if name == "zhu_he":
        return stability_bound(name, m, L, p) - (1 / p) ** 0.5 + p ** -0.6
    return stability_bound(name, m, L, p)


he_with_doubled_hidden_variance = InitScheme("he", lambda p, m: 2 / p, lambda p, m: 4 / m, lambda p, m: 2 / m,
                                             lambda p, m: 1, "planted bug: He hidden layers drawn with 4/m")


@pytest.mark.network
@pytest.mark.claim("robust.zhu-lazy-bounds")
@pytest.mark.control("near_miss", of=zhu.test_zhu_trends_of_the_quantity_at_init,
                     margin="P grows by e^0.05 per layer where the check tolerates e^0.02")
def test_init_trend_check_fails_where_depth_hurts_slightly():
    # a smaller grid only widens the confidence bound: if the check does not refute at this size,
    # it does not at the full size either (the refutation needs UCB <= 0.02)
    fails(zhu.test_zhu_trends_of_the_quantity_at_init, growth=0.05, widths=(16, 64), depths=(2, 6, 10))


def _gradients_growing_with_depth(rate):
    def grads(weights, alpha, inputs, *, output_relu=False, forward=None):
        return input_gradients(weights, alpha, inputs, output_relu=output_relu, forward=forward) \
            * math.exp(rate * len(weights))
    grads.__name__ = f"gradients_times_exp_{rate}_L"
    return grads


def gradient_descent_that_does_not_train(weights, alpha, inputs, targets, lr, num_steps, **kw):
    """BUG: returns the initial weights (a step of zero)."""
    return registry.reference("full_batch_gradient_descent")(weights, alpha, inputs, targets, 0.0 * lr, 1, **kw)


# ------------------------------------------------------------------- robust.zhu-vs-prior-bounds
def wu_of_the_same_order(name, m, L, p=None):
    """NEAR MISS: a 'prior' bound of Zhu's order in m (L² + L, no growth in m)."""
    if name == "wu2021":
        return L**2 + L
    return stability_bound(name, m, L, p)


def zhu_growing_like_sqrt_m(name, m, L, p=None):
    """WRONG WORLD: 'ours' growing like √m L² (faster than Wu's √m L): no improvement."""
    if name == "zhu_ntk":
        return stability_bound(name, m, L, p) + m**0.5 * L**2
    return stability_bound(name, m, L, p)


# ------------------------------------------------------------------------ robust.cnn-width-depth
def conv1d_init_ignoring_kernel_size(length, channels, depth, *, batch=1, seed=0, device="cpu",
                                     dtype=torch.float64, gain=2.0):
    """BUG: fan-in taken as c_in, forgetting the kernel size 3: every layer multiplies E||grad||^2 by 3."""
    draw = registry.reference("conv1d_init")(length, channels, depth, batch=batch, seed=seed, device=device,
                                             dtype=dtype, gain=gain)
    return type(draw)([w * math.sqrt(3.0) if w.dim() == 4 else w for w in draw.weights], draw.alpha)


@control_cases(training.test_nonlazy_stability_bound, "input_gradients", [
    planted_bug("nonlazy_bound_check_rejects_gradients_without_relu_masks", gradients_of_the_linearised_network),
    wrong_world("nonlazy_bound_check_fails_where_the_bound_holds",
                "c = 2.5 at initialisation: P/eps ~ m^-4.5 decays faster than the bound's m^-4.0", c=2.5, train=False),
    near_miss("nonlazy_bound_check_fails_where_the_bound_barely_holds",
              "c = 2.1: the bound holds at init by a factor m^-0.1 (slopes -3.7 vs -3.6)", c=2.1, train=False)],
    claim="robust.nonlazy-bound", marks=pytest.mark.slow)
@control_cases(robustness.test_zhu_bound_trends_symbolic, "stability_bound", [
    planted_bug("symbolic_trend_check_rejects_mistyped_exponent", bound_with_l_squared)],
    claim="robust.zhu-lazy-bounds")
@control_cases(robustness.test_zhu_bounds_hold_at_init, "stability_bound", [
    near_miss("bounds_at_init_check_rejects_faster_p_decay",
              "p-exponent -0.6 where -0.5 is printed (the bound 1.74x smaller at p = 256)",
              bug=he_bound_with_faster_p_decay)], claim="robust.zhu-lazy-bounds")
@control_cases(zhu.test_zhu_trends_of_the_quantity_at_init, "init_he", [
    planted_bug("init_trend_check_rejects_he_with_doubled_hidden_variance", he_with_doubled_hidden_variance,
                widths=(16, 64), depths=(2, 6, 10), marks=pytest.mark.network),
    wrong_world("init_trend_check_fails_where_depth_hurts",
                "networks whose P grows by e^0.3 per layer (depth hurts)", growth=0.3, widths=(16, 64),
                depths=(2, 6, 10), marks=pytest.mark.network)], claim="robust.zhu-lazy-bounds")
@control_cases(zhu.test_zhu_depth_trend_after_lazy_training, "full_batch_gradient_descent", [
    planted_bug("trained_trend_check_rejects_untrained_networks", gradient_descent_that_does_not_train, widths=(64,),
                depths=(2, 4), schemes=("he",), marks=pytest.mark.network)], claim="robust.zhu-lazy-bounds")
@control_cases(zhu.test_zhu_depth_trend_after_lazy_training, "input_gradients", [
    wrong_world("trained_trend_check_fails_where_depth_hurts",
                "trained P growing by e^0.3 per layer (measurement scaled)", bug=_gradients_growing_with_depth(0.3),
                widths=(64,), depths=(2, 4, 6), schemes=("he",), marks=pytest.mark.network),
    near_miss("trained_trend_check_fails_where_depth_hurts_slightly",
              "trained P growing by e^0.09 per layer on top of the measured trend (-0.04)",
              bug=_gradients_growing_with_depth(0.09), widths=(64,), depths=(2, 4, 6), schemes=("he",),
              marks=pytest.mark.network)], claim="robust.zhu-lazy-bounds")
@control_cases(robustness.test_zhu_vs_prior_bounds, "stability_bound", [
    planted_bug("prior_bounds_check_rejects_flipped_huang_exponent", huang_with_flipped_exponent,
                marks=pytest.mark.slow),
    near_miss("prior_bounds_check_rejects_prior_of_the_same_order", "a prior bound of the same order as Zhu's in m",
              bug=wu_of_the_same_order),
    wrong_world("prior_bounds_check_rejects_no_improvement", "Zhu's bound growing faster in m than Wu's",
                bug=zhu_growing_like_sqrt_m, marks=pytest.mark.slow)], claim="robust.zhu-vs-prior-bounds")
@control_cases(cnn.test_cnn_stability_width_depth, "conv1d_init", [
    planted_bug("cnn_check_rejects_fan_in_without_kernel_size", conv1d_init_ignoring_kernel_size, depths=(4, 8)),
    wrong_world("cnn_check_fails_where_depth_hurts", "gain 4: P grows by sqrt(2) per layer (x4 from L = 4 to 8)",
                gain=4.0, depths=(4, 8)),
    near_miss("cnn_check_fails_where_depth_hurts_moderately",
              "trained P growing x2.5 from L = 4 to 8 where the check allows x2", trained_growth=0.23,
              depths=(4, 8))], claim="robust.cnn-width-depth", marks=pytest.mark.network)
def test_controls(check, substitute, arguments):
    run_control(check, substitute, arguments)
