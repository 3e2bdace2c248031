"""Helpers shared by the checks and their planted-bug controls."""
from __future__ import annotations

import contextlib
import inspect
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from hypothesis import Phase, settings

from algorithms import registry
from algorithms.guard import ContractError
from reports.evidence import Evidence

_SCALE = {"ci": 1.0, "dev": 1.0, "nightly": 20.0}


def examples(n: int) -> int:
    """The example count for a hypothesis check: ``n`` in CI (explicit and
    derandomised), more under the ``nightly`` profile."""
    return max(1, int(round(n * _SCALE.get(settings._current_profile, 1.0))))  # noqa: SLF001


def rejects(check: Callable[..., Any], algorithm_name: str, bug: Any, /, **arguments: Any) -> Exception:
    """Run ``check`` (a check function of checks/, hypothesis included) with the
    planted ``bug`` standing in for ``algorithm_name``; return the
    AssertionError (or contract breach) by which the check rejected it, or fail
    the control.

    Fixture parameters of the check (``evidence``, ``algorithm``, ``device``)
    are supplied here; other arguments pass through."""
    params = inspect.signature(check).parameters
    supplied = {"evidence": Evidence(), "algorithm": registry.get, "device": "cpu", "scale": "tiny"}
    kwargs = {k: v for k, v in supplied.items() if k in params and k not in arguments}
    kwargs.update(arguments)
    # A control only needs *a* failing example: skip hypothesis's shrinking (seconds per control).
    # hypothesis has no public way to re-set an already-decorated test's settings.
    inner = getattr(check, "_hypothesis_internal_use_settings", None)
    if inner is not None:
        check._hypothesis_internal_use_settings = settings(
            inner, phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False, print_blob=False)
    try:
        with registry.substituted(algorithm_name, bug):
            check(**kwargs)
    except AssertionError as exc:
        return exc
    except ContractError as exc:
        # A bug that blows up numerically (NaN/inf, overflow) is detected; a bug that
        # crashes on its own coding error (TypeError, NameError, ...) proves nothing.
        cause = exc.__cause__
        if str(exc).startswith("R1") and not isinstance(cause, (ArithmeticError, RuntimeWarning,
                                                                 np.linalg.LinAlgError)):
            pytest.fail(f"planted bug {getattr(bug, '__name__', bug)!r} crashed instead of computing: {exc}")
        return exc
    finally:
        if inner is not None:
            check._hypothesis_internal_use_settings = inner
    pytest.fail(f"planted bug {getattr(bug, '__name__', bug)!r} for {algorithm_name!r} was NOT rejected by "
                f"{check.__module__}.{check.__name__}: the check cannot tell this bug from a correct implementation")


@contextlib.contextmanager
def measured_at(evidence: Evidence, scale: str) -> Iterator[None]:
    """Around the predicates of a network-scale experiment. At ``full`` scale they
    decide. At ``tiny`` scale (CPU, CI) the run only proves the code path: a predicate
    that fails is recorded as a note and the verdict is ``inconclusive``, never forced."""
    if scale == "full":
        yield
        return
    try:
        yield
    except AssertionError as exc:
        evidence.note(f"at tiny scale: {exc}")
    evidence.inconclusive("tiny scale: this run proves the code path only; the measurement needs "
                          "`python -m reports run --tier gpu --device cuda`")
