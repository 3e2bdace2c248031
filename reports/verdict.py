"""One verdict per claim from the records of its checks (the policy is :mod:`reports.policy`).

* a check or control that raised (not a failed predicate) -> ``error``;
* a failed check, or a planted-bug control the check did not reject -> ``failed``;
* not every check the catalogue lists for the claim ran -> ``partial`` (some ran) or
  ``not run`` (none ran). A catalogue pointer ``file::function`` ran when a record of
  it (any parametrisation) passed and none of its records was skipped. Checks of the
  CPU tiers (fast, slow, network) all count: a slow check not selected leaves the claim
  partial, and the report says which tier is missing. Checks of the gpu tier are
  full-scale replications of claims the network tier decides at CPU scale: a gpu record
  counts only when it ran at full scale (a tiny-scale run proves the code path and
  decides nothing); when it has not, the verdict rests on the CPU checks and the report
  says the full-scale check is pending. A claim whose only checks are gpu checks is
  ``not run`` without CUDA;
* otherwise, over the checks that passed: ``refuted`` if one demonstrates the statement
  false in every reading (``evidence.refutes``), else ``inconclusive`` if one cannot
  decide, else ``corrected`` if one shows the statement as printed failing
  (``evidence.corrects``) while another verifies the corrected statement (with none,
  the corrected half is unearned: ``cited`` where the catalogue expects it -- no program
  can check the corrected statement -- else ``inconclusive``), else ``verified``;
* no checks at all -> ``cited`` (expected cited) or ``not yet checked``.

Records that belong to a claim but to none of its catalogue pointers (a check renamed
since, a self-test sandbox) still count towards what ran; completeness is judged
over the catalogue's list only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from reports.catalogue import Claim

TIER_ORDER = ("fast", "slow", "network", "gpu")
#: why a gpu check left no record (it was not selected: CPU tiers only, or no CUDA)
GPU_HINT = "needs CUDA"
#: why a gpu record does not count: it ran at tiny scale
TINY_HINT = "tiny scale: code path only"
#: what a passing check demonstrates, from strongest to weakest (``evidence.on_pass``)
ON_PASS_ORDER = ("refuted", "inconclusive", "corrected", "verified")


@dataclass(frozen=True)
class NotRun:
    """A catalogue-listed check without a result."""
    pointer: str
    tier: str = ""          # "" when no run ever collected it
    reason: str = ""        # the skip message, or why it was not selected


@dataclass(frozen=True)
class ClaimStatus:
    verdict: str
    ran_tiers: tuple[str, ...] = ()
    not_run: tuple[NotRun, ...] = ()
    interim: str = ""       # for ``partial``: what the checks that ran say
    detail: str = ""        # one line, e.g. "fast checks only; 2 slow checks not run"
    pending: tuple[NotRun, ...] = ()  # full-scale gpu checks not run (the verdict rests on the CPU tiers)
    checks: tuple[str, ...] = field(default=())
    controls: tuple[str, ...] = field(default=())


def pointer_of(nodeid: str) -> str:
    """The catalogue pointer ``file::function`` of a pytest node id (parameters and class dropped)."""
    path, _, rest = nodeid.partition("::")
    if not rest:
        return path
    return f"{path}::{rest.split('[', 1)[0].split('::')[-1]}"


def _tier_key(tier: str) -> int:
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_missing(ran_tiers: Iterable[str], not_run: Iterable[NotRun]) -> str:
    """``fast checks only; 2 slow checks not run; 1 gpu check skipped (CUDA is not available)``."""
    ran = sorted(set(ran_tiers), key=_tier_key)
    parts = [f"{' and '.join(ran)} checks only"] if ran else []
    by_tier: dict[tuple[str, str], int] = {}
    for nr in not_run:
        by_tier[(nr.tier, nr.reason)] = by_tier.get((nr.tier, nr.reason), 0) + 1
    for (tier, reason), n in sorted(by_tier.items(), key=lambda kv: (_tier_key(kv[0][0]), kv[0][1])):
        what = _plural(n, f"{tier} check" if tier else "check")
        parts.append(f"{what} not run" + (f" ({reason})" if reason else ""))
    return "; ".join(parts)


def _skip_reason(message: str) -> str:
    text = (message or "skipped").strip().splitlines()[0]
    for prefix in ("Skipped: ",):
        text = text.removeprefix(prefix)
    return text if len(text) <= 120 else text[:117] + "…"


def claim_status(claim: Claim | None, records: list[dict[str, Any]],
                 tiers: Mapping[str, str] | None = None) -> ClaimStatus:
    """The claim's verdict and, when not every catalogue-listed check ran, what is missing.

    ``records`` are the result records naming the claim (checks and controls);
    ``tiers`` maps catalogue pointers to their tier for checks that left no record
    (the inventory of collected checks kept in the results file)."""
    tiers = tiers or {}
    # a gpu check run at tiny scale proved its code path only: as if it had not run
    tiny = {pointer_of(r.get("nodeid", "")) for r in records if _tiny_gpu(r) and not r.get("control")}
    records = [r for r in records if not _tiny_gpu(r)]
    checks = [r for r in records if not r.get("control")]
    controls = [r for r in records if r.get("control")]
    ids = (tuple(r.get("nodeid", "") for r in checks), tuple(r.get("nodeid", "") for r in controls))
    outcomes = {r.get("outcome") for r in records}
    if "error" in outcomes:
        return ClaimStatus("error", checks=ids[0], controls=ids[1])
    if "failed" in outcomes:
        return ClaimStatus("failed", checks=ids[0], controls=ids[1])

    by_pointer: dict[str, list[dict[str, Any]]] = {}
    for r in checks:
        by_pointer.setdefault(pointer_of(r.get("nodeid", "")), []).append(r)
    listed = tuple(claim.checks) if claim is not None else ()
    not_run = []
    for p in listed:
        recs = by_pointer.get(p, [])
        tier = next((r.get("tier") for r in recs if r.get("tier")), tiers.get(p, ""))
        skipped = [r for r in recs if r.get("outcome") == "skipped"]
        if skipped:
            not_run.append(NotRun(p, tier, _skip_reason(skipped[0].get("message", ""))))
        elif not any(r.get("outcome") == "passed" for r in recs):
            reason = "" if tier else "not collected in any run"
            if p in tiny:
                tier, reason = "gpu", TINY_HINT
            elif tier == "gpu":
                reason = GPU_HINT
            not_run.append(NotRun(p, tier, reason))
    passed = [r for r in checks if r.get("outcome") == "passed"]
    ran_tiers = tuple(sorted({r.get("tier", "") for r in passed} - {""}, key=_tier_key))
    pending: tuple[NotRun, ...] = ()
    if any(p not in tiny and tiers.get(p, _listed_tier(p, by_pointer)) != "gpu" for p in listed):
        pending = tuple(n for n in not_run if n.tier == "gpu")
        not_run = [n for n in not_run if n.tier != "gpu"]
    common = dict(ran_tiers=ran_tiers, not_run=tuple(not_run), checks=ids[0], controls=ids[1], pending=pending)
    if not passed:
        if not listed and not checks and not controls:
            expected = claim.expected if claim is not None else ""
            return ClaimStatus("cited" if expected == "cited" else "not yet checked", **common)
        return ClaimStatus("not run", detail=describe_missing((), not_run), **common)
    on_pass = {((r.get("evidence") or {}).get("on_pass") or "verified") for r in passed}
    interim = next((v for v in ON_PASS_ORDER if v in on_pass), "verified")
    if interim == "corrected" and "verified" not in on_pass:
        interim = "cited" if claim is not None and claim.expected == "cited" else "inconclusive"
    if not_run:
        return ClaimStatus("partial", interim=interim, detail=describe_missing(ran_tiers, not_run), **common)
    return ClaimStatus(interim, **common)


def _tiny_gpu(record: dict[str, Any]) -> bool:
    return record.get("tier") == "gpu" and record.get("scale") not in (None, "full")


def _listed_tier(pointer: str, by_pointer: Mapping[str, list[dict[str, Any]]]) -> str:
    return next((r.get("tier") for r in by_pointer.get(pointer, []) if r.get("tier")), "")


def claim_verdict(claim: Claim | None, records: list[dict[str, Any]],
                  tiers: Mapping[str, str] | None = None) -> str:
    """The verdict alone (see :func:`claim_status`)."""
    return claim_status(claim, records, tiers).verdict


def inventory_tiers(records: Iterable[dict[str, Any]], collected: Mapping[str, str] | None) -> dict[str, str]:
    """pointer -> tier, from the collected inventory, overridden by the records themselves."""
    out = {pointer_of(k): v for k, v in (collected or {}).items()}
    for r in records:
        if r.get("tier") and r.get("nodeid"):
            out[pointer_of(r["nodeid"])] = r["tier"]
    return out
