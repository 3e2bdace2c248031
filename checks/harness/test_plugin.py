"""Harness self-tests of the pytest plugin (checks/plugin/), run as pytest sessions with pytest's
own ``pytester``: in-process where the session's state stays its own, in a subprocess for xdist."""
from __future__ import annotations

import json

import pytest
from hypothesis import settings

from checks.plugin import results as results_plugin
from checks.plugin.options import cuda_available
from reports.catalogue import ROOT

pytest_plugins = ["pytester"]

# torch loads once per process: imported before pytester snapshots sys.modules (a run's imports are
# forgotten after it; importing torch again would crash the interpreter)
import torch  # noqa: E402,F401

LOADS_THE_PLUGIN = "from checks.plugin import PLUGINS\npytest_plugins = PLUGINS\n"

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

TIERS = '''
import pytest
from hypothesis import settings
from checks.support import examples

PROFILE_AT_IMPORT = settings.get_current_profile_name()
EXAMPLES_AT_IMPORT = examples(10)

@pytest.mark.claim("bilinear.gda-diverges")
def test_fast(evidence):
    evidence.parameters(profile=PROFILE_AT_IMPORT, examples=EXAMPLES_AT_IMPORT)

@pytest.mark.slow
@pytest.mark.claim("bilinear.gda-diverges")
def test_slow():
    pass

@pytest.mark.network
@pytest.mark.claim("bilinear.gda-diverges")
def test_network():
    pass

@pytest.mark.gpu
@pytest.mark.claim("bilinear.gda-diverges")
def test_gpu(device, scale):
    assert (device, scale) == ("cpu", "tiny")
'''


@pytest.fixture
def sandbox(pytester):
    pytester.makeconftest(LOADS_THE_PLUGIN)
    return pytester


def _checks(path) -> dict:
    data = json.loads(path.read_text())
    return data, {k.split("::")[-1]: v for k, v in data["checks"].items()}


def test_results_file_verdicts_and_reproduce_line(sandbox):
    sandbox.makepyfile(test_sample=SAMPLE)
    results = sandbox.path / "results.json"
    run = sandbox.runpytest("--results", str(results), "--no-figures")
    assert run.ret == 1
    run.stdout.fnmatch_lines(["*reproduce this check*", "python -m pytest test_sample.py::test_fails --tier all*"])
    data, checks = _checks(results)
    assert data["schema"] == 1 and data["partial"] is False
    assert data["provenance"]["hypothesis_profile"] == "ci"
    assert {k: v["outcome"] for k, v in checks.items()} == {"test_passes": "passed", "test_fails": "failed",
                                                             "test_errors": "error", "test_refutes": "passed"}
    verdicts = {k: v["verdict"] for k, v in data["claims"].items()}
    # the sample passes, but the claims' own catalogue checks did not run: no verdict from a partial run
    assert verdicts["bilinear.gda-diverges"] == "partial"
    assert data["claims"]["bilinear.gda-diverges"]["interim"] == "verified"
    assert verdicts["bilinear.ppm-converges"] == "failed"
    assert verdicts["bilinear.eg-converges"] == "error"
    assert verdicts["bilinear.slide-formula-3"] == "partial"
    assert data["claims"]["bilinear.slide-formula-3"]["interim"] == "refuted"
    assert checks["test_passes"]["evidence"]["predicates"]["growth"]["passed"] is True
    assert checks["test_passes"]["evidence"]["params"] == {"alpha": 0.1}
    assert results.stat().st_mode & 0o044, "results file must be readable by others"
    run.stdout.fnmatch_lines(["*claims: *partial*", f"results: {results}*"])


def test_unknown_claim_id_stops_the_run(sandbox):
    sandbox.makepyfile(test_sample='import pytest\n\n@pytest.mark.claim("no.such-claim")\ndef test_x():\n    pass\n')
    run = sandbox.runpytest("--results", str(sandbox.path / "r.json"))
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*unknown claim id 'no.such-claim'*"])


