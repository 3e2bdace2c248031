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
_REJECTED: list[str] = []  # checks run by rejects()/fails() in the current control; read by the plugin


def take_rejected_checks() -> list[str]:
    """The checks ('checks/test_x.py::test_f') that ``rejects``/``fails`` ran since the last call."""
    out = list(_REJECTED)
    _REJECTED.clear()
    return out


def _log(check: Callable[..., Any]) -> None:
    path = inspect.getsourcefile(inspect.unwrap(check)) or ""
    parts = path.replace("\\", "/").split("/")
    rel = "/".join(parts[parts.index("checks"):]) if "checks" in parts else path
    _REJECTED.append(f"{rel}::{check.__name__}")


def examples(n: int) -> int:
    """The example count for a hypothesis check: ``n`` in CI (explicit and
    derandomised), more under the ``nightly`` profile."""
    return max(1, int(round(n * _SCALE.get(settings.get_current_profile_name(), 1.0))))


def rejects(check: Callable[..., Any], algorithm_name: str, bug: Any, /, **arguments: Any) -> Exception:
    """Run ``check`` (a check function of checks/, hypothesis included) with the
    planted ``bug`` standing in for ``algorithm_name``; return the
    AssertionError (or contract breach) by which the check rejected it, or fail
    the control.

    Fixture parameters of the check (``evidence``, ``algorithm``, ``device``)
    are supplied here; other arguments pass through."""
    with registry.substituted(algorithm_name, bug):
        exc = _expect_rejection(check, arguments)
    if exc is None:
        pytest.fail(f"planted bug {getattr(bug, '__name__', bug)!r} for {algorithm_name!r} was NOT rejected by "
                    f"{check.__module__}.{check.__name__}: the check cannot tell this bug from a correct "
                    "implementation")
    if isinstance(exc, ContractError):
        # A bug that blows up numerically (NaN/inf, overflow) is detected; a bug that
        # crashes on its own coding error (TypeError, NameError, ...) proves nothing.
        cause = exc.__cause__
        if str(exc).startswith("R1") and not isinstance(cause, (ArithmeticError, RuntimeWarning,
                                                                 np.linalg.LinAlgError)):
            pytest.fail(f"planted bug {getattr(bug, '__name__', bug)!r} crashed instead of computing: {exc}")
    return exc


def fails(check: Callable[..., Any], /, **arguments: Any) -> AssertionError:
    """Run ``check`` unchanged on ``arguments`` that put it in a world where the claim is
    false (a wrong world) or false by a small stated margin (a near miss); return the
    AssertionError by which the check rejected it, or fail the control.

    Use it with ``@pytest.mark.control("wrong_world" | "near_miss", of=check, margin=...)``."""
    exc = _expect_rejection(check, arguments)
    if not isinstance(exc, AssertionError):
        pytest.fail(f"{check.__module__}.{check.__name__} did NOT reject the wrong world {arguments!r}: "
                    "it cannot tell a world where the claim fails from one where it holds")
    return exc


def _expect_rejection(check: Callable[..., Any], arguments: dict[str, Any]) -> Exception | None:
    """Run ``check`` (fixtures supplied, hypothesis shrinking off); the AssertionError or
    ContractError it raised, or None if it passed."""
    _log(check)
    params = inspect.signature(check).parameters
    supplied = {"evidence": Evidence(), "algorithm": registry.get, "device": "cpu", "scale": "tiny"}
    kwargs = {k: v for k, v in supplied.items() if k in params and k not in arguments}
    kwargs.update(arguments)
    # A control only needs *a* failing example: skip hypothesis's shrinking (seconds per control).
    # Private API, on purpose: Hypothesis has no public way to change the settings of a test that
    # @settings/@given already decorated (a second @settings raises, a profile loaded now does not
    # reach settings fixed at decoration), so the attribute @settings writes is swapped and restored.
    inner = getattr(check, "_hypothesis_internal_use_settings", None)
    if inner is not None:
        check._hypothesis_internal_use_settings = settings(
            inner, phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False, print_blob=False)
    try:
        check(**kwargs)
    except (AssertionError, ContractError) as exc:
        return exc
    finally:
        if inner is not None:
            check._hypothesis_internal_use_settings = inner
    return None


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
