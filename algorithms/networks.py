"""The tutorial's L-layer ReLU network and the initialisation table (slides ≈52–57).

    h⁽⁰⁾ = a,   h⁽ˡ⁾ = σ(X_l h⁽ˡ⁻¹⁾)  (l = 1, …, L−1),   h_x(a) = (1/α) σ(X_L h⁽ᴸ⁻¹⁾),

X₁ ∈ ℝ^{m×p}, X_l ∈ ℝ^{m×m}, X_L ∈ ℝ^{1×m}, σ = ReLU, no biases; X₁ ~ N(0, β₁²),
X_l ~ N(0, β²), X_L ~ N(0, β_L²) entrywise (Liu, Suykens, Cevher, ICASSP 2023 tutorial,
"L-Layer NN"). The output ReLU printed on the slide is a flag, **off by default**: the
papers analyse a linear read-out, and with it on the output is dead with probability ½
at initialisation (every expected squared gradient halves).

Everything is batched over independent networks: a weight list holds tensors of shape
(B, out, in), α is a tensor (B,), and ``relu_network(weights, alpha, inputs)`` maps inputs
(n, p) — or (B, n, p), one input set per network — to outputs (B, n).

The table (β₁², β², β_L², α), each row a registered :class:`InitScheme`:

    LeCun [50]        1/p        1/m   1/m       1
    He [37]           2/p        2/m   2/m       1
    NTK [1]           2/m        2/m   1         1      (Allen-Zhu, Li, Song ICML 2019)
    Xavier [31]       2/(m+p)    1/m   2/(m+1)   1
    Mean-field [61]   1          1     1         m      (Mei, Montanari, Nguyen PNAS 2018)
    E et al. [25]     1          1     β_c²      1      (E, Ma, Wu 2020; β_c a free parameter)

plus the Jacot NTK *parametrisation* (N(0, 1) weights, α = √m), which is not a table row
but the parametrisation under which the often-quoted m^{-1/2} laziness holds.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from algorithms.registry import register
from problems.runtime import threads

Tensor = torch.Tensor


# ------------------------------------------------------------------ forward
def relu_network(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, *,
                 output_relu: bool = False) -> Tensor:
    """Forward pass h_x(a) = (1/α) σ(X_L σ(X_{L−1} ⋯ σ(X₁ a))) of B networks at once.

    weights  [X₁ (B, m, p), X₂ … X_{L−1} (B, m, m), X_L (B, 1, m)]; a single layer
             [X₁ (B, 1, p)] is the linear map a ↦ X₁a / α.
    alpha    scalar or tensor (B,).
    inputs   (n, p), shared by all networks, or (B, n, p).
    returns  (B, n).
    """
    if len(weights) == 0:
        raise ValueError("relu_network needs at least one weight matrix [X_1, ..., X_L]")
    h = inputs
    for X in weights[:-1]:
        h = torch.relu(h @ X.transpose(-1, -2))
    out = (h @ weights[-1].transpose(-1, -2)).squeeze(-1)
    if out.dim() == 1:  # inputs (n, p) and an unbatched last layer: keep the (B, n) contract
        out = out.unsqueeze(0)
    if output_relu:
        out = torch.relu(out)
    a = torch.as_tensor(alpha, dtype=out.dtype, device=out.device)
    return out / (a[:, None] if a.dim() == 1 else a)


# ------------------------------------------------------- initialisation
@dataclass(frozen=True)
class InitDraw:
    """One draw of B networks: the weights [X₁, …, X_L] and the output scale α (B,)."""

    weights: list[Tensor]
    alpha: Tensor

    @property
    def batch(self) -> int:
        return int(self.weights[0].shape[0])


def _seeded_normal(shape: tuple[int, ...], seed: int) -> Tensor:
    # drawn on the CPU in float64 whatever the target device: the same seed gives the same
    # networks on CPU and CUDA, so a GPU run reproduces a CPU failure exactly
    g = torch.Generator(device="cpu").manual_seed(int(seed) % (2**63))
    return torch.randn(shape, generator=g, dtype=torch.float64)


class InitScheme:
    """An initialisation scheme of the tutorial's table.

    ``scheme.variances(p, m)`` returns (β₁², β², β_L², α) — plain arithmetic, so it also
    works on sympy symbols (the phase-diagram check takes limits of it).
    ``scheme(p, m, depth, batch=B, seed=s, device=..., dtype=...)`` draws B networks of
    depth L = ``depth`` (L ≥ 2), X₁ (B, m, p), X_l (B, m, m), X_L (B, 1, m), entries
    N(0, β²) of their layer, and returns an :class:`InitDraw`.
    """

    def __init__(self, name: str, first: Callable, hidden: Callable, last: Callable,
                 alpha: Callable, reference: str):
        self.name, self.reference = name, reference

        def variances(p: Any, m: Any) -> tuple[Any, Any, Any, Any]:
            return first(p, m), hidden(p, m), last(p, m), alpha(p, m)

        # an instance attribute (not a method): the contract guard that wraps a substituted
        # scheme copies the instance's __dict__, so ``variances`` survives the wrapping
        self.variances = variances

    def __repr__(self) -> str:
        return f"InitScheme({self.name!r})"

    def __call__(self, p: int, m: int, depth: int, *, batch: int = 1, seed: int = 0,
                 device: Any = "cpu", dtype: torch.dtype = torch.float64) -> InitDraw:
        if depth < 2:
            raise ValueError(f"depth L={depth}: the L-layer network has L >= 2 weight matrices "
                             f"(X_1 and X_L); use relu_network directly for a single layer")
        if p < 1 or m < 1 or batch < 1:
            raise ValueError(f"need p, m, batch >= 1, got p={p}, m={m}, batch={batch}")
        b1, b, bL, alpha = (float(v) for v in self.variances(p, m))
        shapes = [(batch, m, p)] + [(batch, m, m)] * (depth - 2) + [(batch, 1, m)]
        stds = [math.sqrt(b1)] + [math.sqrt(b)] * (depth - 2) + [math.sqrt(bL)]
        weights = [(_seeded_normal(s, seed * 1009 + 17 * i) * sd).to(device=device, dtype=dtype)
                   for i, (s, sd) in enumerate(zip(shapes, stds))]
        return InitDraw(weights, torch.full((batch,), alpha, dtype=dtype, device=device))


def _sqrt(x: Any) -> Any:
    """√x for floats and sympy expressions alike."""
    return x**0.5 if isinstance(x, (int, float)) else x ** (1 / _sympy_two())


def _sympy_two():
    import sympy

    return sympy.Integer(2)


init_lecun = InitScheme("lecun", lambda p, m: 1 / p, lambda p, m: 1 / m, lambda p, m: 1 / m,
                        lambda p, m: 1, "LeCun, Bottou, Orr, Müller 1998 [50]")
init_he = InitScheme("he", lambda p, m: 2 / p, lambda p, m: 2 / m, lambda p, m: 2 / m,
                     lambda p, m: 1, "He, Zhang, Ren, Sun ICCV 2015 [37]")
init_ntk = InitScheme("ntk", lambda p, m: 2 / m, lambda p, m: 2 / m, lambda p, m: 1,
                      lambda p, m: 1, "Allen-Zhu, Li, Song ICML 2019 [1]")
init_xavier = InitScheme("xavier", lambda p, m: 2 / (m + p), lambda p, m: 1 / m,
                         lambda p, m: 2 / (m + 1), lambda p, m: 1, "Glorot & Bengio AISTATS 2010 [31]")
init_mean_field = InitScheme("mean_field", lambda p, m: 1, lambda p, m: 1, lambda p, m: 1,
                             lambda p, m: m, "Mei, Montanari, Nguyen PNAS 2018 [61]")
init_e_et_al = InitScheme("e_et_al", lambda p, m: 1, lambda p, m: 1, lambda p, m: 1,
                          lambda p, m: 1, "E, Ma, Wu 2020 [25] (beta_c = 1 here; a free parameter)")
init_jacot = InitScheme("jacot", lambda p, m: 1, lambda p, m: 1, lambda p, m: 1,
                        lambda p, m: _sqrt(m), "Jacot, Gabriel, Hongler NeurIPS 2018 (parametrisation)")
# the table by scheme name; each scheme is also reachable as algorithms.networks:init_<scheme>
INIT_SCHEMES: dict[str, InitScheme] = {s.name: s for s in (init_lecun, init_he, init_ntk, init_xavier,
                                                            init_mean_field, init_e_et_al, init_jacot)}


def e_et_al_scheme(beta_c_sq: Callable[[Any], Any]) -> InitScheme:
    """E et al.'s row with the read-out variance β_c² = ``beta_c_sq(m)`` (undefined on the slide)."""
    return InitScheme("e_et_al", lambda p, m: 1, lambda p, m: 1, lambda p, m: beta_c_sq(m),
                      lambda p, m: 1, "E, Ma, Wu 2020 [25]")


