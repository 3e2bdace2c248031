"""One contract per algorithm family: what a registered callable takes and returns.

A user's substitute (``--impl NAME=module:attr``) must honour the contract of
the family of NAME. The text below is what the README and the error messages
quote.
"""
from __future__ import annotations

FAMILIES: dict[str, str] = {
    "minimax": """\
Deterministic first-order methods for the operator V(z) = (grad_x Phi, -grad_y Phi).

    method(operator, z0, alpha, num_steps, *, z_prev=None) -> trajectory

operator   callable, operator(z) -> V(z) for z of shape (B, d) (a batch of B
           points, float64); also operator.resolvent(z, alpha) = (I + alpha V)^-1 z
           and operator.jacobian(z) of shape (B, d, d).
z0         array (B, d), float64; must not be modified.
alpha      step size, a float or an array (B,) (one step per batch row).
num_steps  K >= 0.
z_prev     two-step methods only: the point z_{-1} (default z0).
returns    array (K + 1, B, d): z_0 (= z0), z_1, ..., z_K, finite unless the
           method itself diverges.""",
    "stochastic_minimax": """\
Stochastic methods for V(z, zeta) = V(z) + U(z, zeta).

    method(oracle, z0, steps, num_steps, rng) -> trajectory (K + 1, B, d)

oracle(z, rng) returns one stochastic sample of V at each row of z (B, d);
steps is a callable k -> (alpha_k, beta_k) or a tuple of floats.""",
    "optimizer": """\
Stochastic-gradient optimisers on a batch of problems.

    optimizer(params, lr, **hyper) -> torch.optim.Optimizer-like object

Any torch.optim.Optimizer subclass honours this contract: the checks call
zero_grad(), set .grad, and call step().""",
    "descent_direction": """\
    direction(gradients) -> d

gradients  array (B, K, n): for each of B problems, the K gradients of the
           active pieces of a max-type function; returns d of shape (B, n).""",
    "attack": """\
    attack(loss_fn, x, eps, steps, step_size, rng) -> x_adv (same shape as x)""",
    "critical_point_test": """\
The second-derivative test at a critical point.

    test(hessian_eigenvalues, tol) -> label

hessian_eigenvalues  array (B, n) of real eigenvalues of the Hessian at B
                     critical points; tol: |lambda| <= tol counts as zero.
returns              array (B,) of labels among
                     'min', 'max', 'saddle', 'inconclusive'.""",
    "mixed_nash": """\
Methods for mixed equilibria: finite matrix games (mirror descent / multiplicative
weights) and particle methods on continuous domains; see the module docstrings.""",
    "schedule": """\
    schedule(k) -> step size alpha_k  (k = 0, 1, 2, ...), vectorised over k.""",
    "measurement": """\
Measurements on models (e.g. lazy-training ratio, Lipschitz bounds, Rademacher
complexity); see the module docstrings.""",
    "estimator": """\
Regression / classification estimators (fit-predict), see the checks' docstrings.""",
    "network": """\
Network constructors and initialisation schemes (torch), see algorithms.networks.""",
}
