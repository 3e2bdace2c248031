"""The weak-MVI constant rho as a measurement under test (family ``measurement``).

    weak_minty_rho(operator, domain, solution, *, grid=801, max_refinements=64) -> WeakMintyEstimate
    rho(D) = inf_{z in D, V(z) != 0} <V(z), z - z*> / ||V(z)||^2

The implementation is the oracle of :mod:`problems.minimax.minty_oracles`, where the
weak-Minty problems that use it as an oracle (not under test) find it; it is registered
here, with the algorithms, so that nothing in ``problems/`` imports ``algorithms/``.
"""
from __future__ import annotations

from algorithms.registry import register
from problems.minimax.minty_oracles import weak_minty_rho

__all__ = ["weak_minty_rho"]

# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("weak_minty_rho", family="measurement")(weak_minty_rho)
