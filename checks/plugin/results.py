"""Evidence and results: the ``evidence`` fixture, one record per check (outcome, evidence,
reproduce command, registry names used, control fields), progress lines, and the results file
(atomic, partial snapshots while the run goes; written by ``reports.results``)."""
from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from checks.plugin.implementations import looked_up
from checks.plugin.options import tier_of
from checks.plugin.selection import claim_ids, is_control
from checks.plugin.state import EVIDENCE, ROOT, RUN, Run

CONTROL_KINDS = ("planted_bug", "wrong_world", "near_miss")
SNAPSHOT_EVERY_S = 10.0


def pytest_configure(config: pytest.Config) -> None:
    from reports.results import default_results_path, shard_of

    shard = shard_of(config.option)  # pytest-split's --splits N --group i, or None
    results = (config.getoption("--results") or os.environ.get("GBU_RESULTS")
               or default_results_path(ROOT, config.getoption("--tier"), shard))
    config.stash[RUN] = Run(results=Path(results), shard=shard)
    if not hasattr(config, "workerinput"):  # the xdist controller (or a plain run) writes the file
        config.pluginmanager.register(ResultsWriter(config), "gbu-results-writer")


@pytest.fixture
def evidence(request: pytest.FixtureRequest):
    """Record measured vs reference values for the report (reports.evidence.Evidence)."""
    from reports.evidence import Evidence

    cfg = request.config
    off = cfg.getoption("--no-figures") or os.environ.get("GBU_NO_FIGURES") == "1"
    fig_dir = None if off else cfg.stash[RUN].results.parent / "figures"
    ev = request.node.stash[EVIDENCE] = Evidence(claim_ids(request.node), request.node.nodeid, fig_dir)
    return ev


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from checks.support import take_rejected_checks

    take_rejected_checks()  # start each item with an empty log


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        record = _record(item, call, rep)
        rep.user_properties.append(("gbu_check", record))
        if record["outcome"] in ("failed", "error"):
            rep.sections.append(("reproduce this check", record["reproduce"]))


def _record(item: pytest.Item, call: pytest.CallInfo, rep: pytest.TestReport) -> dict[str, Any]:
    from algorithms import registry

    if rep.passed:
        status = "passed"
    elif rep.skipped:
        status = "skipped"
    elif rep.when == "setup":
        status = "error"
    else:
        status = "failed" if call.excinfo is not None and _only_assertions(call.excinfo.value) else "error"
    message = ""
    if call.excinfo is not None:
        value = call.excinfo.value
        message = (str(getattr(value, "msg", value)) if rep.skipped
                   else f"{call.excinfo.typename}: {value}"[:2000])
    ev = item.stash.get(EVIDENCE, None)
    record = {
        "nodeid": item.nodeid,
        "claims": claim_ids(item),
        "outcome": status,
        "control": is_control(item),
        "tier": tier_of(item),
        "scale": getattr(item, "funcargs", {}).get("scale"),  # gpu checks: full, or tiny (code path only)
        "duration": round(getattr(rep, "duration", 0.0), 4),
        "message": message,
        "reproduce": reproduce(item),
        "algorithms": looked_up(item),
        "substituted": registry.substituted_names(),
        "evidence": ev.to_json() if ev is not None else None,
    }
    if record["control"]:
        record.update(_control_fields(item))
    return record


def _only_assertions(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_assertions(e) for e in exc.exceptions)
    return isinstance(exc, AssertionError)


def reproduce(item: pytest.Item) -> str:
    """One command that reruns the check as it ran (profile, substitutes, device, seed shift)."""
    from hypothesis import settings

    from problems.runtime import seed_shift

    config = item.config
    args = ["python", "-m", "pytest", item.nodeid, "--tier", "all", "-p", "no:xdist"]
    profile = settings.get_current_profile_name()
    if profile and profile != "ci":
        args += ["--hypothesis-profile", profile]
    for spec in config.getoption("--impl"):
        args += ["--impl", spec]
    if config.getoption("--device") != "auto":
        args += ["--device", config.getoption("--device")]
    if seed_shift():
        args += ["--gbu-seed", str(seed_shift())]
    hypothesis_seed = config.getoption("hypothesis_seed", None)  # hypothesis's own --hypothesis-seed
    if hypothesis_seed is not None:
        args += [f"--hypothesis-seed={hypothesis_seed}"]
    return " ".join(shlex.quote(a) for a in args)


