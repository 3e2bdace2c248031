"""Declared dependencies: ``@pytest.mark.claim("bilinear.eg-converges", uses=["extragradient"])``
names, with the claim a check tests, the registry entries it looks up. A name may be a template of
the check's parameters (``"init_{scheme}"`` is filled from its ``parametrize`` value), so a check
that builds a name at run time declares it too.

``--impl-only`` selects on these declarations, and the ``algorithm`` fixture refuses a lookup of a
name the check did not declare. So that ``--impl-only`` need not import every check module (and
torch with many of them) to read the declarations, ``checks/plugin/uses.json`` lists them per check
file, read from the imported modules' marks (templates filled from ``parametrize`` values) by
``python -m checks.plugin.uses`` (the harness test
``checks/harness/test_selection.py`` fails when the file is stale); a file it does not list is
imported and selected on its marks.
"""
from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import pytest

ROOT = Path(__file__).resolve().parents[2]
INDEX = Path(__file__).with_name("uses.json")
_FIELD = re.compile(r"\{(\w+)\}")


def matches(pattern: str, name: str) -> bool:
    """Whether the declared ``pattern`` (a name, or a template with ``{param}`` fields) can be ``name``."""
    if "{" not in pattern:
        return pattern == name
    regex = "".join(".+" if part.startswith("{") else re.escape(part)
                    for part in re.split(r"(\{\w+\})", pattern) if part)
    return re.fullmatch(regex, name) is not None


def declared(item: pytest.Item) -> frozenset[str]:
    """The names ``item`` declares, templates filled from its parameters."""
    params: dict[str, Any] = getattr(getattr(item, "callspec", None), "params", {})
    out = set()
    for pattern in _declared_patterns(item.iter_markers("claim")):
        fields = _FIELD.findall(pattern)
        missing = [f for f in fields if f not in params]
        if missing:
            raise pytest.UsageError(f"{item.nodeid}: uses={pattern!r} names the parameter(s) {missing}, which the "
                                    f"check does not have")
        out.add(_FIELD.sub(lambda m: str(params[m.group(1)]), pattern))
    return frozenset(out)


def _declared_patterns(marks: Iterable[Any]) -> list[str]:
    out = []
    for mark in marks:
        names = mark.kwargs.get("uses", ())
        if isinstance(names, str):
            raise pytest.UsageError(f"claim(..., uses={names!r}): give a list of names, e.g. uses=[{names!r}]")
        out.extend(names)
    return out


def check_files(root: Path = ROOT) -> list[Path]:
    """The claim checks (controls and harness self-tests never run under --impl-only)."""
    return sorted((root / "checks").glob("test_*.py"))


def patterns_of(module: Any) -> list[str]:
    """The names the module's own test functions declare (templates filled from their
    ``parametrize`` values where those give them; a template they do not fill is kept)."""
    module_marks = list(_marks(getattr(module, "pytestmark", [])))
    out: set[str] = set()
    for attr, obj in vars(module).items():
        if attr.startswith("test") and callable(obj) and getattr(obj, "__module__", None) == module.__name__:
            marks = module_marks + list(_marks(getattr(obj, "pytestmark", [])))
            rows = _parameter_rows([m for m in marks if m.name == "parametrize"])
            for pattern in _declared_patterns(m for m in marks if m.name == "claim"):
                out.update(_fill(pattern, rows))
    return sorted(out)


def _marks(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else [value]


def _parameter_rows(parametrize: list[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{}]
    for mark in parametrize:
        argnames = mark.args[0]
        argnames = [a.strip() for a in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
        values = []
        for v in mark.args[1]:
            if hasattr(v, "values") and hasattr(v, "marks"):  # pytest.param(...)
                v = v.values
            elif len(argnames) == 1:
                v = (v,)
            values.append(dict(zip(argnames, v)))
        rows = [{**r, **v} for r in rows for v in values]
    return rows


def _fill(pattern: str, rows: list[dict[str, Any]]) -> set[str]:
    fields = _FIELD.findall(pattern)
    if not fields:
        return {pattern}
    return {_FIELD.sub(lambda m: str(r[m.group(1)]), pattern) if all(f in r for f in fields) else pattern
            for r in rows}


def live_index(root: Path = ROOT) -> dict[str, list[str]]:
    """The declarations as the check modules hold them (imports every check module)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return {path.relative_to(root).as_posix():
            patterns_of(importlib.import_module(f"checks.{path.stem}")) for path in check_files(root)}


def load_index() -> dict[str, list[str]]:
    try:
        return json.loads(INDEX.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def main(argv: list[str]) -> int:
    """``python -m checks.plugin.uses``: rewrite checks/plugin/uses.json; ``--check``: exit 1 if stale."""
    live = live_index()
    if "--check" in argv:
        stale = live != load_index()
        print(f"{INDEX.relative_to(ROOT)} is {'STALE: run python -m checks.plugin.uses' if stale else 'up to date'}")
        return int(stale)
    INDEX.write_text(json.dumps(live, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {INDEX.relative_to(ROOT)}: {len(live)} check files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
