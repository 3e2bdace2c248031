"""Shared pieces of the update-rule conformance checks (checks/test_NN_update_rules.py).

A conformance check runs the implementation under test for a few steps from random
states (random gradients over six decades of magnitude, random step sizes and
hyper-parameters, drawn by hypothesis) and compares every iterate with the printed
formula (``problems.optim.update_rule_oracles``, ``problems.minimax.update_rule_oracles``)
to a derived rounding tolerance. A changed rule fails here even when its asymptotic
behaviour, which the rate checks test, survives.

Resolution (shown by the near-miss controls of checks/quality/test_NN_update_rules_controls.py):
a step size off by a relative 1e-8 is rejected; the tolerance is ~1e-13 relative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from problems.optim.sgd_oracles import run_optimizer
from problems.optim.update_rule_oracles import rounding_tolerance

NEAR_MISS = 1e-8  # the relative step-size error the near-miss controls plant
RESOLUTION = f"rejects a relative step-size error >= {NEAR_MISS:g} in any step (near-miss control)"


@dataclass(frozen=True)
class OptimizerState:
    """A random gradient sequence and step sizes: K steps on B rows of dimension d."""

    x0: np.ndarray  # (B, d)
    grads: np.ndarray  # (K, B, d)
    lrs: np.ndarray  # (K,)
    seed: int

    @property
    def steps(self) -> int:
        return self.grads.shape[0]

    @property
    def dim(self) -> int:
        return self.x0.shape[1]


@st.composite
def optimizer_states(draw, max_steps: int = 8, max_rows: int = 4, max_dim: int = 5, x_scale: float = 2.0,
                     min_steps: int = 1):
    """Gradients g = s * 10^U with U uniform over [-3, 3] per entry (so moment estimates rise
    and fall and a max-based rule is exercised), random signs, about 1 in 8 entries exactly
    0 (and one whole row of zeros when there are several rows); step sizes 10^U[-3, 0] per step.
    ``min_steps``: for a rule whose later steps depend on state that the first steps cannot show
    (every iterate is compared, and a rule does not know K, so a longer run also checks every
    shorter one as its prefix: raising it loses nothing)."""
    K, B, d = draw(st.integers(min_steps, max_steps)), draw(st.integers(1, max_rows)), draw(st.integers(1, max_dim))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    grads = rng.choice([-1.0, 1.0], (K, B, d)) * 10.0 ** rng.uniform(-3, 3, (K, B, d))
    grads[rng.random((K, B, d)) < 1 / 8] = 0.0
    if B > 1:
        grads[0, -1] = 0.0
    x0 = rng.uniform(-x_scale, x_scale, (B, d))
    lrs = 10.0 ** rng.uniform(-3, 0, K)
    return OptimizerState(x0, grads, lrs, seed)


def drive(make, state: OptimizerState, *, report: bool = False, grads=None, lrs=None, **hyper):
    """Run an ``optimizer``-family object on the state's gradient sequence (the gradient is
    the sequence's, wherever the parameter is) with the state's step sizes."""
    grads = state.grads if grads is None else grads
    lrs = state.lrs if lrs is None else lrs
    return run_optimizer(make, state.x0, lambda x, k: grads[k], len(grads), lr=lrs[0], schedule=lrs,
                         report=report, **hyper)


def conforms(evidence, name: str, measured: np.ndarray, reference: np.ndarray, *, dim: int,
             amplification: float = 1.0, extra_abs: float = 0.0, headline: bool = True) -> None:
    """Every iterate equals the printed rule's to rounding (``rounding_tolerance`` over the
    steps run, on the trajectory's scale: its largest entry and largest step), times
    ``amplification``, a bound on how much the rule's own map can magnify an earlier rounding
    (1 for rules whose iterate is a sum of updates that do not depend on it; (1 + c alpha L)^K
    for a rule through an L-Lipschitz operator)."""
    reference = np.asarray(reference, float)
    steps = max(len(reference) - 1, 1)
    move = np.abs(np.diff(reference, axis=0)).max() if len(reference) > 1 else 0.0
    scale = float(np.abs(reference).max() + move)
    evidence.tight(name, measured, reference, abs=rounding_tolerance(steps, scale, dim) * amplification + extra_abs,
                   headline=headline)
    evidence.resolution(RESOLUTION)
