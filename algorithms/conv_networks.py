"""A bias-free 1-D CNN in the tutorial's form, batched over B independent networks, for the
perturbation-stability experiment on MNIST-1D (slide "lazy training experiment for CNN").

    h⁽⁰⁾ = a ∈ ℝ^{1×T},   h⁽ˡ⁾ = σ(K_l ∗ h⁽ˡ⁻¹⁾)  (l = 1, …, L−1),   h_x(a) = (1/α) X_L vec(h⁽ᴸ⁻¹⁾),

with L−1 convolutions of kernel size 3 (stride 1, circular padding, no biases), c channels,
and a linear read-out X_L ∈ ℝ^{1×cT}. He initialisation draws every weight N(0, 2/fan_in)
(fan_in = 3·c_in for a convolution, c·T for the read-out; He et al., ICCV 2015); LeCun uses
1/fan_in. With circular padding every position sees three inputs, so the signal-propagation
identity of the fully connected net holds exactly: under He, E‖∇ₐh‖² = 2 at every depth and
width (each ReLU layer keeps E[k² 1(kᵀh > 0)] = β²/2 by the symmetry k ↦ −k).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from algorithms.networks import InitDraw, _seeded_normal
from algorithms.registry import register

Tensor = torch.Tensor


def conv1d_relu_network(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, *,
                        output_relu: bool = False) -> Tensor:
    """Forward pass of B 1-D CNNs at once (grouped convolution, one group per network).

    weights  [K₁ (B, c, 1, 3), K_l (B, c, c, 3) …, X_L (B, 1, c·T)].
    inputs   (n, T), shared by all networks, or (B, n, T).  returns (B, n)."""
    B = weights[0].shape[0]
    a = inputs.expand(B, *inputs.shape) if inputs.dim() == 2 else inputs
    n = a.shape[1]
    h = a.transpose(0, 1)  # (n, B, T): channel axis = network axis, one group per network
    for K in weights[:-1]:
        _, c_out, c_in, k = K.shape
        h = torch.nn.functional.pad(h, (k // 2, k // 2), mode="circular")
        h = torch.relu(torch.nn.functional.conv1d(h, K.reshape(B * c_out, c_in, k), groups=B))
    h = h.reshape(n, B, -1).transpose(0, 1)  # (B, n, c·T)
    out = (h @ weights[-1].transpose(-1, -2)).squeeze(-1)
    if output_relu:
        out = torch.relu(out)
    s = torch.as_tensor(alpha, dtype=out.dtype, device=out.device)
    return out / (s[:, None] if s.dim() == 1 else s)


def conv1d_init(length: int, channels: int, depth: int, *, batch: int = 1, seed: int = 0,
                device: Any = "cpu", dtype: torch.dtype = torch.float64, gain: float = 2.0) -> InitDraw:
    """He (gain 2) or LeCun (gain 1) initialisation of ``conv1d_relu_network``: weights
    N(0, gain/fan_in), fan_in = 3·c_in (convolutions) and c·T (read-out); α = 1."""
    if depth < 2 or channels < 1 or length < 1:
        raise ValueError(f"need depth >= 2, channels >= 1, length >= 1; got {depth}, {channels}, {length}")
    shapes = ([(batch, channels, 1, 3)] + [(batch, channels, channels, 3)] * (depth - 2)
              + [(batch, 1, channels * length)])
    fans = [3] + [3 * channels] * (depth - 2) + [channels * length]
    weights = [(_seeded_normal(s, seed * 1009 + 17 * i) * math.sqrt(gain / f)).to(device=device, dtype=dtype)
               for i, (s, f) in enumerate(zip(shapes, fans))]
    return InitDraw(weights, torch.ones(batch, dtype=dtype, device=device))


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("conv1d_relu_network", family="network")(conv1d_relu_network)
register("conv1d_init", family="network")(conv1d_init)
