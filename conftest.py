"""The gbu-claims pytest plugin.

* ``@pytest.mark.claim("bilinear.gda-diverges")`` ties a check to a catalogue entry;
  an unknown id, or a catalogue entry pointing to a missing check, stops the run.
* tiers: fast by default, ``--tier slow``, ``--tier network`` (network-scale claims at CPU
  scale), ``--tier gpu``, ``--tier cpu`` (fast + slow + network), ``--tier all``; the
  ``gpu`` marker skips with a reason when CUDA is absent; ``--device``.
* ``--gbu-seed N`` shifts every seed the checks, problems and data generators derive
  (``problems.runtime.seed``); recorded in the results file and in each reproduce command.
* hypothesis profiles ``ci`` (derandomised; the default everywhere, so a local
  run is the CI run), ``dev`` (random, database on), ``nightly`` (exploration).
* the ``evidence`` fixture (reports.evidence.Evidence) and the ``algorithm``
  fixture (the registry, honouring ``--impl NAME=module:attr``).
* at session end one results file (JSON, atomic; partial snapshots while the
  run goes), with the evidence of every xdist worker.
"""
from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

# One BLAS thread per process: the problems are small (threads only contend, 6x slower
# L-BFGS-B was measured on a loaded 2-core machine) and xdist supplies the parallelism.
for _var in ("OPENBLAS_NUM_THREADS",):  # numpy's BLAS; torch keeps its own threads
    os.environ.setdefault(_var, "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

ROOT = Path(__file__).resolve().parent
TIERS = ("fast", "slow", "network", "gpu", "cpu", "all")
TIER_SETS = {"fast": {"fast"}, "slow": {"slow"}, "network": {"network"}, "gpu": {"gpu"},
             "cpu": {"fast", "slow", "network"}, "all": {"fast", "slow", "network", "gpu"}}
CONTROL_KINDS = ("planted_bug", "wrong_world", "near_miss")
_QUIET_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                 HealthCheck.data_too_large, HealthCheck.filter_too_much]

# Checks state their example counts; a profile scales them (checks/support.py).
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          max_examples=20, suppress_health_check=_QUIET_HEALTH)
settings.register_profile("dev", derandomize=False, deadline=None, max_examples=20,
                          print_blob=True, suppress_health_check=_QUIET_HEALTH)
# fresh: what `python -m reports false-alarms` reruns under: random and no example database,
# so that a failing example found by one run is not replayed by the next (independent runs).
settings.register_profile("fresh", derandomize=False, deadline=None, database=None, max_examples=20,
                          print_blob=True, suppress_health_check=_QUIET_HEALTH)
settings.register_profile("nightly", derandomize=False, deadline=None, max_examples=400,
                          print_blob=True, suppress_health_check=_QUIET_HEALTH)


def _profile_from_argv(argv: list[str]) -> str:
    # The profile must be loaded before check modules are imported (their
    # @settings read it), so it is read from the command line here, at import.
    for i, a in enumerate(argv):
        if a.startswith("--hypothesis-profile="):
            return a.split("=", 1)[1]
        if a == "--hypothesis-profile" and i + 1 < len(argv):
            return argv[i + 1]
    return os.environ.get("GBU_HYPOTHESIS_PROFILE", "ci")


settings.load_profile(_profile_from_argv(sys.argv))


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("gbu-claims")
    g.addoption("--tier", choices=TIERS, default="fast",
                help="which checks run: fast (default), slow, network, gpu, cpu (= fast + slow + network) or all")
    g.addoption("--gbu-seed", type=int, default=None, metavar="N",
                help="shift every derived seed by N (fresh randomness on the same code; default: the fixed CI seeds)")
    g.addoption("--device", default="auto",
                help="torch device for network checks: auto (cuda if present), cpu, cuda, cuda:1 ...")
    g.addoption("--results", default=None,
                help="results file to write (default reports/out/results-<tier>.json)")
    g.addoption("--impl", action="append", default=[], metavar="NAME=module:attr",
                help="run the checks of algorithm NAME against your implementation")
    g.addoption("--impl-only", action="store_true",
                help="with --impl: run only the checks that use a substituted algorithm")
    g.addoption("--impl-timeout", type=float, default=60.0, metavar="SECONDS",
                help="time limit for one call of a substituted implementation (contract rule R5)")
    g.addoption("--scale", choices=("tiny", "full"), default=None,
                help="size of network-scale (gpu) experiments: full on CUDA, tiny otherwise (default)")
    g.addoption("--no-figures", action="store_true", help="do not draw figures")
    g.addoption("--gpu-budget-override", action="store_true",
                help="run the GPU tier even when its plan exceeds the 10-minute budget (checks/gpu_budget.py)")


