"""Self-tests of the verdict policy (reports/verdict.py) and of the per-check merge of
results files (reports/results.py): no verdict from a partial run, a rerun of part of
the suite keeps every other claim's evidence, each record keeps its own provenance."""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import reports.__main__ as cli
from reports.catalogue import ROOT, Claim, load
from reports.render import report_model
from reports.results import claim_verdict, load as load_results, merge, write_atomic, write_results
from reports.verdict import claim_status, inventory_tiers, pointer_of

OLD, NEW = "1" * 40, "2" * 40


def _claim(*checks: str, expected: str = "verified") -> Claim:
    return Claim(id="c", title="c", section="s", expected=expected, tier="fast", order=1, file="x.toml",
                 checks=tuple(checks))


def _rec(nodeid: str, outcome: str = "passed", on_pass: str = "verified", tier: str = "fast",
         control: bool = False, claims=("c",), message: str = "", scale: str | None = None) -> dict:
    return {"nodeid": nodeid, "claims": list(claims), "outcome": outcome, "control": control, "tier": tier,
            "message": message, "evidence": {"on_pass": on_pass}, "scale": scale}


A, B = "checks/test_c.py::test_a", "checks/test_c.py::test_b"


def test_pointer_of_drops_parameters_and_classes():
    assert pointer_of("checks/test_c.py::test_a[0.1-3]") == A
    assert pointer_of("checks/test_c.py::TestX::test_a") == A
    assert pointer_of("checks/test_c.py") == "checks/test_c.py"


@pytest.mark.parametrize("records, verdict", [
    ([], "not run"),                                                              # listed checks, none ran
    ([_rec(A), _rec(B)], "verified"),
    ([_rec(A + "[1]"), _rec(A + "[2]"), _rec(B)], "verified"),                   # parametrised pointers
    ([_rec(A)], "partial"),                                                       # B not run
    ([_rec(A), _rec(B, "skipped", tier="gpu")], "verified"),                     # gpu replication pending, not partial
    ([_rec(A), _rec(B, tier="gpu", on_pass="inconclusive", scale="tiny")], "verified"),  # tiny scale: code path only
    ([_rec(A), _rec(B, tier="gpu", on_pass="inconclusive", scale="full")], "inconclusive"),  # full scale counts
    ([_rec(A), _rec(B, "failed", tier="gpu", scale="full")], "failed"),
    ([_rec(A + "[1]"), _rec(A + "[2]", "skipped"), _rec(B)], "partial"),         # one parametrisation skipped
    ([_rec(A), _rec(B, "failed")], "failed"),
    ([_rec(A, "error"), _rec(B, "failed")], "error"),
    ([_rec(A), _rec(B), _rec("checks/quality/q.py::test_bug", "failed", control=True)], "failed"),
    ([_rec(A), _rec("checks/quality/q.py::test_bug", "error", control=True)], "error"),   # error > partial
    ([_rec(A, "failed")], "failed"),                                              # failed > partial
    ([_rec(A, on_pass="corrected"), _rec(B)], "corrected"),
    ([_rec(A, on_pass="corrected"), _rec(B, on_pass="inconclusive")], "inconclusive"),
    ([_rec(A, on_pass="corrected"), _rec(B, on_pass="refuted")], "refuted"),
    ([_rec(A, on_pass="inconclusive"), _rec(B, on_pass="refuted")], "refuted"),
    ([_rec(A, on_pass="refuted")], "partial"),                                    # partial > refuted
    ([_rec(A, "skipped"), _rec(B, "skipped")], "not run"),
    ([_rec(A, on_pass="corrected"), _rec(B, on_pass="corrected")], "inconclusive"),   # corrected half unearned
])
def test_claim_verdict_policy(records, verdict):
    assert claim_verdict(_claim(A, B), records) == verdict


def test_a_literal_counterexample_alone_does_not_earn_corrected():
    """Nothing verifies the corrected statement: cited where the catalogue says no program can, else inconclusive."""
    assert claim_verdict(_claim(A), [_rec(A, on_pass="corrected")]) == "inconclusive"
    assert claim_verdict(_claim(A, expected="cited"), [_rec(A, on_pass="corrected")]) == "cited"


def test_claims_without_listed_checks():
    assert claim_verdict(_claim(), []) == "not yet checked"
    assert claim_verdict(_claim(expected="cited"), []) == "cited"
    assert claim_verdict(_claim(), [_rec(A)]) == "verified"          # nothing listed: what ran decides
    assert claim_verdict(_claim(), [_rec("q", control=True)]) == "not run"
    cat = load()
    assert claim_verdict(cat["minimax.hardness"], []) == "cited"


