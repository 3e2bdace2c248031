"""Helpers shared by the checks and their planted-bug controls."""
from __future__ import annotations

import contextlib
import inspect
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

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


def does_not_verify(check: Callable[..., Any], /, **arguments: Any) -> str:
    """For a check that decides a claim three ways (it can itself conclude ``refuted`` or
    ``inconclusive``): run it unchanged on ``arguments`` that put it in a wrong world or a near
    miss, and return the verdict it reached there — "failed" (a predicate rejected it) or its
    evidence's on-pass verdict; fail the control if that verdict is ``verified`` or ``corrected``.

    Use it with ``@pytest.mark.control("wrong_world" | "near_miss", of=check, margin=...)``."""
    _log(check)
    evidence = Evidence()
    params = inspect.signature(check).parameters
    supplied = {"evidence": evidence, "algorithm": registry.get, "device": "cpu", "scale": "tiny"}
    kwargs = {k: v for k, v in supplied.items() if k in params and k not in arguments}
    kwargs.update(arguments)
    try:
        check(**kwargs)
    except AssertionError:
        return "failed"
    if evidence.on_pass in ("verified", "corrected"):
        pytest.fail(f"{check.__module__}.{check.__name__} concluded {evidence.on_pass!r} in a world where the claim "
                    f"is false ({', '.join(sorted(arguments))}): it cannot tell that world from one where the claim "
                    "holds")
    return evidence.on_pass


#: The argument names of the controls that ``control_cases`` parametrizes.
CONTROL_CASE = "check, substitute, arguments"


def control_cases(check: Callable[..., Any], replacing: str | None, cases: list[Callable[..., Any]], /, *,
                  claim: str | None = None, marks: Any = ()) -> Any:
    """Decorator: parametrize a control over ``cases`` of one ``check`` (each a ``planted_bug``,
    ``wrong_world`` or ``near_miss``), their stand-ins put in for the registered algorithm
    ``replacing``; its body is ``run_control(check, substitute, arguments)``. With ``claim`` each
    case carries that claim's mark (and ``marks``, e.g. ``pytest.mark.slow``) itself, so that one
    table holds the cases of several claims. Stacked, the cases join one parametrization, in
    reading order; a case id may stand once in it (pytest would rename a repeated one)."""
    extra = (*((pytest.mark.claim(claim),) if claim else ()), *_mark_tuple(marks))
    params = [_marked(case(check, replacing), extra) for case in cases]

    def apply(control: Callable[..., Any]) -> Callable[..., Any]:
        marks = list(getattr(control, "pytestmark", []))
        below = [m for m in marks if m.name == "parametrize" and m.args[0] == CONTROL_CASE]
        if below:
            control.pytestmark = [m for m in marks if m is not below[0]]
            params.extend(below[0].args[1])
        ids = [p.id for p in params]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"{control.__name__}: the case ids {repeated} stand more than once in its table")
        return pytest.mark.parametrize(CONTROL_CASE, params)(control)
    return apply


def _mark_tuple(marks: Any) -> tuple[Any, ...]:
    return (marks,) if isinstance(marks, pytest.MarkDecorator) else tuple(marks)


def _marked(param: Any, marks: tuple[Any, ...]) -> Any:
    return pytest.param(*param.values, id=param.id, marks=(*param.marks, *marks)) if marks else param


def planted_bug(case_id: str, bug: Any, /, *, margin: str | None = None, marks: Any = (),
                **arguments: Any) -> Callable[..., Any]:
    """A planted bug that the check must reject. Without a ``margin`` it is left unmarked, as a lone
    planted-bug control is, so that its recorded target is the check it ran."""
    def case(check: Callable[..., Any], replacing: str | None) -> Any:
        marked = () if margin is None else (pytest.mark.control("planted_bug", of=check, margin=margin),)
        return pytest.param(check, (_replaced(replacing, case_id), bug), arguments, id=case_id,
                            marks=(*marked, *_mark_tuple(marks)))
    return case


def wrong_world(case_id: str, margin: str, /, *, bug: Any = None, marks: Any = (),
                **arguments: Any) -> Callable[..., Any]:
    """A world where the claim itself fails (by ``margin``): the check run on ``arguments``, with
    ``bug`` (if given) standing in for the algorithm."""
    return _world_case("wrong_world", case_id, margin, bug, marks, arguments)


def near_miss(case_id: str, margin: str, /, *, bug: Any = None, marks: Any = (),
              **arguments: Any) -> Callable[..., Any]:
    """The claim violated by the small stated ``margin``; as ``wrong_world``."""
    return _world_case("near_miss", case_id, margin, bug, marks, arguments)


