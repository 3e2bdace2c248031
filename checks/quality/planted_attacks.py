"""Planted-bug attacks shared by the controls of sections 01 (template) and 05 (adversarial training)."""
from __future__ import annotations

import torch


def shared_delta_pgd(norm):
    """PGD with one perturbation δ shared by every example of the batch (ascending Σᵢ ℓᵢ)."""
    def attack(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
        delta = torch.zeros_like(x[:1])
        for _ in range(steps):
            delta.requires_grad_(True)
            (g,) = torch.autograd.grad(loss_fn(x + delta).sum(), delta)
            with torch.no_grad():
                if norm == "linf":
                    delta = (delta + step_size * g.sign()).clamp(-eps, eps)
                else:
                    delta = delta + step_size * g / g.norm().clamp_min(1e-300)
                    delta = delta * min(1.0, eps / float(delta.norm().clamp_min(1e-300)))
        return (x + delta).detach()
    attack.__name__ = f"pgd_{norm}_shared_delta"
    return attack


def buggy_pgd(norm, *, project=True, sign=1.0, honour_clip=True, random_start=True):
    """A PGD with one planted defect, else the reference update (best iterate kept)."""
    def attack(loss_fn, x, eps, steps, step_size, rng=None, *, restarts=1, clip=None):
        gen = torch.Generator().manual_seed(rng if isinstance(rng, int) else 0)
        best, best_loss = x.clone(), loss_fn(x).detach()
        if steps == 0 or eps == 0:
            return best
        for _ in range(restarts):
            if random_start:
                delta = ((torch.rand(x.shape, generator=gen, dtype=torch.float64) * 2 - 1) * eps).to(x)
            else:
                delta = torch.zeros_like(x)
            for _ in range(steps):
                delta.requires_grad_(True)
                (g,) = torch.autograd.grad(loss_fn(x + delta).sum(), delta)
                with torch.no_grad():
                    step = g.sign() if norm == "linf" else g / g.flatten(1).norm(dim=1).clamp_min(1e-300).view(-1, 1)
                    delta = delta + sign * step_size * step
                    if project:
                        if norm == "linf":
                            delta = delta.clamp(-eps, eps)
                        else:
                            n = delta.flatten(1).norm(dim=1).view(-1, 1)
                            delta = delta * torch.where(n > eps, eps / n, torch.ones_like(n))
                    if clip is not None and honour_clip:
                        delta = (x + delta).clamp(*clip) - x
                    loss = loss_fn(x + delta)
                    better = loss > best_loss
                    best_loss = torch.where(better, loss, best_loss)
                    best = torch.where(better.view(-1, *([1] * (x.dim() - 1))), x + delta, best)
        return best.detach()
    attack.__name__ = f"pgd_{norm}_" + ("no_projection" if not project else "stepping_down" if sign < 0 else
                                        "ignores_clip" if not honour_clip else
                                        "no_random_start" if not random_start else "as_reference")
    return attack
