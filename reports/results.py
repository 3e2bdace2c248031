"""The results file: per check its record and provenance, per claim its verdict.
Written atomically; a rerun of part of the suite merges into it per check.

Schema (``"schema": 1``; every field added since is optional, so files written
before it still load)::

    {
      "schema": 1,
      "partial": false,                # true while the run that wrote it is still going
      "provenance": {...},             # the latest run: git, versions, device, profile, tier, command, times
      "runs": [{...}, ...],            # provenance of every run that still has a record here
      "collected": {nodeid: tier},     # checks collected by those runs (tiers of checks not run)
      "shard": {"group": i, "splits": N},   # only in a shard's own file
      "checks": {nodeid: record},      # one record per check (test item)
      "claims": {id: {"verdict": ..., "checks": [nodeid, ...], "controls": [nodeid, ...],
                      "detail": "fast checks only; 1 slow check not run",    # partial / not run
                      "interim": "verified",                                 # partial: what ran says
                      "not_run": [{"check": "file::function", "tier": ..., "reason": ...}]}}
    }

A check record::

    {"nodeid", "claims": [ids], "outcome": passed|failed|error|skipped,
     "control": bool,                 # a control from checks/quality/
     "control_kind", "control_of", "margin",   # planted_bug|wrong_world|near_miss, its target, its margin
     "tier": fast|slow|network|gpu, "duration": seconds, "message": str,
     "reproduce": str, "algorithms": [registry names used],
     "substituted": [names], "evidence": {...} or null,
     "provenance": {"git", "device", "started", "finished", "tier", ...}}   # of the run that made it

Per-check merging (:func:`write_results`, :func:`merge`): a record replaces an
older record of the same check, except that a skip never replaces a result; each
record keeps the provenance of the run that made it, so the report marks the ones
made at another commit than HEAD as stale.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from reports.catalogue import Claim, functions_in
from reports.policy import ALL as VERDICTS
from reports.verdict import claim_status, claim_verdict, inventory_tiers, pointer_of

__all__ = ["SCHEMA", "VERDICTS", "BAD", "claim_verdict", "summarise", "build", "write_atomic", "load",
           "merge", "merge_into", "write_results", "shard_of", "default_results_path", "git_sha", "versions",
           "device_description"]

SCHEMA = 1
BAD = ("failed", "error")
PACKAGES = ("torch", "numpy", "scipy", "sympy", "hypothesis", "pytest", "matplotlib",
            "scikit-learn", "pot", "pepit")
#: what each record remembers of the run that made it
RECORD_PROVENANCE = ("git", "device", "started", "finished", "tier", "hypothesis_profile", "shard")


def git_sha(root: Path) -> dict[str, Any]:
    def run(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    sha = run("rev-parse", "--verify", "--quiet", "HEAD")
    dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    return {"sha": sha or "unknown", "dirty": dirty}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "absent"
    return out


def device_description(device: str) -> dict[str, Any]:
    info: dict[str, Any] = {"requested": device, "platform": platform.platform(),
                            "cpu_count": os.cpu_count()}
    if "torch" in sys.modules:  # never import torch just to describe the machine
        torch = sys.modules["torch"]
        info["cuda_available"] = bool(torch.cuda.is_available())
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["cuda"] = torch.version.cuda
    return info


def summarise(catalogue: dict[str, Claim], checks: dict[str, dict[str, Any]],
              collected: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Per claim: verdict, what is missing when partial, and the node ids of its checks and controls."""
    by_claim: dict[str, list[dict[str, Any]]] = {cid: [] for cid in catalogue}
    for rec in checks.values():
        for cid in rec.get("claims", []):
            by_claim.setdefault(cid, []).append(rec)
    tiers = inventory_tiers(checks.values(), collected)
    out = {}
    for cid, recs in by_claim.items():
        st = claim_status(catalogue.get(cid), recs, tiers)
        entry: dict[str, Any] = {"verdict": st.verdict, "checks": list(st.checks), "controls": list(st.controls)}
        if st.detail:
            entry["detail"] = st.detail
        if st.interim and st.verdict == "partial":
            entry["interim"] = st.interim
        if st.not_run:
            entry["not_run"] = [{"check": n.pointer, "tier": n.tier, "reason": n.reason} for n in st.not_run]
        out[cid] = entry
    return out


