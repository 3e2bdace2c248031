"""The update rules of the optimiser family as their sources print them, in plain numpy:
the oracles of the update-rule conformance checks (checks/test_02_update_rules.py,
checks/test_03_update_rules.py).

Each function replays a method on a *given* gradient sequence: the rule is a function of
the gradients it is fed, so any sequence (random magnitudes over six decades, zeros,
sign flips) drives it into random states (moments, accumulators, momentum) without a
problem behind it. Inputs: x0 (B, d), grads (K, B, d) (for two-query methods the
gradients in the order the method consumes them), lrs (K,) the step size in force at
each step. Returns the parameter after every step (K + 1, B, d) and, for methods that
report another point, that point.

Written from the papers, independently of ``algorithms/`` (which this package must not
import): a disagreement is a disagreement with the printed formula.
"""
from __future__ import annotations

import numpy as np

U = float(np.finfo(float).eps) / 2  # unit roundoff of float64


def rounding_tolerance(steps: int, scale: float, dim: int) -> float:
    """Absolute float64 error bound for K steps of an update rule on values of size <= ``scale``.

    One step is (8 + dim) roundings at most (a norm over dim coordinates, a sqrt, a division,
    a few products and sums), each <= U relative to ``scale``; the state maps are
    non-expansive (betas < 1, max, sums of squares, convex combinations), so errors add
    up over the steps rather than multiply. A factor 8 covers the division by sqrt(v) + eps,
    whose relative condition number is <= 1/2 + 1 (sqrt, then quotient) per step, and a
    torch kernel's different order of operations (foreach, fused)."""
    return 8.0 * (8 + dim) * U * max(steps, 1) * scale


def _row_norm2(g: np.ndarray) -> np.ndarray:
    return np.sum(g * g, axis=-1, keepdims=True)


def _project_ball(x: np.ndarray, radius: float) -> np.ndarray:
    norm = np.sqrt(_row_norm2(x))
    return x * np.minimum(1.0, radius / np.maximum(norm, 1e-300))


def sgd(x0, grads, lrs):
    """Robbins-Monro; the tutorial's slide: x_{k+1} = x_k - gamma_k g_k."""
    xs = [np.array(x0, float)]
    for g, lr in zip(grads, lrs):
        xs.append(xs[-1] - lr * g)
    return {"x": np.stack(xs)}


def accelerated_gradient(x0, grads, lrs):
    """FISTA with t_k = (k + 1)/2 (Beck and Teboulle 2009): x_k = y_k - (1/L) grad f(y_k),
    y_{k+1} = x_k + (k - 1)/(k + 2) (x_k - x_{k-1}), y_1 = x_0; the parameter is y, the
    reported point x."""
    y, x_prev = np.array(x0, float), np.array(x0, float)
    ys, sol = [y], [x_prev]
    for k, (g, lr) in enumerate(zip(grads, lrs), start=1):
        x = y - lr * g
        y = x + (k - 1) / (k + 2) * (x - x_prev)
        x_prev = x
        ys.append(y)
        sol.append(x)
    return {"x": np.stack(ys), "solution": np.stack(sol)}


def adagrad(x0, grads, lrs, eps):
    """Diagonal AdaGrad (Duchi, Hazan, Singer 2011, with delta = eps):
    s_k = s_{k-1} + g_k^2, x_{k+1} = x_k - eta g_k / (delta + sqrt(s_k))."""
    x, s = np.array(x0, float), np.zeros_like(x0, dtype=float)
    xs = [x]
    for g, lr in zip(grads, lrs):
        s = s + g * g
        x = x - lr * g / (eps + np.sqrt(s))
        xs.append(x)
    return {"x": np.stack(xs)}


def adagrad_norm(x0, grads, lrs, b0):
    """AdaGrad-Norm (Ward, Wu, Bottou 2019, Alg. 1), per row: b_{j+1}^2 = b_j^2 + ||G_j||^2,
    x_{j+1} = x_j - eta G_j / b_{j+1} (a row with b_{j+1} = 0 has G_j = 0 and stays)."""
    x = np.array(x0, float)
    b2 = np.full((x.shape[0], 1), b0**2)
    xs = [x]
    for g, lr in zip(grads, lrs):
        b2 = b2 + _row_norm2(g)
        b = np.sqrt(b2)
        x = x - lr * g / np.where(b > 0, b, 1.0)
        xs.append(x)
    return {"x": np.stack(xs)}


def adam(x0, grads, lrs, beta1, beta2, eps):
    """Adam (Kingma and Ba 2015, Alg. 1): m_t = b1 m + (1 - b1) g, v_t = b2 v + (1 - b2) g^2,
    mhat = m_t/(1 - b1^t), vhat = v_t/(1 - b2^t), x_t = x_{t-1} - alpha mhat/(sqrt(vhat) + eps)."""
    x = np.array(x0, float)
    m, v = np.zeros_like(x), np.zeros_like(x)
    xs = [x]
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        xs.append(x)
    return {"x": np.stack(xs)}


