"""The update rules of the min-max families as the tutorial or their sources print them, in
plain numpy, and the test operators that exercise them: the oracles of the update-rule
conformance checks (checks/test_08_update_rules.py, test_10_..., test_11_..., test_12_...).

Written from the formulas (slides 19-20, 38-39, 40-42 and the papers they cite),
independently of ``algorithms/`` (which this package must not import): a disagreement is a
disagreement with the printed rule. The operators are *nonlinear*, so that rules which
coincide on affine V (OGDA and RFBS, EG evaluated anywhere on a line) are told apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

Array = np.ndarray


def _col(a) -> Array:
    a = np.asarray(a, dtype=float)
    return a[:, None] if a.ndim == 1 else a


@dataclass(eq=False)
class NonlinearOperator:
    """V(z) = A z + b + c tanh(W z + e), one instance for every row; DV = A + c diag(1 - tanh^2) W.
    Lipschitz constant <= ||A||_2 + |c| ||W||_2 (``lipschitz``). The resolvent
    (I + alpha V)^{-1} is solved by Newton's method to ``RESOLVENT_TOL`` relative."""

    A: Array
    b: Array
    c: float
    W: Array
    e: Array
    dim_x: int
    RESOLVENT_TOL = 1e-14

    @classmethod
    def random(cls, dim: int, dim_x: int, seed: int, c: float = 0.5) -> "NonlinearOperator":
        rng = np.random.default_rng(seed)
        return cls(rng.standard_normal((dim, dim)) / np.sqrt(dim), rng.standard_normal(dim), c,
                   rng.standard_normal((dim, dim)) / np.sqrt(dim), rng.standard_normal(dim), dim_x)

    @property
    def dim(self) -> int:
        return self.A.shape[0]

    @property
    def lipschitz(self) -> float:
        return float(np.linalg.norm(self.A, 2) + abs(self.c) * np.linalg.norm(self.W, 2))

    def __call__(self, z: Array) -> Array:
        return z @ self.A.T + self.b + self.c * np.tanh(z @ self.W.T + self.e)

    def jacobian(self, z: Array) -> Array:
        s = 1 - np.tanh(z @ self.W.T + self.e) ** 2  # (B, d)
        return self.A + self.c * s[..., :, None] * self.W

    def resolvent(self, z: Array, alpha) -> Array:
        """w with w + alpha V(w) = z (Newton from w = z; alpha ||DV|| < 1 makes it a contraction)."""
        a = _col(alpha)
        w = np.array(z, dtype=float, copy=True)
        eye = np.eye(self.dim)
        for _ in range(60):
            residual = w + a * self(w) - z
            if np.max(np.abs(residual)) <= self.RESOLVENT_TOL * max(1.0, float(np.max(np.abs(z)))):
                return w
            jac = eye + (a[..., None] if np.ndim(a) else a) * self.jacobian(w)
            w = w - np.linalg.solve(jac, residual[..., None])[..., 0]
        raise ArithmeticError("NonlinearOperator.resolvent: Newton did not converge; use a smaller step")


def box_projection(low: float, high: float) -> Callable:
    """P(z) = clip(z, low, high): the resolvent of the box's indicator (any step)."""
    def prox(z, _gamma=None):
        return np.clip(z, low, high)
    return prox


# ---------------------------------------------------------------- deterministic methods
def _run(step, z0, z_prev, K):
    z = np.array(z0, float)
    prev = z.copy() if z_prev is None else np.array(z_prev, float)
    out = [z]
    for _ in range(K):
        z, prev = step(z, prev), z
        out.append(z)
    return np.stack(out)


def gda(V, z0, alpha, K, z_prev=None):
    """Slide 19: z_{k+1} = z_k - alpha V(z_k)."""
    a = _col(alpha)
    return _run(lambda z, _: z - a * V(z), z0, z_prev, K)


def extragradient(V, z0, alpha, K, z_prev=None):
    """Korpelevich (1976): zbar_k = z_k - alpha V(z_k), z_{k+1} = z_k - alpha V(zbar_k)."""
    a = _col(alpha)
    return _run(lambda z, _: z - a * V(z - a * V(z)), z0, z_prev, K)


