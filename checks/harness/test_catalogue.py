"""Harness self-tests: the catalogue and the checks agree, and every check has a control."""
from __future__ import annotations

import ast
from pathlib import Path

from reports.catalogue import ROOT, dangling_check_pointers, load

CHECKS = ROOT / "checks"


def _claim_markers() -> dict[str, set[str]]:
    """'checks/file.py::function' -> claim ids of its @pytest.mark.claim decorators (static scan)."""
    out: dict[str, set[str]] = {}
    for path in sorted(CHECKS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for dec in node.decorator_list:
                if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                        and dec.func.attr == "claim"):
                    ids = {a.value for a in dec.args if isinstance(a, ast.Constant)}
                    out.setdefault(f"{path.relative_to(ROOT).as_posix()}::{node.name}", set()).update(ids)
    return out


def test_catalogue_has_every_tutorial_claim():
    claims = load()
    assert len(claims) == 125, f"expected the 125 claims of shared/claims, found {len(claims)}"
    parts = [c.part for c in claims.values()]
    assert parts.count("optim") == 70 and parts.count("overparam") == 55


def test_no_dangling_check_pointers():
    assert dangling_check_pointers(load()) == []


def test_every_check_is_listed_in_its_catalogue_entry():
    claims = load()
    markers = _claim_markers()
    unlisted = [f"{fn} ({cid})" for fn, ids in markers.items() if "/quality/" not in fn
                for cid in ids if fn not in claims[cid].checks]
    assert not unlisted, "checks missing from their catalogue entry's `checks`:\n" + "\n".join(unlisted)


def test_every_checked_claim_has_a_negative_control():
    claims = load()
    controlled = {cid for fn, ids in _claim_markers().items() if "/quality/" in fn for cid in ids}
    missing = [cid for cid, c in claims.items() if c.checks and cid not in controlled]
    assert not missing, "claims with checks but no planted bug in checks/quality/: " + ", ".join(missing)