def amsgrad(x0, grads, lrs, beta1, beta2, eps, debiased: bool = False):
    """AMSGrad (Reddi, Kale, Kumar 2018, Alg. 2, with eps in the denominator):
    m_t = b1 m + (1 - b1) g, v_t = b2 v + (1 - b2) g^2, vhat_t = max(vhat_{t-1}, v_t),
    x_{t+1} = x_t - alpha_t m_t/(sqrt(vhat_t) + eps).

    ``debiased``: the same with Adam's debiasing (a footnote of their Sec. 2 removes it for
    simplicity and says the arguments apply to the debiased version), in the form torch.optim.Adam
    (amsgrad=True) computes: alpha_t (m_t/(1 - b1^t)) / (sqrt(vhat_t/(1 - b2^t)) + eps), the max
    taken over the uncorrected v_t."""
    x = np.array(x0, float)
    m, v, vhat = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    xs = [x]
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        vhat = np.maximum(vhat, v)
        if debiased:
            x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(vhat / (1 - beta2**t)) + eps)
        else:
            x = x - lr * m / (np.sqrt(vhat) + eps)
        xs.append(x)
    return {"x": np.stack(xs)}


def accelegrad(x0, grads, lrs, radius, G):
    """AcceleGrad (Levy, Yurtsever, Cevher 2018, Alg. 1) on K = {||x|| <= R}, D = 2R:
    alpha_t = 1 (0 <= t <= 2), (t + 1)/4 (t >= 3); tau_t = 1/alpha_t;
    x_{t+1} = tau_t z_t + (1 - tau_t) y_t; g_t = grad f(x_{t+1});
    eta_t = 2D/sqrt(G^2 + sum_{s<=t} alpha_s^2 ||g_s||^2) (times lr: lr = 1 is the paper's);
    z_{t+1} = Pi_K(z_t - alpha_t eta_t g_t); y_{t+1} = x_{t+1} - eta_t g_t;
    output ybar = sum_t alpha_t y_{t+1} / sum_t alpha_t. z_0 = y_0 = x_0 = Pi_K(start).
    The parameter holds the query point x_{t+1}."""
    def alpha(t):
        return 1.0 if t <= 2 else (t + 1) / 4

    D = 2 * radius
    start = _project_ball(np.array(x0, float), radius)
    z, y = start.copy(), start.copy()
    query = np.array(x0, float)  # x_1 = tau_0 z_0 + (1 - tau_0) y_0 = z_0: the parameter itself at first
    denom = np.full((start.shape[0], 1), G**2)
    ysum, asum = np.zeros_like(start), 0.0
    xs, sol = [query], [np.array(x0, float)]
    for t, (g, lr) in enumerate(zip(grads, lrs)):
        a = alpha(t)
        denom = denom + a * a * _row_norm2(g)
        eta = lr * 2 * D / np.sqrt(denom)
        z = _project_ball(z - a * eta * g, radius)
        y = query - eta * g
        ysum, asum = ysum + a * y, asum + a
        tau = 1.0 / alpha(t + 1)
        query = tau * z + (1 - tau) * y
        xs.append(query)
        sol.append(ysum / asum)
    return {"x": np.stack(xs), "solution": np.stack(sol)}


def unixgrad(x0, grads, lrs, radius):
    """UniXGrad (Kavis, Levy, Bach, Cevher 2019, Alg. 1, Euclidean prox) on K = {||x|| <= R},
    D = 2R, alpha_t = t, A_t = sum_{s<=t} s; per iteration t two queries, M_t at
    zt_t = (alpha_t y_{t-1} + sum_{s<t} alpha_s x_s)/A_t and g_t at xb_t:
    eta_t = 2D/sqrt(1 + sum_{s<t} alpha_s^2 ||g_s - M_s||^2) (times lr),
    x_t = Pi_K(y_{t-1} - alpha_t eta_t M_t), xb_t = sum_{s<=t} alpha_s x_s / A_t,
    y_t = Pi_K(y_{t-1} - alpha_t eta_t g_t); output xb. ``grads`` alternate M_1, g_1, M_2, ...
    (one optimiser step each); the parameter after an M-step holds xb_t, after a g-step zt_{t+1}."""
    D = 2 * radius
    y = _project_ball(np.array(x0, float), radius)
    xsum = np.zeros_like(y)
    sq = np.zeros((y.shape[0], 1))
    params, sol = [np.array(x0, float)], [y.copy()]
    t, M, eta, x = 1, None, None, None
    for i, (g, lr) in enumerate(zip(grads, lrs)):
        if i % 2 == 0:  # M_t at zt_t
            M = g
            eta = lr * 2 * D / np.sqrt(1 + sq)
            x = _project_ball(y - t * eta * M, radius)
            xb = (xsum + t * x) / (t * (t + 1) / 2)
            params.append(xb)
            sol.append(xb)
        else:  # g_t at xb_t
            y = _project_ball(y - t * eta * g, radius)
            sq = sq + t * t * _row_norm2(g - M)
            xsum = xsum + t * x
            t += 1
            params.append(((t) * y + xsum) / (t * (t + 1) / 2))
            sol.append(sol[-1])
    return {"x": np.stack(params), "solution": np.stack(sol)}