def optimistic_gda(V, z0, alpha, K, z_prev=None):
    """Slide 19: z_{k+1} = z_k - alpha [2 V(z_k) - V(z_{k-1})], z_{-1} = z_prev (default z_0)."""
    a = _col(alpha)
    return _run(lambda z, p: z - a * (2 * V(z) - V(p)), z0, z_prev, K)


def reflected_forward_backward(V, z0, alpha, K, z_prev=None):
    """Slide 19: z_{k+1} = z_k - alpha V(2 z_k - z_{k-1})."""
    a = _col(alpha)
    return _run(lambda z, p: z - a * V(2 * z - p), z0, z_prev, K)


def slide_third_formula(V, z0, alpha, K, z_prev=None):
    """Slide 19 as printed: z_{k+1} = z_k - alpha V(z_k - alpha V(z_{k-1}))."""
    a = _col(alpha)
    return _run(lambda z, p: z - a * V(z - a * V(p)), z0, z_prev, K)


def past_extragradient(V, z0, alpha, K, z_prev=None):
    """Popov (1980): zbar_k = z_k - alpha V(zbar_{k-1}), z_{k+1} = z_k - alpha V(zbar_k),
    zbar_{-1} = z_prev (default z_0); returns the z-sequence."""
    a = _col(alpha)
    z = np.array(z0, float)
    bar = z.copy() if z_prev is None else np.array(z_prev, float)
    out = [z]
    for _ in range(K):
        bar = z - a * V(bar)
        z = z - a * V(bar)
        out.append(z)
    return np.stack(out)


def proximal_point_residual(V, trajectory, alpha) -> Array:
    """Slide 19, PPM z_{k+1} = z_k - alpha V(z_{k+1}): the residual z_{k+1} + alpha V(z_{k+1}) - z_k
    per step (K, B, d). Implicit, so checked as an equation, whatever the solver."""
    a = _col(alpha)
    return trajectory[1:] + a * np.stack([V(z) for z in trajectory[1:]]) - trajectory[:-1]


def extragradient_plus(V, z0, gamma, K, damping):
    """Slide 38 (Diakonikolas, Daskalakis, Jordan 2021): zbar_k = z_k - gamma V(z_k),
    z_{k+1} = z_k - alpha gamma V(zbar_k), alpha = ``damping``."""
    g, a = _col(gamma), _col(damping)
    return _run(lambda z, _: z - a * g * V(z - g * V(z)), z0, None, K)


def constrained_extragradient_plus(V, z0, gamma, K, damping, prox=None):
    """CEG+ (Pethick, Latafat, Patrinos, Fercoq, Cevher 2022, Alg. 1), H = I - gamma F:
    zbar_k = (I + gamma A)^{-1}(H z_k), z_{k+1} = z_k + alpha (H zbar_k - H z_k)."""
    g, a = _col(gamma), _col(damping)
    P = prox or (lambda u, _g: u)

    def step(z, _):
        hz = z - g * V(z)
        bar = P(hz, g)
        return z + a * ((bar - g * V(bar)) - hz)

    return _run(step, z0, None, K)


def curvature_extragradient_plus(V, z0, cap, K, nu, tau, relaxation, sigma_fraction, prox=None,
                                 max_backtracks=80):
    """CurvatureEG+ (Pethick et al. 2022, Sec. 6), per row: gamma_0 = min(nu/||DV(z_k)||_2, cap),
    gamma = gamma_0 tau^i, the first with gamma ||V(zbar) - V(z_k)|| <= nu ||zbar - z_k||,
    zbar = P(z_k - gamma V(z_k)); dH = (zbar - gamma V(zbar)) - (z_k - gamma V(z_k));
    a_k = sigma_fraction + <zbar - z_k, dH>/||dH||^2 (a row with dH = 0 stays);
    z_{k+1} = z_k + relaxation a_k dH."""
    P = prox or (lambda u, _g: u)
    z = np.array(z0, float)
    B = z.shape[0]
    caps = np.broadcast_to(np.asarray(cap, float), (B,))
    out = [z]
    for _ in range(K):
        v = V(z)
        curv = np.linalg.norm(V.jacobian(z), 2, axis=(-2, -1))
        gamma = np.minimum(caps, nu / np.maximum(curv, 1e-300))
        for _ in range(max_backtracks):
            bar = P(z - gamma[:, None] * v, gamma[:, None])
            bad = gamma * np.linalg.norm(V(bar) - v, axis=-1) > nu * np.linalg.norm(bar - z, axis=-1)
            if not bad.any():
                break
            gamma = np.where(bad, gamma * tau, gamma)
        g = gamma[:, None]
        hz = z - g * v
        bar = P(hz, g)
        dh = (bar - g * V(bar)) - hz
        dh2 = np.sum(dh * dh, axis=-1)
        safe = np.where(dh2 > 0, dh2, 1.0)
        a_k = np.where(dh2 > 0, sigma_fraction + np.sum((bar - z) * dh, axis=-1) / safe, 0.0)
        z = z + relaxation * a_k[:, None] * dh
        out.append(z)
    return np.stack(out)