# ------------------------------------------------------------ training
SMALL_WORK = 5e7  # multiply-adds per forward pass below which one CPU thread is used


@contextlib.contextmanager
def _threads_for(work: float, device: torch.device):
    """Run small CPU workloads single-threaded. Thousands of tiny steps pay OpenMP's
    synchronisation each time; on a loaded 2-core machine two threads were measured 10–50×
    slower than one (300 GD steps at m = 100: 12.6 s vs 1.8 s; a 20-input NTK Gram at m = 64:
    0.5 s vs 0.01 s). Workloads up to SMALL_WORK multiply-adds per forward pass (every
    network of this project's CPU tiers) run on one thread; the setting is restored after."""
    with contextlib.nullcontext() if device.type != "cpu" or work >= SMALL_WORK else threads(1):
        yield


def full_batch_gradient_descent(weights: Sequence[Tensor], alpha: Tensor, inputs: Tensor,
                                targets: Tensor, lr: Any, num_steps: int, *,
                                output_relu: bool = False, record_every: int = 1,
                                stop_loss: Any = None, trainable: Sequence[bool] | None = None,
                                forward: Callable | None = None, monitor: Callable | None = None,
                                keep_snapshots: bool = True) -> dict[str, Any]:
    """Full-batch gradient descent on the square loss, B networks at once:

        ℓ(x) = ½ Σ_i (h_x(a_i) − y_i)²,     X_l ← X_l − η ∇_{X_l} ℓ(x)   for every l.

    lr          η, scalar or (B,) (one step per network).
    stop_loss   scalar or (B,): network b stops (its weights freeze) once ℓ_b < stop_loss_b;
                a network whose loss is not finite stops too.
    trainable   per layer, whether it is trained (default all).
    forward     the network (default: the registry's ``relu_network`` reference).
    monitor     optional ``monitor(weights, outputs) -> dict of tensors``, called at every
                recorded step (no gradient); its values are stacked into ``"monitor"``.
    returns     {"weights": final list, "loss": (T, B), "steps": (T,), "snapshots": [list per
                 record] (if keep_snapshots), "monitor": {key: (T, ...)}, "stopped_at": (B,)
                 step index (num_steps if never)}; records are taken every ``record_every``
                 steps and at the last step.
    """
    fwd = forward or relu_network
    ws = [w.detach().clone() for w in weights]
    B = ws[0].shape[0]
    dev, dt = ws[0].device, ws[0].dtype
    eta = torch.as_tensor(lr, dtype=dt, device=dev).expand(B).clone()
    stop = None if stop_loss is None else torch.as_tensor(stop_loss, dtype=dt, device=dev).expand(B)
    train = list(trainable) if trainable is not None else [True] * len(ws)
    active = torch.ones(B, dtype=torch.bool, device=dev)
    stopped_at = torch.full((B,), num_steps, dtype=torch.long, device=dev)
    work = inputs.shape[-2] * sum(w.numel() for w in ws)
    with _threads_for(work, ws[0].device):
        return _descend(fwd, ws, alpha, inputs, targets, eta, stop, train, active, stopped_at, num_steps,
                        output_relu, record_every, monitor, keep_snapshots)