def _pointer(check: Any) -> str:
    """'checks/test_x.py::test_f' for a check function (or a pointer string, returned as is)."""
    if isinstance(check, str):
        return check
    import inspect

    path = Path(inspect.getsourcefile(check)).resolve().relative_to(ROOT).as_posix()
    return f"{path}::{check.__name__}"


def _control_fields(item: pytest.Item) -> dict[str, Any]:
    """Kind, target and margin of a negative control (``@pytest.mark.control``); the
    targets of an unmarked control are the checks it ran through ``rejects``/``fails``."""
    from checks.support import take_rejected_checks

    ran = take_rejected_checks()
    mark = item.get_closest_marker("control")
    kind = mark.args[0] if mark and mark.args else "planted_bug"
    if kind not in CONTROL_KINDS:
        raise pytest.UsageError(f"{item.nodeid}: control kind {kind!r} not in {CONTROL_KINDS}")
    of = mark.kwargs.get("of") if mark else None
    targets = [_pointer(of)] if of is not None else ran
    return {"control_kind": kind, "control_of": sorted(set(targets)),
            "margin": (mark.kwargs.get("margin", "") if mark else "")}


class ResultsWriter:
    """On the controller: gathers every check's record (those of xdist workers arrive with their
    reports), writes partial snapshots and the final results file, prints progress and a summary."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.run: Run = config.stash[RUN]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == "gbu_check":
                self.run.records[value["nodeid"]] = value
                if time.time() - self.run.last_write > SNAPSHOT_EVERY_S:
                    self.write(partial=True)
                self.progress(value)

    def progress(self, record: dict[str, Any]) -> None:
        """One line per check on the long tiers: which, how far, time used and left."""
        if self.config.getoption("--tier") == "fast":
            return
        done = len(self.run.records)
        total = max(done, self.run.progress_total)
        elapsed = time.time() - self.run.started
        left = elapsed / done * (total - done) if done else 0.0
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"[gbu {done}/{total}] {record['outcome']:<7} {record['duration']:7.1f}s "
                                f"{record['nodeid']}  (elapsed {elapsed / 60:.1f} min, ~{left / 60:.1f} min left)")

    def write(self, partial: bool) -> None:
        from reports.catalogue import load
        from reports.results import write_results

        # merged per check into the existing file: a rerun of one file, -k or one tier keeps the rest
        data = write_results(self.run.results, load(), self.run.records, provenance(self.config, self.run),
                             partial=partial, collected=self.run.collected, root=ROOT, shard=self.run.shard)
        self.run.last_write = time.time()
        self.run.summary = data["claims"]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.run.records:
            self.write(partial=False)

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
        if not self.run.summary:
            return
        from collections import Counter

        counts = Counter(v["verdict"] for v in self.run.summary.values())
        terminalreporter.write_sep("-", "gbu-claims")
        terminalreporter.write_line("claims: " + ", ".join(f"{n} {v}" for v, n in counts.most_common()))
        terminalreporter.write_line(f"results: {self.run.results}  (render: python -m reports)")


def provenance(config: pytest.Config, run: Run) -> dict[str, Any]:
    from hypothesis import settings

    from problems.runtime import seed_shift
    from reports.results import device_description, git_sha, versions

    return {
        "git": git_sha(ROOT),
        "versions": versions(),
        "device": device_description(config.getoption("--device")),
        "hypothesis_profile": settings.get_current_profile_name(),
        "gbu_seed": seed_shift(),
        "tier": config.getoption("--tier"),
        "command": " ".join(shlex.quote(a) for a in ["python", "-m", "pytest", *config.invocation_params.args]),
        "substituted": {s.split("=", 1)[0]: s.split("=", 1)[1] for s in config.getoption("--impl")},
        "started": run.started,
        "finished": time.time(),
        "wall_s": round(time.time() - run.started, 2),
        "xdist_workers": getattr(config.option, "numprocesses", None),
    }
