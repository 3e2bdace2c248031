"""The MNIST-1D width sweep behind the deep double-descent checks: protocols, the batched
run (one call of the engine for every width, seed and noise level, so the 0 %-noise control
is trained in the same run), and synthetic sweeps for the controls.

Data: MNIST-1D generated locally (``problems.overparam.datasets.mnist1d(8000, 0.5)``:
4000 train / 4000 test, as in Greydanus's notebook "6. deep_double_descent" and Prince's UDL
book §8.4); a fraction of the train labels replaced by uniform labels, the test labels clean.
Model: 40-h-h-10 ReLU MLPs, Kaiming-uniform weights and zero biases (the notebook's init).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from algorithms.batched_training import NetworkSpec
from problems.overparam.datasets import DatasetUnavailable, mnist1d
from problems.overparam.training_oracles import noisy_labels
from problems.runtime import seed, threads


@dataclass(frozen=True)
class Protocol:
    """One width sweep: widths of both hidden layers, seeds per (width, noise level), noise
    levels (the first is the claim's, the others controls), optimiser and schedule."""

    name: str
    widths: tuple[int, ...]
    seeds: int
    epochs: int
    noise: tuple[float, ...] = (0.15, 0.0)
    num_train: int = 4000
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 100
    records: int = 30  # test error recorded at this many log-spaced epochs (the epoch-wise curve)

    def record_epochs(self) -> list[int]:
        return sorted(set(np.unique(np.round(np.geomspace(1, self.epochs, self.records))).astype(int).tolist()))

    def specs(self) -> list[NetworkSpec]:
        return [NetworkSpec((w, w), self.lr, seed("dd.nakkiran", self.name, noise, w, s), self.batch_size,
                            labels=r)
                for r, noise in enumerate(self.noise) for w in self.widths for s in range(self.seeds)]


#: Network tier (CPU): the notebook's data and model, Adam instead of 1000 epochs of SGD.
CPU = Protocol("cpu", widths=(16, 24, 32, 48, 64, 96, 128, 192), seeds=3, epochs=200)
#: GPU tier, full scale: the notebook's protocol (28 widths, SGD lr 0.01 momentum 0.9, 1000 epochs), 5 seeds.
GPU = Protocol("gpu", widths=(2, 4, 6, 8, 10, 14, 18, 22, 26, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90, 100, 120, 140,
                              160, 180, 200, 250, 300, 400), seeds=5, epochs=1000, optimizer="sgd", lr=0.01,
               records=40)
#: The code path only (planted bugs; the GPU tier on a CPU): seconds, yet the widest networks memorise.
TINY = Protocol("tiny", widths=(4, 16, 128), seeds=2, epochs=60, num_train=200, batch_size=50, lr=3e-3, records=6)


@dataclass
class Sweep:
    """Errors of the sweep, axes (noise level, width, seed, recorded epoch)."""

    protocol: Protocol
    epochs: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def final(self, which: str, level: int = 0) -> np.ndarray:
        """(seeds, widths) at the last epoch."""
        return getattr(self, which)[level, :, :, -1].T


_MEMO: dict[tuple, Sweep] = {}


def run_sweep(engine, protocol: Protocol, device: str = "cpu") -> Sweep:
    """Train the whole sweep in one call of ``engine`` (memoised per process, per engine object)."""
    key = (protocol, id(engine), str(device))
    if key in _MEMO:
        return _MEMO[key]
    try:
        data = mnist1d(8000, 0.5)
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))
    x, y = data.x[:protocol.num_train], data.y[:protocol.num_train]
    labels = np.stack([noisy_labels(y, noise, seed("dd.nakkiran", "labels", noise)) for noise in protocol.noise])
    import time

    start = time.perf_counter()
    with threads(1):  # small matrices: a second thread only contends on a shared 2-core machine
        out = engine(x, labels, protocol.specs(), epochs=protocol.epochs, optimizer=protocol.optimizer,
                     evaluate={"test": (data.x_test, data.y_test)}, record_at=protocol.record_epochs(),
                     init="he_uniform", bias=True, device=device, num_classes=10)
    shape = (len(protocol.noise), len(protocol.widths), protocol.seeds, -1)
    sweep = Sweep(protocol, np.asarray(out.epochs), np.asarray(out.errors["train"]).reshape(shape),
                  np.asarray(out.errors["test"]).reshape(shape), time.perf_counter() - start)
    _MEMO[key] = sweep
    return sweep


def synthetic_sweep(curve15, curve0, train15, train0, sigma: float, rng_seed: int, protocol: Protocol = CPU,
                    epoch_curve15=None, epoch_curve0=None) -> Sweep:
    """A sweep whose final test errors are the given mean curves (widths) plus Gaussian
    seed-to-seed noise of sd ``sigma``, for wrong-world and near-miss controls; the
    epoch-wise curves (optional) likewise along the protocol's recorded epochs."""
    rng = np.random.default_rng(rng_seed)
    epochs = np.array(protocol.record_epochs())
    K, S, T = len(protocol.widths), protocol.seeds, len(epochs)
    test = np.zeros((2, K, S, T))
    train = np.zeros((2, K, S, T))
    for r, (final, tr, by_epoch) in enumerate(((curve15, train15, epoch_curve15), (curve0, train0, epoch_curve0))):
        base = np.repeat(np.asarray(final, float)[:, None], T, axis=1)
        if by_epoch is not None:
            base[-1] = np.asarray(by_epoch, float)
        test[r] = base[:, None, :] + sigma * rng.standard_normal((K, S, T))
        train[r] = np.asarray(tr, float)[:, None, None]
    return Sweep(replace(protocol, noise=(0.15, 0.0)), epochs, train, test)
