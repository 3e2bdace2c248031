"""Harness self-tests: the catalogue and the checks agree, and every check has a control."""
from __future__ import annotations

import importlib
import inspect
from functools import lru_cache
from pathlib import Path

import pytest

from reports.catalogue import ROOT, dangling_check_pointers, load

CHECKS = ROOT / "checks"


def _test_functions(path: Path) -> list[tuple[str, object]]:
    """The test functions of the module at ``path`` (under checks/), imported: what pytest collects
    there (a table of controls may be made by a helper of another module)."""
    module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return [(name, fn) for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)]


def _claim_markers() -> dict[str, set[str]]:
    """'checks/file.py::function' -> the claim ids of its @pytest.mark.claim marks: the function's own
    and its parametrize cases' (a control table holds the cases of several claims, each case marked
    with its claim), read from the imported modules, as pytest collects them."""
    out: dict[str, set[str]] = {}
    for path in sorted(CHECKS.glob("test_*.py")) + sorted((CHECKS / "quality").glob("test_*.py")):
        for name, fn in _test_functions(path):
            ids = {cid for mark in _case_marks(fn, "claim") for cid in mark.args}
            if ids:
                out[f"{path.relative_to(ROOT).as_posix()}::{name}"] = ids
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


# ------------------------------------------------------------------ frozen predictions (issue 13)
LOCK = ROOT / "reports" / "catalogue" / "expected.lock.toml"
#: sha256 of the lock's [first] table (json, sorted keys): the predictions as first written. A change
#: here is a change of the record of what was predicted; it needs a reason in the commit, not a result.
FIRST_SHA256 = "d365fc56c1e98cb3cad92e2621b926ad3a150adb16abf3b6f79decb104356240"


def _lock() -> dict:
    import tomllib

    return tomllib.loads(LOCK.read_text(encoding="utf-8"))


def _locked_expectations(lock: dict) -> dict[str, str]:
    locked = dict(lock["first"])
    for change in lock.get("change", []):
        locked[change["id"]] = change["after"]
    return locked


