"""Independent references for the batched training engine and the MNIST-1D experiments.

* ``train_one_network``: one MLP classifier trained alone, the idiomatic way —
  ``torch.nn.Sequential`` of ``nn.Linear`` + ``nn.ReLU``, ``torch.optim.Adam`` or
  ``torch.optim.SGD`` — with the same random draws as the batched engine's documented
  convention (``torch.Generator().manual_seed(seed)``, CPU, float64, layer by layer, weight
  before bias; then one ``randperm`` per epoch). It shares no code with
  ``algorithms.batched_training``: the equivalence check compares the two, and the
  benchmark times a loop of it.
* ``noisy_labels``: a fraction of labels replaced by uniform draws (which may coincide with
  the true label, as in the MNIST-1D double-descent notebook).

Nothing here imports ``algorithms``.
"""
from __future__ import annotations

import numpy as np
import torch


def _draw(gen: torch.Generator, shape, bound: float) -> torch.Tensor:
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound


def train_one_network(x, y, hidden, *, lr, seed, epochs, batch_size=100, weight_decay=0.0, optimizer="adam",
                      init="he_uniform", bias=True, evaluate=None, record_at=(), stop_loss=None,
                      num_classes=10, betas=(0.9, 0.999), eps=1e-8, momentum=0.9, dtype=torch.float64):
    """Train one network; returns {"weights", "biases", "initial_weights", "errors": {set: (T,)},
    "losses": {set: (T,)}, "epochs", "steps", "stopped_at"} (arrays float64, W (out, in))."""
    gen = torch.Generator().manual_seed(int(seed) % 2**63)
    dims = [np.shape(x)[1], *hidden, num_classes]
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        lin = torch.nn.Linear(a, b, bias=True, dtype=dtype)
        bound = np.sqrt(6.0 / a) if init == "he_uniform" else 1.0 / np.sqrt(a)
        with torch.no_grad():
            lin.weight.copy_(_draw(gen, (b, a), bound))
            lin.bias.copy_(_draw(gen, (b,), bound) if bias and init == "torch_default" else torch.zeros(b))
        lin.bias.requires_grad_(bias)
        layers += [lin, torch.nn.ReLU()] if i < len(dims) - 2 else [lin]
    net = torch.nn.Sequential(*layers)
    initial = [lin.weight.detach().numpy().copy() for lin in net if isinstance(lin, torch.nn.Linear)]
    params = [p for p in net.parameters() if p.requires_grad]
    opt = (torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay) if optimizer == "adam"
           else torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay))
    xt, yt = torch.as_tensor(np.asarray(x), dtype=dtype), torch.as_tensor(np.asarray(y), dtype=torch.long)
    sets = {"train": (xt, yt), **{k: (torch.as_tensor(np.asarray(a), dtype=dtype), torch.as_tensor(np.asarray(b)))
                                  for k, (a, b) in (evaluate or {}).items()}}
    record = sorted({int(e) for e in record_at if 0 <= int(e) <= epochs} | {int(epochs)})
    errors, losses = {k: [] for k in sets}, {k: [] for k in sets}
    steps, stopped_at, n = 0, -1, xt.shape[0]

    def measure(epoch):
        nonlocal stopped_at
        with torch.no_grad():
            for k, (a, b) in sets.items():
                logits = net(a)
                errors[k].append(float((logits.argmax(1) != b).double().mean()))
                losses[k].append(float(torch.nn.functional.cross_entropy(logits, b)))
        if stop_loss is not None and stopped_at < 0 and losses["train"][-1] <= stop_loss:
            stopped_at = epoch

    if 0 in record:
        measure(0)
    for epoch in range(1, int(epochs) + 1):
        if stopped_at < 0:
            perm = torch.randperm(n, generator=gen)
            for s in range(0, n, batch_size):
                idx = perm[s:s + batch_size]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
                opt.step()
                steps += 1
        if epoch in record:
            measure(epoch)
    lins = [lin for lin in net if isinstance(lin, torch.nn.Linear)]
    return {"weights": [lin.weight.detach().double().numpy() for lin in lins],
            "biases": [lin.bias.detach().double().numpy() for lin in lins],
            "initial_weights": initial, "errors": {k: np.array(v) for k, v in errors.items()},
            "losses": {k: np.array(v) for k, v in losses.items()}, "epochs": np.array(record),
            "steps": steps, "stopped_at": stopped_at}


def noisy_labels(y, fraction: float, seed: int, num_classes: int = 10) -> np.ndarray:
    """Each label independently, with probability ``fraction``, replaced by a uniform class."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    replace = rng.uniform(size=y.shape) < fraction
    return np.where(replace, rng.integers(0, num_classes, y.shape), y)