def _descend(fwd, ws, alpha, inputs, targets, eta, stop, train, active, stopped_at, num_steps,
             output_relu, record_every, monitor, keep_snapshots):
    B, dt = ws[0].shape[0], ws[0].dtype
    losses, steps, snaps, mon = [], [], [], {}
    for k in range(num_steps + 1):
        for w, t in zip(ws, train):
            w.requires_grad_(t)
        out = fwd(ws, alpha, inputs, output_relu=output_relu)
        loss = 0.5 * ((out - targets) ** 2).sum(-1)
        # a network stops at its target loss, or when its loss is no longer finite (diverged:
        # further steps on NaN weights only cost time)
        done = ~torch.isfinite(loss.detach())
        if stop is not None:
            done = done | (loss.detach() < stop)
        newly = active & done
        stopped_at[newly] = k
        active = active & ~newly
        last = k == num_steps or not bool(active.any())
        if k % record_every == 0 or last:
            losses.append(loss.detach().clone())
            steps.append(k)
            if keep_snapshots:
                snaps.append([w.detach().clone() for w in ws])
            if monitor is not None:
                with torch.no_grad():
                    for key, val in monitor([w.detach() for w in ws], out.detach()).items():
                        mon.setdefault(key, []).append(val)
        if last:
            break
        grads = torch.autograd.grad(loss.sum(), [w for w, t in zip(ws, train) if t])
        step = eta * active.to(dt)
        with torch.no_grad():
            it = iter(grads)
            ws = [w.detach() - step.view(B, *[1] * (w.dim() - 1)) * next(it) if t else w.detach()
                  for w, t in zip(ws, train)]
    return {"weights": ws, "loss": torch.stack(losses), "steps": torch.tensor(steps),
            "snapshots": snaps, "stopped_at": stopped_at,
            "monitor": {key: torch.stack(vals) for key, vals in mon.items()}}