# ------------------------------------------------------------------ stochastic methods
@dataclass(eq=False)
class TokenOracle:
    """V(z, zeta) = F(z) + noise[zeta] with F a :class:`NonlinearOperator` and zeta a *token*:
    ``sample(rng, B)`` hands out B fresh token ids in call order (the rng is not used), and the
    noise vectors are a fixed table. Two runs that draw in the same order see the same
    samples, so a stochastic method is replayed exactly."""

    F: NonlinearOperator
    noise: Array
    calls: list = field(default_factory=list)
    _next: int = 0

    @classmethod
    def random(cls, F: NonlinearOperator, tokens: int, seed: int, scale: float = 0.3) -> "TokenOracle":
        return cls(F, scale * np.random.default_rng(seed).standard_normal((tokens, F.dim)))

    @property
    def dim_x(self) -> int:
        return self.F.dim_x

    def fresh(self) -> "TokenOracle":
        return TokenOracle(self.F, self.noise)

    def sample(self, rng, B: int) -> Array:
        ids = np.arange(self._next, self._next + B)
        if ids[-1] >= len(self.noise):
            raise IndexError(f"TokenOracle: more than {len(self.noise)} samples drawn; build a larger table")
        self._next += B
        return ids

    def __call__(self, z: Array, zeta: Array) -> Array:
        self.calls.append(np.asarray(zeta).copy())
        return self.F(z) + self.noise[np.asarray(zeta)]


def stochastic_extragradient(oracle, z0, gamma, schedule, K, projection=None):
    """Slide 39, SEG (Hsieh et al. 2020), projected form: zbar_k = P(z_k - beta_k gamma V(z_k, zeta_k)),
    z_{k+1} = P(z_k - alpha_k gamma V(zbar_k, zetabar_k)); zeta_k drawn before zetabar_k."""
    P = projection or (lambda u: u)
    z = np.array(z0, float)
    out = [z]
    for k in range(K):
        a, b = schedule(k)
        bar = P(z - b * gamma * oracle(z, oracle.sample(None, len(z))))
        z = P(z - a * gamma * oracle(bar, oracle.sample(None, len(z))))
        out.append(z)
    return np.stack(out)


def _plus_second_step(oracle, z, h, a, gamma, projection):
    """z_{k+1} = z_k - alpha_k gamma V(h, zetabar) (slide 39); with a prox P (Pethick et al. 2023,
    the P1 variants, CEG+ form): zbar = P(h), z_{k+1} = z_k + alpha_k (zbar - gamma V(zbar, zetabar) - h)."""
    if projection is None:
        return z - a * gamma * oracle(h, oracle.sample(None, len(z)))
    bar = projection(h)
    return z + a * (bar - gamma * oracle(bar, oracle.sample(None, len(z))) - h)


def stochastic_extragradient_plus(oracle, z0, gamma, schedule, K, projection=None):
    """Slide 39, SEG+: h = z_k - gamma V(z_k, zeta_k), then the second step above."""
    z = np.array(z0, float)
    out = [z]
    for k in range(K):
        a, _ = schedule(k)
        h = z - gamma * oracle(z, oracle.sample(None, len(z)))
        z = _plus_second_step(oracle, z, h, a, gamma, projection)
        out.append(z)
    return np.stack(out)