# --------------------------------------------------------------- configure
def pytest_configure(config: pytest.Config) -> None:
    config._gbu = {"records": {}, "last_write": 0.0, "started": time.time()}  # type: ignore[attr-defined]
    tier = config.getoption("--tier")
    from reports.results import default_results_path, shard_of

    config._gbu["shard"] = shard_of(config.option)  # pytest-split's --splits N --group i, or None
    results = (config.getoption("--results") or os.environ.get("GBU_RESULTS")
               or default_results_path(ROOT, tier, config._gbu["shard"]))
    config._gbu["results"] = Path(results)
    shift = config.getoption("--gbu-seed")
    if shift is not None:
        from problems.runtime import set_seed_shift

        set_seed_shift(shift)  # through the environment, so xdist workers and subprocesses see it
    _install_impls(config)


def _install_impls(config: pytest.Config) -> None:
    from algorithms import registry

    specs = config.getoption("--impl")
    problems = []
    for spec in specs:
        name, sep, target = spec.partition("=")
        if not sep or not name or not target:
            problems.append(f"--impl {spec!r}: expected NAME=module:attr, e.g. extragradient=mypkg.solvers:my_eg")
            continue
        try:
            registry.registration(name)
        except registry.UnknownAlgorithm as exc:
            problems.append(f"--impl {spec!r}: {exc}")
            continue
        try:
            obj = registry.load_object(target)
        except Exception as exc:  # noqa: BLE001 - any import failure is the user's to see, in one line
            problems.append(f"--impl {spec!r}: cannot import {target}: {type(exc).__name__}: {exc}")
            continue
        registry.substitute(name, obj, time_limit=config.getoption("--impl-timeout"))
    if problems:
        raise pytest.UsageError("\n".join(problems))
    if config.getoption("--impl-only") and not specs:
        raise pytest.UsageError("--impl-only needs at least one --impl NAME=module:attr")


