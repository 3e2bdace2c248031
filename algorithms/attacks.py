"""Projected gradient attacks (family ``attack``, ``algorithms.contracts``): the inner
maximisation max_{‖δ‖≤ε} L(h_x(a + δ), b) of adversarial training (Madry, Makelov,
Schmidt, Tsipras, Vladu, ICLR 2018; tutorial slide "Adversarial training").

PGD, from a random start δ⁰ in the ball, for t = 0, …, T−1:

    ℓ∞:  δ^{t+1} = Π_{B∞(ε)} (δ^t + α · sign ∇_δ L(a + δ^t)),
    ℓ2:  δ^{t+1} = Π_{B2(ε)} (δ^t + α · ∇_δ L(a + δ^t)/‖∇_δ L(a + δ^t)‖₂),

each followed by the clip a + δ ∈ [lo, hi] (which keeps δ in the ball when a is in the
box: clipping moves every coordinate of a + δ towards a). Per example the attack returns
the best point among the clean input a and every iterate of every restart, so the
returned loss is never below the clean loss and more restarts never do worse.

Properties a trusted attack library checks (CleverHans' attack tests, cleverhans#1040):
ε = 0 or T = 0 returns the input; ‖δ‖ ≤ ε; the clip box holds; on a linear model PGD
reaches the analytic worst case a + ε·sign(w) (ℓ∞), a + ε·w/‖w‖ (ℓ2).

torch is imported when an attack runs, not when the registry imports this module.
"""
from __future__ import annotations

from typing import Callable

from algorithms.registry import register


def _norm_over_example(t, p: float):
    import torch

    return torch.linalg.vector_norm(t.flatten(1), ord=p, dim=1).view(-1, *([1] * (t.dim() - 1)))


def _random_start(x, eps: float, norm: str, rng):
    """δ⁰ uniform in the ℓ∞ ball, or uniform in the ℓ2 ball (Gaussian direction, radius ε·U^{1/d});
    drawn on the CPU in float64 from ``rng`` (reproducible across devices), then moved to x."""
    import torch

    shape = x.shape
    if norm == "linf":
        start = (torch.rand(shape, generator=rng, dtype=torch.float64) * 2 - 1) * eps
    else:
        direction = torch.randn(shape, generator=rng, dtype=torch.float64)
        direction = direction / _norm_over_example(direction, 2).clamp_min(1e-300)
        dim = x[0].numel()
        radius = torch.rand((shape[0],) + (1,) * (len(shape) - 1), generator=rng, dtype=torch.float64) ** (1 / dim)
        start = direction * radius * eps
    return start.to(device=x.device, dtype=x.dtype)


def _project(delta, eps: float, norm: str):
    import torch

    if norm == "linf":
        return delta.clamp(-eps, eps)
    n = _norm_over_example(delta, 2)
    return delta * torch.where(n > eps, eps / n.clamp_min(1e-300), torch.ones_like(n))


def _ascent_step(grad, norm: str):
    if norm == "linf":
        return grad.sign()
    return grad / _norm_over_example(grad, 2).clamp_min(1e-300)


def projected_gradient_attack(loss_fn: Callable, x, eps: float, steps: int, step_size: float, rng=None, *,
                              restarts: int = 1, clip: tuple[float, float] | None = None, norm: str = "linf"):
    """PGD in the ``norm`` ball ('linf' or 'l2'); see the module docstring. ``rng``: a CPU
    ``torch.Generator`` or an int seed (None: seed 0). Returns x_adv (x's shape, dtype, device)."""
    import torch

    if norm not in ("linf", "l2"):
        raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")
    if eps < 0 or steps < 0 or step_size < 0 or restarts < 1:
        raise ValueError(f"need eps >= 0, steps >= 0, step_size >= 0, restarts >= 1; got "
                         f"eps={eps}, steps={steps}, step_size={step_size}, restarts={restarts}")
    if rng is None or isinstance(rng, int):
        rng = torch.Generator().manual_seed(0 if rng is None else int(rng))
    x = x.detach()
    lo, hi = clip if clip is not None else (None, None)
    if clip is not None and (x.min() < lo or x.max() > hi):
        raise ValueError(f"the input lies outside the clip box [{lo}, {hi}]; clip the input first")

    def constrain(delta):
        delta = _project(delta, eps, norm)
        if clip is not None:
            delta = (x + delta).clamp(lo, hi) - x
        return delta

    with torch.no_grad():
        best_x = x.clone()
        best_loss = loss_fn(x).detach()
    if steps == 0 or eps == 0:
        return best_x
    view = (-1,) + (1,) * (x.dim() - 1)
    for _ in range(restarts):
        delta = constrain(_random_start(x, eps, norm, rng))
        for _ in range(steps):
            delta.requires_grad_(True)
            (grad,) = torch.autograd.grad(loss_fn(x + delta).sum(), delta)
            with torch.no_grad():
                delta = constrain(delta + step_size * _ascent_step(grad, norm))
                point = x + delta if clip is None else (x + delta).clamp(lo, hi)
                loss = loss_fn(point)
                better = loss > best_loss
                best_loss = torch.where(better, loss, best_loss)
                best_x = torch.where(better.view(view), point, best_x)
    return best_x.detach()


def pgd_linf(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
    """ℓ∞ PGD (Madry et al., ICLR 2018): δ ← Π_{B∞(ε)}(δ + α·sign ∇L), then clip; best iterate kept."""
    return projected_gradient_attack(loss_fn, x, eps, steps, step_size, rng, restarts=restarts, clip=clip,
                                     norm="linf")


def pgd_l2(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
    """ℓ2 PGD: δ ← Π_{B2(ε)}(δ + α·∇L/‖∇L‖₂), then clip; best iterate kept."""
    return projected_gradient_attack(loss_fn, x, eps, steps, step_size, rng, restarts=restarts, clip=clip,
                                     norm="l2")


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("pgd_linf", family="attack")(pgd_linf)
register("pgd_l2", family="attack")(pgd_l2)
