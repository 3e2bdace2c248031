"""A small WGAN on a 2-D mixture of Gaussians as a stochastic min-max oracle (slide 39, "GANs with SEG+").

min_G max_D  E_{x ~ target} D(x) - E_{w ~ N(0, I)} D(G(w)),  D's weights clipped to [-c, c]
(Arjovsky et al. 2017): the clipping is the projection of the constrained problem.

z = (theta_G, theta_D) flattened (float64); V(z, zeta) = (grad_G Phi_zeta, -grad_D Phi_zeta) on the
minibatch zeta (a seed: ``batch`` target points and ``batch`` latent draws), so one zeta can be
evaluated at several points, as BC-SEG+ needs. ``scale`` grows width, batch and sample sizes
towards the slide's setting (the gpu tier); scale 1 runs on a CPU in seconds.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from problems.runtime import threads


def eight_gaussians(n: int, generator: torch.Generator, radius: float = 2.0, std: float = 0.05,
                    device: str = "cpu") -> torch.Tensor:
    """n points from the mixture of 8 Gaussians with means on a circle of radius ``radius``."""
    k = torch.randint(0, 8, (n,), generator=generator).to(device)
    angle = k.to(torch.float64) * (2 * math.pi / 8)
    centres = radius * torch.stack([torch.cos(angle), torch.sin(angle)], -1)
    return centres + std * torch.randn(n, 2, generator=generator, dtype=torch.float64).to(device)


def _mlp(sizes: list[int]) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b, dtype=torch.float64), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])


def wasserstein_1(a: np.ndarray, b: np.ndarray) -> float:
    """W1 between two equal-size uniform point clouds: an optimal assignment (equals POT's emd2 here)."""
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


@dataclass(eq=False)
class MixtureWGAN:
    """The oracle. ``init(rng, B)`` gives B independent initial parameter rows."""

    scale: int = 1
    clip: float = 0.1
    device: str = "cpu"
    width: int = field(init=False)
    batch: int = field(init=False)

    def __post_init__(self):
        self.width, self.batch = 16 * self.scale, 64 * self.scale
        self.G = _mlp([2, self.width, self.width, 2]).to(self.device)
        self.D = _mlp([2, self.width, self.width, 1]).to(self.device)
        self._g_shapes = [p.shape for p in self.G.parameters()]
        self._d_shapes = [p.shape for p in self.D.parameters()]
        self.dim_x = sum(math.prod(s) for s in self._g_shapes)
        self.dim = self.dim_x + sum(math.prod(s) for s in self._d_shapes)

    def init(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        """Glorot-uniform weights, zero biases; critic weights inside the clipping box."""
        out = np.zeros((rows, self.dim))
        for r in range(rows):
            parts = []
            for shapes, clip in ((self._g_shapes, None), (self._d_shapes, self.clip)):
                for s in shapes:
                    if len(s) == 2:
                        bound = math.sqrt(6 / (s[0] + s[1]))
                        w = rng.uniform(-bound, bound, s)
                        parts.append(np.clip(w, -clip, clip) if clip else w)
                    else:
                        parts.append(np.zeros(s))
            out[r] = np.concatenate([p.ravel() for p in parts])
        return out

    def project(self, z: np.ndarray) -> np.ndarray:
        """Clip the critic's coordinates to [-c, c] (the constraint set of weight-clipped WGAN)."""
        out = np.array(z, dtype=float, copy=True)
        out[..., self.dim_x:] = np.clip(out[..., self.dim_x:], -self.clip, self.clip)
        return out

    def sample(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        return rng.integers(0, 2**62, size=batch)

    def _load(self, row: np.ndarray) -> None:
        t = torch.as_tensor(row, dtype=torch.float64, device=self.device)
        torch.nn.utils.vector_to_parameters(t[: self.dim_x], self.G.parameters())
        torch.nn.utils.vector_to_parameters(t[self.dim_x:], self.D.parameters())

    def _threads(self):
        """Tiny matrices: one torch thread on the CPU (more spin in OpenMP on a shared 2-core machine)."""
        return threads(1) if torch.device(self.device).type == "cpu" else contextlib.nullcontext()

    def __call__(self, z: np.ndarray, zeta: np.ndarray) -> np.ndarray:
        out = np.empty_like(z, dtype=float)
        with self._threads():
            for r in range(len(z)):
                self._load(z[r])
                gen = torch.Generator().manual_seed(int(zeta[r]))
                real = eight_gaussians(self.batch, gen, device=self.device)
                latent = torch.randn(self.batch, 2, generator=gen, dtype=torch.float64).to(self.device)
                phi = self.D(real).mean() - self.D(self.G(latent)).mean()
                grads = torch.autograd.grad(phi, [*self.G.parameters(), *self.D.parameters()])
                flat = torch.cat([g.reshape(-1) for g in grads]).detach().cpu().numpy()
                flat[self.dim_x:] *= -1.0  # V = (grad_G Phi, -grad_D Phi)
                out[r] = flat
        return out

    def generate(self, row: np.ndarray, n: int, seed: int) -> np.ndarray:
        self._load(row)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad(), self._threads():
            return self.G(torch.randn(n, 2, generator=gen, dtype=torch.float64).to(self.device)).cpu().numpy()

    def distance_to_target(self, row: np.ndarray, n: int = 512, seed: int = 0) -> float:
        target = eight_gaussians(n, torch.Generator().manual_seed(seed + 1)).numpy()
        return wasserstein_1(self.generate(row, n, seed), target)
