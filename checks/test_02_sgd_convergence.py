"""Question Q1 with vanishing steps (Robbins-Monro; Theorem 1 of Mertikopoulos,
Hallak, Kavis, Cevher, NeurIPS 2020 [62]) and the cool-down figure of the
outer-problem slides (catalogue 2.1). Slow tier: long Monte Carlo runs.

An almost-sure asymptotic claim can only be supported in finite time. The
checks test what the theorems imply at a finite horizon: iterates stay
bounded and end in a basin of a critical point, and the mean-square distance
to it shrinks between K/10 and K significantly (the null "no shrinking" is
rejected) and as the linearised recursion e_{k+1} = (1 - alpha_k c)^2 e_k + alpha_k^2 sigma^2
predicts (c the curvature at the minimiser).
"""
from __future__ import annotations


import contextlib

import numpy as np
import pytest
import torch

from problems.runtime import seed as _seed
from problems.runtime import threads
from checks.support import measured_at
from problems.optim.sgd_oracles import chi2_variance_band, run_optimizer, second_moment
from problems.optim.smooth_functions import CoerciveWell, DoubleWell, student_t_noise

SEEDS = 512



def _shrink_check(evidence, label, dist_early, dist_late, e_early, e_late, samples, linearisation=None):
    """Mean-square distances at K/10 and K against the linearised exact e_k (chi-square band
    widened by the linearisation error; only recorded when ``linearisation`` is None), and a
    significant shrink (ratio > 1 beyond the band)."""
    lo, hi = chi2_variance_band(samples, 1e-4)
    for when, d, e in (("K/10", dist_early, e_early), ("K", dist_late, e_late)):
        if linearisation is None:
            evidence.record(f"{label}: E dist^2 at {when} / linearised exact e", float(np.mean(d**2) / e))
        else:
            evidence.tight(f"{label}: E dist^2 at {when} / linearised exact e", np.mean(d**2) / e, 1.0,
                           abs=max(1 - lo, hi - 1) + linearisation)
    ratio = np.mean(dist_early**2) / np.mean(dist_late**2)
    evidence.lower_bound(f"{label}: E dist^2 shrinks from K/10 to K (beyond the noise of the estimate)", ratio,
                         hi / lo, headline=True)
    evidence.record(f"{label}: shrink factor, measured vs linearised", float(ratio), predicted=float(e_early / e_late))