def test_partial_detail_names_the_tiers():
    st = claim_status(_claim(A, B, "checks/test_c.py::test_c", "checks/test_c.py::test_d"),
                      [_rec(A), _rec(B, "skipped", tier="gpu", message="Skipped: gpu check: no CUDA")],
                      inventory_tiers([], {"checks/test_c.py::test_c": "slow", "checks/test_c.py::test_d[3]": "slow"}))
    assert st.verdict == "partial" and st.interim == "verified"
    assert st.detail == "fast checks only; 2 slow checks not run"
    assert [(n.pointer, n.reason) for n in st.pending] == [(B, "gpu check: no CUDA")]
    gpu_only = claim_status(_claim(B), [], {B: "gpu"})
    assert gpu_only.verdict == "not run" and gpu_only.detail == "1 gpu check not run (needs CUDA)"
    tiny_only = claim_status(_claim(B), [_rec(B, tier="gpu", on_pass="inconclusive", scale="tiny")])
    assert tiny_only.verdict == "not run" and tiny_only.detail == "1 gpu check not run (tiny scale: code path only)"
    unknown = claim_status(_claim(A, B), [_rec(A)])
    assert unknown.detail == "fast checks only; 1 check not run (not collected in any run)"


# ------------------------------------------------------------------ merging
def _prov(sha: str, finished: float, tier: str = "fast") -> dict:
    return {"git": {"sha": sha, "dirty": False}, "tier": tier, "started": finished - 1, "finished": finished,
            "command": f"python -m pytest checks --tier {tier}", "device": {"platform": "Linux", "cpu_count": 2}}


@pytest.fixture
def catalogue(tmp_path):
    folder = tmp_path / "catalogue"
    folder.mkdir()
    (folder / "01-t.toml").write_text('''
[[claim]]
id = "one"
title = "first"
expected = "verified"
tier = "fast"
checks = ["checks/test_c.py::test_a"]

[[claim]]
id = "two"
title = "second"
expected = "verified"
tier = "fast"
checks = ["checks/test_c.py::test_b"]
''', encoding="utf-8")
    return load(str(folder))


def test_rerun_of_one_check_keeps_the_other_claims_and_their_provenance(tmp_path, catalogue):
    path = tmp_path / "results-fast.json"
    write_results(path, catalogue, {A: _rec(A, claims=["one"]), B: _rec(B, claims=["two"])}, _prov(OLD, 100.0))
    data = write_results(path, catalogue, {A: _rec(A, claims=["one"])}, _prov(NEW, 200.0))
    assert set(data["checks"]) == {A, B}
    assert {c: v["verdict"] for c, v in data["claims"].items()} == {"one": "verified", "two": "verified"}
    assert data["checks"][A]["provenance"]["git"]["sha"] == NEW
    assert data["checks"][B]["provenance"]["git"]["sha"] == OLD
    assert [r["git"]["sha"] for r in data["runs"]] == [OLD, NEW]
    assert load_results(path) == data
    model = report_model(catalogue, data, head_sha=NEW)
    stale = {v.nodeid: v.stale for c in model.claims for v in c.checks}
    assert stale == {A: "", B: OLD[:10]}
    assert [c.stale for c in model.claims] == [0, 1]


def test_a_skip_never_replaces_a_result_and_a_later_result_does(tmp_path, catalogue):
    path = tmp_path / "results-gpu.json"
    write_results(path, catalogue, {A: _rec(A, claims=["one"], tier="gpu")}, _prov(OLD, 100.0, "gpu"))
    data = write_results(path, catalogue, {A: _rec(A, "skipped", claims=["one"], tier="gpu")}, _prov(NEW, 200.0, "gpu"))
    assert data["checks"][A]["outcome"] == "passed" and data["checks"][A]["provenance"]["git"]["sha"] == OLD
    data = write_results(path, catalogue, {A: _rec(A, "failed", claims=["one"], tier="gpu")}, _prov(NEW, 50.0, "gpu"))
    assert data["checks"][A]["outcome"] == "failed", "the newest run wins, whatever the writing machine's clock"


