"""Planted bugs that the adversarial-training checks must reject (negative controls)."""
from __future__ import annotations

import pytest
import torch

import checks.test_adversarial as adversarial
from algorithms import registry
from checks.support import rejects


def _shared_delta_pgd(norm):
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


def _buggy_pgd(norm, *, project=True, sign=1.0, honour_clip=True, random_start=True):
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


@pytest.mark.claim("template.formulations")
@pytest.mark.parametrize("name,bug", [("pgd_l2", _shared_delta_pgd("l2")), ("pgd_linf", _shared_delta_pgd("linf"))])
def test_separability_check_rejects_shared_delta(name, bug):
    """One δ shared by all samples reaches less than the sum of per-sample maxima."""
    rejects(adversarial.test_adversarial_training_inner_max_separates, name, bug)


@pytest.mark.claim("template.formulations")
@pytest.mark.parametrize("name,bug", [("pgd_linf", _buggy_pgd("linf", project=False)),
                                      ("pgd_l2", _buggy_pgd("l2", project=False)),
                                      ("pgd_linf", _buggy_pgd("linf", sign=-1.0)),
                                      ("pgd_l2", _buggy_pgd("l2", sign=-1.0)),
                                      ("pgd_linf", _buggy_pgd("linf", honour_clip=False))])
def test_attack_property_check_rejects(name, bug):
    rejects(adversarial.test_attack_properties, name, bug)


@pytest.mark.claim("ddi.empirical-vs-pgd")
def test_toy_comparison_rejects_ddi_without_min_norm():
    rejects(adversarial.test_ddi_vs_pgd_on_the_toy, "ddi_direction", registry.reference("pgd_direction"))


@pytest.mark.claim("at.nonunique-perturbations")
@pytest.mark.slow
@pytest.mark.parametrize("bug", [_buggy_pgd("linf", random_start=False), _buggy_pgd("linf", sign=-1.0)])
def test_nonunique_check_rejects(bug):
    """Without random starts every restart gives the same δ; stepping down finds no adversarial loss."""
    rejects(adversarial.test_nonunique_perturbations_cpu_proxy, "pgd_linf", bug)
