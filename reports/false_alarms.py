"""The harness's false-alarm rate, measured: rerun tiers on the code as it is, with fresh randomness.

``python -m reports false-alarms --tier fast --runs 50`` runs ``python -m pytest checks --tier fast``
50 times, each with a random Hypothesis seed (profile ``fresh``: random, no example database, so runs
are independent) and a random ``--gbu-seed`` (every seed the checks, problems and data generators
derive is shifted). On correct code every failure is a false alarm. For each check it prints the
failures, the runs, and the false-alarm budget the check states (``evidence.record("false_alarm_budget",
p)``; none stated = 0: the check claims to hold for every seed), and flags a check whose failures are
inconsistent with its budget (binomial tail P(X ≥ k | n, p) < 0.01). A negative control counts the
same way: a planted bug it failed to reject under some seed is a control whose power depends on luck.

Each run's results file and a manifest line are written as the run ends (``--out``), so an interrupted
measurement loses nothing and ``--resume`` continues it; the summary is recomputed from the files.
Exit status: 0 when every failure is consistent with a stated budget, 1 otherwise, 2 on bad input.
"""
from __future__ import annotations

import json
import math
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

ALARM_LEVEL = 0.01  # a check's failures are "inconsistent with its budget" below this binomial tail
BAD = ("failed", "error")


@dataclass
class CheckTally:
    nodeid: str
    tier: str
    control: bool
    runs: int = 0
    failures: int = 0
    budget: float = 0.0
    failed_in: list[int] = field(default_factory=list)

    @property
    def tail(self) -> float:
        """P(X ≥ failures) for X ~ Binomial(runs, budget): how surprising the failures are."""
        return binomial_tail(self.failures, self.runs, self.budget)

    @property
    def consistent(self) -> bool:
        return self.failures == 0 or self.tail >= ALARM_LEVEL


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k), X ~ Binomial(n, p), exactly (small n)."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    return min(1.0, sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k, n + 1)))


