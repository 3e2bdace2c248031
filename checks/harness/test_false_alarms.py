"""Self-tests of ``python -m reports false-alarms``: the tally of failures per check across reruns,
the binomial consistency test against each check's stated budget, and resumable bookkeeping."""
from __future__ import annotations

import json
import math

import pytest

from reports.false_alarms import binomial_tail, report, summary, tally


def _run(outcomes: dict[str, str], budgets: dict[str, float] | None = None, control: tuple[str, ...] = (),
         seed: int = 0) -> dict:
    budgets = budgets or {}
    return {"checks": {n: {"nodeid": n, "outcome": o, "tier": "fast", "control": n in control,
                           "reproduce": f"python -m pytest {n} --gbu-seed {seed} --hypothesis-seed={seed}",
                           "evidence": {"values": {"false_alarm_budget": {"value": budgets[n]}}} if n in budgets else None}
                       for n, o in outcomes.items()}}


def test_binomial_tail_is_exact():
    assert binomial_tail(0, 10, 0.3) == 1.0
    assert binomial_tail(1, 50, 0.0) == 0.0
    assert binomial_tail(1, 50, 0.01) == pytest.approx(1 - 0.99**50, rel=1e-12)
    assert binomial_tail(3, 5, 0.5) == pytest.approx((math.comb(5, 3) + math.comb(5, 4) + 1) / 32, rel=1e-12)


def test_failures_are_judged_against_the_stated_budget():
    runs = [(i, _run({"a": "failed" if i < 2 else "passed", "b": "failed" if i == 0 else "passed",
                      "c": "skipped", "ctl": "failed" if i == 3 else "passed"},
                     budgets={"b": 0.05}, control=("ctl",), seed=100 + i)) for i in range(50)]
    t = tally(runs)
    assert (t["a"].runs, t["a"].failures, t["a"].failed_in) == (50, 2, [0, 1])
    # each failure keeps the command that reruns that check alone with that run's two seeds
    assert t["a"].reproduce == ["python -m pytest a --gbu-seed 100 --hypothesis-seed=100",
                                "python -m pytest a --gbu-seed 101 --hypothesis-seed=101"]
    assert "c" not in t  # skipped everywhere: never ran
    assert not t["a"].consistent  # no budget stated: any failure is a false alarm
    assert t["b"].consistent and t["b"].tail == pytest.approx(1 - 0.95**50, rel=1e-12)
    assert not t["ctl"].consistent and t["ctl"].control  # a control that missed its bug once
    manifest = [{"index": i, "tier": "fast", "failures": sum(r["outcome"] == "failed" for r in run["checks"].values())}
                for i, run in runs]
    info = summary(t, manifest)
    assert info["inconsistent"] == ["a", "ctl"]
    assert (info["runs"], info["failing_runs"], info["failures"]) == (50, 3, 4)
    assert info["stated_budget_sum"] == pytest.approx(0.05)


def test_report_reads_the_manifest_and_exits_by_consistency(tmp_path, capsys):
    lines = []
    for i in range(3):
        (tmp_path / f"run-{i}.json").write_text(json.dumps(_run({"x": "passed", "y": "passed"})))
        lines.append(json.dumps({"index": i, "tier": "fast", "repeat": i, "results": f"run-{i}.json", "failures": 0}))
    (tmp_path / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    assert report(tmp_path) == 0
    assert "no false alarm" in capsys.readouterr().out
    assert json.loads((tmp_path / "summary.json").read_text())["runs"] == 3
    (tmp_path / "run-2.json").write_text(json.dumps(_run({"x": "failed", "y": "passed"}, seed=7)))
    assert report(tmp_path) == 1
    assert "python -m pytest x --gbu-seed 7 --hypothesis-seed=7" in capsys.readouterr().out
    (tmp_path / "run-1.json").write_text("{truncated")
    with pytest.raises(ValueError, match="unreadable results file of run 1"):
        report(tmp_path)


def test_reproduce_line_carries_both_seeds(monkeypatch):
    """A failing rerun is reproduced by one command: the check, its hypothesis seed and its seed shift."""
    import types

    from checks.plugin.results import reproduce

    options = {"--impl": [], "--device": "auto", "hypothesis_seed": 123456}
    config = types.SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    item = types.SimpleNamespace(nodeid="checks/test_17_lazy.py::test_lazy_ratio_definition", config=config)
    monkeypatch.setenv("GBU_SEED", "911891809")
    line = reproduce(item)
    assert line.startswith("python -m pytest checks/test_17_lazy.py::test_lazy_ratio_definition")
    assert "--gbu-seed 911891809" in line and "--hypothesis-seed=123456" in line
    monkeypatch.delenv("GBU_SEED")
    options["hypothesis_seed"] = None
    line = reproduce(item)
    assert "--gbu-seed" not in line and "--hypothesis-seed" not in line  # CI: the fixed seeds, nothing to add
