"""Contract guard around a user's implementation.

A substituted implementation (``--impl NAME=module:attr``) is wrapped so that
misbehaviour becomes a :class:`ContractError` naming the contract rule broken,
which the harness reports as the verdict ``error`` for the affected checks
(while the other checks run on). Rules, for every family:

* R1 raises:      the implementation raised an exception on a valid input;
* R2 non-finite:  it returned NaN or inf;
* R3 shape/dtype: its output has the wrong shape or a non-floating dtype
                  (family-specific: ``minimax`` returns (K + 1, *z0.shape));
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


class ContractError(RuntimeError):
    """An implementation under test broke its family's contract."""


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


def _check_output(name: str, family: str, out: Any, bound: inspect.BoundArguments) -> None:
    arr = None
    if isinstance(out, np.ndarray) or hasattr(out, "detach"):
        arr = _snapshot(out)
    if arr is not None:
        if not np.issubdtype(arr.dtype, np.floating) and family in ("minimax", "stochastic_minimax"):
            raise ContractError(f"R3 shape/dtype: {name} returned dtype {arr.dtype}; the {family} "
                                f"contract asks for floating point (float64)")
        if np.issubdtype(arr.dtype, np.number) and not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.isfinite(arr).sum())
            raise ContractError(f"R2 non-finite: {name} returned {bad} NaN/inf value(s) of {arr.size}")
    if family == "minimax":
        z0 = bound.arguments.get("z0")
        steps = bound.arguments.get("num_steps")
        expected = (int(steps) + 1, *np.shape(z0)) if z0 is not None and steps is not None else None
        if arr is None or (expected is not None and arr.shape != expected):
            got = None if arr is None else arr.shape
            raise ContractError(f"R3 shape/dtype: {name} returned shape {got}; the minimax contract "
                                f"asks for (num_steps + 1, *z0.shape) = {expected}")


def guard(name: str, family: str, impl: Any, time_limit: float | None = None) -> Any:
    """Wrap ``impl`` (a function, or a class such as a torch.optim.Optimizer) so
    that a contract breach raises ContractError with the rule it broke."""
    limit = TIME_LIMIT_S if time_limit is None else time_limit
    if inspect.isclass(impl):
        return _guard_class(name, impl, limit)
    if not callable(impl):
        raise ContractError(f"{name}: the substitute {impl!r} is not callable")
    try:
        signature = inspect.signature(impl)
    except (TypeError, ValueError):
        signature = None

    @functools.wraps(impl)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        bound = None
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise ContractError(f"R1 raises: {name} does not accept the {family} contract's "
                                    f"arguments: {exc}") from None
        inputs = _arrays(bound.arguments.items() if bound else enumerate(args))
        before = [(k, _snapshot(v)) for k, v in inputs]
        try:
            with _Timeout(limit, name):
                out = impl(*args, **kwargs)
        except ContractError:
            raise
        except Exception as exc:  # noqa: BLE001 - any exception of user code is a contract breach
            raise ContractError(f"R1 raises: {name} raised {type(exc).__name__}: {exc}") from exc
        for (key, snap), (_, value) in zip(before, inputs):
            if not _same(snap, value):
                raise ContractError(f"R4 mutation: {name} modified its input {key!r}; "
                                    f"copy it before writing to it")
        if bound is not None:
            _check_output(name, family, out, bound)
        return out

    guarded.__gbu_guarded__ = impl  # type: ignore[attr-defined]
    if inspect.isfunction(impl) or inspect.ismethod(impl) or inspect.isbuiltin(impl):
        return guarded
    return _GuardedObject(impl, guarded)


class _GuardedObject:
    """A callable object under guard: calls go through the guard, every other
    attribute (methods, constants) reaches the object itself."""

    def __init__(self, impl: Any, guarded_call: Callable[..., Any]):
        object.__setattr__(self, "_impl", impl)
        object.__setattr__(self, "_call", guarded_call)
        object.__setattr__(self, "__gbu_guarded__", impl)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._impl, attr)


def _guard_class(name: str, cls: type, limit: float) -> Callable[..., Any]:
    """Guard a class (e.g. a torch.optim.Optimizer): construction and ``step``."""

    def construct(*args: Any, **kwargs: Any) -> Any:
        try:
            with _Timeout(limit, f"{name}(...)"):
                obj = cls(*args, **kwargs)
        except ContractError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ContractError(f"R1 raises: constructing {name} ({cls.__name__}) raised "
                                f"{type(exc).__name__}: {exc}") from exc
        step = getattr(obj, "step", None)
        if callable(step):
            @functools.wraps(step)
            def guarded_step(*a: Any, **k: Any) -> Any:
                try:
                    with _Timeout(limit, f"{name}.step"):
                        out = step(*a, **k)
                except ContractError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    raise ContractError(f"R1 raises: {name}.step raised {type(exc).__name__}: {exc}") from exc
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
