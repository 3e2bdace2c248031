"""Stochastic extragradient methods for V(z, zeta) = V(z) + U(z, zeta).

Tutorial slide "Solving stochastic weak MVIs without increasing batch size" (Liu,
Suykens, Cevher, ICASSP 2023, slide 39), in the slide's notation: a fixed scale gamma
and vanishing steps alpha_k, beta_k,

    SEG      zbar_k = z_k - beta_k gamma V(z_k, zeta_k),  z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k)
    SEG+     zbar_k = z_k - gamma V(z_k, zeta_k),         z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k)
    BC-SEG+  H(z, zeta) = z - gamma V(z, zeta),
             zbar_k = H(z_k, zeta_k) + (1 - alpha_k)(zbar_{k-1} - H(z_{k-1}, zeta_k))   (same zeta_k twice)
             z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k)

(SEG: Hsieh, Iutzeler, Malick, Mertikopoulos, NeurIPS 2020; SEG+ and BC-SEG+: Pethick,
Fercoq, Latafat, Patrinos, Cevher, ICLR 2023.) All follow the ``stochastic_minimax``
contract of ``algorithms.contracts``:

    method(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None)

and return z_k at the recorded steps as an array (R, B, d), batched over B rows
(repetitions, starting points) that share no randomness with each other.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from algorithms.registry import register

Array = np.ndarray


class _Recorder:
    """Keeps z_k for k in ``record`` (default: every k in 0..K) without storing the rest."""

    def __init__(self, z0: Array, num_steps: int, record: Sequence[int] | None):
        if num_steps < 0:
            raise ValueError(f"num_steps must be >= 0, got {num_steps}")
        steps = np.arange(num_steps + 1) if record is None else np.asarray(sorted(set(int(k) for k in record)))
        if steps.size == 0 or steps[0] < 0 or steps[-1] > num_steps:
            raise ValueError(f"record must list steps in [0, {num_steps}], got {record!r}")
        self.slot = {int(k): i for i, k in enumerate(steps)}
        self.out = np.empty((len(steps), *np.shape(z0)))
        self.put(0, z0)

    def put(self, k: int, z: Array) -> None:
        i = self.slot.get(k)
        if i is not None:
            self.out[i] = z


def _start(z0: Any) -> Array:
    z = np.array(z0, dtype=float, copy=True)
    if z.ndim != 2:
        raise ValueError(f"z0 must have shape (B, d), got {z.shape}")
    return z


def stochastic_extragradient(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG with two step sizes (Hsieh et al. NeurIPS 2020, "explore aggressively, update
    conservatively"): zbar = P(z - beta_k gamma V(z, zeta)), z+ = P(z - alpha_k gamma V(zbar, zetabar)),
    independent samples zeta, zetabar; P = ``projection`` (identity if None)."""
    proj = projection or (lambda u: u)
    z = _start(z0)
    rec = _Recorder(z, num_steps, record)
    for k in range(num_steps):
        alpha, beta = schedule(k)
        z_bar = proj(z - beta * gamma * oracle(z, oracle.sample(rng, len(z))))
        z = proj(z - alpha * gamma * oracle(z_bar, oracle.sample(rng, len(z))))
        rec.put(k + 1, z)
    return rec.out


def _plus_update(oracle, z, h, alpha, gamma, projection, rng):
    """The second half of SEG+ and BC-SEG+ from the extrapolation estimate h:
    z - alpha gamma V(h, zetabar) without P, else z + alpha (zbar - gamma V(zbar, zetabar) - h), zbar = P(h)."""
    if projection is None:
        return z - alpha * gamma * oracle(h, oracle.sample(rng, len(z)))
    z_bar = projection(h)
    return z + alpha * (z_bar - gamma * oracle(z_bar, oracle.sample(rng, len(z))) - h)


