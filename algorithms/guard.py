"""Contract guard around a user's implementation.

A substituted implementation (``--impl NAME=module:attr``) is wrapped so that
misbehaviour becomes a :class:`ContractError` naming the contract rule broken,
which the harness reports as the verdict ``error`` for the affected checks
(while the other checks run on). Rules, for every family:

* R1 raises:      the implementation raised an exception on a valid input, or cannot
                  take an argument of its contract (the message names the argument);
* R2 non-finite:  it returned NaN or inf;
* R3 shape/dtype: its output has the wrong shape or a non-floating dtype
                  (the family's output check, ``algorithms.contracts``);
* R4 mutation:    it modified an array it was given;
* R5 time:        one call ran past the time limit (``--impl-timeout``, default 60 s).
"""
from __future__ import annotations

import functools
import inspect
import signal
import threading
from typing import Any, Callable

import numpy as np

from algorithms.contracts import Contract, ContractError

__all__ = ["ContractError", "guard"]


TIME_LIMIT_S = 60.0


def _arrays(values) -> list[tuple[str, Any]]:
    out = []
    for key, v in values:
        if isinstance(v, np.ndarray) or hasattr(v, "detach"):
            out.append((key, v))
    return out


def _snapshot(v: Any) -> np.ndarray:
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy().copy()
    return np.array(v, copy=True)


def _same(a: np.ndarray, b: Any) -> bool:
    return np.array_equal(a, _snapshot(b), equal_nan=True)


class _Timeout:
    """SIGALRM-based limit; a no-op off the main thread (where signals cannot be used)."""

    def __init__(self, seconds: float, what: str):
        self.seconds, self.what = seconds, what
        self.active = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")

    def _fire(self, *_):
        raise ContractError(f"R5 time: {self.what} ran past the {self.seconds:g} s limit "
                            f"(raise it with --impl-timeout if your implementation is just slow)")

    def __enter__(self):
        if self.active:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def guard(name: str, contract: Contract, impl: Any, time_limit: float | None = None, *,
          reference: Any = None) -> Any:
    """Wrap ``impl`` (a function, or a class such as a torch.optim.Optimizer) so
    that a contract breach raises ContractError with the rule it broke. ``reference``
    (the registered implementation) fixes the keyword parameters of the name's contract."""
    limit = TIME_LIMIT_S if time_limit is None else time_limit
    if inspect.isclass(impl):
        return _guard_class(name, contract, impl, limit, reference)
    if not callable(impl):
        raise ContractError(f"{name}: the substitute {impl!r} is not callable")

    @functools.wraps(impl)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _accepts(contract, name, impl, reference, args, kwargs)
        inputs = _arrays(_named(contract, reference, args, kwargs))
        before = [(k, _snapshot(v)) for k, v in inputs]
        out = _run(name, limit, impl, *args, **kwargs)
        for (key, snap), (_, value) in zip(before, inputs):
            if not _same(snap, value):
                raise ContractError(f"R4 mutation: {name} modified its input {key!r}; "
                                    f"copy it before writing to it")
        _finite(name, out)
        try:
            contract.check_output(name, reference, out, args, kwargs)
        except TypeError:  # a call outside the contract (the plugin refuses those in checks): nothing to check
            pass
        return out

    guarded.__gbu_guarded__ = impl  # type: ignore[attr-defined]
    if inspect.isfunction(impl) or inspect.ismethod(impl) or inspect.isbuiltin(impl):
        return guarded
    proxy = CallProxy(impl, guarded)
    object.__setattr__(proxy, "__gbu_guarded__", impl)
    return proxy


def _run(what: str, limit: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` within the time limit (R5); any exception of user code is R1."""
    try:
        with _Timeout(limit, what):
            return fn(*args, **kwargs)
    except ContractError:
        raise
    except Exception as exc:  # noqa: BLE001 - any exception of user code is a contract breach
        raise ContractError(f"R1 raises: {what} raised {type(exc).__name__}: {exc}") from exc


def _accepts(contract: Contract, name: str, impl: Any, reference: Any, args: tuple, kwargs: dict) -> None:
    """R1 before the call: a substitute that cannot take a call of its contract is told which argument."""
    why = contract.lacks(impl, name, reference, args, kwargs)
    if why is not None:
        raise ContractError(f"R1 raises: {why}")


def _named(contract: Contract, reference: Any, args: tuple, kwargs: dict) -> list[tuple[Any, Any]]:
    """The call's arguments by their contract names (by position where the call is outside it)."""
    try:
        return list(contract.signature(reference).bind(*args, **kwargs).arguments.items())
    except TypeError:
        return list(enumerate(args)) + list(kwargs.items())


def _finite(name: str, out: Any) -> None:
    """R2 for every family: an array output holds no NaN/inf."""
    if isinstance(out, np.ndarray) or hasattr(out, "detach"):
        arr = _snapshot(out)
        if np.issubdtype(arr.dtype, np.number) and not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.isfinite(arr).sum())
            raise ContractError(f"R2 non-finite: {name} returned {bad} NaN/inf value(s) of {arr.size}")


class CallProxy:
    """A callable object under guard: calls go through ``call``, every other attribute
    (methods, constants) reaches the object itself."""

    def __init__(self, impl: Any, call: Callable[..., Any]):
        object.__setattr__(self, "_impl", impl)
        object.__setattr__(self, "_call", call)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._impl, attr)


def _guard_class(name: str, contract: Contract, cls: type, limit: float, reference: Any) -> Callable[..., Any]:
    """Guard a class (e.g. a torch.optim.Optimizer): construction and ``step``."""

    def construct(*args: Any, **kwargs: Any) -> Any:
        _accepts(contract, name, cls, reference, args, kwargs)
        obj = _run(f"constructing {name} ({cls.__name__})", limit, cls, *args, **kwargs)
        step = getattr(obj, "step", None)
        if callable(step):
            @functools.wraps(step)
            def guarded_step(*a: Any, **k: Any) -> Any:
                out = _run(f"{name}.step", limit, step, *a, **k)
                for group in getattr(obj, "param_groups", []):
                    for p in group.get("params", []):
                        if hasattr(p, "detach") and not bool(p.detach().isfinite().all()):
                            raise ContractError(f"R2 non-finite: {name}.step produced NaN/inf parameters")
                return out

            obj.step = guarded_step
        return obj

    construct.__gbu_guarded__ = cls  # type: ignore[attr-defined]
    construct.__name__ = getattr(cls, "__name__", name)
    return construct
