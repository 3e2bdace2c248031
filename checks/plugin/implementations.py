"""The implementations under test: ``--impl NAME=module:attr``, and the ``algorithm`` fixture,
through which a check looks up only the names it declares (``claim(..., uses=[...])``); the
registry checks every call against the family's contract (``algorithms.contracts.Checked``)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from checks.plugin.state import LOOKUPS, USES


class UndeclaredAlgorithm(LookupError):
    """A check looked up a registry name it does not declare (``claim(..., uses=[...])``)."""


def pytest_configure(config: pytest.Config) -> None:
    _install(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    from algorithms import registry

    for spec in config.getoption("--impl"):
        registry.remove_substitute(spec.partition("=")[0])


def _install(config: pytest.Config) -> None:
    from algorithms import registry

    specs = config.getoption("--impl")
    problems = []
    for spec in specs:
        name, sep, target = spec.partition("=")
        if not sep or not name or not target:
            problems.append(f"--impl {spec!r}: expected NAME=module:attr, e.g. extragradient=mypkg.solvers:my_eg")
            continue
        try:
            registry.registration(name)
        except registry.UnknownAlgorithm as exc:
            problems.append(f"--impl {spec!r}: {exc}")
            continue
        try:
            obj = registry.load_object(target)
        except Exception as exc:  # noqa: BLE001 - any import failure is the user's to see, in one line
            problems.append(f"--impl {spec!r}: cannot import {target}: {type(exc).__name__}: {exc}")
            continue
        registry.substitute(name, obj, time_limit=config.getoption("--impl-timeout"))
    if problems:
        raise pytest.UsageError("\n".join(problems))
    if config.getoption("--impl-only") and not specs:
        raise pytest.UsageError("--impl-only needs at least one --impl NAME=module:attr")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from algorithms import registry

    item.stash[LOOKUPS] = registry.record_lookups()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    log = item.stash.get(LOOKUPS, None)
    if log is not None:
        log.close()


def looked_up(item: pytest.Item) -> list[str]:
    """The registry names the check looked up (sorted, once each)."""
    log = item.stash.get(LOOKUPS, None)
    return sorted(set(log or ()))


@pytest.fixture
def algorithm(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """``algorithm(name)`` -> the implementation under test from the registry (a user's
    ``--impl`` substitute, else the reference). The check must declare ``name``
    (``@pytest.mark.claim(..., uses=[name])``) and may call it only within its family's contract."""
    from algorithms import registry

    item = request.node
    names = item.stash.get(USES, None)
    if names is None:
        from checks.plugin.uses import declared

        names = item.stash[USES] = declared(item)

    def lookup(name: str) -> Any:
        if name not in names:
            registry.registration(name)  # an unknown name says so first
            raise UndeclaredAlgorithm(
                f"{item.nodeid} looks up {name!r} but does not declare it: add {name!r} to the uses=[...] of "
                f"its @pytest.mark.claim (declared: {sorted(names) or 'none'}); --impl-only selects checks by "
                f"these declarations")
        return registry.get(name)  # its calls checked against the family's contract

    return lookup
