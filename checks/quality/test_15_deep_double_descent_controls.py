"""Planted bugs that the deep double-descent checks must reject (they skip, with the
check, when MNIST-1D is not installed)."""
from __future__ import annotations

import pytest

import checks.test_15_deep_double_descent as ddd
from algorithms import registry
from checks.support import rejects


def frozen_trainer(x, y, x_test, widths, **kw):
    """BUG: learning rate 0 (a frozen network): nothing is memorised (one epoch suffices to show it)."""
    kw = dict(kw, lr=0.0, epochs=1)
    return registry.reference("train_mlp_classifier")(x, y, x_test, widths, **kw)


@pytest.mark.claim("dd.nakkiran-model-wise")
@pytest.mark.slow
def test_frozen_network_is_rejected():
    rejects(ddd.test_model_wise_double_descent_cpu_proxy, "train_mlp_classifier", frozen_trainer)


@pytest.mark.claim("dd.nakkiran-epoch-wise")
@pytest.mark.gpu
def test_frozen_network_epoch_wise_is_rejected(device):
    rejects(ddd.test_epoch_wise_double_descent_gpu, "train_mlp_classifier", frozen_trainer, device=device,
            scale="tiny")
