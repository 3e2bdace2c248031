"""The report as data: built once from the catalogue and a (merged) results file.

The Markdown and HTML renderers read only a :class:`Report`; every string they show
that is not markup comes from here, so the two cannot disagree. Content, in order:
title and provenance of every run, the policy legend and how to reproduce, the
summary (claims per verdict, overall and per section; the suite's false-alarm
budget), the errata (every corrected and refuted claim: the statement as printed,
its counterexample, the corrected statement), the surprises (verdict ≠ expected),
the index, then per claim, in the tutorial's order, its words, statement, verdict,
what did not run, a table of its checks with their resolution, and per check its
predicates, values, parameters, figures and reproduce command, then the controls.
"""
from __future__ import annotations

import datetime as _dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from reports.catalogue import ROOT, Claim
from reports.formatting import PREDICATE_HEADER  # noqa: F401 - the predicate table's header, for the renderers
from reports.formatting import (SHA, anchor, current_head, find_figure, headline_text, machine, num, predicate_cells,
                                run_line, section_of, short_sha, value_text, when)
from reports.policy import (ALL, FALSE_ALARM_BUDGET, POLICY, PRECEDENCE_LINE, STATUSES, VERDICTS)
from reports.verdict import NotRun, claim_status, inventory_tiers, pointer_of

TITLE = "Neural Networks: The Good, The Bad, The Ugly — claim verification"
#: verdicts that come from running something: a surprise is only flagged for these
REAL_VERDICTS = ("verified", "corrected", "refuted", "inconclusive", "failed", "error")
#: how to reproduce the report (command, what it does)
REPRODUCE = (
    ("pip install -e . && python -m reports run",
     "every CPU tier (fast, slow, network at CPU scale), then this report"),
    ("python -m reports run --tier gpu --device cuda",
     "the gpu tier at full scale, on a machine with CUDA (commit its results file to reports/gpu-results/)"),
    ("python -m pytest checks", "the fast tier alone; merges into reports/out/results-fast.json"),
    ("python -m reports", "re-render from the results files, no rerun"),
)
#: how to run the checks of a tier that did not run
COMPLETE = {"fast": "`python -m reports run` (every CPU tier)", "slow": "`python -m reports run` (every CPU tier)",
            "network": "`python -m reports run` (every CPU tier)",
            "gpu": "`python -m reports run --tier gpu --device cuda` on a machine with CUDA, or commit a GPU "
                   "run's results file to reports/gpu-results/",
            "": "`python -m reports run --tier all`"}
CONTROL_KINDS = ("wrong_world", "near_miss", "planted_bug")
CONTROL_LABEL = {"wrong_world": "wrong world", "near_miss": "near miss", "planted_bug": "planted bug"}


@dataclass(frozen=True)
class PredicateRow:
    name: str
    kind: str
    measured: str
    reference: str
    tolerance: str
    usage: str
    examples: str
    passed: bool


@dataclass(frozen=True)
class FigureRef:
    name: str
    caption: str
    path: str
    file: Path | None


@dataclass(frozen=True)
class ControlRow:
    nodeid: str
    kind: str                 # wrong_world | near_miss | planted_bug
    of: tuple[str, ...]       # catalogue pointers of the checks it targets ("" entries dropped)
    margin: str
    outcome: str
    rejected: bool            # the control passed: the check rejected the bug / wrong world / near miss
    duration: str
    message: str

    @property
    def label(self) -> str:
        return CONTROL_LABEL.get(self.kind, self.kind)

    @property
    def result(self) -> str:
        return "rejected" if self.rejected else {"skipped": "not run"}.get(self.outcome, f"NOT rejected ({self.outcome})")