# -------------------------------------------------------------- collection
def _claim_ids(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for m in item.iter_markers("claim"):
        ids.extend(m.args)
    return ids


def _tier_of(item: pytest.Item) -> str:
    if item.get_closest_marker("gpu"):
        return "gpu"
    if item.get_closest_marker("network"):
        return "network"
    if item.get_closest_marker("slow"):
        return "slow"
    return "fast"


def _is_control(item: pytest.Item) -> bool:
    return "quality" in Path(str(item.fspath)).relative_to(ROOT).parts


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    from reports.catalogue import CatalogueError, dangling_check_pointers, load

    try:
        catalogue = load()
    except CatalogueError as exc:
        raise pytest.UsageError(str(exc)) from None
    unknown = sorted({f"{item.nodeid}: unknown claim id {cid!r}"
                      for item in items for cid in _claim_ids(item) if cid not in catalogue})
    dangling = dangling_check_pointers(catalogue, ROOT)
    if unknown or dangling:
        raise pytest.UsageError("claims catalogue and checks disagree:\n  " + "\n  ".join(unknown + dangling))

    config._gbu["collected"] = {item.nodeid: _tier_of(item) for item in items}  # tiers of the checks not run
    tier = config.getoption("--tier")
    wanted = TIER_SETS[tier]
    keep, drop = [], []
    impl_only = config.getoption("--impl-only")
    substituted = _substituted_names()
    benchmarks_only = bool(config.getoption("benchmark_only", False))
    for item in items:
        is_benchmark = "benchmark" in getattr(item, "fixturenames", ())
        if is_benchmark != benchmarks_only:
            drop.append(item)
            continue
        ok = _tier_of(item) in wanted
        if ok and impl_only:
            ok = not _is_control(item) and _uses_any(item, substituted)
        (keep if ok else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    # gpu checks skip without CUDA, unless the user asked for the CPU explicitly (--device cpu),
    # which runs them at tiny scale: that is how CI proves the GPU tier's code path.
    cuda = None
    for item in items:
        if item.get_closest_marker("gpu"):
            if cuda is None:
                cuda = _cuda_available()
            if not cuda and config.getoption("--device") != "cpu":
                item.add_marker(pytest.mark.skip(
                    reason="gpu check: CUDA is not available on this machine (run it at tiny scale on "
                           "the CPU with --tier gpu --device cpu)"))


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    config._gbu["progress_total"] = len(session.items)  # after every selection (tier, -k, shard)
    if not hasattr(config, "workerinput") and not config.getoption("collectonly"):
        from checks.gpu_budget import report_and_enforce

        report_and_enforce(config, session.items)  # full-scale gpu items: print the plan, refuse one over budget


def _substituted_names() -> list[str]:
    from algorithms import registry

    return registry.substituted_names()


def _uses_any(item: pytest.Item, names: list[str]) -> bool:
    """Whether the check asks the registry for one of ``names``: the quoted name in
    the test function's source, or, if that function names no registered
    algorithm at all (it delegates), anywhere in its module."""
    import inspect

    from algorithms import registry

    def quoted(source: str, candidates) -> bool:
        return any(f'"{n}"' in source or f"'{n}'" in source for n in candidates)

    try:
        function_source = inspect.getsource(getattr(item, "function", item.obj))
        module_source = Path(str(item.fspath)).read_text(encoding="utf-8")
    except (OSError, TypeError, AttributeError):
        return True
    if quoted(function_source, registry.names()):
        return quoted(function_source, names)
    return quoted(module_source, names)


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def evidence(request: pytest.FixtureRequest):
    """Record measured vs reference values for the report (reports.evidence.Evidence)."""
    from reports.evidence import Evidence

    cfg = request.config
    off = cfg.getoption("--no-figures") or os.environ.get("GBU_NO_FIGURES") == "1"
    fig_dir = None if off else cfg._gbu["results"].parent / "figures"
    ev = Evidence(_claim_ids(request.node), request.node.nodeid, fig_dir)
    request.node._gbu_evidence = ev
    return ev


@pytest.fixture
def algorithm():
    """``algorithm(name)`` -> the implementation under test from the registry."""
    from algorithms import registry

    return registry.get


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest, device: str) -> str:
    """'full' or 'tiny': how large a network-scale experiment runs (``--scale``;
    default full on CUDA, tiny on the CPU)."""
    return request.config.getoption("--scale") or ("full" if device.startswith("cuda") else "tiny")


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """The torch device the network checks run on (``--device``)."""
    choice = request.config.getoption("--device")
    if choice == "auto":
        return "cuda" if _cuda_available() else "cpu"
    if choice.startswith("cuda") and not _cuda_available():
        pytest.skip(f"--device {choice}: CUDA is not available on this machine")
    return choice


# ----------------------------------------------------------------- records
def _reproduce(item: pytest.Item, config: pytest.Config) -> str:
    args = ["python", "-m", "pytest", item.nodeid, "--tier", "all", "-p", "no:xdist"]
    profile = settings._current_profile  # noqa: SLF001 - hypothesis has no public getter
    if profile and profile != "ci":
        args += ["--hypothesis-profile", profile]
    for spec in config.getoption("--impl"):
        args += ["--impl", spec]
    if config.getoption("--device") != "auto":
        args += ["--device", config.getoption("--device")]
    from problems.runtime import seed_shift

    if seed_shift():
        args += ["--gbu-seed", str(seed_shift())]
    hypothesis_seed = config.getoption("hypothesis_seed", None)  # hypothesis's own --hypothesis-seed
    if hypothesis_seed is not None:
        args += [f"--hypothesis-seed={hypothesis_seed}"]
    return " ".join(shlex.quote(a) for a in args)


def _only_assertions(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_assertions(e) for e in exc.exceptions)
    return isinstance(exc, AssertionError)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    from algorithms import registry

    item._gbu_lookups_from = len(registry._LOOKUPS)
    from checks.support import take_rejected_checks

    take_rejected_checks()  # start each item with an empty log


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    if not (rep.when == "call" or (rep.when == "setup" and not rep.passed)):
        return
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
        if rep.skipped:
            message = str(getattr(call.excinfo.value, "msg", call.excinfo.value))
        else:
            message = f"{call.excinfo.typename}: {call.excinfo.value}"[:2000]
    ev = getattr(item, "_gbu_evidence", None)
    from algorithms import registry

    record = {
        "nodeid": item.nodeid,
        "claims": _claim_ids(item),
        "outcome": status,
        "control": _is_control(item),
        "tier": _tier_of(item),
        "scale": getattr(item, "funcargs", {}).get("scale"),  # gpu checks: full, or tiny (code path only)
        "duration": round(getattr(rep, "duration", 0.0), 4),
        "message": message,
        "reproduce": _reproduce(item, item.config),
        "algorithms": sorted(set(registry._LOOKUPS[getattr(item, "_gbu_lookups_from", 0):])),
        "substituted": registry.substituted_names(),
        "evidence": ev.to_json() if ev is not None else None,
    }
    if record["control"]:
        record.update(_control_fields(item))
    rep.user_properties.append(("gbu_check", record))
    if status in ("failed", "error"):
        rep.sections.append(("reproduce this check", record["reproduce"]))


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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _CONFIG.get("config")
    if config is None or hasattr(config, "workerinput"):
        return
    for name, value in report.user_properties:
        if name == "gbu_check":
            config._gbu["records"][value["nodeid"]] = value
            if time.time() - config._gbu["last_write"] > 10:
                _write_results(config, partial=True)
            _progress(config, value)


def _progress(config: pytest.Config, record: dict[str, Any]) -> None:
    """One line per check on the long tiers: which, how far, time used and left."""
    if config.getoption("--tier") == "fast":
        return
    done = len(config._gbu["records"])
    total = max(done, config._gbu.get("progress_total", done))
    elapsed = time.time() - config._gbu["started"]
    left = elapsed / done * (total - done) if done else 0.0
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"[gbu {done}/{total}] {record['outcome']:<7} {record['duration']:7.1f}s "
                            f"{record['nodeid']}  (elapsed {elapsed / 60:.1f} min, ~{left / 60:.1f} min left)")


