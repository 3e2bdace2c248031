"""Shards of one run (pytest-split's ``--splits N --group i``) and the merge that checks itself.

Each shard writes a results file of its own that records its group and N
(``"shard": {"group": i, "splits": N}``, :func:`reports.results.write_results`).
:func:`merge_shards` refuses to merge -- one line per problem, exit 2 on the command
line -- when a shard file is unreadable or unfinished, a group is missing or given
twice, a check is reported by two shards, or the shards ran at different commits or
tiers without the caller saying so (``allow_mixed_sha`` / ``allow_mixed_tiers``).

:func:`durations_from_results` writes pytest-split's ``.test_durations`` from the
durations the results files recorded, so balancing needs no extra run.
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

from reports.catalogue import Claim
from reports.formatting import short_sha
from reports.results import combine_records, build, load

DURATIONS = ".test_durations"
NAME = re.compile(r"results-(?P<group>\d+)of(?P<splits>\d+)\.json")   # a shard file's default name


class ShardProblems(ValueError):
    """The shards cannot be merged; ``lines`` says why, one problem per line."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


def _groups(items: Iterable[int]) -> str:
    items = sorted(items)
    return ("group " if len(items) == 1 else "groups ") + ", ".join(str(i) for i in items)


def check_shards(shards: Mapping[Path, Mapping[str, Any]], *, allow_mixed_sha: bool = False,
                 allow_mixed_tiers: bool = False, unreadable: Iterable[Path] = ()) -> list[str]:
    """The problems that forbid merging ``shards`` (path -> loaded results file), one line each
    (``unreadable``: shard files already reported, whose group is read from their name)."""
    problems: list[str] = []
    by_group: dict[int, list[Path]] = defaultdict(list)
    splits: dict[int, list[Path]] = defaultdict(list)
    for path in unreadable:
        named = NAME.fullmatch(Path(path).name)
        if named:
            by_group[int(named["group"])].append(Path(path))
    for path, data in shards.items():
        shard = data.get("shard") or (data.get("provenance") or {}).get("shard")
        if not shard:
            problems.append(f"{path}: not a shard's results file (no group; run pytest with --splits N --group i)")
            continue
        by_group[int(shard["group"])].append(path)
        splits[int(shard["splits"])].append(path)
        if data.get("partial"):
            problems.append(f"{path}: shard group {shard['group']} of {shard['splits']} is a snapshot of a run "
                            "that did not finish; rerun that group")
    if len(splits) > 1:
        problems.append("shards of different splits: " + "; ".join(
            f"N = {n} ({', '.join(str(p) for p in paths)})" for n, paths in sorted(splits.items())))
    n = max(splits) if splits else 0
    for group, paths in sorted(by_group.items()):
        if len(paths) > 1:
            problems.append(f"shard group {group} of {n} given twice: {', '.join(str(p) for p in paths)}")
    n = n or max((int(m["splits"]) for p in unreadable if (m := NAME.fullmatch(Path(p).name))), default=0)
    missing = [g for g in range(1, n + 1) if g not in by_group]
    if missing:
        problems.append(f"shard {_groups(missing)} of {n} missing (have {_groups(by_group)})")
    owner: dict[str, Path] = {}
    group_of = {p: g for g, paths in by_group.items() for p in paths}
    for path, data in shards.items():
        for nodeid in data.get("checks") or {}:
            if nodeid not in owner:
                owner[nodeid] = path
            elif group_of.get(owner[nodeid]) != group_of.get(path):  # a group given twice is reported once, above
                problems.append(f"check {nodeid} reported twice: by {owner[nodeid]} and by {path}")
    for what, allowed, key in (("commits", allow_mixed_sha, _sha), ("tiers", allow_mixed_tiers, _tier)):
        seen: dict[str, list[int]] = defaultdict(list)
        for data in shards.values():
            shard = data.get("shard") or {}
            seen[key(data)].append(int(shard.get("group", 0)))
        if len(seen) > 1 and not allowed:
            flag = "--allow-mixed-sha" if what == "commits" else "--allow-mixed-tiers"
            problems.append(f"shards ran at different {what}: " + "; ".join(
                f"{k} ({_groups(v)})" for k, v in sorted(seen.items())) + f" (pass {flag} to merge them anyway)")
    return problems


def _sha(data: Mapping[str, Any]) -> str:
    return short_sha((data.get("provenance") or {}).get("git"))


def _tier(data: Mapping[str, Any]) -> str:
    return str((data.get("provenance") or {}).get("tier") or "?")


def load_shards(paths: Iterable[Path]) -> tuple[dict[Path, dict[str, Any]], dict[Path, str]]:
    """Each readable shard file, and for each unreadable one the line that says why."""
    out, problems = {}, {}
    for p in paths:
        try:
            out[Path(p)] = load(p)
        except (FileNotFoundError, ValueError) as exc:
            problems[Path(p)] = str(exc).splitlines()[0]
    return out, problems


def merge_shards(catalogue: dict[str, Claim], paths: Iterable[Path], *, allow_mixed_sha: bool = False,
                 allow_mixed_tiers: bool = False) -> dict[str, Any]:
    """The shards' results as one results file, or :class:`ShardProblems`."""
    shards, unreadable = load_shards(paths)
    problems = list(unreadable.values()) + check_shards(
        shards, allow_mixed_sha=allow_mixed_sha, allow_mixed_tiers=allow_mixed_tiers, unreadable=unreadable)
    if not shards and not problems:
        problems.append("no shard results files given")
    if problems:
        raise ShardProblems(problems)
    records, runs, collected = combine_records(shards.values())
    first = next(iter(shards.values()))
    splits = int(first["shard"]["splits"])
    prov = {"merged_from": runs, "finished": max(r.get("finished") or 0 for r in runs),
            "tier": _tier(first) if len({_tier(d) for d in shards.values()}) == 1 else "mixed",
            "shards": splits, "git": (first.get("provenance") or {}).get("git"),
            "wall_s": round(max(r.get("finished") or 0 for r in runs) - min(r.get("started") or 0 for r in runs), 2)}
    return build(catalogue, records, prov, runs=runs, collected=collected)


def durations_from_results(datas: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write pytest-split's durations file (node id -> seconds) from the checks' recorded
    durations, keeping the entries of checks these results do not hold; returns how many
    entries were written from the results."""
    path = Path(path)
    try:
        durations = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except json.JSONDecodeError:
        durations = {}
    records, _, _ = combine_records(datas)
    fresh = {n: round(float(r["duration"]), 3) for n, r in records.items()
             if r.get("outcome") in ("passed", "failed", "error") and isinstance(r.get("duration"), (int, float))}
    durations.update(fresh)
    path.write_text(json.dumps(dict(sorted(durations.items())), indent=1) + "\n", encoding="utf-8")
    return len(fresh)