def _world_case(kind: str, case_id: str, margin: str, bug: Any, marks: Any,
                arguments: dict[str, Any]) -> Callable[..., Any]:
    def case(check: Callable[..., Any], replacing: str | None) -> Any:
        substitute = None if bug is None else (_replaced(replacing, case_id), bug)
        # the control mark goes on the case, not the function: the plugin records each case's own
        # kind, target and margin (get_closest_marker), and the catalogue self-test reads cases' marks
        return pytest.param(check, substitute, arguments, id=case_id,
                            marks=(pytest.mark.control(kind, of=check, margin=margin), *_mark_tuple(marks)))
    return case


def _replaced(replacing: str | None, case_id: str) -> str:
    if replacing is None:
        raise TypeError(f"control case {case_id!r} plants a stand-in: name the algorithm it replaces "
                        "(control_cases(check, 'registry name', [...]))")
    return replacing


def run_control(check: Callable[..., Any], substitute: tuple[str, Any] | None,
                arguments: dict[str, Any]) -> Exception:
    """The body of a control that ``control_cases`` parametrizes: ``rejects`` when the case plants
    a stand-in, ``fails`` when it only changes the check's arguments."""
    if substitute is None:
        return fails(check, **arguments)
    return rejects(check, *substitute, **arguments)


def control_param(kind: str, check: Callable[..., Any], margin: str, case_id: str, /, *values: Any) -> Any:
    """A case of a control parametrized over its own parameters (``values``), with the control mark
    that records its kind, target check and margin."""
    return pytest.param(*values, id=case_id, marks=pytest.mark.control(kind, of=check, margin=margin))


def run_three_way_control(check: Callable[..., Any], substitute: tuple[str, Any] | None,
                          arguments: dict[str, Any]) -> str:
    """As ``run_control``, for a check that decides three ways: ``does_not_verify``, with the case's
    stand-in (if any) in place."""
    with registry.substituted(*substitute) if substitute else contextlib.nullcontext():
        return does_not_verify(check, **arguments)


def on_both_tiers(kind: str, check: Callable[..., Any], gpu_check: Callable[..., Any], margin: str, *,
                  gpu_margin: str | None = None, power: Any = None) -> list[Any]:
    """The two cases (``check, scale, power``) of a control of a network-scale check and of its GPU-tier
    twin, which applies the same criterion to its full-scale run: ``check`` on the world at scale tiny,
    with ``power`` (if given) a world just past the claimed size that it must verify; ``gpu_check`` on
    the same world at scale full."""
    return [pytest.param(check, {}, power, id="tiny", marks=pytest.mark.control(kind, of=check, margin=margin)),
            pytest.param(gpu_check, {"scale": "full"}, None, id="full",
                         marks=pytest.mark.control(kind, of=gpu_check, margin=gpu_margin or margin))]


def verifies(check: Callable[..., Any], what: str, /, **arguments: Any) -> None:
    """The power half of a near miss: ``check`` verifies ``what`` (a world just past the claimed size)."""
    evidence = Evidence()
    check(evidence, registry.get, **arguments)
    assert evidence.on_pass == "verified", f"{what} was not detected: {evidence.on_pass_reason}"


def _expect_rejection(check: Callable[..., Any], arguments: dict[str, Any]) -> Exception | None:
    """Run ``check`` (fixtures supplied, hypothesis shrinking off); the AssertionError or
    ContractError it raised, or None if it passed."""
    _log(check)
    params = inspect.signature(check).parameters
    inner_test = getattr(getattr(check, "hypothesis", None), "inner_test", None)
    if inner_test is not None and set(arguments) - set(params):
        # arguments for @given parameters: a wrong world or near miss is one named instance, so
        # run the check's body on it directly (hypothesis refuses explicit values for them)
        check, params = inner_test, inspect.signature(inner_test).parameters
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


def search_counterexample(strategy: Any, literal_fails: Callable[[Any], bool], *parts: object,
                          max_examples: int = 200) -> Any:
    """Hypothesis as the searcher of a counterexample to a statement *as printed*: draw instances
    from ``strategy`` until ``literal_fails(instance)`` (the literal predicate is false there),
    then shrink to the simplest such instance and return it. The search's randomness is derived
    from ``parts`` (claim id, what is searched) through ``problems.runtime.seed``, so
    ``--gbu-seed`` reruns it on fresh randomness; no example database, so a run never replays
    another's find. Raises AssertionError when no counterexample turns up: the check that
    expected one then fails (this is how its wrong-world control rejects a world where the
    printed statement holds)."""
    import random

    from problems.runtime import seed as derived_seed

    try:
        return find(strategy, literal_fails,
                    settings=settings(max_examples=examples(max_examples), derandomize=False, database=None,
                                      phases=[Phase.generate, Phase.shrink], deadline=None,
                                      suppress_health_check=list(HealthCheck)),
                    random=random.Random(derived_seed(*parts, "hypothesis-search")))
    except NoSuchExample:
        raise AssertionError(f"hypothesis found no counterexample to the statement as printed in "
                             f"{examples(max_examples)} examples: the literal reading survived the search") from None


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
