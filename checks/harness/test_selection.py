"""Harness self-tests of declared dependencies (``claim(..., uses=[...])``) and ``--impl-only``, with
pytest's own ``pytester``: selection by declaration (templates included), the declarations index,
undeclared lookups and out-of-contract calls refused, no torch for a numpy family, and the checks
``--impl-only`` runs compared with the checks whose records name the substituted algorithm."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from algorithms import registry
from checks.plugin import uses
from reports.catalogue import ROOT

pytest_plugins = ["pytester"]

# torch loads once per process: imported before pytester snapshots sys.modules (a run's imports are
# forgotten after it; importing torch again would crash the interpreter)
import torch  # noqa: E402,F401

LOADS_THE_PLUGIN = "from checks.plugin import PLUGINS\npytest_plugins = PLUGINS\n"

SAMPLE = '''
import numpy as np
import pytest

@pytest.mark.claim("bilinear.eg-converges", uses=["{method}"])
@pytest.mark.parametrize("method", ["extragradient", "optimistic_gda"])
def test_by_template(algorithm, method):
    algorithm(method)(lambda z: z, np.ones((1, 2)), 0.1, 2)

@pytest.mark.claim("bilinear.gda-diverges", uses=["gradient_descent_ascent"])
def test_declared(algorithm):
    algorithm("gradient_descent_ascent")(lambda z: z, np.ones((1, 2)), 0.1, 2)

@pytest.mark.claim("bilinear.gda-diverges", uses=["gradient_descent_ascent"])
def test_undeclared(algorithm):
    algorithm("extragradient")

@pytest.mark.claim("bilinear.eg-converges", uses=["extragradient"])
def test_outside_the_contract(algorithm):
    algorithm("extragradient")(lambda z: z, np.ones((1, 2)), 0.1, 2, damping=0.5)
'''


@pytest.fixture
def sample(pytester):
    pytester.makeconftest(LOADS_THE_PLUGIN)
    pytester.makepyfile(test_sample=SAMPLE)
    return pytester


def _records(path) -> dict:
    return {k.split("::")[-1]: v for k, v in json.loads(path.read_text())["checks"].items()}


def test_impl_only_selects_by_declaration_templates_included(sample):
    run = sample.inline_run("--impl", "optimistic_gda=algorithms.minimax:optimistic_gda", "--impl-only",
                            "--results", str(sample.path / "r.json"))
    passed = [r.nodeid.split("::")[-1] for r in run.getreports("pytest_runtest_logreport")
              if r.when == "call" and r.passed]
    assert passed == ["test_by_template[optimistic_gda]"]
    assert registry.substituted_names() == []  # the run's substitutes end with it


def test_undeclared_lookup_and_out_of_contract_call_are_errors(sample):
    sample.inline_run("--results", str(sample.path / "r.json"))
    rec = _records(sample.path / "r.json")
    assert rec["test_declared"]["outcome"] == "passed"
    assert rec["test_declared"]["algorithms"] == ["gradient_descent_ascent"]
    assert rec["test_undeclared"]["outcome"] == "error"
    assert "looks up 'extragradient' but does not declare it" in rec["test_undeclared"]["message"]
    assert rec["test_outside_the_contract"]["outcome"] == "error"
    assert "passes 'damping', which the contract does not have" in rec["test_outside_the_contract"]["message"]


def test_the_declarations_index_is_up_to_date():
    assert uses.load_index() == uses.live_index(), "checks/plugin/uses.json is stale: run python -m checks.plugin.uses"


def test_impl_only_for_a_numpy_family_imports_no_torch():
    code = ("import sys, json, pytest\n"
            "rc = pytest.main(['checks', '-q', '-p', 'no:xdist', '--collect-only', '--impl-only', '--impl',\n"
            "                  'second_derivative_test=algorithms.critical_points:second_derivative_test'])\n"
            "print(json.dumps([rc, sorted(m for m in sys.modules if m.startswith(('algorithms', 'torch')))]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    rc, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert rc == 0, done.stdout[-3000:]
    assert "test_second_derivative_test_matches_certificate" in done.stdout
    assert set(modules) <= {"algorithms", "algorithms.registry", "algorithms.contracts", "algorithms.guard",
                            "algorithms.critical_points"}, modules


# Real checks of the fast tier: a numpy family, and init_he, which checks look up by a name built
# at run time (algorithm(f"init_{scheme}")). (A name that hypothesis draws, e.g. init_xavier in
# test_input_gradient_second_moment, is declared for every value the strategy can take; the
# derandomised CI run need not draw it, so its record may not name it: a declaration may be wider.)
FILES = ["checks/test_04_critical_points.py", "checks/test_16_init.py"]
NAMES = ["second_derivative_test", "init_he", "relu_network"]


def test_impl_only_runs_exactly_the_checks_that_record_the_name(pytester):
    for f in FILES:  # imported here first: pytester forgets what a run imports, and torch loads once only
        importlib.import_module(f[:-3].replace("/", "."))
    def run(*args: str):
        return pytester.inline_run("--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), "-p", "no:xdist",
                                   *(str(ROOT / f) for f in FILES), *args)

    run("--results", str(pytester.path / "all.json"), "--no-figures")
    records = json.loads((pytester.path / "all.json").read_text())["checks"]
    assert records and all(r["outcome"] == "passed" for r in records.values())
    for name in NAMES:
        target = registry.registration(name).target
        collected = run("--collect-only", "--impl", f"{name}={target}", "--impl-only")
        selected = collected.getcalls("pytest_collection_finish")[0].session.items
        assert {item.nodeid for item in selected} == {k for k, r in records.items() if name in r["algorithms"]}, name
