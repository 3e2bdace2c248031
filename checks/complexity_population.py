"""The population of trained MNIST-1D networks behind gen.complexity-measures-jiang: bias-free
ReLU MLPs (the tutorial's "L-layer NN") varied in width, depth, learning rate, batch size and
seed, trained in one call of the batched engine with Jiang et al.'s stopping rule (training
cross-entropy <= 0.01), then the complexity measures and the generalisation gap per network.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from algorithms.batched_training import NetworkSpec
from problems.overparam.complexity_oracles import spectral_complexity_as_printed
from problems.overparam.datasets import DatasetUnavailable, mnist1d
from problems.runtime import seed, threads

#: name -> (tutorial's tau, how to compute it from (weights, initial weights, margin) and the registry)
TUTORIAL_TAU = {"Frobenius distance to init": -0.263, "spectral complexity": -0.537,
                "parameter Frobenius norm": 0.073, "path-norm": 0.373}


@dataclass(frozen=True)
class Population:
    name: str
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    lrs: tuple[float, ...]
    batches: tuple[int, ...]
    seeds: int
    num_train: int = 1000
    max_epochs: int = 300
    check_every: int = 5
    stop_loss: float = 0.01
    min_fitted: int = 50

    def specs(self) -> list[NetworkSpec]:
        grid = itertools.product(self.widths, self.depths, self.lrs, self.batches, range(self.seeds))
        return [NetworkSpec((w,) * d, lr, seed("gen.complexity-measures-jiang", self.name, w, d, lr, b, s), b)
                for w, d, lr, b, s in grid]


#: Network tier: 3 widths x 3 depths x 2 learning rates x 2 batch sizes x 2 seeds = 72 networks, <= 200 epochs.
CPU = Population("cpu", widths=(32, 64, 128), depths=(1, 2, 3), lrs=(2e-3, 6e-3), batches=(64, 256), seeds=2,
                 max_epochs=200)
#: GPU tier: 4 widths x 4 depths x 3 lrs x 3 batch sizes x 3 seeds = 432 networks, 4000 train samples.
GPU = Population("gpu", widths=(32, 64, 128, 256), depths=(1, 2, 3, 4), lrs=(3e-4, 1e-3, 3e-3),
                 batches=(32, 100, 250), seeds=3, num_train=4000, max_epochs=500, min_fitted=300)
TINY = Population("tiny", widths=(32, 64), depths=(1, 2), lrs=(6e-3,), batches=(50,), seeds=1, num_train=200,
                  max_epochs=60, min_fitted=1)


@dataclass
class Trained:
    population: Population
    weights: list
    initial: list
    train_error: np.ndarray
    test_error: np.ndarray
    margins: np.ndarray
    seconds: float
    stopped_at: np.ndarray = field(default_factory=lambda: np.zeros(0))


_MEMO: dict[tuple, Trained] = {}


def train_population(engine, population: Population, device: str = "cpu") -> Trained:
    """Train every network (memoised per process and engine); margins = the 10th percentile of
    (correct logit − largest other logit) over the training set, as in Jiang et al."""
    key = (population, id(engine), str(device))
    if key in _MEMO:
        return _MEMO[key]
    try:
        data = mnist1d(8000, 0.5)
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))
    x, y = data.x[:population.num_train], data.y[:population.num_train]
    start = time.perf_counter()
    record = list(range(0, population.max_epochs + 1, population.check_every))
    with threads(1):
        out = engine(x, y, population.specs(), epochs=population.max_epochs, optimizer="adam",
                     evaluate={"test": (data.x_test, data.y_test)}, record_at=record, stop_loss=population.stop_loss,
                     init="he_uniform", bias=False, device=device, num_classes=10)
    margins = []
    for ws in out.weights:
        h = x
        for w in ws[:-1]:
            h = np.maximum(h @ w.T, 0.0)
        logits = h @ ws[-1].T
        correct = logits[np.arange(len(y)), y]
        logits[np.arange(len(y)), y] = -np.inf
        margins.append(np.quantile(correct - logits.max(1), 0.1))
    trained = Trained(population, out.weights, out.initial_weights, np.asarray(out.errors["train"])[:, -1],
                      np.asarray(out.errors["test"])[:, -1], np.array(margins), time.perf_counter() - start,
                      np.asarray(out.stopped_at))
    _MEMO[key] = trained
    return trained


def measures_of(algorithm, trained: Trained, keep: np.ndarray) -> dict[str, np.ndarray]:
    """Per kept network: the tutorial's four measures, the spectral one in three readings."""
    frob, dist = algorithm("parameter_frobenius_norm"), algorithm("frobenius_distance_to_init")
    path, bft, orig = algorithm("path_norm"), algorithm("spectral_complexity"), algorithm("spectral_orig")
    rows = {"Frobenius distance to init": [], "spectral complexity (Bartlett et al.)": [],
            "spectral complexity (as printed)": [], "spectral complexity (Jiang et al. spec-orig)": [],
            "parameter Frobenius norm": [], "path-norm": []}
    for i in np.flatnonzero(keep):
        w, w0 = trained.weights[i], trained.initial[i]
        rows["Frobenius distance to init"].append(dist(w, w0))
        rows["spectral complexity (Bartlett et al.)"].append(bft(w))
        rows["spectral complexity (as printed)"].append(spectral_complexity_as_printed(w))
        rows["spectral complexity (Jiang et al. spec-orig)"].append(orig(w, max(trained.margins[i], 1e-12)))
        rows["parameter Frobenius norm"].append(frob(w))
        rows["path-norm"].append(path(w))
    return {k: np.array(v) for k, v in rows.items()}


def kendall_with_intervals(values: np.ndarray, gaps: np.ndarray, reps: int, rng_seed: int):
    """Kendall's tau-b of (values, gaps) and its 95% percentile-bootstrap interval (networks resampled)."""
    from scipy.stats import kendalltau

    tau = float(kendalltau(values, gaps).statistic)
    rng = np.random.default_rng(rng_seed)
    n = len(gaps)
    boot = []
    for _ in range(reps):
        idx = rng.integers(0, n, n)
        t = kendalltau(values[idx], gaps[idx]).statistic
        if np.isfinite(t):
            boot.append(t)
    return tau, (float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975)))
