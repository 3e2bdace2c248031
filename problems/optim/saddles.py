"""Functions with saddle points for question Q2 ("does GD avoid saddles?", Lee et al. COLT 2016),
with their critical points, Lipschitz constants and stable manifolds known exactly.

* :class:`CoupledSaddle` f(x, y) = x^2/2 + cos y + c sin x sin y, |c| <= 1/2 (c = 0: the separable
  instance whose stable manifold is the line y = 0). Critical points, for every |c| < 1: from
  grad f = 0, x = -c cos x sin y so |x| <= |c| |sin y|, and sin y = c sin x cos y so |sin y| <= |c| |x|;
  together |x| <= c^2 |x|, hence x = 0 and sin y = 0: exactly (0, k pi). Hessian at (0, 2 pi k):
  [[1, c], [c, -1]] (eigenvalues +-sqrt(1 + c^2): strict saddles; stable eigenvector rotated off
  the y = 0 line, so the stable manifold is a *curve*); at (0, pi + 2 pi k): [[1, -c], [-c, 1]]
  (eigenvalues 1 -+ c > 0: minimisers). ||grad^2 f|| <= 1 + |c| = L: the Hessian is
  diag(1, -cos y) + c M, M = [[-sx sy, cx cy], [cx cy, -sx sy]] with |eigenvalues of M| <=
  |sx sy| + |cx cy| <= 1.
* :class:`DegenerateSaddle` f(x, y) = x^2/2 + y^4/4 - y^3/3: critical points (0, 0), a
  *non-strict* saddle (Hessian diag(1, 0)), and the minimiser (0, 1). GD from every start with
  y < 0 converges to the saddle: a positive-measure basin, the world where "strict" is dropped.

Points on a saddle's stable manifold are built by running the *inverse* GD map backwards from
a point 1e-10 along the stable eigenvector (the local manifold is tangent to it, so the offset
is O(1e-20)); forward GD then returns to the saddle in as many steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _rows(z) -> np.ndarray:
    return np.atleast_2d(np.asarray(z, dtype=float))


def _distance_to_lattice(z: np.ndarray, offset: float) -> np.ndarray:
    """Distance of rows (x, y) to the points (0, offset + 2 pi k)."""
    shifted = z[:, 1] - offset
    return np.hypot(z[:, 0], shifted - 2 * np.pi * np.round(shifted / (2 * np.pi)))


@dataclass(frozen=True)
class CoupledSaddle:
    c: float = 0.0

    def __post_init__(self):
        if not abs(self.c) <= 0.5:
            raise ValueError(f"CoupledSaddle needs |c| <= 1/2 (critical points then exactly (0, k pi)), got {self.c}")

    @property
    def L(self) -> float:
        return 1.0 + abs(self.c)

    @property
    def strict(self) -> bool:
        return True

    def gradient(self, z) -> np.ndarray:
        z = _rows(z)
        x, y = z[:, 0], z[:, 1]
        return np.stack([x + self.c * np.cos(x) * np.sin(y), -np.sin(y) + self.c * np.sin(x) * np.cos(y)], axis=1)

    def hessian_at_saddle(self) -> np.ndarray:
        return np.array([[1.0, self.c], [self.c, -1.0]])

    def distance_to_saddles(self, z) -> np.ndarray:
        return _distance_to_lattice(_rows(z), 0.0)

    def distance_to_minimisers(self, z) -> np.ndarray:
        return _distance_to_lattice(_rows(z), np.pi)

    def escape_steps(self, alpha: float) -> int:
        """A step budget after which GD from any start off the stable manifolds (even 1e-16 off) is
        within 1e-6 of a minimiser: escaping a saddle's neighbourhood from an offset >= 1e-16 takes
        <= ln(1e16)/ln(1 + alpha) steps (the unstable eigenvalue has |lambda| >= 1); converging to a
        minimiser from distance <= 1 to 1e-6 takes <= ln(1e6)/(alpha (1 - |c|)) steps (curvature >= 1 - |c|);
        the transit between them, where ||grad f|| is bounded below, is covered by doubling the sum."""
        return int(np.ceil(2 * (np.log(1e16) / np.log1p(alpha) + np.log(1e6) / (alpha * (1 - abs(self.c))))))

    def stable_manifold_points(self, alpha: float, count: int, seed: int) -> tuple[np.ndarray, int]:
        """``count`` points of the saddle (0, 0)'s stable manifold under GD with step alpha, at distance
        ~1 on both branches, and the number of forward steps that bring them back within ~1e-8 (the
        forward run magnifies a rounding off the manifold by (1 + alpha sqrt(1 + c^2))^steps <= 1e9 for
        alpha >= 0.1: still below 1e-6)."""
        lam, vec = np.linalg.eigh(self.hessian_at_saddle())
        stable = vec[:, 1]  # eigenvalue +sqrt(1 + c^2): GD contracts it by 1 - alpha lam
        rng = np.random.default_rng(seed)
        start = 1e-8 * np.outer(rng.choice([-1.0, 1.0], count) * rng.uniform(0.5, 1.0, count), stable)
        steps = int(np.ceil(np.log(1e8) / -np.log1p(-alpha * lam[1])))
        z = start
        for _ in range(steps):
            z = self.inverse_gd_step(z, alpha)
        return z, steps

    def hessian(self, z) -> np.ndarray:
        z = _rows(z)
        sx, cx, sy, cy = np.sin(z[:, 0]), np.cos(z[:, 0]), np.sin(z[:, 1]), np.cos(z[:, 1])
        off = self.c * cx * cy
        return np.stack([np.stack([1 - self.c * sx * sy, off], -1), np.stack([off, -cy - self.c * sx * sy], -1)], -2)

    def inverse_gd_step(self, w: np.ndarray, alpha: float) -> np.ndarray:
        """z with z - alpha grad f(z) = w, by Newton's method from z = w: the Jacobian I - alpha grad^2 f
        has eigenvalues >= 1 - alpha L > 0, so the solution is unique (GD's map is a diffeomorphism)."""
        z = np.array(w, dtype=float)
        for _ in range(50):
            residual = z - alpha * self.gradient(z) - w
            if np.max(np.abs(residual)) <= 4e-16 * (1 + np.max(np.abs(w))):
                break
            z = z - np.linalg.solve(np.eye(2) - alpha * self.hessian(z), residual[..., None])[..., 0]
        return z


@dataclass(frozen=True)
class DegenerateSaddle:
    """f(x, y) = x^2/2 + y^4/4 - y^3/3 on the box [-5, 5]^2 (grad^2 f = diag(1, 3y^2 - 2y), L = 85 there)."""

    L: float = 85.0

    @property
    def strict(self) -> bool:
        return False

    def gradient(self, z) -> np.ndarray:
        z = _rows(z)
        return np.stack([z[:, 0], z[:, 1] ** 3 - z[:, 1] ** 2], axis=1)

    def distance_to_saddles(self, z) -> np.ndarray:
        return np.hypot(*_rows(z).T)

    def distance_to_minimisers(self, z) -> np.ndarray:
        z = _rows(z)
        return np.hypot(z[:, 0], z[:, 1] - 1.0)

    def escape_steps(self, alpha: float) -> int:
        return int(np.ceil(2 * np.log(1e6) / alpha))

    def stable_manifold_points(self, alpha: float, count: int, seed: int) -> tuple[np.ndarray, int]:
        """On the line y = 0 (invariant, x contracts by 1 - alpha): back within 1e-10 after ln(1e10)/alpha steps."""
        x = np.random.default_rng(seed).uniform(-5, 5, count)
        return np.stack([x, np.zeros(count)], axis=1), int(np.ceil(np.log(5e10) / -np.log1p(-alpha)))
