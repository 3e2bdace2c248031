"""Mixed Nash equilibria: entropic mirror descent on finite games, mirror descent + Langevin
dynamics on continuous domains, and the pure-strategy baseline (projected GDA).

Tutorial slides 40-42 (Liu, Suykens, Cevher, ICASSP 2023): "If X and Y are finite => mirror
descent"; "Mirror descent + Langevin dynamics [38]" (Hsieh, Liu, Cevher, ICML 2019); "Escaping
traps with the mixed-NE concept" (Parameswaran et al., NeurIPS 2020). The row / x player
minimises, the column / y player maximises. Family ``mixed_nash`` (``algorithms.contracts``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from algorithms.registry import register

Array = np.ndarray


def _steps(record: Sequence[int] | None, num_steps: int) -> dict[int, int]:
    steps = list(range(1, num_steps + 1)) if record is None else sorted(set(int(k) for k in record))
    if not steps or steps[0] < 1 or steps[-1] > num_steps:
        raise ValueError(f"record must list steps in [1, {num_steps}], got {record!r}")
    return {k: i for i, k in enumerate(steps)}


def _softmax(logits: Array) -> Array:
    w = np.exp(logits - logits.max(-1, keepdims=True))
    return w / w.sum(-1, keepdims=True)


def entropic_mirror_descent(payoff, num_steps, eta, *, record=None):
    """Simultaneous entropic mirror descent (Hedge / multiplicative weights) on min_p max_q p^T G q:

        p_{t+1} ∝ p_t exp(-eta_p G q_t),   q_{t+1} ∝ q_t exp(+eta_q G^T p_t),   p_0, q_0 uniform,

    returning the averaged strategies pbar_T = (1/T) sum_{t<T} p_t, qbar_T at the recorded T.
    payoff (B, m, n) or (m, n); eta a float or a pair (eta_p, eta_q). Guarantee (payoffs in
    [-1, 1]): gap(pbar_T, qbar_T) <= ln m/(eta_p T) + eta_p/2 + ln n/(eta_q T) + eta_q/2."""
    G = np.asarray(payoff, dtype=float)
    G = G[None] if G.ndim == 2 else G
    eta_p, eta_q = (eta, eta) if np.ndim(eta) == 0 else eta
    slot = _steps(record, num_steps)
    B, m, n = G.shape
    loss_p, gain_q = np.zeros((B, m)), np.zeros((B, n))  # cumulative G q_s and G^T p_s
    sum_p, sum_q = np.zeros((B, m)), np.zeros((B, n))
    out_p, out_q = np.empty((len(slot), B, m)), np.empty((len(slot), B, n))
    for t in range(1, num_steps + 1):
        p, q = _softmax(-eta_p * loss_p), _softmax(eta_q * gain_q)
        sum_p += p
        sum_q += q
        loss_p += (G @ q[..., None])[..., 0]
        gain_q += (p[:, None, :] @ G)[:, 0]
        if t in slot:
            out_p[slot[t]], out_q[slot[t]] = sum_p / t, sum_q / t
    return out_p, out_q


def projected_gradient_descent_ascent(operator, z0, alpha, num_steps, *, low, high, record=None):
    """Pure-strategy baseline: z_{k+1} = P_[low, high](z_k - alpha V(z_k)), V = (grad_x Phi, -grad_y Phi);
    returns z_k at the recorded k >= 1, an array (R, B, d)."""
    z = np.array(z0, dtype=float, copy=True)
    slot = _steps(record, num_steps)
    out = np.empty((len(slot), *z.shape))
    for k in range(1, num_steps + 1):
        z = np.clip(z - alpha * operator(z), low, high)
        if k in slot:
            out[slot[k]] = z
    return out


def _langevin(particles, grad_potential, step, inner_steps, low, high, rng):
    """inner_steps of projected unadjusted Langevin: X <- P(X - step grad U(X) + sqrt(2 step) N(0, I))."""
    for _ in range(inner_steps):
        noise = rng.standard_normal(particles.shape)
        particles = np.clip(particles - step * grad_potential(particles) + np.sqrt(2 * step) * noise, low, high)
    return particles


def mirror_descent_langevin(payoff, x0, y0, num_steps, eta, inner_steps, step, rng, *, record=None):
    """Entropic mirror descent on measures (Hsieh, Liu, Cevher ICML 2019), particles by Langevin:

        p_{t+1} ∝ exp(-eta sum_{s<=t} (G q_s)(x)),    q_{t+1} ∝ exp(+eta sum_{s<=t} (G^T p_s)(y)),

    (G q)(x) = E_{y~q} Phi(x, y). Each Gibbs measure is sampled by ``inner_steps`` of projected Langevin
    dynamics warm-started at the previous particles, with step ``step / max(1, eta t)`` (the potential's
    curvature grows like eta t, temperature 1/(eta t)). ``payoff`` is separable, Phi = f(x) . g(y)
    (problems.stochastic_minimax.mixed_games.SeparablePayoff), so the sums over past measures are kept exactly as feature
    means. x0 (K, dx), y0 (K, dy) particles; returns the particle sets at the recorded t as two
    arrays (R, K, dx), (R, K, dy); the averaged measure is the uniform mixture of those of t = 1..T."""
    x, y = np.array(x0, dtype=float), np.array(y0, dtype=float)
    slot = _steps(record, num_steps)
    out_x, out_y = np.empty((len(slot), *x.shape)), np.empty((len(slot), *y.shape))
    sum_g, sum_f = np.zeros(payoff.g(y[:1]).shape[-1]), np.zeros(payoff.f(x[:1]).shape[-1])
    for t in range(1, num_steps + 1):
        sum_g = sum_g + payoff.g(y).mean(0)  # sum_{s<=t} E_{q_s} g: simultaneous updates
        sum_f = sum_f + payoff.f(x).mean(0)
        h = step / max(1.0, eta * t)
        grad_x = lambda u, c=eta * sum_g: np.einsum("krd,r->kd", payoff.grad_f(u), c)  # noqa: E731
        grad_y = lambda u, c=eta * sum_f: -np.einsum("krd,r->kd", payoff.grad_g(u), c)  # noqa: E731
        x = _langevin(x, grad_x, h, inner_steps, payoff.low, payoff.high, rng)
        y = _langevin(y, grad_y, h, inner_steps, payoff.low, payoff.high, rng)
        if t in slot:
            out_x[slot[t]], out_y[slot[t]] = x, y
    return out_x, out_y


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("entropic_mirror_descent", family="mixed_nash")(entropic_mirror_descent)
register("projected_gradient_descent_ascent", family="mixed_nash")(projected_gradient_descent_ascent)
register("mirror_descent_langevin", family="mixed_nash")(mirror_descent_langevin)