@dataclass(frozen=True)
class CheckView:
    nodeid: str
    pointer: str
    outcome: str
    tier: str
    meta: tuple[tuple[str, str], ...]
    stale: str                # the short sha it ran at, when that is not HEAD
    on_pass: str
    on_pass_reason: str
    counterexample: str
    resolution: str           # the check's own statement (evidence.resolution)
    controls: tuple[ControlRow, ...]   # the controls that target this check
    message: str
    predicates: tuple[PredicateRow, ...]
    values: tuple[tuple[str, str], ...]
    params: tuple[tuple[str, str], ...]
    seed: str
    notes: tuple[str, ...]
    figures: tuple[FigureRef, ...]
    reproduce: str
    false_alarm_budget: float | None

    @property
    def resolution_text(self) -> str:
        """The resolution column: the stated resolution and the margins of the near misses it rejects."""
        bits = [self.resolution] if self.resolution else []
        for c in self.controls:
            if c.kind == "near_miss":
                bits.append(f"near miss {c.margin or c.nodeid.split('::')[-1]}: {c.result}")
        return "; ".join(bits) or "not stated"

    @property
    def controls_text(self) -> str:
        counts = []
        for kind in CONTROL_KINDS:
            mine = [c for c in self.controls if c.kind == kind]
            if mine:
                counts.append(f"{CONTROL_LABEL[kind]} {sum(c.rejected for c in mine)}/{len(mine)} rejected")
        return ", ".join(counts) or "—"


