"""Planted bugs that the batched-training equivalence check must reject: the three ways a
batched engine couples networks that must stay independent."""
from __future__ import annotations

import pytest
import torch

import checks.test_15_batched_training as bt
from algorithms import registry
from algorithms.batched_training import BucketTrainer
from checks.support import rejects

CLAIMS = bt.CLAIMS


class SharedAdamState(BucketTrainer):
    """BUG: one Adam second moment per bucket (the mean over its networks), as when the
    moment is kept per stacked tensor instead of per entry."""

    def update(self, g, hyper):
        super().update(g, hyper)
        with torch.no_grad():
            self.state[1].copy_(self.state[1].mean(0, keepdim=True).expand_as(self.state[1]))


class MisalignedLoss(BucketTrainer):
    """BUG: logits flattened sample-major against labels flattened network-major, so network m
    is scored on other networks' labels and gradients leak across networks."""

    def loss_gradient(self, logits, yb):
        flat = logits.transpose(0, 1).reshape(-1, logits.shape[-1]).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(flat, yb.reshape(-1), reduction="sum") / logits.shape[1]
        (g,) = torch.autograd.grad(loss, flat)
        return g.reshape(logits.shape[1], logits.shape[0], -1).transpose(0, 1)


class UnmaskedPadding(BucketTrainer):
    """BUG: the padding of narrower networks initialised like real units and never masked:
    a width-3 network in a bucket padded to 8 trains as a width-8 network."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        with torch.no_grad():
            noise = (torch.rand(self.theta.shape, generator=torch.Generator().manual_seed(0)) - 0.5).to(self.theta)
            self.theta.add_((1 - self.mask) * noise)

    def project(self):
        pass


def engine_with(bucket_class):
    def engine(x, y, specs, **kw):
        return registry.reference("train_mlp_population")(x, y, specs, bucket_class=bucket_class, **kw)
    engine.__name__ = f"engine_with_{bucket_class.__name__}"
    return engine


@pytest.mark.claim(*CLAIMS)
@pytest.mark.parametrize("bug", [SharedAdamState, MisalignedLoss, UnmaskedPadding], ids=lambda c: c.__name__)
def test_coupled_networks_are_rejected(bug):
    rejects(bt.test_batched_training_equals_training_each_network_alone, "train_mlp_population", engine_with(bug))
