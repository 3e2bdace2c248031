"""Deterministic first-order methods for min_x max_y Phi(x, y).

All methods act on the operator V(z) = (grad_x Phi(x, y), -grad_y Phi(x, y)),
z = (x, y), and follow the contract of family ``minimax``
(``algorithms.contracts``): ``method(operator, z0, alpha, num_steps, *, z_prev=None)``
returns the trajectory z_0, ..., z_K as an array (K + 1, B, d), batched over B
starting points (and, through the operator, over B instances).

Tutorial slide "Basic algorithms for minimax" (Liu, Suykens, Cevher, ICASSP 2023).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from algorithms.registry import register

Array = np.ndarray


def _step_size(alpha: Any) -> Array:
    """A scalar step, or one step per batch row as a column (B, 1)."""
    a = np.asarray(alpha, dtype=float)
    return a[:, None] if a.ndim == 1 else a


def _iterate(step: Callable[[Array, Array], Array], z0: Array, z_prev: Array | None,
             num_steps: int) -> Array:
    z = np.array(z0, dtype=float, copy=True)
    prev = z.copy() if z_prev is None else np.array(z_prev, dtype=float, copy=True)
    out = np.empty((num_steps + 1, *z.shape))
    out[0] = z
    for k in range(num_steps):
        z, prev = step(z, prev), z
        out[k + 1] = z
    return out


def gradient_descent_ascent(operator, z0, alpha, num_steps, *, z_prev=None):
    """Simultaneous GDA:  z_{k+1} = z_k - alpha V(z_k)."""
    a = _step_size(alpha)
    return _iterate(lambda z, _: z - a * operator(z), z0, z_prev, num_steps)


def alternating_gda(operator, z0, alpha, num_steps, *, z_prev=None):
    """Alternating (Gauss-Seidel) GDA:
    x_{k+1} = x_k - alpha grad_x Phi(x_k, y_k),
    y_{k+1} = y_k + alpha grad_y Phi(x_{k+1}, y_k).
    Needs ``operator.dim_x`` (the number of x coordinates)."""
    a = _step_size(alpha)
    n = operator.dim_x

    def step(z, _):
        x_new = z[:, :n] - a * operator(z)[:, :n]
        half = np.concatenate([x_new, z[:, n:]], axis=1)
        y_new = z[:, n:] - a * operator(half)[:, n:]  # V_y = -grad_y Phi
        return np.concatenate([x_new, y_new], axis=1)

    return _iterate(step, z0, z_prev, num_steps)


def proximal_point(operator, z0, alpha, num_steps, *, z_prev=None):
    """Proximal point method (Rockafellar 1976):  z_{k+1} = z_k - alpha V(z_{k+1}),
    i.e. z_{k+1} = (I + alpha V)^{-1} z_k, solved by ``operator.resolvent``."""
    return _iterate(lambda z, _: operator.resolvent(z, alpha), z0, z_prev, num_steps)


def extragradient(operator, z0, alpha, num_steps, *, z_prev=None):
    """Extragradient (Korpelevich 1976):
    zbar_k = z_k - alpha V(z_k),   z_{k+1} = z_k - alpha V(zbar_k)."""
    a = _step_size(alpha)

    def step(z, _):
        z_bar = z - a * operator(z)
        return z - a * operator(z_bar)

    return _iterate(step, z0, z_prev, num_steps)


def optimistic_gda(operator, z0, alpha, num_steps, *, z_prev=None):
    """Optimistic GDA (Popov 1980; Daskalakis et al. 2018):
    z_{k+1} = z_k - alpha [2 V(z_k) - V(z_{k-1})],  z_{-1} = z_prev (default z_0)."""
    a = _step_size(alpha)
    return _iterate(lambda z, p: z - a * (2 * operator(z) - operator(p)), z0, z_prev, num_steps)


def reflected_forward_backward(operator, z0, alpha, num_steps, *, z_prev=None):
    """Reflected forward-backward splitting (Malitsky 2015; Cevher and Vu 2021):
    z_{k+1} = z_k - alpha V(2 z_k - z_{k-1}),  z_{-1} = z_prev (default z_0)."""
    a = _step_size(alpha)
    return _iterate(lambda z, p: z - a * operator(2 * z - p), z0, z_prev, num_steps)


def past_extragradient(operator, z0, alpha, num_steps, *, z_prev=None):
    """Popov's past extragradient:
    zbar_k = z_k - alpha V(zbar_{k-1}),   z_{k+1} = z_k - alpha V(zbar_k),
    with zbar_{-1} = z_prev (default z_0). Returns the z-sequence."""
    a = _step_size(alpha)
    z = np.array(z0, dtype=float, copy=True)
    z_bar = z.copy() if z_prev is None else np.array(z_prev, dtype=float, copy=True)
    out = np.empty((num_steps + 1, *z.shape))
    out[0] = z
    for k in range(num_steps):
        z_bar = z - a * operator(z_bar)
        z = z - a * operator(z_bar)
        out[k + 1] = z
    return out


def slide_third_formula(operator, z0, alpha, num_steps, *, z_prev=None):
    """The third update of the tutorial's slide, *as printed*:
    z_{k+1} = z_k - alpha V(z_k - alpha V(z_{k-1})).
    Neither EG (V(z_k) inside) nor Popov (V(zbar_{k-1}) inside); kept to check
    the formula as printed."""
    a = _step_size(alpha)
    return _iterate(lambda z, p: z - a * operator(z - a * operator(p)), z0, z_prev, num_steps)


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("gradient_descent_ascent", family="minimax")(gradient_descent_ascent)
register("alternating_gda", family="minimax")(alternating_gda)
register("proximal_point", family="minimax")(proximal_point)
register("extragradient", family="minimax")(extragradient)
register("optimistic_gda", family="minimax")(optimistic_gda)
register("reflected_forward_backward", family="minimax")(reflected_forward_backward)
register("past_extragradient", family="minimax")(past_extragradient)
register("slide_third_formula", family="minimax")(slide_third_formula)