# ------------------------------------------------------------------ CNN
def conv_relu_network(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, *,
                      output_relu: bool = False, image_shape: tuple[int, int] = (8, 8)) -> Tensor:
    """A bias-free CNN in the tutorial's form, for the robustness experiment (slide "lazy
    training experiment for CNN"): h⁽ˡ⁾ = σ(K_l ∗ h⁽ˡ⁻¹⁾) for L−1 3×3 convolutions (padding 1,
    stride 1), then the linear read-out h = (1/α) X_L vec(h⁽ᴸ⁻¹⁾).

    weights  [K₁ (B, w, 1, 3, 3), K_l (B, w, w, 3, 3), X_L (B, 1, w·H·W)], B networks.
    inputs   (n, H·W) or (B, n, H·W) flattened single-channel images; returns (B, n)."""
    B = weights[0].shape[0]
    n = inputs.shape[-2]
    H, Wd = image_shape
    outs = []
    for b in range(B):
        x = (inputs if inputs.dim() == 2 else inputs[b]).reshape(n, 1, H, Wd)
        for K in weights[:-1]:
            x = torch.relu(torch.nn.functional.conv2d(x, K[b], padding=1))
        outs.append(x.reshape(n, -1) @ weights[-1][b].T)
    out = torch.stack(outs).squeeze(-1)
    if output_relu:
        out = torch.relu(out)
    a = torch.as_tensor(alpha, dtype=out.dtype, device=out.device)
    return out / (a[:, None] if a.dim() == 1 else a)


def he_conv_init(depth: int, width: int, *, batch: int = 1, seed: int = 0, device: Any = "cpu",
                 image_pixels: int = 64, lecun: bool = False) -> InitDraw:
    """He initialisation of ``conv_relu_network``: variance 2/fan_in per layer (fan_in = 9·c_in
    for a 3×3 convolution, w·H·W for the read-out); ``lecun=True`` uses 1/fan_in."""
    gain = 1.0 if lecun else 2.0
    shapes = ([(batch, width, 1, 3, 3)] + [(batch, width, width, 3, 3)] * (depth - 2)
              + [(batch, 1, width * image_pixels)])
    fans = [9] + [9 * width] * (depth - 2) + [width * image_pixels]
    weights = [(_seeded_normal(s, seed * 1009 + 17 * i) * math.sqrt(gain / f)).to(device)
               for i, (s, f) in enumerate(zip(shapes, fans))]
    return InitDraw(weights, torch.ones(batch, dtype=torch.float64, device=device))


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
for _scheme in INIT_SCHEMES.values():
    register(f"init_{_scheme.name}", family="network")(_scheme)
register("relu_network", family="network")(relu_network)
register("full_batch_gradient_descent", family="network")(full_batch_gradient_descent)
register("conv_relu_network", family="network")(conv_relu_network)
