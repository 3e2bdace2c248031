"""Selection: the catalogue and the checks agree, the tier, ``--impl-only`` (by the checks'
``uses`` declarations, see :mod:`checks.plugin.uses`), the CUDA skip of gpu checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from checks.plugin import uses
from checks.plugin.options import TIER_SETS, cuda_available, tier_of
from checks.plugin.state import ROOT, RUN, USES


def claim_ids(item: pytest.Item) -> list[str]:
    return [cid for mark in item.iter_markers("claim") for cid in mark.args]


def is_control(item: pytest.Item) -> bool:
    path = Path(str(item.path))
    parts = path.relative_to(ROOT).parts if path.is_relative_to(ROOT) else path.parts
    return "quality" in parts


def _substituted(config: pytest.Config) -> list[str]:
    return [spec.partition("=")[0] for spec in config.getoption("--impl")]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under --impl-only, a check file whose declarations (checks/plugin/uses.json) cannot name a
    substituted algorithm is not imported, nor are the controls and the harness self-tests."""
    if not config.getoption("--impl-only") or not collection_path.is_relative_to(ROOT / "checks"):
        return None
    rel = collection_path.relative_to(ROOT)
    if rel.parts[:2] in (("checks", "quality"), ("checks", "harness")):
        return True
    patterns = uses.load_index().get(rel.as_posix())
    if patterns is None or collection_path.is_dir():
        return None  # a file the index does not know is imported and selected on its marks
    return not any(uses.matches(p, n) for p in patterns for n in _substituted(config))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    _catalogue_agrees(items)
    config.stash[RUN].collected = {item.nodeid: tier_of(item) for item in items}  # tiers of the checks not run
    for item in items:
        item.stash[USES] = uses.declared(item)
    wanted = TIER_SETS[config.getoption("--tier")]
    benchmarks_only = bool(config.getoption("benchmark_only", False))
    impl_only = set(_substituted(config)) if config.getoption("--impl-only") else None
    keep, drop = [], []
    for item in items:
        ok = ("benchmark" in getattr(item, "fixturenames", ())) == benchmarks_only and tier_of(item) in wanted
        if ok and impl_only is not None:
            ok = not is_control(item) and bool(item.stash[USES] & impl_only)
        (keep if ok else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    _skip_gpu_without_cuda(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    config.stash[RUN].progress_total = len(session.items)  # after every selection (tier, -k, shard)
    if not hasattr(config, "workerinput") and not config.getoption("collectonly"):
        from checks.gpu_budget import report_and_enforce

        report_and_enforce(config, session.items)  # full-scale gpu items: print the plan, refuse one over budget


def _catalogue_agrees(items: list[pytest.Item]) -> None:
    from reports.catalogue import CatalogueError, dangling_check_pointers, load

    try:
        catalogue = load()
    except CatalogueError as exc:
        raise pytest.UsageError(str(exc)) from None
    unknown = sorted({f"{item.nodeid}: unknown claim id {cid!r}"
                      for item in items for cid in claim_ids(item) if cid not in catalogue})
    dangling = dangling_check_pointers(catalogue, ROOT)
    if unknown or dangling:
        raise pytest.UsageError("claims catalogue and checks disagree:\n  " + "\n  ".join(unknown + dangling))


def _skip_gpu_without_cuda(config: pytest.Config, items: list[pytest.Item]) -> None:
    """gpu checks skip without CUDA, unless the user asked for the CPU explicitly (--device cpu),
    which runs them at tiny scale: that is how CI proves the GPU tier's code path."""
    gpu = [item for item in items if item.get_closest_marker("gpu")]
    if gpu and config.getoption("--device") != "cpu" and not cuda_available():
        for item in gpu:
            item.add_marker(pytest.mark.skip(
                reason="gpu check: CUDA is not available on this machine (run it at tiny scale on "
                       "the CPU with --tier gpu --device cpu)"))
