"""Near misses shared by the update-rule conformance controls: the reference implementation
with its step size off by a small relative factor, a change no rate check can see; and the two
controls every section's update-rule checks carry (``update_rule_controls``)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

from algorithms import registry
from checks.conformance import NEAR_MISS
from checks.support import rejects


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


@dataclass(frozen=True)
class RuleControls:
    """The controls of one method's update-rule conformance ``check``: ``changed_rule``, a planted
    bug (the printed rule changed where no rate check can see it), and ``step_off(name)``, the
    factory of the near miss, the method with its step (``step`` says which) off by a relative
    NEAR_MISS: the check's stated resolution. ``arguments`` are passed to the check."""

    name: str
    check: Callable[..., Any]
    changed_rule: Any
    step_off: Callable[[str], Any]
    claim: str
    step: str = "step size"
    arguments: dict[str, Any] = field(default_factory=dict)


def update_rule_controls(rules: list[RuleControls]):
    """The two controls of a section's update-rule conformance checks, one case per method: the
    check rejects its method's changed rule, and its step off by a relative NEAR_MISS."""

    def case(rule: RuleControls, kind: str, **margin: str):
        return pytest.param(rule, id=rule.name, marks=[pytest.mark.claim(rule.claim),
                                                       pytest.mark.control(kind, of=rule.check, **margin)])

    @pytest.mark.parametrize("rule", [case(r, "planted_bug") for r in rules])
    def test_update_rule_check_rejects_changed_rule(rule):
        rejects(rule.check, rule.name, rule.changed_rule, **rule.arguments)

    @pytest.mark.parametrize("rule", [case(r, "near_miss", margin=f"{r.step} x (1 + {NEAR_MISS:g})") for r in rules])
    def test_update_rule_check_rejects_step_off_by_1e_8(rule):
        rejects(rule.check, rule.name, rule.step_off(rule.name), **rule.arguments)

    return test_update_rule_check_rejects_changed_rule, test_update_rule_check_rejects_step_off_by_1e_8
