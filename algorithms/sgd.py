"""Stochastic gradient methods of the tutorial's slide "Solving the outer problem"
(Liu, Suykens, Cevher, ICASSP 2023): SGD, perturbed SGD, SGLD, and the step-size
schedules of questions Q1-Q3 and of the cool-down figure.

The optimisers follow the contract of family ``optimizer``
(``algorithms.contracts``): they are ``torch.optim.Optimizer`` subclasses, so a
check drives them as torch.optim drives any optimiser::

    opt = SGD([x], lr=alpha)          # x: float64 tensor (B, d), one problem per row
    opt.param_groups[0]["lr"] = alpha_k
    opt.zero_grad(); x.grad = g_k; opt.step()

The gradient g_k is supplied by the caller (exact or stochastic); methods that
add their own noise (PSGD, SGLD) draw it from ``generator`` (a seeded
``torch.Generator``), one independent draw per row of the leading batch axis.

Schedules follow the contract of family ``schedule``: ``schedule(k, **hyper)``
returns alpha_k for an integer array k (vectorised), the hyper-parameters as
keywords.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from algorithms.registry import register


def _check_lr(lr: float) -> float:
    if not lr >= 0:
        raise ValueError(f"lr must be a non-negative step size, got {lr!r}")
    return float(lr)


def _non_negative(name: str, value: float) -> float:
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def unit_sphere_like(p: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """xi uniform on the unit sphere, one independent draw per row of ``p``
    (the sphere of the trailing axes; a 0/1-D tensor is one row):
    xi = z/||z|| with z standard Gaussian (Muller 1959)."""
    z = torch.randn(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    if p.ndim <= 1:
        return z / z.norm()
    norms = z.flatten(1).norm(dim=1).reshape(-1, *([1] * (p.ndim - 1)))
    return z / norms


class RowwiseOptimizer(torch.optim.Optimizer):
    """torch's param-group loop, written once: ``step()`` calls ``update(p, grad, state, group)``
    for every parameter p that has a gradient, with its per-parameter ``state`` and its group's
    hyper-parameters. A parameter (B, ...) holds B independent problems, one per row; each
    subclass writes only its update rule, next to the docstring that states it."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad, self.state[p], group)
        return loss

    def update(self, p: torch.Tensor, grad: torch.Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError


class SGD(RowwiseOptimizer):
    """Stochastic gradient descent (Robbins & Monro 1951):

        x_{k+1} = x_k - gamma_k g_k,

    g_k the gradient written into ``x.grad`` by the caller (exact: gradient
    descent; stochastic: SGD). Registered as ``sgd`` and as ``gradient_descent``
    (the same update with exact gradients), so that a user may substitute either.
    No momentum, no weight decay: ``torch.optim.SGD(params, lr)`` is the same method.
    """

    def __init__(self, params, lr: float = 1e-2):
        super().__init__(params, dict(lr=_check_lr(lr)))

    def update(self, p, grad, state, group):
        p.add_(grad, alpha=-group["lr"])


class PerturbedSGD(RowwiseOptimizer):
    """Perturbed SGD (Ge, Huang, Jin, Yuan, COLT 2015; tutorial slide "Perturbed
    Stochastic Gradient Descent"):

        sample xi uniformly from the unit sphere,
        x_{k+1} = x_k - alpha_k (g_k + radius * xi)        (radius = 1 on the slide).

    ``generator``: the torch.Generator the perturbations are drawn from.
    """

    def __init__(self, params, lr: float = 1e-2, *, radius: float = 1.0,
                 generator: torch.Generator | None = None):
        super().__init__(params, dict(lr=_check_lr(lr), radius=_non_negative("radius", radius)))
        self.generator = generator

    def update(self, p, grad, state, group):
        xi = unit_sphere_like(p, self.generator)
        p.add_(grad + group["radius"] * xi, alpha=-group["lr"])


class SGLD(RowwiseOptimizer):
    """Stochastic gradient Langevin dynamics (Welling & Teh, ICML 2011; tutorial
    slide "Stochastic Gradient Langevin Dynamics", whose "x_l" is a typo for x_k):

        sample xi ~ N(0, I),
        x_{k+1} = x_k - alpha_k g_k + sqrt(2 alpha_k temperature) xi      (temperature = 1).

    For small steps the iterates sample the Gibbs law exp(-f/temperature).
    ``generator``: the torch.Generator the Gaussian noise is drawn from.
    """

    def __init__(self, params, lr: float = 1e-2, *, temperature: float = 1.0,
                 generator: torch.Generator | None = None):
        super().__init__(params, dict(lr=_check_lr(lr), temperature=_non_negative("temperature", temperature)))
        self.generator = generator

    def update(self, p, grad, state, group):
        xi = torch.randn(p.shape, generator=self.generator, dtype=p.dtype, device=p.device)
        p.add_(grad, alpha=-group["lr"]).add_(xi, alpha=(2.0 * group["lr"] * group["temperature"]) ** 0.5)


# ------------------------------------------------------------------ schedules
def _steps(k: Any) -> np.ndarray:
    k = np.asarray(k)
    if k.size and (not np.issubdtype(k.dtype, np.integer) and not np.all(k == np.floor(k))):
        raise ValueError("schedule(k): k must be an integer step index (k = 0, 1, 2, ...)")
    if k.size and np.min(k) < 0:
        raise ValueError(f"schedule(k): k must be >= 0, got min {np.min(k)}")
    return k.astype(float)


def polynomial_step(k, *, gamma: float, m: float = 1.0, p: float = 1.0):
    """alpha_k = gamma / (k + m)^p,  k = 0, 1, 2, ...

    p = 1 is the "alpha_k = O(1/k)" of Theorem 4 of Mertikopoulos, Hallak, Kavis,
    Cevher (NeurIPS 2020); p in (1/2, 1] satisfies Robbins-Monro's
    sum alpha = inf, sum alpha^2 < inf; m > 0 shifts the start (k + m >= m)."""
    if not (gamma > 0 and m > 0 and p >= 0):
        raise ValueError(f"polynomial_step needs gamma > 0, m > 0, p >= 0; got {gamma=}, {m=}, {p=}")
    return gamma / (_steps(k) + m) ** p


def constant_step(k, *, alpha: float):
    """alpha_k = alpha for every k."""
    if not alpha > 0:
        raise ValueError(f"constant_step needs alpha > 0, got {alpha!r}")
    return np.full(np.shape(_steps(k)), float(alpha))


def cooldown_step(k, *, alpha: float, cutoff: float, period: float):
    """Constant, then a 1/k cool-down (tutorial slide "Using 1/k step-size
    decrease helps in practice", ResNet cut-offs 70/80/90/95 of 100 epochs):

        alpha_k = alpha                                 for k <  cutoff,
        alpha_k = alpha / (1 + (k - cutoff) / period)    for k >= cutoff,

    i.e. alpha_k ~ alpha * period / (k - cutoff): a 1/k decrease started at the
    cut-off, continuous there (``period`` = steps until the step has halved)."""
    if not (alpha > 0 and cutoff >= 0 and period > 0):
        raise ValueError(f"cooldown_step needs alpha > 0, cutoff >= 0, period > 0; got {alpha=}, {cutoff=}, {period=}")
    k = _steps(k)
    return np.where(k < cutoff, alpha, alpha / (1.0 + np.maximum(k - cutoff, 0.0) / period))


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("sgd", family="optimizer")(SGD)
register("gradient_descent", family="optimizer")(SGD)
register("psgd", family="optimizer")(PerturbedSGD)
register("sgld", family="optimizer")(SGLD)
register("polynomial_step", family="schedule")(polynomial_step)
register("constant_step", family="schedule")(constant_step)
register("cooldown_step", family="schedule")(cooldown_step)