_CONFIG: dict[str, pytest.Config] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIG["config"] = session.config


def _provenance(config: pytest.Config) -> dict[str, Any]:
    from reports.results import device_description, git_sha, versions

    started = config._gbu["started"]
    return {
        "git": git_sha(ROOT),
        "versions": versions(),
        "device": device_description(config.getoption("--device")),
        "hypothesis_profile": settings._current_profile,  # noqa: SLF001
        "gbu_seed": _seed_shift(),
        "tier": config.getoption("--tier"),
        "command": " ".join(shlex.quote(a) for a in ["python", "-m", "pytest", *config.invocation_params.args]),
        "substituted": {s.split("=", 1)[0]: s.split("=", 1)[1] for s in config.getoption("--impl")},
        "started": started,
        "finished": time.time(),
        "wall_s": round(time.time() - started, 2),
        "xdist_workers": getattr(config.option, "numprocesses", None),
    }


def _seed_shift() -> int:
    from problems.runtime import seed_shift

    return seed_shift()


def _write_results(config: pytest.Config, partial: bool) -> None:
    from reports.catalogue import load
    from reports.results import write_results

    # merged per check into the existing file: a rerun of one file, -k or one tier keeps the rest
    data = write_results(config._gbu["results"], load(), config._gbu["records"], _provenance(config),
                         partial=partial, collected=config._gbu.get("collected"), root=ROOT,
                         shard=config._gbu.get("shard"))
    config._gbu["last_write"] = time.time()
    config._gbu["summary"] = data["claims"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not config._gbu["records"]:
        return
    _write_results(config, partial=False)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    summary = config._gbu.get("summary") if hasattr(config, "_gbu") else None
    if not summary:
        return
    from collections import Counter

    counts = Counter(v["verdict"] for v in summary.values())
    line = ", ".join(f"{n} {v}" for v, n in counts.most_common())
    terminalreporter.write_sep("-", "gbu-claims")
    terminalreporter.write_line(f"claims: {line}")
    terminalreporter.write_line(f"results: {config._gbu['results']}  (render: python -m reports)")