@dataclass(frozen=True)
class ClaimView:
    claim: Claim
    verdict: str
    surprise: bool
    headline: str
    detail: str               # what ran and what did not (partial / not run)
    interim: str              # partial: what the checks that ran say
    not_run: tuple[NotRun, ...]
    pending: tuple[NotRun, ...]  # full-scale gpu checks not run; the verdict rests on the CPU tiers
    checks: tuple[CheckView, ...]
    controls: tuple[ControlRow, ...]
    stale: int                # how many of its checks ran at another commit
    printed: str              # the statement as printed (the tutorial's words)
    counterexample: str
    corrected_statement: str

    @property
    def id(self) -> str:
        return self.claim.id

    @property
    def anchor(self) -> str:
        return anchor(self.claim.id)

    @property
    def section(self) -> str:
        return section_of(self.claim)

    @property
    def where(self) -> str:
        cl = self.claim
        return " · ".join(x for x in (cl.part and f"part {cl.part}", cl.section and f"section {cl.section}",
                                      cl.slide and f"slide {cl.slide}", f"tier {cl.tier}") if x)

    @property
    def to_complete(self) -> str:
        """The commands that would run what did not (``""`` when everything ran)."""
        hints = dict.fromkeys(COMPLETE.get(n.tier, COMPLETE[""]) for n in self.not_run)
        return "; ".join(hints)

    @property
    def pending_note(self) -> str:
        """``full-scale GPU check pending: …`` (``""`` when none is)."""
        if not self.pending:
            return ""
        why = sorted({n.reason for n in self.pending if n.reason})
        return (f"full-scale GPU replication pending ({len(self.pending)} check"
                f"{'s' if len(self.pending) > 1 else ''}{': ' + '; '.join(why) if why else ''}); "
                f"the verdict rests on the CPU-scale checks — {COMPLETE['gpu']}")

    @property
    def verdict_label(self) -> str:
        """The verdict as the index shows it, e.g. ``partial (fast checks only; …)``."""
        return self.verdict + (f" — {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Erratum:
    claim_id: str
    anchor: str
    verdict: str
    printed: str
    counterexample: str
    corrected: str


@dataclass(frozen=True)
class SectionCounts:
    name: str
    anchor: str
    total: int
    counts: dict[str, int]


@dataclass(frozen=True)
class FalseAlarmBudget:
    total: float
    checks: tuple[tuple[str, float], ...]   # (nodeid, stated budget) of the checks that ran

    @property
    def line(self) -> str:
        if not self.checks:
            return (f"No check that ran states a false-alarm budget (evidence.record("
                    f"\"{FALSE_ALARM_BUDGET}\", p)).")
        return (f"Family-wise false-alarm budget of the suite: {num(self.total)} — the sum of the "
                f"budgets stated by {len(self.checks)} stochastic check(s) that ran (a union bound on the "
                f"probability that one run fails a true claim by chance).")


@dataclass(frozen=True)
class Report:
    title: str
    rendered: str
    head: str
    runs: tuple[str, ...]
    incomplete_run: bool      # a results file is a snapshot of a run that had not finished
    no_results: bool
    legend: tuple[tuple[str, str], ...]
    precedence: str
    reproduce: tuple[tuple[str, str], ...]
    claims: tuple[ClaimView, ...]
    counts: dict[str, int]
    columns: tuple[str, ...]
    sections: tuple[SectionCounts, ...]
    surprises: tuple[ClaimView, ...]
    errata: tuple[Erratum, ...]
    orphans: tuple[str, ...]
    false_alarm: FalseAlarmBudget

    @property
    def counts_line(self) -> str:
        """``80 verified, 3 corrected; 5 partial, 2 not run (not counted as verdicts)``."""
        v = ", ".join(f"{self.counts[x]} {x}" for x in VERDICTS if self.counts.get(x))
        s = ", ".join(f"{self.counts[x]} {x}" for x in STATUSES if self.counts.get(x))
        return (v or "no verdict") + (f"; {s} (not counted as verdicts)" if s else "")


# ------------------------------------------------------------------ building
def _runs(results: dict[str, Any]) -> list[dict[str, Any]]:
    prov = results.get("provenance") or {}
    if results.get("runs"):
        return list(results["runs"])
    return list(prov["merged_from"]) if "merged_from" in prov else ([prov] if prov else [])


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _control_row(rec: dict[str, Any]) -> ControlRow:
    of = rec.get("control_of") or ()
    of = (of,) if isinstance(of, str) else tuple(of)
    return ControlRow(nodeid=rec.get("nodeid", ""), kind=rec.get("control_kind") or "planted_bug",
                      of=tuple(pointer_of(x) for x in of if x), margin=_one_line(rec.get("margin") or ""),
                      outcome=rec.get("outcome", "?"), rejected=rec.get("outcome") == "passed",
                      duration=f"{num(rec.get('duration'))} s", message=rec.get("message") or "")


def _check_meta(rec: dict[str, Any], stale: str) -> tuple[tuple[str, str], ...]:
    prov = rec.get("provenance") or {}
    meta = [("outcome", rec.get("outcome", "?")), ("duration", f"{num(rec.get('duration'))} s"),
            ("tier", rec.get("tier", "?")),
            ("ran on", f"{machine(prov.get('device'))}, {when(prov.get('finished'))}, "
                       f"git {short_sha(prov.get('git'))}")]
    if stale:
        meta.append(("stale", f"stale (run at {stale})"))
    if rec.get("algorithms"):
        meta.append(("algorithms", ", ".join(rec["algorithms"])))
    if rec.get("substituted"):
        meta.append(("substituted", ", ".join(rec["substituted"])))
    return tuple(meta)


def _budget(ev: dict[str, Any]) -> float | None:
    v = (ev.get("values") or {}).get(FALSE_ALARM_BUDGET)
    v = v.get("value") if isinstance(v, dict) else v
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _check_view(rec: dict[str, Any], stale: str, controls: list[ControlRow], search: list[Path]) -> CheckView:
    ev = rec.get("evidence") or {}
    pointer = pointer_of(rec["nodeid"])
    figs = {(f.get("name"), f.get("path")): f for f in ev.get("figures") or []}
    params = [(str(k), num(v)) for k, v in (ev.get("params") or {}).items()]
    return CheckView(
        nodeid=rec["nodeid"], pointer=pointer, outcome=rec.get("outcome", "?"), tier=rec.get("tier", "?"),
        meta=_check_meta(rec, stale), stale=stale, on_pass=ev.get("on_pass") or "verified",
        on_pass_reason=ev.get("on_pass_reason") or "", counterexample=_one_line(ev.get("counterexample") or ""),
        resolution=_one_line(ev.get("resolution") or ""),
        controls=tuple(c for c in controls if pointer in c.of),
        message=rec.get("message") or "",
        predicates=tuple(PredicateRow(*predicate_cells(n, p)[:7], passed=bool(p.get("passed")))
                         for n, p in (ev.get("predicates") or {}).items()),
        values=tuple((str(k), value_text(v)) for k, v in (ev.get("values") or {}).items()),
        params=tuple(params), seed="" if ev.get("seed") is None else num(ev["seed"]),
        notes=tuple(ev.get("notes") or ()),
        figures=tuple(FigureRef(f.get("name", ""), f.get("caption") or "", f.get("path", ""),
                                find_figure(f.get("path", ""), search)) for f in figs.values()),
        reproduce=rec.get("reproduce") or "", false_alarm_budget=_budget(ev) if rec.get("outcome") != "skipped" else None)


def _headline(checks: list[dict[str, Any]]) -> str:
    ordered = sorted(checks, key=lambda r: r.get("outcome") == "passed")  # a failure first
    for rec in ordered:
        ev = rec.get("evidence") or {}
        name = ev.get("headline")
        if name and name in (ev.get("predicates") or {}):
            return f"{name}: {headline_text(ev['predicates'][name])}"
    return ""


def build_report(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                 head_sha: str | None = None, figure_dirs: Iterable[Path] = ()) -> Report:
    """Everything the renderers show, computed once. Verdicts are recomputed from the
    check records against *this* catalogue (a results file may predate an edit of it)."""
    results = results or {}
    head = current_head() if head_sha is None else head_sha
    runs = _runs(results)
    single = runs[0] if len(runs) == 1 else {}
    records: dict[str, dict[str, Any]] = {}
    for nodeid, rec in (results.get("checks") or {}).items():
        rec = dict(rec, nodeid=rec.get("nodeid") or nodeid)
        rec.setdefault("provenance", {k: single.get(k) for k in ("git", "device", "finished", "tier")})
        records[nodeid] = rec
    tiers = inventory_tiers(records.values(), results.get("collected"))
    search = [Path(d) for d in figure_dirs] + [ROOT / "reports" / "out" / "figures"]
    by_claim: dict[str, list[dict[str, Any]]] = {cid: [] for cid in catalogue}
    for rec in records.values():
        for cid in rec.get("claims", []):
            if cid in by_claim:
                by_claim[cid].append(rec)

    claims = []
    for cid, claim in sorted(catalogue.items(), key=lambda kv: kv[1].order):
        recs = by_claim[cid]
        st = claim_status(claim, recs, tiers)
        control_rows = [_control_row(r) for r in recs if r.get("control")]
        check_recs = [r for r in recs if not r.get("control")]
        views = []
        for r in check_recs:
            sha = str(((r.get("provenance") or {}).get("git") or {}).get("sha") or "")
            stale = sha[:10] if head and SHA.match(sha) and sha != head else ""
            views.append(_check_view(r, stale, control_rows, search))
        counterexample = next((v.counterexample for v in views if v.counterexample and v.outcome == "passed"), "")
        claims.append(ClaimView(
            claim=claim, verdict=st.verdict,
            surprise=st.verdict in REAL_VERDICTS and st.verdict != claim.expected,
            headline=_headline(check_recs), detail=st.detail, interim=st.interim, not_run=st.not_run,
            pending=st.pending,
            checks=tuple(views), controls=tuple(control_rows), stale=sum(bool(v.stale) for v in views),
            printed=_one_line(claim.tutorial or claim.statement),
            counterexample=counterexample or _one_line(claim.counterexample),
            corrected_statement=claim.corrected_statement.strip()))

    counts = Counter(c.verdict for c in claims)
    sections: dict[str, Counter] = {}
    for c in claims:
        sections.setdefault(c.section, Counter())[c.verdict] += 1
    budgets = tuple((v.nodeid, v.false_alarm_budget) for c in claims for v in c.checks
                    if v.false_alarm_budget is not None)
    return Report(
        title=TITLE, rendered=when(_dt.datetime.now(_dt.timezone.utc).timestamp()), head=head,
        runs=tuple(run_line(r) for r in runs), incomplete_run=bool(results.get("partial")),
        no_results=not records, legend=POLICY, precedence=PRECEDENCE_LINE, reproduce=REPRODUCE,
        claims=tuple(claims), counts=dict(counts),
        columns=tuple(v for v in ALL if counts.get(v)) or ("not yet checked",),
        sections=tuple(SectionCounts(s, f"sec-{i}", sum(c.values()), dict(c))
                       for i, (s, c) in enumerate(sections.items(), 1)),
        surprises=tuple(c for c in claims if c.surprise),
        errata=tuple(Erratum(c.id, c.anchor, c.verdict, c.printed, c.counterexample, c.corrected_statement)
                     for c in claims if c.verdict in ("corrected", "refuted")),
        orphans=tuple(sorted(n for n, r in records.items()
                             if r.get("claims") and not all(cid in catalogue for cid in r["claims"]))),
        false_alarm=FalseAlarmBudget(sum(p for _, p in budgets), budgets))