def build(catalogue: dict[str, Claim], checks: dict[str, dict[str, Any]],
          provenance: dict[str, Any], partial: bool = False, *,
          runs: list[dict[str, Any]] | None = None,
          collected: Mapping[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": SCHEMA, "partial": partial, "provenance": provenance}
    if runs is not None:
        out["runs"] = runs
    if collected:
        out["collected"] = dict(collected)
    out["checks"] = checks
    out["claims"] = summarise(catalogue, checks, collected)
    return out


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that a reader never sees a truncated file: temp file in the
    same folder, fsync, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=False, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it owner-only; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load(path: Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no results file at {path}: run `python -m reports run` "
                                f"or `python -m pytest checks` first") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a valid results file: {exc}") from None
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: results schema {data.get('schema')!r}, expected {SCHEMA}")
    return data


def shard_of(options: Any) -> dict[str, Any] | None:
    """``{"group": i, "splits": N, "algorithm": ...}`` of a pytest-split shard (``--splits N
    --group i``; ``options`` is pytest's ``config.option``), or None for an unsplit run."""
    splits, group = getattr(options, "splits", None), getattr(options, "group", None)
    if not splits or not group:
        return None
    return {"group": int(group), "splits": int(splits),
            "algorithm": getattr(options, "splitting_algorithm", None) or "duration_based_chunks"}


def default_results_path(root: Path, tier: str, shard: Mapping[str, Any] | None = None) -> Path:
    """reports/out/results-<tier>.json; a shard's own file under reports/out/shards/<tier>/."""
    out = Path(root) / "reports" / "out"
    if shard:
        return out / "shards" / tier / f"results-{shard['group']}of{shard['splits']}.json"
    return out / f"results-{tier}.json"


def _record_provenance(prov: Mapping[str, Any]) -> dict[str, Any]:
    return {k: prov.get(k) for k in RECORD_PROVENANCE if prov.get(k) is not None}


def _run_key(prov: Mapping[str, Any]) -> tuple:
    return (prov.get("started"), prov.get("command"), json.dumps(prov.get("shard"), sort_keys=True))


def _runs_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The provenances of the runs a results file holds records of."""
    prov = data.get("provenance") or {}
    if data.get("runs"):
        return list(data["runs"])
    if "merged_from" in prov:
        return list(prov["merged_from"])
    return [dict(prov)] if prov else []


def _stamped(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The file's records, each with the provenance of its run (older files kept it only at the top)."""
    top = _record_provenance(data.get("provenance") or {})
    return {n: r if r.get("provenance") else dict(r, provenance=top) for n, r in (data.get("checks") or {}).items()}


def _finished(rec: Mapping[str, Any]) -> float:
    return (rec.get("provenance") or {}).get("finished") or 0


def _replaces(old: Mapping[str, Any], new: Mapping[str, Any], by_time: bool) -> bool:
    """Whether ``new`` replaces ``old``: a result beats a skip; otherwise the later run wins
    (by the records' own times, or, ``by_time=False``, by the order the files were given in)."""
    if (new.get("outcome") == "skipped") != (old.get("outcome") == "skipped"):
        return old.get("outcome") == "skipped"
    return _finished(new) >= _finished(old) if by_time else True


def combine_records(datas: Iterable[Mapping[str, Any]], by_time: bool = True
             ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Records, runs and inventory of several results files, merged per check."""
    records: dict[str, dict[str, Any]] = {}
    runs: dict[tuple, dict[str, Any]] = {}
    collected: dict[str, str] = {}
    datas = list(datas)
    if by_time:
        datas.sort(key=lambda d: (d.get("provenance") or {}).get("finished") or 0)
    for data in datas:
        for prov in _runs_of(data):
            runs[_run_key(prov)] = prov
        collected.update(data.get("collected") or {})
        for nodeid, rec in _stamped(data).items():
            if nodeid not in records or _replaces(records[nodeid], rec, by_time):
                records[nodeid] = rec
    used = {(r["provenance"].get("started"), json.dumps(r["provenance"].get("shard"), sort_keys=True))
            for r in records.values()}
    kept = [p for p in runs.values()
            if (p.get("started"), json.dumps(p.get("shard"), sort_keys=True)) in used or not p.get("started")]
    kept.sort(key=lambda p: p.get("finished") or 0)
    return records, kept, collected


def merge(catalogue: dict[str, Claim], runs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Merge several results files (e.g. the fast tier, the slow tier, a GPU run) per check:
    a check seen in several keeps its latest record that is not merely a skip, with the
    provenance of the run that made it."""
    datas = list(runs)
    records, kept, collected = combine_records(datas)
    out = build(catalogue, records, {"merged_from": kept, "finished": time.time()}, runs=kept,
                collected=collected)
    out["partial"] = any(bool(d.get("partial")) for d in datas)
    return out


#: check file -> (its mtime, the functions it defines): parsed once per process, not at every snapshot
_FUNCTIONS: dict[Path, tuple[int, set[str]]] = {}


def _vanished(nodeid: str, root: Path) -> bool:
    """Whether the check a record was made by no longer exists (its file or function gone)."""
    file, _, rest = pointer_of(nodeid).partition("::")
    path = root / file
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return True
    if _FUNCTIONS.get(path, (None,))[0] != mtime:
        try:
            _FUNCTIONS[path] = (mtime, functions_in(path))
        except (OSError, SyntaxError, UnicodeDecodeError):
            return False  # unreadable now: keep its records rather than guess
    return bool(rest) and rest not in _FUNCTIONS[path][1]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``path`` while it is read, merged and rewritten."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no concurrent writers expected
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_results(path: Path, catalogue: dict[str, Claim], records: Mapping[str, dict[str, Any]],
                  provenance: dict[str, Any], *, partial: bool = False,
                  collected: Mapping[str, str] | None = None, root: Path | None = None,
                  shard: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge this run's ``records`` into the results file at ``path`` and write it atomically.

    What a rerun of part of the suite (one file, ``-k``, one tier) did not touch is
    kept with the provenance of the run that made it; a check this run skipped keeps
    an earlier result. With ``root``, kept records of checks that no longer exist
    there are dropped. A shard (``shard={"group": i, "splits": N}``) writes a fresh
    file of its own: shard files are merged by ``python -m reports merge``, never in place.
    Returns what was written."""
    prov = dict(provenance)
    if shard:
        prov["shard"] = dict(shard)
    stamp = _record_provenance(prov)
    mine = {n: dict(r, provenance=dict(r.get("provenance") or {}, **stamp)) for n, r in records.items()}
    current = {"provenance": prov, "runs": [prov], "checks": mine, "collected": dict(collected or {}),
               "partial": partial, "shard": dict(shard) if shard else None}
    return merge_into(path, catalogue, current, root=root, fresh=bool(shard))


def merge_into(path: Path, catalogue: dict[str, Claim], current: Mapping[str, Any], *,
               root: Path | None = None, fresh: bool = False) -> dict[str, Any]:
    """Merge the results ``current`` (records with their provenance) into the file at
    ``path`` per check, ``current`` winning, and write it atomically (``fresh``: replace it)."""
    path = Path(path)
    prov = dict(current.get("provenance") or {})
    with _locked(path):
        previous: list[Mapping[str, Any]] = []
        if path.is_file() and not fresh:
            try:
                previous.append(load(path))
            except ValueError as exc:
                aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
                os.replace(path, aside)
                prov["replaced_unreadable"] = f"{aside.name}: {exc}"
        if previous and root is not None:
            mine = current.get("checks") or {}
            old = dict(previous[0])
            old["checks"] = {n: r for n, r in _stamped(old).items() if n in mine or not _vanished(n, root)}
            old["collected"] = {n: t for n, t in (old.get("collected") or {}).items()
                                if n in (current.get("collected") or {}) or not _vanished(n, root)}
            previous = [old]
        # the current results are the newest, whatever the clocks of the machines that wrote the file said
        records, runs, inventory = combine_records([*previous, current], by_time=False)
        data = build(catalogue, records, prov, partial=bool(current.get("partial")), runs=runs, collected=inventory)
        if fresh and current.get("shard"):
            data["shard"] = dict(current["shard"])
        write_atomic(path, data)
    return data