def bias_corrected_seg_plus(oracle, z0, gamma, schedule, K, projection=None):
    """Slide 39, BC-SEG+ (Pethick et al. 2023, Alg. 1): H(z, zeta) = z - gamma V(z, zeta),
    zbar_k = H(z_k, zeta_k) + (1 - alpha_k)(zbar_{k-1} - H(z_{k-1}, zeta_k)) with the *same* zeta_k
    at z_k and z_{k-1} (zbar_{-1} = z_{-1} = z_0, the unprojected estimate), then the second step."""
    z = np.array(z0, float)
    bar_prev, z_prev = z.copy(), z.copy()
    out = [z]
    for k in range(K):
        a, _ = schedule(k)
        zeta = oracle.sample(None, len(z))
        bar = (z - gamma * oracle(z, zeta)) + (1 - a) * (bar_prev - (z_prev - gamma * oracle(z_prev, zeta)))
        bar_prev, z_prev = bar, z
        z = _plus_second_step(oracle, z, bar, a, gamma, projection)
        out.append(z)
    return np.stack(out)


# ------------------------------------------------------------------- mixed strategies
def entropic_mirror_descent(G, T, eta_p, eta_q):
    """Slide 40 (finite X, Y => mirror descent): simultaneous multiplicative weights on
    min_p max_q p^T G q from uniform p_0, q_0: p_{t+1} ∝ p_t exp(-eta_p G q_t),
    q_{t+1} ∝ q_t exp(eta_q G^T p_t); returns the averages (1/t) sum_{s<t} (p_s, q_s), t = 1..T."""
    B, m, n = G.shape
    p, q = np.full((B, m), 1 / m), np.full((B, n), 1 / n)
    sp, sq, out_p, out_q = np.zeros((B, m)), np.zeros((B, n)), [], []
    for t in range(1, T + 1):
        sp, sq = sp + p, sq + q
        out_p.append(sp / t)
        out_q.append(sq / t)
        p_new = p * np.exp(-eta_p * np.einsum("bij,bj->bi", G, q))
        q_new = q * np.exp(eta_q * np.einsum("bij,bi->bj", G, p))
        p, q = p_new / p_new.sum(-1, keepdims=True), q_new / q_new.sum(-1, keepdims=True)
    return np.stack(out_p), np.stack(out_q)


def projected_gda(V, z0, alpha, K, low, high):
    """The pure-strategy baseline of slide 42: z_{k+1} = P_[low, high](z_k - alpha V(z_k)), k >= 1."""
    z, out = np.array(z0, float), []
    for _ in range(K):
        z = np.clip(z - alpha * V(z), low, high)
        out.append(z)
    return np.stack(out)


def mirror_descent_langevin(payoff, x0, y0, T, eta, inner_steps, step, rng):
    """Slide 41 (Hsieh, Liu, Cevher 2019): entropic mirror descent on measures,
    p_{t+1} ∝ exp(-eta sum_{s<=t} E_{q_s} Phi(., y)), q_{t+1} ∝ exp(eta sum_{s<=t} E_{p_s} Phi(x, .)),
    each Gibbs measure sampled by ``inner_steps`` of projected unadjusted Langevin
    X <- P(X - h grad U(X) + sqrt(2h) N(0, I)), h = step/max(1, eta t), warm-started; Phi = f . g
    separable, so the sums are sums of feature means. Draw order: per t, the x particles'
    inner steps, then the y particles'."""
    x, y = np.array(x0, float), np.array(y0, float)
    sum_g, sum_f = np.zeros(payoff.g(y[:1]).shape[-1]), np.zeros(payoff.f(x[:1]).shape[-1])
    out_x, out_y = [], []
    for t in range(1, T + 1):
        sum_g, sum_f = sum_g + payoff.g(y).mean(0), sum_f + payoff.f(x).mean(0)
        h = step / max(1.0, eta * t)
        for _ in range(inner_steps):
            grad = np.einsum("krd,r->kd", payoff.grad_f(x), eta * sum_g)
            x = np.clip(x - h * grad + np.sqrt(2 * h) * rng.standard_normal(x.shape), payoff.low, payoff.high)
        for _ in range(inner_steps):
            grad = -np.einsum("krd,r->kd", payoff.grad_g(y), eta * sum_f)
            y = np.clip(y - h * grad + np.sqrt(2 * h) * rng.standard_normal(y.shape), payoff.low, payoff.high)
        out_x.append(x)
        out_y.append(y)
    return np.stack(out_x), np.stack(out_y)