@pytest.mark.slow
@pytest.mark.claim("sgd.q1-vanishing-step-bounded", uses=["polynomial_step", "sgd"])
@pytest.mark.parametrize("p", [0.6, 0.8, 1.0])
def test_robbins_monro_convergence(evidence, algorithm, p):
    """SGD on the double well (x^2 - 1)^2/4 (bounded iterates in practice; gradient not globally
    Lipschitz) with g = grad f + zeta, zeta ~ N(0, 1), alpha_k = 0.5/(k + 10)^p, p in (1/2, 1]
    (sum alpha = inf, sum alpha^2 < inf), starts +-(1 + U(-0.1, 0.1)): all 512 seeds end within 0.1
    of a minimiser +-1, median |grad f(x_K)| < 0.05, and E (x - x*)^2 follows the linearised
    recursion (curvature 2) from e_0 = 0.01/3.
    Linearisation: grad f(1 + u) = 2u (1 + 3u/2 + u^2/2), relative error <= 1.5 * 4 sd at
    K/10; chi-square band at 1e-4 per comparison (<= 2e-3 per run)."""
    sgd, schedule = algorithm("sgd"), algorithm("polynomial_step")
    K, f = 10_000, DoubleWell()
    alpha = schedule(np.arange(K), gamma=0.5, m=10.0, p=p)
    seed = _seed("sgd.q1-vanishing-step-bounded", p)
    rng = np.random.default_rng(seed)
    x0 = rng.choice([-1.0, 1.0], (SEEDS, 1)) * rng.uniform(0.9, 1.1, (SEEDS, 1))  # E u0^2 = 0.01/3
    run = run_optimizer(sgd, x0, lambda x, k: f.gradient(x) + rng.standard_normal(x.shape), K, lr=alpha[0],
                        schedule=alpha, record=[K // 10, K])
    early, late = run["x"][0, :, 0], run["x"][1, :, 0]
    e = second_moment(alpha, f.curvature_at_minimum, 1.0, 0.01 / 3, np.array([K // 10, K]))
    evidence.parameters(p=p, gamma=0.5, m=10, sigma=1.0, K=K, seeds=SEEDS)
    evidence.set_seed(seed)
    evidence.upper_bound("distance to the nearest minimiser at K", f.distance_to_minimisers(run["x"][1]), 0.1)
    evidence.upper_bound("median |grad f(x_K)|", np.median(np.abs(f.gradient(run["x"][1]))), 0.05)
    lin = 1.5 * 4 * np.sqrt(max(e[0], 0.01 / 3))  # |u| <= 4 sd (or the start's 0.1)
    _shrink_check(evidence, f"p = {p}", np.abs(early) - 1, np.abs(late) - 1, e[0], e[1], SEEDS, lin)


@pytest.mark.slow
@pytest.mark.claim("sgd.q1-thm1-no-boundedness", uses=["polynomial_step", "sgd"])
@pytest.mark.parametrize("p", [0.4, 0.9])
def test_thm1_without_boundedness(evidence, algorithm, p):
    """Theorem 1 of [62]: f = sum_i sqrt(1 + x_i^2) + 2 exp(-x_i^2) (coercive, Lipschitz, L = 5,
    nonconvex: a local max at 0, minimisers +-u_m), heavy-tailed noise (Student-t, nu = 5: finite
    q = 4 moments), alpha_k = 0.5/(k + 10)^p with p > 2/(2 + q) = 1/3 (sum alpha^(1+q/2) < inf), no
    projection, starts far out in [-5, 5]^2. Pass: no divergence (max |x| <= 100 over the run);
    every seed ends in a minimiser's basin; the mean-square distance to the minimisers shrinks
    from K/10 to K beyond the estimate's noise (chi-square band at 1e-4: approximate here, the
    iterate being a weighted sum of many t-variables). The linearised prediction is recorded,
    not asserted (heavy tails and the cubic term make its band unknown)."""
    sgd, schedule = algorithm("sgd"), algorithm("polynomial_step")
    K, f = 10_000, CoerciveWell()
    alpha = schedule(np.arange(K), gamma=0.5, m=10.0, p=p)
    seed = _seed("sgd.q1-thm1-no-boundedness", p)
    rng = np.random.default_rng(seed)
    biggest = np.zeros(1)

    def observe(k, x):
        biggest[0] = max(biggest[0], float(np.abs(x).max()))

    run = run_optimizer(sgd, rng.uniform(-5, 5, (SEEDS, 2)), lambda x, k: f.gradient(x) + student_t_noise(rng, x.shape),
                        K, lr=alpha[0], schedule=alpha, record=[K // 10, K], observe=observe)
    e = second_moment(alpha, f.curvature_at_minimum, 1.0, 0.0, np.array([K // 10, K]))
    evidence.parameters(p=p, gamma=0.5, m=10, noise="Student-t nu=5, unit variance", K=K, seeds=SEEDS,
                        curvature=f.curvature_at_minimum, u_min=f.u_min)
    evidence.set_seed(seed)
    evidence.upper_bound("max |x_k| over the run and the seeds (no divergence)", biggest[0], 100.0)
    evidence.upper_bound("distance to the minimisers at K < u_m (same basin)",
                         np.abs(np.abs(run["x"][1]) - f.u_min).max(), f.u_min)
    early = (np.abs(run["x"][0]) - f.u_min).ravel()
    late = (np.abs(run["x"][1]) - f.u_min).ravel()
    _shrink_check(evidence, f"p = {p}", early, late, e[0], e[1], early.size)
    evidence.note("Finite-time support for an almost-sure statement: boundedness and the shrinking trend "
                  "are what the theorem implies at this horizon.")


# ------------------------------------------------------------ sgd.cooldown-helps
CUTOFFS = (0.7, 0.8, 0.9, 0.95)


def _train_digits(sgd, schedule, *, seeds: int, epochs: int, device: str, width: int = 0, batch: int = 16,
                  alpha: float = 0.5, weight_decay: float = 1e-2) -> np.ndarray:
    """Final training objectives (schedules x seeds) of classifiers trained on the digits
    (train split 1400) by the registry's SGD, minibatch ``batch``: cross-entropy +
    (weight_decay/2) ||W||^2. width = 0: softmax regression (strongly convex: a unique
    minimiser at which the minibatch noise does not vanish, the setting of Theorem 4);
    width > 0: a 64-width-10 ReLU MLP. Row 0: constant alpha; row i: the cool-down
    alpha/(1 + (k - k0)/period) after k0 = CUTOFFS[i-1] * steps (period = one epoch).
    All seeds train at once (leading batch axis; seed s has its own initialisation and
    batch order, shared by the five schedules: paired runs); one parameter group per
    schedule, whose lr the loop sets at every step."""
    from problems.overparam.datasets import digits_split

    data = digits_split(1400, seed=0)
    x = torch.tensor(data.x, dtype=torch.float64, device=device)
    y = torch.tensor(data.y, dtype=torch.long, device=device)
    n = len(y)
    gens = [torch.Generator().manual_seed(_seed("sgd.cooldown-helps", s)) for s in range(seeds)]
    shapes = [(64, 10)] if width == 0 else [(64, width), (width, 10)]

    def init(shape):  # identical initialisation for every schedule (paired), per seed
        return torch.stack([torch.randn(shape, generator=g, dtype=torch.float64) / np.sqrt(shape[0]) for g in gens])

    start = [init(sh) for sh in shapes]
    groups = [[w.clone().to(device).requires_grad_(True) for w in start] for _ in range(1 + len(CUTOFFS))]
    per_epoch = int(np.ceil(n / batch))
    total = epochs * per_epoch
    steps = np.stack([np.full(total, alpha)] + [schedule(np.arange(total), alpha=alpha, cutoff=c * total,
                                                         period=per_epoch) for c in CUTOFFS])
    opt = sgd([{"params": ws} for ws in groups], lr=alpha)

    def objective(ws, idx):  # per seed: (seeds,)
        h = x[idx]
        for i, w in enumerate(ws):
            h = h @ w
            if i < len(ws) - 1:
                h = torch.relu(h)
        ce = torch.nn.functional.cross_entropy(h.reshape(-1, 10), y[idx].reshape(-1), reduction="none")
        return ce.reshape(idx.shape).mean(dim=1) + 0.5 * weight_decay * sum((w * w).sum(dim=(1, 2)) for w in ws)

    with threads(1) if device == "cpu" else contextlib.nullcontext():  # small tensors: see run_optimizer
        k = 0
        for _ in range(epochs):
            order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
            for i in range(per_epoch):
                idx = order[:, i * batch:(i + 1) * batch]
                for g, group in enumerate(opt.param_groups):
                    group["lr"] = float(steps[g, k])
                opt.zero_grad()
                sum(objective(ws, idx).sum() for ws in groups).backward()
                opt.step()
                k += 1
        everything = torch.arange(n, device=device).expand(seeds, n)
        with torch.no_grad():
            return np.stack([objective(ws, everything).cpu().numpy() for ws in groups])


def _cooldown_experiment(evidence, algorithm, device, seeds, epochs, width):
    """Paired one-sided t-test per cut-off: gain = objective(constant) - objective(cool-down), the
    same initialisation and batch order in both runs of a seed; pass if the mean gain exceeds
    t_{1 - 1e-3, seeds-1} * sd/sqrt(seeds) (false alarm 1e-3 per cut-off under 'no gain', for
    roughly normal gains). The catalogue's '2 seed-std' is recorded as well."""
    from scipy import stats

    final = _train_digits(algorithm("sgd"), algorithm("cooldown_step"), seeds=seeds, epochs=epochs, device=device,
                          width=width)
    gains = final[0] - final[1:]
    mean, sd = gains.mean(axis=1), gains.std(axis=1, ddof=1)
    t_stat = np.divide(mean, sd / np.sqrt(seeds), out=np.zeros_like(mean), where=sd > 0)
    evidence.parameters(dataset="sklearn digits (1400 train)",
                        model="softmax regression" if width == 0 else f"MLP 64-{width}-10",
                        weight_decay=1e-2, batch=16, epochs=epochs, seeds=seeds, cutoffs=list(CUTOFFS), alpha=0.5,
                        device=device)
    evidence.record("final training objective, constant step (per seed)", final[0])
    evidence.record("mean gain by cut-off (constant - cool-down)", dict(zip(map(str, CUTOFFS), mean)))
    evidence.record("catalogue criterion: mean gain - 2 seed-std by cut-off", dict(zip(map(str, CUTOFFS), mean - 2 * sd)))
    evidence.lower_bound("paired t statistic of the gain, every cut-off, against t_{0.999}", t_stat,
                         stats.t.isf(1e-3, seeds - 1), headline=True)


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps", uses=["cooldown_step", "sgd"])
def test_cooldown_proxy_on_digits(evidence, algorithm):
    """CPU proxy of the ResNet/CIFAR-10 figure: L2-regularised softmax regression on scikit-learn's
    digits (a unique minimiser with non-vanishing minibatch noise, the regime of Theorem 4), 8 epochs
    of SGD with minibatch 16 and alpha = 0.5, constant vs a 1/k cool-down from cut-offs at
    70/80/90/95% of training, 32 paired seeds. Pass: for every cut-off the final training
    objective is lower than the constant run's, by a paired one-sided t-test at 1e-3."""
    _cooldown_experiment(evidence, algorithm, "cpu", seeds=32, epochs=8, width=0)
    evidence.note("Measured at digits / softmax-regression scale on CPU, not the slide's ResNet-18/CIFAR-10. "
                  "With an over-parameterised MLP (interpolation) a constant step kept improving the training "
                  "loss in our trials and the cool-down did not help: the claim needs noise that does not "
                  "vanish at the solution (see sgd.q1-constant-step-no-convergence).")


@pytest.mark.gpu
@pytest.mark.claim("sgd.cooldown-helps", uses=["cooldown_step", "sgd"])
def test_cooldown_on_gpu(evidence, algorithm, device, scale):
    """The same protocol with a 64-1024-10 ReLU MLP (weight decay 1e-2) on the GPU, 30 epochs, 32 seeds;
    at ``--scale tiny`` (CPU, CI) 4 seeds, 2 epochs, width 32: the code path only."""
    size = dict(seeds=32, epochs=30, width=1024) if scale == "full" else dict(seeds=4, epochs=2, width=32)
    with measured_at(evidence, scale):
        _cooldown_experiment(evidence, algorithm, device, **size)
    evidence.note("Measured on digits with a 64-1024-10 MLP (no CIFAR-10 offline); the slide's ResNet-18/"
                  "CIFAR-10 scale is not reproduced.")
