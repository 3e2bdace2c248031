"""The evidence a check leaves behind: measured vs reference numbers, the
predicate that related them, parameters, seed, figures and what a pass means.

Three predicate kinds (PEPit's tests), always with an absolute term:

* tight        |v - b| <= rel*|b| + abs
* upper bound  v <= b*(1 + rel) + abs      (lower bound: v >= b*(1 - rel) - abs)
* monotone     v[k+1] <= v[k] + abs        (or >= for increasing)

Each predicate both records and asserts: a violated predicate raises
``AssertionError`` with the worst offending element, and the record keeps the
worst case over every call with the same name (hypothesis calls a check many
times; the report shows the example that came closest to failing).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

VERDICT_ON_PASS = ("verified", "corrected", "refuted", "inconclusive")


def _jsonable(x: Any) -> Any:
    """Plain JSON types; non-finite floats as strings so the file stays valid JSON."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist()) if x.size <= 64 else f"array{tuple(x.shape)}"
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if x is None or isinstance(x, (str, int, bool)):
        return x
    return repr(x)


def _as_array(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _portable(path: Path) -> str:
    """Repository-relative where possible, so a committed results file finds its figures elsewhere."""
    root = Path(__file__).resolve().parent.parent
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


class Evidence:
    """Collects what one check measured. Obtained through the ``evidence`` fixture."""

    def __init__(self, claims: Iterable[str] = (), nodeid: str = "", figure_dir: Path | None = None):
        self.claims = list(claims)
        self.nodeid = nodeid
        self.figure_dir = figure_dir
        self.predicates: dict[str, dict[str, Any]] = {}
        self.values: dict[str, Any] = {}
        self.params: dict[str, Any] = {}
        self.seed: Any = None
        self.figures: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.on_pass = "verified"
        self.on_pass_reason = ""
        self.counterexample = ""
        self.resolution_text = ""
        self.headline: str | None = None

    # ----------------------------------------------------------- bookkeeping
    def parameters(self, **params: Any) -> None:
        """Parameters of the instance(s) the check ran on (last call wins per key)."""
        self.params.update(params)

    def set_seed(self, seed: Any) -> None:
        self.seed = seed

    def record(self, name: str, value: Any, **info: Any) -> None:
        """A number (or small array) worth showing that is not itself a predicate."""
        self.values[name] = {"value": value, **info}

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def refutes(self, reason: str, counterexample: str = "") -> None:
        """Declare that this check passing demonstrates the statement is false in every
        faithful reading (the check exhibits the counterexample, in one line)."""
        self.on_pass = "refuted"
        self.on_pass_reason = reason
        self.counterexample = counterexample

    def corrects(self, reason: str, counterexample: str = "") -> None:
        """Declare that this check passing demonstrates the statement *as printed* is false
        because of a slip (sign, constant, dropped condition, quantifier, O/Ω, garbled
        formula): it exhibits the literal counterexample (one line). The claim is
        ``corrected`` when its other checks verify the catalogue's ``corrected_statement``."""
        self.on_pass = "corrected"
        self.on_pass_reason = reason
        self.counterexample = counterexample

    def resolution(self, text: str) -> None:
        """The check's stated resolution (power), e.g. "rejects a slope error >= 0.1": the
        smallest violation of the claim it is shown to reject (its near-miss controls)."""
        self.resolution_text = text

    def inconclusive(self, reason: str) -> None:
        """The check ran but cannot decide at this scale or power."""
        self.on_pass = "inconclusive"
        self.on_pass_reason = reason

    # ------------------------------------------------------------ predicates
    def _store(self, name: str, kind: str, rec: dict[str, Any], headline: bool) -> None:
        rec["kind"] = kind
        rec["params"] = dict(self.params)  # the parameters of *this* example, kept with its worst case
        old = self.predicates.get(name)
        if old is not None:
            # keep the worst example: a failure beats a pass, a pass closer to its tolerance beats one further off
            if (not old["passed"] and rec["passed"]) or (
                old["passed"] == rec["passed"] and old["usage"] > rec["usage"]
            ):
                rec = dict(old)
            rec["examples"] = old["examples"] + 1
        else:
            rec["examples"] = 1
        self.predicates[name] = rec
        if headline or self.headline is None:
            self.headline = name

    def _check(self, name: str, kind: str, v: np.ndarray, b: np.ndarray, excess: np.ndarray,
               slack: np.ndarray, rel: Any, abs_: Any, headline: bool, describe: str, unit: str) -> None:
        """``excess`` is signed: the predicate holds where excess <= slack. The usage
        excess/slack is the fraction of the tolerance consumed (> 1: violated; < 0:
        strictly inside a one-sided bound)."""
        if v.size == 0:  # nothing to check: a vacuous pass, recorded as such
            self._store(name, kind, {"passed": True, "size": 0, "usage": -math.inf, "vacuous": True}, headline)
            return
        tol = np.broadcast_to(np.asarray(slack, dtype=float), v.shape)
        excess = np.broadcast_to(excess, v.shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            usage = np.where(tol > 0, excess / tol, np.where(excess > 0, np.inf, np.where(excess < 0, -np.inf, 0.0)))
        bad = ~(excess <= tol) | ~np.isfinite(v)
        flat_usage = np.nan_to_num(usage, nan=np.inf).ravel()
        flat_bad = bad.ravel()
        candidates = np.flatnonzero(flat_bad) if flat_bad.any() else np.arange(flat_bad.size)
        idx = np.unravel_index(int(candidates[np.argmax(flat_usage[candidates])]), v.shape)
        rec = {
            "measured": float(v[idx]),
            "reference": float(b[idx]),
            "rel": float(np.broadcast_to(rel, v.shape)[idx]),
            "abs": float(np.broadcast_to(abs_, v.shape)[idx]),
            "tolerance": float(tol[idx]),
            "error": float(np.abs(np.subtract(v[idx], b[idx], dtype=float))) if np.isfinite(v[idx]) else math.inf,
            "usage": float(usage[idx]),
            "at": [int(i) for i in idx],
            "size": int(v.size),
            "passed": not bool(bad.any()),
            "unit": unit,
        }
        self._store(name, kind, rec, headline)
        if bad.any():
            where = f" at index {tuple(int(i) for i in idx)} of {v.shape}" if v.ndim else ""
            raise AssertionError(
                f"{kind} predicate {name!r} violated{where}: measured {float(v[idx])!r} "
                f"{describe} {float(b[idx])!r} (tolerance {tol[idx]:.3g} = rel {rec['rel']:g} * |ref| + abs "
                f"{rec['abs']:g}; {int(bad.sum())}/{v.size} elements off)"
            )

    def tight(self, name: str, measured: Any, reference: Any, *, rel: Any = 0.0, abs: Any = 0.0,
              headline: bool = False, unit: str = "") -> None:
        """|measured - reference| <= rel*|reference| + abs, elementwise."""
        v, b = np.broadcast_arrays(_as_array(measured), _as_array(reference))
        self._check(name, "tight", v, b, np.abs(v - b), rel * np.abs(b) + abs, rel, abs, headline,
                    "should equal", unit)

    def upper_bound(self, name: str, measured: Any, bound: Any, *, rel: Any = 0.0, abs: Any = 0.0,
                    headline: bool = False, unit: str = "") -> None:
        """measured <= bound + rel*|bound| + abs, elementwise."""
        v, b = np.broadcast_arrays(_as_array(measured), _as_array(bound))
        self._check(name, "upper bound", v, b, v - b, rel * np.abs(b) + abs, rel, abs, headline,
                    "should be <=", unit)

    def lower_bound(self, name: str, measured: Any, bound: Any, *, rel: Any = 0.0, abs: Any = 0.0,
                    headline: bool = False, unit: str = "") -> None:
        """measured >= bound - rel*|bound| - abs, elementwise."""
        v, b = np.broadcast_arrays(_as_array(measured), _as_array(bound))
        self._check(name, "lower bound", v, b, b - v, rel * np.abs(b) + abs, rel, abs, headline,
                    "should be >=", unit)

    def monotone(self, name: str, sequence: Any, *, abs: float = 0.0, decreasing: bool = True,
                 axis: int = 0, headline: bool = False) -> None:
        """Along ``axis``: v[k+1] <= v[k] + abs (decreasing) or v[k+1] >= v[k] - abs.
        Recorded value: the worst step against the direction."""
        s = np.moveaxis(_as_array(sequence), axis, 0)
        step = s[1:] - s[:-1]
        worst = step.max(axis=0) if decreasing else (-step).max(axis=0)
        self._check(name, "monotone", worst, np.zeros_like(worst), worst, np.full_like(worst, abs), 0.0,
                    abs, headline, "(worst step against the direction) should be <=", "")

    def holds(self, name: str, condition: Any, detail: str = "", *, headline: bool = False) -> None:
        """A boolean property (exact equivalence, a sign, a label); all elements must hold."""
        c = np.asarray(condition, dtype=bool)
        rec = {"passed": bool(c.all()), "size": int(c.size), "failures": int((~c).sum()),
               "detail": detail, "usage": 0.0 if c.all() else math.inf}
        self._store(name, "holds", rec, headline)
        if not c.all():
            first = tuple(int(i) for i in np.argwhere(~c)[0]) if c.ndim else ()
            raise AssertionError(f"property {name!r} fails for {int((~c).sum())}/{c.size} cases"
                                 f"{' (first at ' + str(first) + ')' if first else ''}: {detail}")

    # --------------------------------------------------------------- figures
    def figure(self, name: str, draw: Callable[[Any], Any], caption: str = "") -> None:
        """Draw a figure with ``draw(fig)``; saved as PNG next to the results file.

        Skipped (not drawn) when figures are off (``--no-figures``)."""
        if self.figure_dir is None or any(f["name"] == name for f in self.figures):
            return  # figures off, or already drawn for an earlier hypothesis example
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(5.5, 3.6), dpi=100)
        try:
            draw(fig)
            fig.tight_layout()
            self.figure_dir.mkdir(parents=True, exist_ok=True)
            test = self.nodeid.split("::")[-1] if self.nodeid else "check"
            stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{'+'.join(self.claims) or 'check'}__{test}__{name}")
            path = self.figure_dir / f"{stem}.png"
            fig.savefig(path)
        finally:
            plt.close(fig)
        self.figures.append({"name": name, "path": _portable(path), "caption": caption})

    # ---------------------------------------------------------------- export
    def to_json(self) -> dict[str, Any]:
        return _jsonable({
            "predicates": self.predicates,
            "values": self.values,
            "params": self.params,
            "seed": self.seed,
            "figures": self.figures,
            "notes": self.notes,
            "on_pass": self.on_pass,
            "on_pass_reason": self.on_pass_reason,
            "counterexample": self.counterexample,
            "resolution": self.resolution_text,
            "headline": self.headline,
        })