def test_first_predictions_are_unedited():
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(_lock()["first"], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    assert digest == FIRST_SHA256, (
        "the [first] table of reports/catalogue/expected.lock.toml was edited: it records the predictions "
        "as first written and is never changed; change a prediction with a dated [[change]] entry instead "
        "(CONTRIBUTING.md, 'Changing a prediction')")


def test_every_change_of_a_prediction_is_dated_and_explained():
    import re

    from reports.catalogue import EXPECTED

    lock = _lock()
    current = dict(lock["first"])
    for change in lock.get("change", []):
        cid = change.get("id", "")
        where = f"[[change]] for {cid!r}"
        assert cid in current, f"{where}: unknown claim id"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", change.get("date", "")), f"{where}: date must be YYYY-MM-DD"
        assert change.get("before") == current[cid], (
            f"{where}: before = {change.get('before')!r}, but the locked expectation was {current[cid]!r}")
        assert change.get("after") in EXPECTED and change["after"] != change["before"], f"{where}: bad `after`"
        assert len(change.get("reason", "").strip()) >= 20, f"{where}: give the reason (not a result)"
        current[cid] = change["after"]


def test_catalogue_expectations_match_the_lock():
    claims = load()
    locked = _locked_expectations(_lock())
    assert set(locked) == set(claims), (
        f"lock and catalogue disagree on the claim ids: only in the lock {sorted(set(locked) - set(claims))}, "
        f"only in the catalogue {sorted(set(claims) - set(locked))}")
    edited = [f"{cid}: catalogue expected = {c.expected!r}, locked = {locked[cid]!r}"
              for cid, c in claims.items() if c.expected != locked[cid]]
    assert not edited, (
        "catalogue `expected` differs from reports/catalogue/expected.lock.toml — a prediction is never "
        "edited to match a result (keep the SURPRISE); a genuine change of prediction is a dated [[change]] "
        "entry in the lock with its reason (CONTRIBUTING.md, 'Changing a prediction'):\n" + "\n".join(edited))


def test_corrected_needs_a_verified_corrected_statement():
    """The verdict policy in results.claim_verdict: `corrected` = literal counterexample AND the
    corrected statement verified by another check; a lone literal counterexample earns no
    `corrected` (cited where the catalogue says no program can check the corrected statement)."""
    from dataclasses import replace

    from reports.results import claim_verdict

    # the claims without their checks lists: these records stand for every check (no partial run)
    cat = {cid: replace(c, checks=()) for cid, c in load().items()}
    rec = lambda on_pass: {"outcome": "passed", "control": False, "evidence": {"on_pass": on_pass}}  # noqa: E731
    claim = cat["sgd.q3-thm4-rate"]
    assert claim_verdict(claim, [rec("corrected"), rec("verified")]) == "corrected"
    assert claim_verdict(claim, [rec("corrected")]) == "inconclusive"
    assert claim_verdict(cat["robust.curse-of-dimensionality"], [rec("corrected")]) == "cited"
    assert claim_verdict(claim, [rec("corrected"), rec("verified"), rec("inconclusive")]) == "inconclusive"
    assert claim_verdict(claim, [rec("corrected"), rec("refuted")]) == "refuted"


def test_corrected_entries_state_their_correction():
    """An entry predicted `corrected` writes out the corrected statement its other checks verify, and an
    entry with a one-line counterexample (the errata renders it) says what it corrects."""
    claims = load()
    missing = [cid for cid, c in claims.items() if c.expected == "corrected" and not c.corrected_statement.strip()]
    assert not missing, "expected = corrected but no corrected_statement: " + ", ".join(missing)
    orphans = [cid for cid, c in claims.items() if c.counterexample.strip() and not c.corrected_statement.strip()]
    assert not orphans, "counterexample without corrected_statement: " + ", ".join(orphans)

# ------------------------------------------------ near-miss and wrong-world controls
# Every check of a claim whose expected verdict is verified or corrected needs a near-miss
# control (the claim violated by a small stated margin, rejected by the same check) or an
# exemption on the check, @pytest.mark.no_near_miss("why no numeric near miss exists"); every
# such claim needs a wrong-world control (a near miss is one) on one of its checks, or an
# exemption @pytest.mark.no_wrong_world("why no world can falsify it") on one of its checks.
# Read from the marks of the imported modules: nothing is scanned as text.
#
# Sections whose owners are still adding their controls: strict xfail, so that the owner must
# delete the entry once the section complies (an XPASS fails the run). Empty at the end.
PENDING_SECTIONS: dict[str, str] = {}
DEMANDING = ("verified", "corrected")


def _pointer_of(target) -> str:
    """'checks/x.py::fn' for a check function (a pointer string is returned as is)."""
    if isinstance(target, str):
        return target
    path = Path(inspect.getsourcefile(inspect.unwrap(target))).resolve()
    return f"{path.relative_to(ROOT).as_posix()}::{target.__name__}"


def _marks(obj) -> list:
    return list(getattr(obj, "pytestmark", []))


def _case_marks(fn, name: str) -> list:
    """The marks called ``name`` of a test function, its own and those of its parametrize cases."""
    out = [m for m in _marks(fn) if m.name == name]
    for m in _marks(fn):
        if m.name == "parametrize":
            values = m.args[1] if len(m.args) > 1 else m.kwargs.get("argvalues", [])
            for v in values:
                out.extend(x for x in getattr(v, "marks", ()) if x.name == name)
    return out


@lru_cache(maxsize=1)
def _controls_by_target() -> dict[str, set[str]]:
    """'checks/x.py::fn' -> the control kinds that target it (marks with ``of=``)."""
    out: dict[str, set[str]] = {}
    for path in sorted((CHECKS / "quality").glob("test_*.py")):
        for _, fn in _test_functions(path):
            for mark in _case_marks(fn, "control"):
                target = mark.kwargs.get("of")
                if target is not None and mark.args:
                    out.setdefault(_pointer_of(target), set()).add(mark.args[0])
    return out


def _check_function(pointer: str):
    file, _, name = pointer.partition("::")
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    return getattr(module, name.split("[")[0])


def _exemption(fn, name: str) -> str | None:
    for mark in _marks(fn):
        if mark.name == name:
            reason = (mark.args[0] if mark.args else mark.kwargs.get("reason", "")).strip()
            return reason or None
    return None


def _section_problems(section: str) -> list[str]:
    controls = _controls_by_target()
    problems = []
    for claim in load().values():
        if not claim.file.startswith(section + "-") or claim.expected not in DEMANDING or not claim.checks:
            continue
        wrong_world, exempt = False, None
        for pointer in claim.checks:
            fn = _check_function(pointer)
            kinds = controls.get(pointer.split("[")[0], set())
            wrong_world |= bool(kinds & {"wrong_world", "near_miss"})
            exempt = exempt or _exemption(fn, "no_wrong_world")
            if "near_miss" not in kinds and not _exemption(fn, "no_near_miss"):
                problems.append(f"{claim.id}: {pointer} has no near-miss control and no no_near_miss(reason)")
        if not wrong_world and not exempt:
            problems.append(f"{claim.id}: no wrong-world (or near-miss) control on any of its checks and no "
                            "no_wrong_world(reason)")
    return problems


SECTIONS = sorted({p.name.split("-", 1)[0] for p in (ROOT / "reports" / "catalogue").glob("*.toml")})


@pytest.mark.parametrize("section", [
    pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=f"pending: {PENDING_SECTIONS[s]} is adding the "
                                                                  "section's controls"))
    if s in PENDING_SECTIONS else s for s in SECTIONS])
def test_every_verified_check_has_a_near_miss_and_a_wrong_world(section):
    problems = _section_problems(section)
    assert not problems, f"section {section}: {len(problems)} gaps:\n" + "\n".join(problems)