def test_records_of_vanished_checks_are_dropped_and_unreadable_files_kept_aside(tmp_path, catalogue):
    root = tmp_path / "repo"
    (root / "checks").mkdir(parents=True)
    (root / "checks" / "test_c.py").write_text("def test_a():\n    pass\n", encoding="utf-8")
    path = tmp_path / "r.json"
    gone = "checks/test_gone.py::test_x"
    write_results(path, catalogue, {A: _rec(A, claims=["one"]), B: _rec(B, claims=["two"]),
                                    gone: _rec(gone, claims=["two"])}, _prov(OLD, 100.0))
    data = write_results(path, catalogue, {}, _prov(NEW, 200.0), root=root)
    assert set(data["checks"]) == {A}, "test_b (function gone) and test_gone.py (file gone) are dropped"
    path.write_text("{truncated", encoding="utf-8")
    data = write_results(path, catalogue, {A: _rec(A, claims=["one"])}, _prov(NEW, 300.0))
    assert "unreadable" in data["provenance"]["replaced_unreadable"]
    assert len(list(tmp_path.glob("r.json.unreadable-*"))) == 1


def test_schema_1_files_without_record_provenance_still_merge(tmp_path, catalogue):
    """A results file written before per-check provenance existed (provenance only at the top)."""
    old = {"schema": 1, "partial": False, "provenance": _prov(OLD, 100.0),
           "checks": {B: _rec(B, claims=["two"])}, "claims": {}}
    write_atomic(tmp_path / "old.json", old)
    new = write_results(tmp_path / "new.json", catalogue, {A: _rec(A, claims=["one"])}, _prov(NEW, 200.0))
    merged = merge(catalogue, [load_results(tmp_path / "old.json"), new])
    assert merged["checks"][B]["provenance"]["git"]["sha"] == OLD
    assert {c: v["verdict"] for c, v in merged["claims"].items()} == {"one": "verified", "two": "verified"}
    assert len(merged["provenance"]["merged_from"]) == 2


SAMPLE = '''
import pytest

@pytest.mark.claim("bilinear.gda-diverges")
def test_one(evidence):
    evidence.holds("ran", True)

@pytest.mark.claim("bilinear.ppm-converges")
def test_two(evidence):
    evidence.holds("ran", True)
'''


def test_rerunning_one_check_through_pytest_keeps_the_other(tmp_path):
    """The plugin's results writer merges: `-k test_two` after a full run of the file keeps test_one."""
    folder = ROOT / "checks" / f".selftest-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        (folder / "sample.py").write_text(SAMPLE, encoding="utf-8")
        results = tmp_path / "results.json"
        run = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", str(folder / "sample.py"),
               "--results", str(results), "--no-figures"]
        for extra in ([], ["-k", "test_two"]):
            done = subprocess.run(run + extra, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        data = json.loads(results.read_text(encoding="utf-8"))
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    assert sorted(k.split("::")[-1] for k in data["checks"]) == ["test_one", "test_two"]
    one, two = (data["checks"][k] for k in sorted(data["checks"]))
    assert one["provenance"]["finished"] < two["provenance"]["finished"]
    assert len(data["runs"]) == 2
    assert sorted(k.split("::")[-1] for k in data["collected"]) == ["test_one", "test_two"]


# --------------------------------------------------------------------- diff
def _with_verdicts(path: Path, verdicts: dict[str, str]) -> Path:
    write_atomic(path, {"schema": 1, "partial": False, "provenance": {}, "checks": {},
                        "claims": {c: {"verdict": v, "checks": [], "controls": []} for c, v in verdicts.items()}})
    return path


@pytest.mark.parametrize("before, after, rc", [
    ("verified", "verified", 0), ("verified", "failed", 1), ("refuted", "inconclusive", 1),
    ("verified", "not run", 1), ("inconclusive", "error", 1), ("inconclusive", "verified", 0),
    ("failed", "verified", 0), ("not yet checked", "verified", 0), ("inconclusive", "not run", 0),
    ("verified", "partial", 1), ("corrected", "partial", 1), ("corrected", "failed", 1),
    ("partial", "error", 1), ("partial", "verified", 0), ("verified", "corrected", 0),
    ("refuted", "corrected", 0),
])
def test_diff_exit_codes(tmp_path, capsys, before, after, rc):
    base = _with_verdicts(tmp_path / "base.json", {"a": before, "b": "cited"})
    head = _with_verdicts(tmp_path / "head.json", {"a": after, "b": "cited"})
    assert cli.main(["diff", str(base), str(head)]) == rc
    out = capsys.readouterr().out
    assert (f"a: {before} → {after}" in out) == (before != after)
    assert "b:" not in out
