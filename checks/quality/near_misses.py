"""Near misses shared by the update-rule conformance controls: the reference implementation
with its step size off by a small relative factor, a change no rate check can see."""
from __future__ import annotations

import functools

import numpy as np

from algorithms import registry
from checks.conformance import NEAR_MISS


def optimizer_with_scaled_step(name: str, factor: float = 1 + NEAR_MISS):
    """The reference optimiser ``name`` whose every step uses lr * factor."""
    base = registry.reference(name)

    class ScaledStep(base):
        def step(self, closure=None):
            saved = [group["lr"] for group in self.param_groups]
            for group in self.param_groups:
                group["lr"] = group["lr"] * factor
            try:
                return super().step(closure)
            finally:
                for group, lr in zip(self.param_groups, saved):
                    group["lr"] = lr

    ScaledStep.__name__ = ScaledStep.__qualname__ = f"{base.__name__}_step_times_{factor:.10g}"
    return ScaledStep


def method_with_scaled_step(name: str, factor: float = 1 + NEAR_MISS, argument: int = 2):
    """The reference function ``name`` with its step argument (positional ``argument``:
    alpha of the minimax contract, gamma of the stochastic one) times ``factor``."""
    base = registry.reference(name)

    @functools.wraps(base)
    def scaled(*args, **kwargs):
        args = list(args)
        args[argument] = np.asarray(args[argument], dtype=float) * factor
        return base(*args, **kwargs)

    scaled.__name__ = f"{name}_step_times_{factor:.10g}"
    return scaled
