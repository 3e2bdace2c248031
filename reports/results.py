"""The results file: one JSON document per run, per claim its verdict and the
records of its checks, plus provenance. Written atomically.

Schema (``"schema": 1``)::

    {
      "schema": 1,
      "partial": false,                # true while a run is still going
      "provenance": {...},             # git sha, versions, device, profile, tier, command, times
      "checks": {nodeid: record},      # one record per check (test item)
      "claims": {id: {"verdict": ..., "checks": [nodeid, ...], "controls": [nodeid, ...]}}
    }

A check record::

    {"nodeid", "claims": [ids], "outcome": passed|failed|error|skipped,
     "control": bool,                 # a planted-bug test from checks/quality/
     "tier": fast|slow|gpu, "duration": seconds, "message": str,
     "reproduce": str, "algorithms": [registry names used],
     "substituted": [names], "evidence": {...} or null, "provenance": {...}}
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from reports.catalogue import Claim

SCHEMA = 1
VERDICTS = ("verified", "corrected", "refuted", "inconclusive", "cited", "failed", "error",
            "not run", "not yet checked")
BAD = ("failed", "error")
PACKAGES = ("torch", "numpy", "scipy", "sympy", "hypothesis", "pytest", "matplotlib",
            "scikit-learn", "pot", "pepit")


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


def claim_verdict(claim: Claim | None, records: list[dict[str, Any]]) -> str:
    """One verdict per claim from the records of its checks and controls.

    * a failing negative control makes the claim ``failed`` (the check cannot tell a bug);
    * any check ``error`` -> ``error``; any ``failed`` -> ``failed``;
    * all ran checks passed -> ``refuted`` if one of them exhibits a counterexample
      to every faithful reading, else ``inconclusive`` if one says it cannot
      decide, else ``corrected`` if one exhibits the printed statement failing (a
      slip) while another verifies the corrected statement (with none: ``cited`` if the
      catalogue expects ``cited`` — the corrected statement no program can check — else
      ``inconclusive``), else ``verified``;
    * only skipped checks -> ``not run``; no checks -> ``cited`` / ``not yet checked``.
    """
    checks = [r for r in records if not r.get("control")]
    controls = [r for r in records if r.get("control")]
    if any(r["outcome"] == "error" for r in records):
        return "error"
    if any(r["outcome"] == "failed" for r in records):
        return "failed"
    ran = [r for r in checks if r["outcome"] == "passed"]
    if not checks:
        if claim is not None and claim.expected == "cited":
            return "cited"
        return "not yet checked" if not controls else "not run"
    if not ran:
        return "not run"
    on_pass = [((r.get("evidence") or {}).get("on_pass") or "verified") for r in ran]
    if "refuted" in on_pass:
        return "refuted"
    if "inconclusive" in on_pass:
        return "inconclusive"
    if "corrected" in on_pass:
        # corrected = the literal counterexample AND the corrected statement verified by another
        # check of the claim; with no such check the corrected half is unearned: cited where no
        # program can check it (the catalogue says so), else inconclusive
        if "verified" in on_pass:
            return "corrected"
        return "cited" if claim is not None and claim.expected == "cited" else "inconclusive"
    return "verified"


def summarise(catalogue: dict[str, Claim], checks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    by_claim: dict[str, list[dict[str, Any]]] = {cid: [] for cid in catalogue}
    for rec in checks.values():
        for cid in rec.get("claims", []):
            by_claim.setdefault(cid, []).append(rec)
    out = {}
    for cid, recs in by_claim.items():
        out[cid] = {
            "verdict": claim_verdict(catalogue.get(cid), recs),
            "checks": [r["nodeid"] for r in recs if not r.get("control")],
            "controls": [r["nodeid"] for r in recs if r.get("control")],
        }
    return out


def build(catalogue: dict[str, Claim], checks: dict[str, dict[str, Any]],
          provenance: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    return {"schema": SCHEMA, "partial": partial, "provenance": provenance,
            "checks": checks, "claims": summarise(catalogue, checks)}


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


def merge(catalogue: dict[str, Claim], runs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Merge several results files (e.g. the fast tier, the slow tier, a GPU run).

    A check seen in several runs keeps the record of the latest run that did
    not merely skip it. Each record remembers the provenance of its run."""
    merged: dict[str, dict[str, Any]] = {}
    provenances = []
    partial = False
    for run in sorted(runs, key=lambda r: r["provenance"].get("finished", 0)):
        prov = run["provenance"]
        provenances.append(prov)
        partial = partial or bool(run.get("partial"))
        for nodeid, rec in run["checks"].items():
            rec = dict(rec)
            rec.setdefault("provenance", {k: prov.get(k) for k in
                                          ("git", "device", "finished", "tier", "label")})
            if nodeid in merged and rec["outcome"] == "skipped" and merged[nodeid]["outcome"] != "skipped":
                continue
            merged[nodeid] = rec
    out = build(catalogue, merged, {"merged_from": provenances, "finished": time.time()})
    out["partial"] = partial
    return out
