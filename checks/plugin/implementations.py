"""The implementations under test: ``--impl NAME=module:attr``, and the ``algorithm`` fixture,
through which a check looks up only the names it declares (``claim(..., uses=[...])``) and calls
them only with the arguments of their family's contract (``algorithms.contracts``)."""
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
        reg = registry.registration(name)
        return WithinContract(name, reg.contract, reg.reference, registry.get(name))

    return lookup


class WithinContract:
    """The implementation under test as a check sees it: each call is checked against ``name``'s
    contract (a ContractViolation names the argument a check passes outside it); attributes,
    equality and hash are the implementation's own, so a check's cache keyed by it hits as before."""

    __slots__ = ("_name", "_contract", "_reference", "_obj")

    def __init__(self, name: str, contract: Any, reference: Any, obj: Any):
        self._name, self._contract, self._reference, self._obj = name, contract, reference, obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._contract.check_call(self._name, self._reference, args, kwargs)
        return self._obj(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._obj, attr)

    def __eq__(self, other: Any) -> bool:
        return self._obj == (other._obj if isinstance(other, WithinContract) else other)

    def __hash__(self) -> int:
        return hash(self._obj)

    def __repr__(self) -> str:
        return f"{self._obj!r} (calls checked against the {self._contract.family} contract)"
