"""The shard commands of ``python -m reports`` (issue: fan out beyond one machine).

    python -m reports run --tier T --shards N --executor local|slurm [SLURM options] [-- PYTEST_ARGS ...]
    python -m reports merge SHARD.json|DIR ... [--results OUT] [--allow-mixed-sha] [--allow-mixed-tiers]
    python -m reports durations [RESULTS ...]     refresh .test_durations from recorded durations

A merge that finds a problem prints one ``error:`` line per problem and exits 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

from reports.catalogue import ROOT
from reports.results import default_results_path, load, merge_into
from reports.shards import DURATIONS, ShardProblems, durations_from_results, merge_shards

Render = Callable[[list[Path], argparse.Namespace], None]   # render these results files (and the defaults)


def add_run_options(u: argparse.ArgumentParser) -> None:
    g = u.add_argument_group("shards (pytest-split groups submitted with submitit, then merged)")
    g.add_argument("--shards", type=int, default=0, metavar="N", help="split the tier into N duration-balanced groups")
    g.add_argument("--executor", choices=("local", "slurm"), default="local",
                   help="local processes (default) or a SLURM array of N tasks")
    g.add_argument("--shard-dir", default=str(ROOT / "reports" / "out" / "shards"), metavar="DIR",
                   help="shard results files and submitit logs (default reports/out/shards/<tier>/)")
    g.add_argument("--merged", default=None, metavar="PATH",
                   help="merge the shards into this results file (default reports/out/results-<tier>.json)")
    g.add_argument("--time", type=int, default=24 * 60, metavar="MIN", help="time limit of one shard, minutes")
    g.add_argument("--partition", default=None, help="SLURM partition")
    g.add_argument("--gpus-per-node", type=int, default=None, metavar="G", help="GPUs per shard (SLURM)")
    g.add_argument("--cpus-per-task", type=int, default=None, metavar="C", help="CPUs per shard (SLURM)")
    g.add_argument("--mem-gb", type=float, default=None, metavar="GB", help="memory per shard (SLURM)")
    g.add_argument("--slurm", action="append", default=[], metavar="KEY=VALUE",
                   help="any other sbatch option, e.g. --slurm account=proj --slurm qos=long (repeatable)")
    g.add_argument("--local-gpus", default="", metavar="0,1,...",
                   help="local executor: give shard i the GPU gpus[(i-1) %% len(gpus)]")


def add_parsers(sub, common: argparse.ArgumentParser, render: Render,
                default_results: Callable[[], list[Path]]) -> None:
    m = sub.add_parser("merge", parents=[common], help="merge shard results files (checks them first), then render")
    m.add_argument("shards", nargs="+", metavar="SHARD", help="shard results files, or folders holding them")
    m.add_argument("--results", default=None, metavar="OUT",
                   help="results file to merge into (default reports/out/results-<tier>.json)")
    m.add_argument("--allow-mixed-sha", action="store_true", help="merge shards run at different commits")
    m.add_argument("--allow-mixed-tiers", action="store_true", help="merge shards of different tiers")
    m.add_argument("--no-render", action="store_true", help="write the merged results file only")
    m.add_argument("--out", default=str(ROOT / "reports" / "out"), metavar="DIR", help="report folder")
    m.set_defaults(func=lambda args: cmd_merge(args, render))
    d = sub.add_parser("durations", help=f"refresh {DURATIONS} (pytest-split's balance) from results files")
    d.add_argument("results", nargs="*", metavar="RESULTS", help="results files (default as for render)")
    d.add_argument("--path", default=str(ROOT / DURATIONS), help=f"durations file (default {DURATIONS})")
    d.set_defaults(func=lambda args: cmd_durations(args, default_results))


def _shard_files(items: list[str]) -> list[Path]:
    out: list[Path] = []
    for item in map(Path, items):
        out += sorted(item.glob("results-*of*.json")) if item.is_dir() else [item]
    return out


def _merge(catalogue: dict, paths: list[Path], dest: str | None, *, allow_mixed_sha: bool = False,
           allow_mixed_tiers: bool = False) -> tuple[int, Path | None]:
    try:
        merged = merge_shards(catalogue, paths, allow_mixed_sha=allow_mixed_sha, allow_mixed_tiers=allow_mixed_tiers)
    except ShardProblems as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2, None
    target = Path(dest) if dest else default_results_path(ROOT, merged["provenance"]["tier"])
    merge_into(target, catalogue, merged, root=ROOT)
    prov = merged["provenance"]
    print(f"merged {len(paths)} shard(s) of tier {prov['tier']} ({len(merged['checks'])} checks, "
          f"{prov['wall_s']:.1f} s from first start to last finish) into {target}", file=sys.stderr)
    return 0, target


def cmd_merge(args: argparse.Namespace, render: Render) -> int:
    from reports.catalogue import load as load_catalogue

    rc, target = _merge(load_catalogue(args.catalogue), _shard_files(args.shards), args.results,
                        allow_mixed_sha=args.allow_mixed_sha, allow_mixed_tiers=args.allow_mixed_tiers)
    if rc == 0 and not args.no_render:
        render([target], args)
    return rc


def cmd_durations(args: argparse.Namespace, default_results: Callable[[], list[Path]]) -> int:
    paths = [Path(p) for p in args.results] if args.results else default_results()
    if not paths:
        print("error: no results file: run the checks first (python -m reports run)", file=sys.stderr)
        return 2
    n = durations_from_results([load(p) for p in paths], Path(args.path))
    print(f"wrote {n} durations from {len(paths)} results file(s) to {args.path}")
    return 0


def run_sharded(args: argparse.Namespace, render: Render) -> int:
    """``python -m reports run --shards N``: submit, wait with progress, merge, render."""
    from reports.catalogue import load as load_catalogue
    from reports.submit import ShardPlan, exit_status, submit, wait

    pytest_args = list(args.pytest_args) + (["--device", args.device] if args.device else [])
    try:
        extra = dict(kv.split("=", 1) for kv in args.slurm)
    except ValueError:
        print(f"error: --slurm takes KEY=VALUE, got {args.slurm}", file=sys.stderr)
        return 2
    plan = ShardPlan(tier=args.tier, splits=args.shards, executor=args.executor, folder=Path(args.shard_dir),
                     pytest_args=pytest_args, timeout_min=args.time, partition=args.partition,
                     gpus_per_node=args.gpus_per_node, cpus_per_task=args.cpus_per_task, mem_gb=args.mem_gb,
                     slurm_extra=extra, local_gpus=[int(g) for g in args.local_gpus.split(",") if g.strip()])
    started = time.time()
    summaries, problems = wait(plan, submit(plan))
    print(f"[shards] all {plan.splits} done in {time.time() - started:.1f} s wall", file=sys.stderr, flush=True)
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    rc, target = _merge(load_catalogue(args.catalogue), [plan.results_path(g) for g in range(1, plan.splits + 1)],
                        args.merged)
    if target is not None:
        render([target], args)
    return 2 if rc or problems else exit_status(summaries)
