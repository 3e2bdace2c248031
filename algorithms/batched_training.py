"""Many independent MLP classifiers trained as one batched computation.

Network m (m = 1, ..., M) is a ReLU MLP with its own hidden widths, learning rate η_m,
weight decay λ_m, minibatch size, seed and training labels y_m:

    f_m(a) = W_{L,m} σ(⋯ σ(W_{1,m} a + c_{1,m}) ⋯) + c_{L,m},   σ = ReLU,

and all M networks are trained on the sum of their losses, at each step k

    L(θ_1, …, θ_M) = Σ_m (1/|B_{m,k}|) Σ_{i ∈ B_{m,k}} CE(f_m(x_i), y_{m,i}).

The parameter blocks θ_m are disjoint, so ∂L/∂θ_m = ∇ℓ_m(θ_m): each network gets exactly
its own gradient, and optimiser state kept per parameter entry is state per network.
With g = ∇ℓ_m(θ_{t−1}) + λ_m θ_{t−1} at network m's step t = 1, 2, … (PyTorch's conventions):

    Adam (Kingma and Ba, ICLR 2015):
        m_t = β₁ m_{t−1} + (1 − β₁) g,     v_t = β₂ v_{t−1} + (1 − β₂) g²,
        θ_t = θ_{t−1} − η_m (m_t / (1 − β₁ᵗ)) / (√(v_t / (1 − β₂ᵗ)) + ε)
    SGD with momentum μ:
        b_t = μ b_{t−1} + g   (b_1 = g),   θ_t = θ_{t−1} − η_m b_t

How. Networks of equal depth and minibatch size share a *bucket*: their layer-l weights are
stacked into one tensor (M_b, out_max, in_max), zero-padded to the bucket's widest layer, and
multiplied with ``torch.bmm`` (one per product per step: 2L − 1 backward, L forward). A padded
unit has zero weights in and out, so its input is 0, ReLU'(0) = 0, and its gradients are 0:
it never acts and never moves (and θ ← θ ⊙ Mask keeps it so). Buckets are cut by dynamic
programming over the networks sorted by size, minimising a cost model (a fixed cost per bucket
step plus the padded multiply-adds), so a width sweep from 4 to 256 neither pads everything to
256 nor runs one bucket per network. All of a bucket's parameters are one flat tensor, each
layer's block contiguous; the gradient is backpropagation written out into a preallocated
buffer (no autograd graph per step); the update is a few operations on the flat tensor, or
one pass of PyTorch's fused Adam kernel when the bucket shares one learning rate and weight
decay (the same rule).

Determinism. Network m draws its initial weights and, every epoch, its minibatch
permutation from its own ``torch.Generator`` seeded with its ``seed``, on the CPU and in
float64, whatever the device: its trajectory is the one a per-network loop produces with
the same draws, independent (up to floating-point summation order) of which networks
share its bucket and of the device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch

from algorithms.batched_bucket import INITS, BucketTrainer, initial_parameters  # noqa: F401 (re-exported)
from algorithms.registry import register


@dataclass(frozen=True)
class NetworkSpec:
    """One network of a population: hidden widths (depth = len(hidden) + 1 layers),
    learning rate, seed, minibatch size, L2 weight decay, and which row of the label
    matrix it trains on (``labels``; 0 when all networks share one label vector)."""

    hidden: tuple[int, ...]
    lr: float
    seed: int
    batch_size: int = 100
    weight_decay: float = 0.0
    labels: int = 0

    def __post_init__(self):
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError(f"hidden widths {self.hidden!r}: need at least one hidden layer, each width >= 1")
        if self.lr < 0 or self.batch_size < 1 or self.weight_decay < 0:
            raise ValueError(f"{self!r}: lr and weight_decay must be >= 0 and batch_size >= 1")


@dataclass
class TrainedPopulation:
    """The outcome, network by network in the order of the specs.

    errors / losses  {set name: array (M, T)}: misclassification rate and mean cross-entropy
                     at the recorded epochs (``epochs``, (T,)); the set "train" is each
                     network's own training set with its own labels.
    weights / biases / initial_weights / initial_biases
                     per network a list of float64 arrays, W_l of shape (out, in), c_l (out,).
    steps            (M,) parameter updates taken; stopped_at (M,) the epoch at which a
                     network met ``stop_loss`` (-1: never)."""

    specs: list[NetworkSpec]
    epochs: np.ndarray
    errors: dict[str, np.ndarray]
    losses: dict[str, np.ndarray]
    weights: list[list[np.ndarray]]
    biases: list[list[np.ndarray]]
    initial_weights: list[list[np.ndarray]]
    initial_biases: list[list[np.ndarray]]
    steps: np.ndarray
    stopped_at: np.ndarray
    buckets: list[list[int]] = field(default_factory=list)


# ------------------------------------------------------------------------ buckets
def _padded_macs(dims_list: Sequence[Sequence[int]], batch: int) -> float:
    """Multiply-adds of one forward + backward step (≈ 3 products per layer) of networks
    padded to the elementwise maximum of their layer sizes."""
    top = np.max(np.asarray(dims_list), axis=0)
    per_net = sum(int(a) * int(b) for a, b in zip(top[:-1], top[1:]))
    return 3.0 * batch * per_net * len(dims_list)


def plan_buckets(dims: Sequence[Sequence[int]], batch: int, overhead_macs: float) -> list[list[int]]:
    """Partition networks of one depth into buckets of consecutive (by size) networks,
    minimising sum over buckets of (overhead_macs + padded multiply-adds): O(M²) DP, the
    padded sizes of order[i:j] kept as a running maximum while i decreases."""
    order = sorted(range(len(dims)), key=lambda i: (sum(dims[i]), tuple(dims[i])))
    sizes = np.asarray([dims[k] for k in order], dtype=float)  # (M, L + 1), sorted
    best, cut = np.r_[0.0, np.full(len(order), np.inf)], [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        top = np.maximum.accumulate(sizes[j - 1::-1], axis=0)  # row r: padded sizes of order[j-1-r:j]
        per_net = np.sum(top[:, :-1] * top[:, 1:], axis=1)
        count = np.arange(1, j + 1)
        cost = best[j - 1::-1] + overhead_macs + 3.0 * batch * per_net * count  # = _padded_macs of order[i:j]
        r = int(np.argmin(cost))
        best[j], cut[j] = cost[r], j - 1 - r
    out, j = [], len(order)
    while j > 0:
        out.append(order[cut[j]:j])
        j = cut[j]
    return out[::-1]


# ------------------------------------------------------------------------ engine
def train_mlp_population(x, y, specs: Sequence[NetworkSpec], *, epochs: int, optimizer: str = "adam",
                         evaluate: Mapping[str, tuple] | None = None, record_at: Sequence[int] = (),
                         stop_loss: float | None = None, init: str = "he_uniform", bias: bool = True,
                         betas=(0.9, 0.999), eps: float = 1e-8, momentum: float = 0.9,
                         device="cpu", dtype=torch.float32, bucket_overhead_macs: float | None = None,
                         num_classes: int | None = None, bucket_class=BucketTrainer) -> TrainedPopulation:
    """Train every network of ``specs`` on (x (n, p), y) for ``epochs`` epochs (module docstring).

    y          labels (n,) shared by all networks, or (R, n): network m trains on row
               ``specs[m].labels``.
    evaluate   {name: (x_e, y_e)} sets to measure besides "train"; y_e (n_e,) or (R, n_e)
               (row ``labels`` again, e.g. the clean labels of a noisy training set).
    record_at  epochs (0 = at initialisation) at which errors and losses are recorded;
               the last epoch is always recorded.
    stop_loss  a network stops updating at the first recorded epoch where its mean
               training cross-entropy is <= stop_loss (Jiang et al.'s stopping rule).
    num_classes  outputs per network (default: the largest label + 1).
    bucket_overhead_macs  the cost model's fixed cost of one bucket step, in multiply-adds
               (default 3e6 on the CPU, 3e8 on CUDA, where launches dominate)."""
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer {optimizer!r}: expected 'adam' or 'sgd'")
    specs = list(specs)
    if not specs:
        raise ValueError("specs is empty: nothing to train")
    x_np, y_np = np.asarray(x, dtype=float), np.atleast_2d(np.asarray(y))
    if num_classes is None:
        num_classes = int(max([y_np.max()] + [np.max(b) for _, b in (evaluate or {}).values()])) + 1
    classes = int(num_classes)
    rows = max(s.labels for s in specs) + 1
    if y_np.shape[0] < rows or y_np.shape[1] != x_np.shape[0]:
        raise ValueError(f"labels of shape {y_np.shape}: need ({rows}, {x_np.shape[0]}) rows for these specs")
    dev = torch.device(device)
    to = dict(device=dev, dtype=dtype)
    xt = torch.as_tensor(x_np, **to)
    yt = torch.as_tensor(y_np, dtype=torch.long, device=dev)
    ev = {k: (torch.as_tensor(np.asarray(a, float), **to),
              torch.as_tensor(np.atleast_2d(np.asarray(b)), dtype=torch.long, device=dev)) for k, (a, b) in
          (evaluate or {}).items()}
    record = sorted({int(e) for e in record_at if 0 <= int(e) <= epochs} | {int(epochs)})
    overhead = bucket_overhead_macs if bucket_overhead_macs is not None else (3e8 if dev.type == "cuda" else 3e6)
    hyper = {"betas": tuple(betas), "eps": float(eps), "momentum": float(momentum)}
    dims = [[x_np.shape[1], *map(int, s.hidden), classes] for s in specs]
    M, T = len(specs), len(record)
    errors = {k: np.zeros((M, T)) for k in ["train", *ev]}
    losses = {k: np.zeros((M, T)) for k in errors}
    out_w, out_b, init_w, init_b = [None] * M, [None] * M, [None] * M, [None] * M
    steps, stopped = np.zeros(M, dtype=int), np.full(M, -1)
    buckets = []
    groups: dict[tuple[int, int], list[int]] = {}
    for i, s in enumerate(specs):
        groups.setdefault((len(s.hidden), s.batch_size), []).append(i)
    for (_, batch), members in sorted(groups.items()):
        for part in plan_buckets([dims[i] for i in members], batch, overhead):
            idx = [members[k] for k in part]
            buckets.append(idx)
            bucket = bucket_class([dims[i] for i in idx], [specs[i] for i in idx], init, bias, dev, dtype)
            rows_of = torch.as_tensor([specs[i].labels for i in idx], device=dev)
            evs = {k: (a, b[rows_of] if b.shape[0] > 1 else b.expand(len(idx), -1)) for k, (a, b) in ev.items()}
            e, l, st = bucket.train(xt, yt[rows_of], evs, int(epochs), set(record), stop_loss, optimizer, hyper)
            ws, bs = bucket.unpadded()
            for j, i in enumerate(idx):
                for k in errors:
                    errors[k][i], losses[k][i] = np.array(e[k])[:, j], np.array(l[k])[:, j]
                out_w[i], out_b[i], init_w[i], init_b[i] = ws[j], bs[j], bucket.init_w[j], bucket.init_b[j]
                steps[i], stopped[i] = int(bucket.steps[j]), int(st[j])
    return TrainedPopulation(specs, np.array(record), errors, losses, out_w, out_b, init_w, init_b, steps,
                             stopped, buckets)


# Registered by a call, not a decorator, so that mutation testing reaches the bodies (CONTRIBUTING).
register("train_mlp_population", family="batched_training")(train_mlp_population)
