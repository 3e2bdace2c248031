"""Harness self-tests of the pytest plugin (conftest.py), run as real pytest sessions."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from reports.catalogue import ROOT

SAMPLE = '''
import pytest

@pytest.mark.claim("bilinear.gda-diverges")
def test_passes(evidence):
    evidence.parameters(alpha=0.1)
    evidence.tight("growth", 1.004987562112089, (1 + 0.1**2) ** 0.5, rel=1e-12)

@pytest.mark.claim("bilinear.ppm-converges")
def test_fails(evidence):
    evidence.upper_bound("factor", 1.5, 1.0)

@pytest.mark.claim("bilinear.eg-converges")
def test_errors(evidence):
    raise ValueError("implementation crashed")

@pytest.mark.claim("bilinear.slide-formula-3")
def test_refutes(evidence):
    evidence.refutes("the printed threshold is off")
    evidence.holds("counterexample found", True)
'''


@pytest.fixture
def sandbox():
    """A throw-away folder inside the checkout (so the root conftest applies), ignored by collection."""
    folder = ROOT / "checks" / f".selftest-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_results_file_verdicts_and_reproduce_line(sandbox):
    (sandbox / "sample.py").write_text(SAMPLE)
    results = sandbox / "results.json"
    done = _pytest(str(sandbox / "sample.py"), "--results", str(results), "--no-figures")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "reproduce this check" in done.stdout
    assert "python -m pytest checks/" in done.stdout and "test_fails" in done.stdout
    data = json.loads(results.read_text())
    assert data["schema"] == 1 and data["partial"] is False
    assert data["provenance"]["hypothesis_profile"] == "ci"
    outcomes = {k.split("::")[-1]: v["outcome"] for k, v in data["checks"].items()}
    assert outcomes == {"test_passes": "passed", "test_fails": "failed", "test_errors": "error",
                        "test_refutes": "passed"}
    verdicts = {k: v["verdict"] for k, v in data["claims"].items()}
    # the sample passes, but the claims' own catalogue checks did not run: no verdict from a partial run
    assert verdicts["bilinear.gda-diverges"] == "partial"
    assert data["claims"]["bilinear.gda-diverges"]["interim"] == "verified"
    assert verdicts["bilinear.ppm-converges"] == "failed"
    assert verdicts["bilinear.eg-converges"] == "error"
    assert verdicts["bilinear.slide-formula-3"] == "partial"
    assert data["claims"]["bilinear.slide-formula-3"]["interim"] == "refuted"
    rec = next(v for k, v in data["checks"].items() if k.endswith("test_passes"))
    assert rec["evidence"]["predicates"]["growth"]["passed"] is True
    assert rec["evidence"]["params"] == {"alpha": 0.1}
    assert results.stat().st_mode & 0o044, "results file must be readable by others"


def test_unknown_claim_id_stops_the_run(sandbox):
    (sandbox / "sample.py").write_text('import pytest\n\n@pytest.mark.claim("no.such-claim")\n'
                                       'def test_x():\n    pass\n')
    done = _pytest(str(sandbox / "sample.py"), "--results", str(sandbox / "r.json"))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "unknown claim id 'no.such-claim'" in done.stderr