def stochastic_extragradient_plus(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG+ (Pethick et al. ICLR 2023): fixed extrapolation gamma, vanishing update alpha_k gamma.

    With a projection/prox P (P1SEG+, the CEG+ form of Pethick et al. ICLR 2022):
        h = z - gamma V(z, zeta),  zbar = P(h),  z+ = z + alpha_k (zbar - gamma V(zbar, zetabar) - h),
    which is z+ = z - alpha_k gamma V(zbar, zetabar) when P is the identity."""
    z = _start(z0)
    rec = _Recorder(z, num_steps, record)
    for k in range(num_steps):
        alpha, _ = schedule(k)
        h = z - gamma * oracle(z, oracle.sample(rng, len(z)))
        z = _plus_update(oracle, z, h, alpha, gamma, projection, rng)
        rec.put(k + 1, z)
    return rec.out


def bias_corrected_seg_plus(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """BC-SEG+ (Pethick et al. ICLR 2023, Alg. 1; P1BC-SEG+ with a projection/prox P):

        h_k    = z_k - gamma V(z_k, zeta_k) + (1 - alpha_k)(h_{k-1} - z_{k-1} + gamma V(z_{k-1}, zeta_k))
        zbar_k = P(h_k)
        z_{k+1} = z_k + alpha_k (zbar_k - gamma V(zbar_k, zetabar_k) - h_k)

    with the *same* sample zeta_k at z_k and z_{k-1}, so that h_k - H(z_k) is an average of
    noise differences that shrinks with alpha_k; h_{-1} = z_{-1} = z_0. Without P, zbar_k = h_k
    and z_{k+1} = z_k - alpha_k gamma V(zbar_k, zetabar_k) (the slide's form). The recursion is
    kept on the unprojected h_k (the estimate of H(z_k) = z_k - gamma V(z_k))."""
    z = _start(z0)
    rec = _Recorder(z, num_steps, record)
    h_prev, z_prev = z.copy(), z.copy()
    for k in range(num_steps):
        alpha, _ = schedule(k)
        zeta = oracle.sample(rng, len(z))
        h = z - gamma * oracle(z, zeta) + (1 - alpha) * (h_prev - z_prev + gamma * oracle(z_prev, zeta))
        h_prev, z_prev = h, z
        z = _plus_update(oracle, z, h, alpha, gamma, projection, rng)
        rec.put(k + 1, z)
    return rec.out


def alternating_seg_plus(oracle, z0, gamma, schedule, num_steps, rng, *, projection=None, record=None):
    """SEG+ with a Gauss-Seidel (alternating) extrapolation, one sample zeta for both halves:

        xbar = x - gamma V_x(x, y; zeta),   ybar = y - gamma V_y(xbar, y; zeta),
        z+   = z - alpha_k gamma V(zbar, zetabar)      (P applied to zbar if given).

    Our reading of the slide's "alternation" (the paper's own alternating scheme is not
    pinned down here); needs ``oracle.dim_x``."""
    proj = projection or (lambda u: u)
    n = oracle.dim_x
    z = _start(z0)
    rec = _Recorder(z, num_steps, record)
    for k in range(num_steps):
        alpha, _ = schedule(k)
        zeta = oracle.sample(rng, len(z))
        x_bar = z[:, :n] - gamma * oracle(z, zeta)[:, :n]
        half = np.concatenate([x_bar, z[:, n:]], axis=1)
        y_bar = z[:, n:] - gamma * oracle(half, zeta)[:, n:]
        z_bar = proj(np.concatenate([x_bar, y_bar], axis=1))
        z = z - alpha * gamma * oracle(z_bar, oracle.sample(rng, len(z)))
        rec.put(k + 1, z)
    return rec.out


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("stochastic_extragradient", family="stochastic_minimax")(stochastic_extragradient)
register("stochastic_extragradient_plus", family="stochastic_minimax")(stochastic_extragradient_plus)
register("bias_corrected_seg_plus", family="stochastic_minimax")(bias_corrected_seg_plus)
register("alternating_seg_plus", family="stochastic_minimax")(alternating_seg_plus)
