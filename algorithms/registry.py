"""The registry of algorithm names.

Every check takes the implementation under test from here, by name, never by
direct import; a user substitutes their own object for a name and every check
of that name runs against it (``--impl NAME=module:attr`` on the pytest command
line, or :func:`substituted` from code).

A name belongs to a *family*; the family's contract (``algorithms.contracts``)
says what the callable takes and returns.
"""
from __future__ import annotations

import contextlib
import importlib
import pkgutil
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Iterator


@dataclass(frozen=True)
class Registration:
    name: str
    family: str
    reference: Any
    module: str


_REFERENCE: dict[str, Registration] = {}
_SUBSTITUTE: dict[str, Any] = {}
_LOOKUPS: list[str] = []  # names looked up, in order; read by the pytest plugin
_ALL_IMPORTED = False


class UnknownAlgorithm(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


def register(name: str, family: str) -> Callable[[Any], Any]:
    """Class/function decorator: register ``obj`` as the reference ``name``."""

    def deco(obj: Any) -> Any:
        if name in _REFERENCE and _REFERENCE[name].reference is not obj:
            raise ValueError(
                f"algorithm name {name!r} registered twice "
                f"({_REFERENCE[name].module} and {obj.__module__})"
            )
        from algorithms.contracts import FAMILIES

        if family not in FAMILIES:
            raise ValueError(f"{name!r}: unknown family {family!r}; known: {sorted(FAMILIES)}")
        _REFERENCE[name] = Registration(name, family, obj, obj.__module__)
        return obj

    return deco


def _import_all() -> None:
    """Import every module of ``algorithms`` so that its registrations run."""
    global _ALL_IMPORTED
    if _ALL_IMPORTED:
        return
    import algorithms

    for mod in pkgutil.iter_modules(algorithms.__path__):
        if mod.name not in {"registry", "contracts"}:
            importlib.import_module(f"algorithms.{mod.name}")
    _ALL_IMPORTED = True


def _import_defining_module(name: str) -> None:
    """Import only the module whose source registers ``name`` (a text scan), so that a
    check of the min-max family does not pay for importing torch."""
    import algorithms
    import re

    pattern = re.compile(r"register\(\s*[\"']" + re.escape(name) + r"[\"']")
    for folder in algorithms.__path__:
        for path in sorted(Path(folder).glob("*.py")):
            if path.stem not in {"registry", "contracts", "__init__"} and pattern.search(
                    path.read_text(encoding="utf-8")):
                importlib.import_module(f"algorithms.{path.stem}")
                return


def registration(name: str) -> Registration:
    if name not in _REFERENCE:
        _import_defining_module(name)
    if name not in _REFERENCE:
        _import_all()
    if name not in _REFERENCE:
        raise UnknownAlgorithm(
            f"no algorithm registered under {name!r}; known names: {', '.join(names())}"
        )
    return _REFERENCE[name]


def get(name: str) -> Any:
    """The implementation under test for ``name``: the user's substitute if one
    is installed, else the reference implementation."""
    reg = registration(name)
    _LOOKUPS.append(name)
    return _SUBSTITUTE.get(name, reg.reference)


def reference(name: str) -> Any:
    """The reference implementation, ignoring any substitution."""
    return registration(name).reference


def names(family: str | None = None) -> list[str]:
    _import_all()
    return sorted(n for n, r in _REFERENCE.items() if family is None or r.family == family)


def substitute(name: str, obj: Any, *, time_limit: float | None = None) -> None:
    """Install ``obj`` as the implementation under test for ``name``, behind the
    contract guard (``algorithms.guard``): a misbehaving substitute raises
    ContractError naming the rule it broke."""
    from algorithms.guard import guard

    reg = registration(name)  # unknown names fail here, before any check runs
    _SUBSTITUTE[name] = guard(name, reg.family, obj, time_limit)


def clear_substitutes() -> None:
    _SUBSTITUTE.clear()


def substituted_names() -> list[str]:
    return sorted(_SUBSTITUTE)


@contextlib.contextmanager
def substituted(name: str, obj: Any) -> Iterator[None]:
    """Run a block with ``obj`` standing in for ``name`` (used by the planted-bug tests)."""
    previous = _SUBSTITUTE.get(name, None)
    had = name in _SUBSTITUTE
    substitute(name, obj)
    try:
        yield
    finally:
        if had:
            _SUBSTITUTE[name] = previous
        else:
            _SUBSTITUTE.pop(name, None)


def load_object(spec: str) -> Any:
    """Import ``"package.module:attr"`` (attr may be dotted)."""
    if ":" not in spec:
        raise ValueError(f"{spec!r}: expected 'module:attribute', e.g. 'mypkg.solvers:my_eg'")
    module_name, attr = spec.split(":", 1)
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