def test_tiers_profiles_seed_and_progress(sandbox):
    from problems.runtime import seed_shift

    outer_profile, outer_shift = settings.get_current_profile_name(), seed_shift()
    sandbox.makepyfile(test_tiers=TIERS)
    results = sandbox.path / "r.json"
    run = sandbox.runpytest("--results", str(results), "--tier", "cpu", "--hypothesis-profile", "nightly",
                            "--gbu-seed", "7")
    run.assert_outcomes(passed=3, deselected=1)
    run.stdout.fnmatch_lines(["[[]gbu 1/3[]] passed *", "[[]gbu 3/3[]] passed *"])  # progress off the fast tier
    data, checks = _checks(results)
    # Hypothesis's own plugin loads --hypothesis-profile before collection imports the checks
    assert checks["test_fast"]["evidence"]["params"] == {"profile": "nightly", "examples": 200}
    assert data["provenance"]["hypothesis_profile"] == "nightly" and data["provenance"]["gbu_seed"] == 7
    assert "--hypothesis-profile nightly" in checks["test_fast"]["reproduce"]
    assert "--gbu-seed 7" in checks["test_fast"]["reproduce"]
    assert {v["tier"] for v in checks.values()} == {"fast", "slow", "network"}
    # the inner run's profile and seed end with it: the outer run's (ci and 0 in CI; fresh and a
    # random shift under `python -m reports false-alarms`) are back
    assert settings.get_current_profile_name() == outer_profile
    assert seed_shift() == outer_shift


def test_gpu_checks_skip_without_cuda_unless_asked_for_the_cpu(sandbox):
    if cuda_available():
        pytest.skip("this machine has CUDA")
    sandbox.makepyfile(test_tiers=TIERS)
    run = sandbox.runpytest("--results", str(sandbox.path / "r.json"), "--tier", "gpu")
    run.assert_outcomes(skipped=1, deselected=3)
    _, checks = _checks(sandbox.path / "r.json")
    assert "CUDA is not available" in checks["test_gpu"]["message"]
    sandbox.runpytest("--results", str(sandbox.path / "r.json"), "--tier", "gpu", "--device", "cpu").assert_outcomes(
        passed=1, deselected=3)


def test_partial_snapshots_while_the_run_goes(sandbox, monkeypatch):
    monkeypatch.setattr(results_plugin, "SNAPSHOT_EVERY_S", 0.0)
    results = sandbox.path / "r.json"
    sandbox.makepyfile(test_snap=f'''
import json, pytest

@pytest.mark.claim("bilinear.gda-diverges")
def test_a():
    pass

@pytest.mark.claim("bilinear.gda-diverges")
def test_b():
    data = json.load(open({str(results)!r}))
    assert data["partial"] is True and list(data["checks"]) == ["test_snap.py::test_a"]
''')
    sandbox.runpytest("--results", str(results)).assert_outcomes(passed=2)
    assert json.loads(results.read_text())["partial"] is False


def test_control_records_kind_target_and_margin(sandbox):
    quality = sandbox.mkpydir("quality")
    (quality / "test_controls.py").write_text('''
import pytest

@pytest.mark.claim("bilinear.gda-diverges")
@pytest.mark.control("near_miss", of="checks/test_08_bilinear.py::test_gda_growth_factor", margin="1e-3")
def test_near_miss():
    pass

@pytest.mark.claim("bilinear.gda-diverges")
def test_legacy():
    pass
''')
    sandbox.runpytest("--results", str(sandbox.path / "r.json")).assert_outcomes(passed=2)
    _, checks = _checks(sandbox.path / "r.json")
    assert checks["test_near_miss"]["control"] is True
    assert checks["test_near_miss"]["control_kind"] == "near_miss"
    assert checks["test_near_miss"]["control_of"] == ["checks/test_08_bilinear.py::test_gda_growth_factor"]
    assert checks["test_near_miss"]["margin"] == "1e-3"
    assert checks["test_legacy"]["control_kind"] == "planted_bug"


def test_impl_usage_errors_in_one_line(sandbox):
    sandbox.makepyfile(test_sample=SAMPLE)
    run = sandbox.runpytest("--impl", "no_such_method=x:y", "--impl", "extragradient=nowhere:eg")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*no algorithm registered under 'no_such_method'*",
                              "*cannot import nowhere:eg: ModuleNotFoundError*"])
    assert sandbox.runpytest("--impl-only").ret == pytest.ExitCode.USAGE_ERROR


@pytest.mark.slow  # two worker processes: ~10 s
def test_xdist_workers_land_in_one_results_file(sandbox, monkeypatch):
    sandbox.makepyfile(test_sample=SAMPLE)
    results = sandbox.path / "r.json"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess finds the plugin package
    run = sandbox.runpytest_subprocess("-n", "2", "--results", str(results), "--no-figures")
    assert run.ret == 1
    data, checks = _checks(results)
    assert len(checks) == 4 and data["provenance"]["xdist_workers"] == 2