def _budget(record: dict[str, Any]) -> float:
    values = ((record.get("evidence") or {}).get("values") or {})
    entry = values.get("false_alarm_budget")
    value = entry.get("value") if isinstance(entry, dict) else entry
    try:
        return max(0.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return 0.0


def tally(runs: Iterable[tuple[int, dict[str, Any]]]) -> dict[str, CheckTally]:
    """Per check: the runs it ran in (not skipped), its failures (failed or error) and its budget."""
    out: dict[str, CheckTally] = {}
    for index, data in runs:
        for nodeid, rec in (data.get("checks") or {}).items():
            if rec.get("outcome") == "skipped":
                continue
            t = out.setdefault(nodeid, CheckTally(nodeid, rec.get("tier", "?"), bool(rec.get("control"))))
            t.runs += 1
            t.budget = max(t.budget, _budget(rec))
            if rec.get("outcome") in BAD:
                t.failures += 1
                t.failed_in.append(index)
    return out


def summary(tallies: dict[str, CheckTally], manifest: list[dict[str, Any]]) -> dict[str, Any]:
    runs = len(manifest)
    failing_runs = sum(1 for m in manifest if m.get("failures"))
    by_tier: dict[str, dict[str, int]] = {}
    for m in manifest:
        row = by_tier.setdefault(m["tier"], {"runs": 0, "failing_runs": 0, "failures": 0})
        row["runs"] += 1
        row["failing_runs"] += bool(m.get("failures"))
        row["failures"] += int(m.get("failures") or 0)
    return {
        "runs": runs,
        "failing_runs": failing_runs,
        "failures": sum(t.failures for t in tallies.values()),
        "checks": len(tallies),
        "by_tier": by_tier,
        "stated_budget_sum": round(sum(t.budget for t in tallies.values() if not t.control), 12),
        "inconsistent": sorted(t.nodeid for t in tallies.values() if not t.consistent),
        "failing_checks": {t.nodeid: {"failures": t.failures, "runs": t.runs, "budget": t.budget,
                                      "tail": t.tail, "failed_in": t.failed_in}
                           for t in sorted(tallies.values(), key=lambda t: -t.failures) if t.failures},
    }


def print_table(tallies: dict[str, CheckTally], info: dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    failing = [t for t in tallies.values() if t.failures]
    print(f"{info['runs']} runs, {info['checks']} checks and controls; runs with a failure: "
          f"{info['failing_runs']}; failures: {info['failures']}", file=out)
    for tier, row in sorted(info["by_tier"].items()):
        print(f"  tier {tier}: {row['runs']} runs, {row['failing_runs']} with a failure, "
              f"{row['failures']} failures", file=out)
    print(f"  family-wise budget stated by the checks (sum over checks, per run): {info['stated_budget_sum']:.3g}",
          file=out)
    if not failing:
        print("no false alarm", file=out)
        return
    print(f"{'failures':>8} {'runs':>5} {'rate':>7} {'budget':>9} {'P(X≥k)':>9}  check", file=out)
    for t in sorted(failing, key=lambda t: (-t.failures, t.nodeid)):
        flag = "" if t.consistent else "   INCONSISTENT with its budget"
        kind = " [control]" if t.control else ""
        print(f"{t.failures:>8} {t.runs:>5} {t.failures / max(t.runs, 1):>7.1%} {t.budget:>9.2g} {t.tail:>9.2g}  "
              f"{t.nodeid}{kind}{flag}", file=out)


def _load_runs(folder: Path) -> tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]:
    manifest_path = folder / "manifest.jsonl"
    manifest = []
    if manifest_path.is_file():
        for line in manifest_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                manifest.append(json.loads(line))
    runs = []
    for m in manifest:
        path = folder / m["results"]
        try:
            runs.append((m["index"], json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: unreadable results file of run {m['index']}: {exc}") from None
    return manifest, runs


def measure(tiers: list[str], runs: int, folder: Path, *, resume: bool, profile: str,
            pytest_args: list[str], seed: int | None, timeout: float | None) -> int:
    """Run the tiers ``runs`` times each; return the exit status (0 consistent, 1 not)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest, _ = _load_runs(folder)
    if manifest and not resume:
        raise ValueError(f"{folder} already holds {len(manifest)} runs: pass --resume to continue them, "
                         "or --out a new folder")
    rng_seed = seed if seed is not None else secrets.randbits(63)
    started = time.time()
    done_before = len(manifest)
    plan = [(tier, i) for tier in tiers for i in range(runs)]
    todo = [(tier, i) for tier, i in plan
            if not any(m["tier"] == tier and m["repeat"] == i for m in manifest)]
    import random

    draw = random.Random(rng_seed + done_before)
    for n, (tier, repeat) in enumerate(todo, start=1):
        index = len(manifest)
        hyp_seed, gbu_seed = draw.getrandbits(32), draw.getrandbits(31) + 1
        results = f"run-{index:04d}-{tier}.json"
        cmd = [sys.executable, "-m", "pytest", "checks", "--tier", tier, "-q", "-p", "no:randomly",
               "--hypothesis-profile", profile, f"--hypothesis-seed={hyp_seed}", "--gbu-seed", str(gbu_seed),
               "--results", str(folder / results), "--no-figures", *pytest_args]
        if tier in ("gpu", "all"):
            cmd += ["--device", "cpu"]
        t0 = time.time()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            rc, tail = done.returncode, (done.stdout + done.stderr)[-4000:]
        except subprocess.TimeoutExpired:
            rc, tail = 124, f"timed out after {timeout} s"
        failures = 0
        try:
            data = json.loads((folder / results).read_text(encoding="utf-8"))
            failures = sum(1 for r in data["checks"].values() if r.get("outcome") in BAD)
        except (OSError, json.JSONDecodeError, KeyError):
            if rc not in (0, 1):
                raise RuntimeError(f"run {index} ({shlex.join(cmd)}) wrote no results (exit {rc}):\n{tail}") from None
        entry = {"index": index, "tier": tier, "repeat": repeat, "hypothesis_seed": hyp_seed,
                 "gbu_seed": gbu_seed, "rc": rc, "failures": failures, "wall_s": round(time.time() - t0, 1),
                 "results": results, "command": shlex.join(cmd)}
        with (folder / "manifest.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
        manifest.append(entry)
        elapsed = time.time() - started
        left = elapsed / n * (len(todo) - n)
        print(f"[false-alarms {n}/{len(todo)}] tier {tier} run {repeat}: {failures} failure(s), "
              f"{entry['wall_s']:.0f} s (hypothesis seed {hyp_seed}, --gbu-seed {gbu_seed}; "
              f"~{left / 60:.1f} min left)", flush=True)
        if failures:
            print(f"    reproduce: {entry['command']}", flush=True)
    return report(folder)


def report(folder: Path) -> int:
    manifest, runs = _load_runs(folder)
    if not manifest:
        raise ValueError(f"no runs in {folder} (manifest.jsonl missing or empty)")
    tallies = tally(runs)
    info = summary(tallies, manifest)
    (folder / "summary.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    print_table(tallies, info)
    print(f"summary: {folder / 'summary.json'}")
    return 1 if info["inconsistent"] else 0
