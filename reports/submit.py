"""Run one tier as N duration-balanced shards on an existing engine, then merge.

``python -m reports run --tier T --shards N --executor slurm|local`` submits the N
groups of pytest-split (``--splits N --group i``) with submitit -- one SLURM array
of N tasks on a cluster, N local processes here --, prints progress while it waits,
and merges the shard files with :func:`reports.shards.merge_shards` (which refuses a
missing, duplicated, unfinished or mixed shard). Each shard's pytest output goes to
its submitit log (``<shard dir>/submitit/``); each shard's results file carries its
group, N and the machine it ran on.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from reports.catalogue import ROOT

#: pytest-split's algorithm: longest-processing-time first, the best balance for a few shards
ALGORITHM = "least_duration"


@dataclass
class ShardPlan:
    tier: str
    splits: int
    executor: str = "local"                 # "local" or "slurm"
    folder: Path = ROOT / "reports" / "out" / "shards"
    pytest_args: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=lambda: ["checks"])   # what pytest collects
    timeout_min: int = 24 * 60              # per shard
    partition: str | None = None            # SLURM options, passed through
    gpus_per_node: int | None = None
    cpus_per_task: int | None = None
    mem_gb: float | None = None
    slurm_extra: dict[str, str] = field(default_factory=dict)   # --slurm KEY=VALUE: any sbatch option
    local_gpus: list[int] = field(default_factory=list)         # local executor: GPU of group i = gpus[(i-1) % n]

    @property
    def shard_dir(self) -> Path:
        return Path(self.folder) / self.tier

    def results_path(self, group: int) -> Path:
        return self.shard_dir / f"results-{group}of{self.splits}.json"


def run_shard(group: int, splits: int, tier: str, results: str, pytest_args: list[str],
              gpu: int | None = None, paths: tuple[str, ...] = ("checks",)) -> dict[str, Any]:
    """One shard, inside a submitit job: pytest on group ``group`` of ``splits``."""
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(gpu)
    cmd = [sys.executable, "-m", "pytest", *paths, "--tier", tier, "--splits", str(splits), "--group", str(group),
           "--splitting-algorithm", ALGORITHM, "--results", results, *pytest_args]
    print("$ " + " ".join(cmd), flush=True)
    started = time.time()
    rc = subprocess.call(cmd, cwd=ROOT, env=env)
    return {"group": group, "rc": rc, "wall_s": round(time.time() - started, 2), "host": platform.node(),
            "results": results}


def _executor(plan: ShardPlan):
    try:
        import submitit
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise RuntimeError("submitit is not installed: pip install submitit (or pip install -e .)") from exc
    executor = submitit.AutoExecutor(folder=plan.shard_dir / "submitit", cluster=plan.executor)
    params: dict[str, Any] = {"timeout_min": plan.timeout_min, "name": f"gbu-{plan.tier}"}
    if plan.executor == "slurm":
        params["slurm_array_parallelism"] = plan.splits
        if plan.partition:
            params["slurm_partition"] = plan.partition
        if plan.gpus_per_node is not None:
            params["gpus_per_node"] = plan.gpus_per_node
        if plan.cpus_per_task is not None:
            params["cpus_per_task"] = plan.cpus_per_task
        if plan.mem_gb is not None:
            params["mem_gb"] = plan.mem_gb
        if plan.slurm_extra:
            params["slurm_additional_parameters"] = dict(plan.slurm_extra)
    executor.update_parameters(**params)
    return executor


def submit(plan: ShardPlan) -> list[Any]:
    """Submit the N groups (old shard files of this tier and N are removed first)."""
    plan.shard_dir.mkdir(parents=True, exist_ok=True)
    for old in plan.shard_dir.glob("results-*of*.json"):
        old.unlink()
    groups = list(range(1, plan.splits + 1))
    gpus = [plan.local_gpus[(g - 1) % len(plan.local_gpus)] if plan.local_gpus and plan.executor == "local"
            else None for g in groups]
    return _executor(plan).map_array(run_shard, groups, [plan.splits] * len(groups), [plan.tier] * len(groups),
                                     [str(plan.results_path(g)) for g in groups],
                                     [list(plan.pytest_args)] * len(groups), gpus,
                                     [tuple(plan.paths)] * len(groups))


def _checks_done(path: Path) -> int:
    try:
        return len(json.loads(path.read_text(encoding="utf-8")).get("checks") or {})
    except (OSError, ValueError):
        return 0


def wait(plan: ShardPlan, jobs: list[Any], *, poll_s: float = 2.0, every_s: float = 30.0,
         out: TextIO = sys.stderr) -> tuple[list[dict[str, Any]], list[str]]:
    """Wait for every shard, one line per shard as it finishes and a progress line every
    ``every_s`` seconds; returns the shards' summaries and one problem line per job that failed."""
    started, last = time.time(), 0.0
    finished: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    print(f"[shards] {plan.splits} shard(s) of tier {plan.tier} submitted ({plan.executor}: "
          + ", ".join(str(j.job_id) for j in jobs) + f"); logs in {plan.shard_dir / 'submitit'}", file=out, flush=True)
    while len(finished) < len(jobs):
        for group, job in enumerate(jobs, 1):
            if group in finished or not job.done():
                continue
            try:
                summary = job.result()
            except Exception as exc:  # noqa: BLE001 - a failed job is reported in one line, the others go on
                summary = {"group": group, "rc": None, "wall_s": round(time.time() - started, 2), "host": "?"}
                problems.append(f"shard group {group} of {plan.splits}: job {job.job_id} failed: "
                                f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}")
            finished[group] = summary
            print(f"[shards] group {group}/{plan.splits} finished: pytest exit {summary['rc']}, "
                  f"{summary['wall_s']:.1f} s on {summary['host']} ({len(finished)}/{plan.splits} done)",
                  file=out, flush=True)
        now = time.time()
        if len(finished) < len(jobs) and now - last >= every_s:
            last = now
            running = [f"group {g} ({_checks_done(plan.results_path(g))} checks)"
                       for g in range(1, plan.splits + 1) if g not in finished]
            print(f"[shards] {len(finished)}/{plan.splits} done; running {', '.join(running)}; "
                  f"elapsed {(now - started) / 60:.1f} min", file=out, flush=True)
        if len(finished) < len(jobs):
            time.sleep(poll_s)
    return [finished[g] for g in sorted(finished)], problems


def exit_status(summaries: list[dict[str, Any]]) -> int:
    """pytest's exit status over the shards: the first that is not 0 (5, no test in a shard, counts as 0)."""
    codes = [s.get("rc") for s in summaries]
    bad = [c for c in codes if c not in (0, 5)]
    if bad:
        return 2 if None in bad else int(bad[0])
    return 0 if 0 in codes else 5
