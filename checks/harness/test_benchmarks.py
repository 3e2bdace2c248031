"""Benchmarks (pytest-benchmark). Run with ``python -m pytest checks -n 0 --benchmark-only``;
the normal run deselects them.

* the step cost of each reference min-max method on a batch of bilinear games;
* batched evaluation of 10,000 generated instances against a per-instance loop,
  in the same run (the ratio is what matters: absolute times vary 2-5x run to run).
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from algorithms import registry
from problems.minimax.bilinear import BilinearGame
from problems.minimax.games import AffineOperator

INSTANCES = 10_000
STEPS = 50
METHODS = ["gradient_descent_ascent", "alternating_gda", "proximal_point", "extragradient",
           "optimistic_gda", "reflected_forward_backward", "past_extragradient", "slide_third_formula"]


def _batched_games(count: int, seed: int = 0):
    """``count`` 2x2 bilinear games (n = m = 2), one per batch row, and their starts."""
    rng = np.random.default_rng(seed)
    games = [BilinearGame.from_spectrum(np.sort(rng.uniform(0.1, 2.0, 2))[::-1], 2, 2, int(s))
             for s in rng.integers(0, 2**31, count)]
    a = np.stack([g.A for g in games])
    z0 = rng.standard_normal((count, 4))
    alpha = 0.5 / np.array([g.sigma[0] for g in games])
    return games, a, z0, alpha


@pytest.mark.parametrize("method", METHODS)
def test_step_cost(benchmark, method):
    """Cost of 50 steps on 256 games at once (one batched call)."""
    _, a, z0, alpha = _batched_games(256)
    op = AffineOperator(a, dim_x=2)
    run = registry.get(method)
    out = benchmark(run, op, z0, alpha, STEPS)
    assert out.shape == (STEPS + 1, 256, 4)


def test_batched_vs_loop(benchmark):
    """Extragradient on 10,000 instances: one batched call vs a Python loop over instances.
    Target: batched at least 50x faster."""
    games, a, z0, alpha = _batched_games(INSTANCES)
    eg = registry.get("extragradient")
    batched = benchmark.pedantic(eg, args=(AffineOperator(a, dim_x=2), z0, alpha, STEPS), rounds=3, iterations=1)

    t0 = time.perf_counter()
    looped = np.stack([eg(AffineOperator(a[i], dim_x=2), z0[i:i + 1], alpha[i], STEPS)[:, 0]
                       for i in range(INSTANCES)], axis=1)
    loop_s = time.perf_counter() - t0
    batched_s = benchmark.stats.stats.min
    ratio = loop_s / batched_s
    benchmark.extra_info.update(loop_seconds=loop_s, batched_seconds=batched_s, speedup=ratio)
    print(f"\nbatched {batched_s:.4f} s, loop {loop_s:.2f} s, speed-up {ratio:.0f}x")
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-12)
    assert ratio >= 50, f"batched evaluation only {ratio:.1f}x faster than the loop (target 50x)"



def _width_sweep(widths, seeds=4):
    from algorithms.batched_training import NetworkSpec

    return [NetworkSpec((int(w), int(w)), 1e-3, 1000 * s + int(w), 100) for w in widths for s in range(seeds)]


@pytest.mark.parametrize("regime,widths", [
    ("small widths 4-64", np.unique(np.round(np.geomspace(4, 64, 16)).astype(int))),
    ("the double-descent sweep's widths 16-192", np.unique(np.round(np.geomspace(16, 192, 16)).astype(int)))])
def test_batched_training_vs_loop(benchmark, regime, widths):
    """A 16-width x 4-seed sweep of 40-h-h-10 MLPs on MNIST-1D (4000 samples, one epoch = 40
    Adam steps of batch 100, float32, one thread): the batched engine vs a loop training each
    network alone (torch.nn + torch.optim, problems.overparam.training_oracles). Rounds
    alternate batched and loop, so a change of the machine's load hits both; the ratio is the
    median over rounds. Target 10x for small widths (launch-bound, where batching pays);
    wide networks are bound by their multiply-adds, which batching cannot remove (reported)."""
    import torch

    from problems.overparam.datasets import DatasetUnavailable, mnist1d
    from problems.overparam.training_oracles import train_one_network
    from problems.runtime import threads

    try:
        data = mnist1d(8000, 0.5)
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))
    specs = _width_sweep(widths)
    assert len(specs) == 64, f"{len(widths)} distinct widths: the sweep needs 16"
    train = registry.get("train_mlp_population")

    def loop():
        for s in specs:
            train_one_network(data.x, data.y, s.hidden, lr=s.lr, seed=s.seed, epochs=1, batch_size=s.batch_size,
                              dtype=torch.float32)

    ratios, batched_times, loop_times = [], [], []
    with threads(1):
        train(data.x[:200], data.y[:200], specs[:2], epochs=1)  # warm-up: allocator, kernels, lazy imports
        train_one_network(data.x[:200], data.y[:200], specs[0].hidden, lr=1e-3, seed=0, epochs=1, dtype=torch.float32)

        def batched():
            t0 = time.perf_counter()
            out = train(data.x, data.y, specs, epochs=1)
            batched_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            loop()
            loop_times.append(time.perf_counter() - t0)
            ratios.append(loop_times[-1] / batched_times[-1])
            return out

        out = benchmark.pedantic(batched, rounds=3, iterations=1)
    ratio = float(np.median(ratios))
    benchmark.extra_info.update(regime=regime, loop_seconds=loop_times, batched_seconds=batched_times,
                                speedup=ratio, buckets=len(out.buckets))
    print(f"\n{regime}: batched {np.median(batched_times):.2f} s ({len(out.buckets)} buckets), loop "
          f"{np.median(loop_times):.2f} s, speed-up {ratio:.1f}x (rounds: {', '.join(f'{r:.1f}' for r in ratios)})")
    if regime.startswith("small"):
        assert ratio >= 10, f"batched training only {ratio:.1f}x faster than the loop (target 10x)"
