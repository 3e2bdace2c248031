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
multiplied with ``torch.bmm``. The forward pass uses W ⊙ Mask (Mask_m = 1 on network m's own
rows and columns), so a padded unit never acts and never receives a gradient. Buckets are
cut by dynamic programming over the networks sorted by size, minimising a cost model
(a fixed cost per bucket step plus the padded multiply-adds), so a width sweep from 4 to
256 neither pads everything to 256 nor runs one bucket per network.

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

from algorithms.registry import register

INITS = ("he_uniform", "torch_default")


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


# ------------------------------------------------------------------ initialisation
def initial_parameters(dims: Sequence[int], seed: int, init: str, bias: bool):
    """The draws of one network from ``torch.Generator().manual_seed(seed)`` (CPU, float64),
    layer by layer, weight before bias: "he_uniform" = nn.init.kaiming_uniform_ (bound
    √(6/fan_in)) with zero biases, as in the MNIST-1D double-descent notebook;
    "torch_default" = nn.Linear's reset (bound 1/√fan_in for weights and biases).
    Returns (generator, weights, biases); the generator then serves the permutations."""
    if init not in INITS:
        raise ValueError(f"init {init!r}: expected one of {INITS}")
    gen = torch.Generator().manual_seed(int(seed) % 2**63)
    weights, biases = [], []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = np.sqrt(6.0 / fan_in) if init == "he_uniform" else 1.0 / np.sqrt(fan_in)
        weights.append((torch.rand((fan_out, fan_in), generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        if bias and init == "torch_default":
            biases.append((torch.rand(fan_out, generator=gen, dtype=torch.float64) * 2 - 1) * bound)
        else:
            biases.append(torch.zeros(fan_out, dtype=torch.float64))
    return gen, weights, biases


# ------------------------------------------------------------------------ buckets
def _padded_macs(dims_list: Sequence[Sequence[int]], batch: int) -> float:
    """Multiply-adds of one forward + backward step (≈ 3 products per layer) of networks
    padded to the elementwise maximum of their layer sizes."""
    top = np.max(np.asarray(dims_list), axis=0)
    per_net = sum(int(a) * int(b) for a, b in zip(top[:-1], top[1:]))
    return 3.0 * batch * per_net * len(dims_list)


def plan_buckets(dims: Sequence[Sequence[int]], batch: int, overhead_macs: float) -> list[list[int]]:
    """Partition networks of one depth into buckets of consecutive (by size) networks,
    minimising sum over buckets of (overhead_macs + padded multiply-adds): O(M²) DP."""
    order = sorted(range(len(dims)), key=lambda i: (sum(dims[i]), tuple(dims[i])))
    best, cut = [0.0] + [np.inf] * len(order), [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        for i in range(j):
            c = best[i] + overhead_macs + _padded_macs([dims[k] for k in order[i:j]], batch)
            if c < best[j]:
                best[j], cut[j] = c, i
    out, j = [], len(order)
    while j > 0:
        out.append(order[cut[j]:j])
        j = cut[j]
    return out[::-1]


# -------------------------------------------------------------------- one bucket
class BucketTrainer:
    """The networks of one bucket; ``train`` runs their epochs. All parameters of network m
    live in row m of one tensor θ (M_b, P): per layer its padded weight block (out·in
    entries) and bias (out), so that the optimiser's update is a few operations on θ whatever
    the depth, with the per-network learning rate broadcast along the row.
    Subclasses of this class are how the planted bugs of checks/quality/ are built."""

    def __init__(self, dims, specs, init, bias, device, dtype):
        self.specs, self.device, self.dtype, self.bias = specs, torch.device(device), dtype, bias
        self.num_layers = len(dims[0]) - 1
        top = [int(t) for t in np.max(np.asarray(dims), axis=0)]
        self.shapes = [(top[l + 1], top[l]) for l in range(self.num_layers)]
        self.offsets, at = [], 0
        for o, i in self.shapes:
            self.offsets.append((at, at + o * i, at + o * i + o))
            at += o * i + o
        M = len(specs)
        theta, mask = torch.zeros(M, at, dtype=torch.float64), torch.zeros(M, at, dtype=torch.float64)
        self.gens, self.init_w, self.init_b = [], [], []
        for m, (d, s) in enumerate(zip(dims, specs)):
            gen, ws, bs = initial_parameters(d, s.seed, init, bias)
            self.gens.append(gen)
            self.init_w.append([w.numpy().copy() for w in ws])
            self.init_b.append([b.numpy().copy() for b in bs])
            for (w0, b0, _), (o, i), w, b in zip(self.offsets, self.shapes, ws, bs):
                theta[m, w0:b0].view(o, i)[:w.shape[0], :w.shape[1]] = w
                mask[m, w0:b0].view(o, i)[:w.shape[0], :w.shape[1]] = 1.0
                theta[m, b0:b0 + o][:b.shape[0]] = b
                mask[m, b0:b0 + o][:b.shape[0]] = 1.0 if bias else 0.0
        self.dims = [list(d) for d in dims]
        to = dict(device=self.device, dtype=dtype)
        self.theta = theta.to(**to).requires_grad_(True)
        self.mask = mask.to(**to)
        self.padded = bool((self.mask == 0).any())
        self.lr = torch.tensor([s.lr for s in specs], **to).unsqueeze(1)
        self.wd = torch.tensor([s.weight_decay for s in specs], **to).unsqueeze(1)
        self.decay = any(s.weight_decay != 0 for s in specs)
        self.set_active(np.ones(M, dtype=bool))
        self.steps = np.zeros(M, dtype=int)

    def set_active(self, active: np.ndarray) -> None:
        """Which networks still update (host-side flags, so that a step never waits on the device)."""
        self.active_host = np.asarray(active, dtype=bool).copy()
        self.all_active = bool(self.active_host.all())
        self.active = torch.as_tensor(self.active_host, device=self.device)

    def layers(self):
        """Views (W_l (M, out, in), c_l (M, out)) into θ."""
        M = self.theta.shape[0]
        return [(self.theta[:, w0:b0].view(M, o, i), self.theta[:, b0:e]) for (w0, b0, e), (o, i) in
                zip(self.offsets, self.shapes)]

    def forward(self, xb: torch.Tensor, layers=None) -> torch.Tensor:
        """xb (M, b, p) -> logits (M, b, C)."""
        h = xb
        layers = self.layers() if layers is None else layers
        for l, (W, c) in enumerate(layers):
            h = torch.baddbmm(c.unsqueeze(1), h, W.transpose(1, 2))
            if l < self.num_layers - 1:
                h = torch.relu(h)
        return h

    def loss_gradient(self, logits: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """∂L/∂logits for L = Σ_m (1/b) Σ_i CE(logits[m, i], y[m, i]): (softmax − one-hot)/b,
        written out (cheaper than autograd through log-softmax for 10 classes)."""
        with torch.no_grad():
            p = (logits - logits.amax(-1, keepdim=True)).exp_()
            p /= p.sum(-1, keepdim=True)
            p.scatter_add_(-1, yb.unsqueeze(-1), torch.full(yb.shape + (1,), -1.0, dtype=p.dtype, device=p.device))
            return p.div_(logits.shape[1])

    def gradient(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """∂L/∂θ (M, P), assembled from the gradients of the layer views."""
        layers = self.layers()
        views = [t for pair in layers for t in pair]
        logits = self.forward(xb, layers)
        grads = torch.autograd.grad(logits, views, grad_outputs=self.loss_gradient(logits.detach(), yb))
        flat = torch.empty_like(self.theta)
        for (w0, b0, e), gw, gc in zip(self.offsets, grads[0::2], grads[1::2]):
            flat[:, w0:b0] = gw.reshape(gw.shape[0], -1)
            flat[:, b0:e] = gc
        return flat

    def init_state(self, optimizer):
        self.optimizer = optimizer
        self.state = [torch.zeros_like(self.theta), torch.zeros_like(self.theta)]

    def project(self) -> None:
        """θ ← θ ⊙ Mask: padded entries (and biases when there are none) stay exactly zero.
        Their updates are zero anyway (a padded unit has zero weights in and out, so
        relu'(0) = 0 and h = 0 zero its gradients); the projection makes it an invariant."""
        if self.padded:
            with torch.no_grad():
                self.theta.mul_(self.mask)

    def update(self, g: torch.Tensor, hyper) -> None:
        """One step of every active network (the rules of the module docstring)."""
        self.steps += self.active_host
        b1, b2 = hyper["betas"]
        p, (s0, s1) = self.theta, self.state
        with torch.no_grad():
            if self.decay:
                g = g + self.wd * p
            if self.all_active:  # one step count t for the whole bucket: scalar bias corrections
                t = float(self.steps[0])
                if self.optimizer == "adam":
                    s0.lerp_(g, 1 - b1)  # m ← β₁ m + (1 − β₁) g
                    s1.mul_(b2).addcmul_(g, g, value=1 - b2)
                    denom = s1.sqrt().div_((1 - b2 ** t) ** 0.5).add_(hyper["eps"])
                    p.addcmul_(self.lr, s0 / denom, value=-1 / (1 - b1 ** t))
                else:  # b_0 = 0, so b_1 = g as in torch.optim.SGD
                    s0.mul_(hyper["momentum"]).add_(g)
                    p.addcmul_(self.lr, s0, value=-1)
            else:
                a = self.active.to(self.dtype).unsqueeze(1)
                t = torch.as_tensor(np.maximum(self.steps, 1), dtype=torch.float64, device=self.device).unsqueeze(1)
                if self.optimizer == "adam":
                    s0.add_(a * (1 - b1) * (g - s0))
                    s1.add_(a * (1 - b2) * (g * g - s1))
                    bc1, bc2 = (1 - b1 ** t).to(self.dtype), (1 - b2 ** t).to(self.dtype)
                    step = (s0 / bc1) / ((s1 / bc2).sqrt() + hyper["eps"])
                else:
                    s0.add_(a * ((hyper["momentum"] - 1) * s0 + g))
                    step = s0
                p.sub_(a * self.lr * step)
        self.project()

    @torch.no_grad()
    def evaluate(self, x: torch.Tensor, y: torch.Tensor, chunk_elems: int = 2**24):
        """Error and mean CE of every network on (x (n, p), y (M, n)), in chunks of samples."""
        M, n = y.shape
        width = max(max(d) for d in self.dims)
        step = max(1, chunk_elems // (M * width))
        wrong = torch.zeros(M, dtype=torch.float64, device=self.device)
        total = torch.zeros_like(wrong)
        for s in range(0, n, step):
            logits = self.forward(x[s:s + step].unsqueeze(0).expand(M, -1, -1))
            ys = y[:, s:s + step]
            wrong += (logits.argmax(-1) != ys).sum(1).double()
            logp = torch.log_softmax(logits, dim=-1)  # along the contiguous class axis (fast path)
            total -= logp.gather(-1, ys.unsqueeze(-1)).squeeze(-1).sum(1).double()
        return (wrong / n).cpu().numpy(), (total / n).cpu().numpy()

    def train(self, x, Y, evals, epochs, record_at, stop_loss, optimizer, hyper):
        self.init_state(optimizer)
        n, M = x.shape[0], len(self.specs)
        batch = self.specs[0].batch_size
        errors = {k: [] for k in ["train", *evals]}
        losses = {k: [] for k in errors}
        stopped_at = np.full(M, -1)

        def record(epoch):
            for name, (xe, ye) in [("train", (x, Y)), *evals.items()]:
                e, l = self.evaluate(xe, ye)
                errors[name].append(e)
                losses[name].append(l)
            if stop_loss is not None:
                newly = (losses["train"][-1] <= stop_loss) & (stopped_at < 0)
                stopped_at[newly] = epoch
                self.set_active(stopped_at < 0)

        if 0 in record_at:
            record(0)
        for epoch in range(1, epochs + 1):
            if not self.active_host.any():
                if epoch in record_at:
                    record(epoch)
                continue
            perms = torch.stack([torch.randperm(n, generator=g) for g in self.gens]).to(self.device)
            xs = x.index_select(0, perms.reshape(-1)).view(M, n, -1)  # this epoch's order, one gather
            ys = torch.gather(Y, 1, perms)
            for s in range(0, n, batch):
                self.update(self.gradient(xs[:, s:s + batch], ys[:, s:s + batch]), hyper)
            if epoch in record_at:
                record(epoch)
        return errors, losses, stopped_at

    def unpadded(self):
        """Per network [W_l (out, in)] and [c_l (out,)], float64, without the padding."""
        layers = [(W.detach().double().cpu().numpy(), c.detach().double().cpu().numpy()) for W, c in self.layers()]
        ws = [[layers[l][0][m, :d[l + 1], :d[l]].copy() for l in range(self.num_layers)] for m, d in enumerate(self.dims)]
        cs = [[layers[l][1][m, :d[l + 1]].copy() for l in range(self.num_layers)] for m, d in enumerate(self.dims)]
        return ws, cs


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
