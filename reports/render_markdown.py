"""The report as Markdown, from the report model (:mod:`reports.model`) alone.

Every piece of text is escaped (HTML-significant characters; pipes in tables),
code spans and fences grow their backtick runs to hold any content."""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

from reports.model import PREDICATE_HEADER, CheckView, ClaimView, Report


def _esc(text: object) -> str:
    """Text for Markdown: HTML-significant characters escaped (renderers show them as typed)."""
    return html.escape(str(text), quote=False)


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def _code(text: object) -> str:
    """An inline code span (shown literally, so not escaped)."""
    text = _one_line(str(text))
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(text: str, lang: str = "") -> list[str]:
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return [f"{ticks}{lang}", text.rstrip("\n"), ticks]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Cells are Markdown already (escape text with ``_esc``); pipes and newlines are handled here."""
    def cell(c: str) -> str:
        return _one_line(c).replace("|", "\\|")
    out = ["| " + " | ".join(cell(_esc(h)) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def _link(cid: str, target: str) -> str:
    return f"[{_esc(cid)}](#{target})"


def render_markdown(report: Report, out_dir: Path) -> str:
    """The report as Markdown; figures linked relative to ``out_dir`` (where the file is written)."""
    m = report
    L: list[str] = [f"# {m.title}", ""]
    L.append(f"Rendered {m.rendered} at HEAD {m.head[:10] or '(no commit)'} from {len(m.runs)} run(s)"
             f"{' — **INCOMPLETE**: a results file is a snapshot of a run that had not finished' if m.incomplete_run else ''}.")
    L.append("")
    L += [f"- {_esc(r)}" for r in m.runs] or ["- no results file: every claim is not yet checked"]
    L += ["", "**Verdicts** (one policy for every claim and author):", ""]
    L += [f"- **{v}** — {_esc(text)}" for v, text in m.legend]
    L += [f"- {_esc(m.precedence)}", "", "**Reproduce:**", ""]
    L += [f"- {_code(cmd)} — {_esc(what)}" for cmd, what in m.reproduce]
    L += ["", "## Summary", "", f"**{len(m.claims)} claims:** {_esc(m.counts_line)}.", "",
          _esc(m.false_alarm.line)]
    L.append("")
    cols = list(m.columns)
    L += _table(["section", "claims", *cols],
                [[_esc(s.name), str(s.total), *[str(s.counts.get(v, 0)) for v in cols]] for s in m.sections])
    L += ["## Errata", ""]
    if m.errata:
        L += ["Every claim the checks found false as printed: corrected (a slip; the corrected statement "
              "is verified) or refuted (false in every faithful reading).", ""]
        L += _table(["claim", "verdict", "as printed", "counterexample", "corrected statement"],
                    [[_link(e.claim_id, e.anchor), e.verdict, _esc(e.printed), _esc(e.counterexample or "—"),
                      _esc(e.corrected or "—")] for e in m.errata])
    else:
        L += ["No claim was found false as printed.", ""]
    if m.surprises:
        L += ["## Surprises", "", f"**{len(m.surprises)} SURPRISE(S)** (verdict ≠ expected, the prediction "
              "fixed before the checks): " + ", ".join(f"{_link(c.id, c.anchor)} ({c.claim.expected} → {c.verdict})"
                                                      for c in m.surprises), ""]
    L += ["## Index", ""]
    L += _table(["id", "title", "expected", "verdict", "headline: measured vs reference (tol)"],
                [[_link(c.id, c.anchor), _esc(c.claim.title), c.claim.expected, _index_verdict(c), _esc(c.headline)]
                 for c in m.claims])
    current = None
    for c in m.claims:
        if c.section != current:
            current = c.section
            L += [f"## {_esc(current)}", ""]
        L += _claim(c, out_dir)
    if m.orphans:
        L += ["## Checks of claims not in the catalogue", ""] + [f"- {_code(n)}" for n in m.orphans] + [""]
    return "\n".join(L) + "\n"


def _index_verdict(c: ClaimView) -> str:
    text = _esc(c.verdict_label) + (" **SURPRISE**" if c.surprise else "")
    return text + (f" (stale: {c.stale})" if c.stale else "")


def _claim(c: ClaimView, base: Path) -> list[str]:
    cl = c.claim
    L = [f'<a id="{c.anchor}"></a>', "", f"### {_code(cl.id)} — {_esc(_one_line(cl.title))}", "",
         _esc(c.where), ""]
    if cl.source:
        L += [f"**Source.** {_esc(cl.source)}", ""]
    if cl.tutorial:
        L += ["> " + _esc(line) for line in cl.tutorial.strip().splitlines()] + [""]
    if cl.statement:
        L += ["**Statement.**", "", _esc(cl.statement.strip()), ""]
    flag = " — **SURPRISE**" if c.surprise else ""
    L += [f"**Verdict: {c.verdict}** (expected {cl.expected}){flag}", ""]
    if c.detail:
        so_far = f" The checks that ran say: {c.interim}." if c.interim else ""
        L += [f"*{_esc(c.detail[:1].upper() + c.detail[1:])}.*{so_far}", ""]
        L += [f"- not run: {_code(n.pointer)} ({_esc(n.tier or 'tier unknown')}"
              f"{': ' + _esc(n.reason) if n.reason else ''})" for n in c.not_run]
        L += [f"- to complete it: {_esc(c.to_complete)}", ""]
    if c.pending_note:
        L += [f"*{_esc(c.pending_note[:1].upper() + c.pending_note[1:])}.*", ""]
    if c.verdict == "corrected":
        L += _table(["as printed (fails)", "corrected (verified)"],
                    [[_esc(c.printed) + (f"<br>counterexample: {_esc(c.counterexample)}" if c.counterexample else ""),
                      _esc(_one_line(c.corrected_statement) or "(no corrected_statement in the catalogue)")]])
    elif c.verdict == "refuted" and c.counterexample:
        L += [f"**Counterexample:** {_esc(c.counterexample)}", ""]
    if cl.expected_detail:
        L += [f"*Expected because:* {_esc(cl.expected_detail)}", ""]
    if cl.cited_reason and (c.verdict == "cited" or cl.expected == "cited"):
        L += [f"**Cited, not checked:** {_esc(cl.cited_reason)}", ""]
    if not c.checks and c.verdict != "cited":
        if not c.detail:
            L += [f"*{c.verdict.capitalize()}.*", ""]
        if cl.test_design:
            L += ["**Planned test design.**", "", _esc(cl.test_design.strip()), ""]
        if cl.negative_control:
            L += ["**Planned negative control.**", "", _esc(cl.negative_control.strip()), ""]
        if cl.checks:
            L += ["Planned checks: " + ", ".join(_code(p) for p in cl.checks), ""]
    if cl.notes:
        L += ["**Catalogue notes.**", "", _esc(cl.notes.strip()), ""]
    if c.checks:
        L += _table(["check", "tier", "outcome", "resolution", "controls"],
                    [[_code(v.nodeid.split("::", 1)[-1]), v.tier, v.outcome + (" (stale)" if v.stale else ""),
                      _esc(v.resolution_text), _esc(v.controls_text)] for v in c.checks])
    for v in c.checks:
        L += _check(v, base)
    if c.controls:
        L += ["**Controls** (wrong worlds, near misses, planted bugs: the check must reject each)", ""]
        L += _table(["control", "kind", "of", "margin", "outcome", "duration", "message"],
                    [[_code(r.nodeid), r.label, ", ".join(_code(p.split("::")[-1]) for p in r.of) or "—",
                      _esc(r.margin or "—"), r.outcome + (" (rejected)" if r.rejected else ""), r.duration,
                      _esc(r.message)] for r in c.controls])
    elif c.checks:
        L += ["*No negative control yet.*", ""]
    return L


def _check(v: CheckView, base: Path) -> list[str]:
    L = [f"#### Check {_code(v.nodeid)}", ""]
    L += [f"- {k}: {'**' + _esc(x) + '**' if k in ('outcome', 'stale') else _esc(x)}" for k, x in v.meta]
    L += [f"- resolution: {_esc(v.resolution_text)}", ""]
    if v.on_pass_reason:
        label = f"Why {v.on_pass}" if v.on_pass != "verified" else "Note"
        L += [f"**{label}:** {_esc(v.on_pass_reason)}", ""]
    if v.counterexample:
        L += [f"**Counterexample:** {_esc(v.counterexample)}", ""]
    if v.message and v.outcome != "passed":
        L += ["Message:", ""] + _fence(v.message) + [""]
    if v.predicates:
        L += _table(PREDICATE_HEADER, [[_code(p.name), *(_esc(x) for x in (p.kind, p.measured, p.reference,
                                        p.tolerance, p.usage, p.examples)), "pass" if p.passed else "FAIL"]
                                       for p in v.predicates])
    if v.values:
        L += ["Recorded values:", ""] + [f"- {_esc(k)} = {_esc(x)}" for k, x in v.values] + [""]
    if v.params:
        L += ["Parameters: " + ", ".join(f"{_esc(k)}={_esc(x)}" for k, x in v.params), ""]
    if v.seed:
        L += [f"Seed: {_esc(v.seed)}", ""]
    L += [f"- note: {_esc(n)}" for n in v.notes] + ([""] if v.notes else [])
    for fig in v.figures:
        cap, name = _esc(_one_line(fig.caption)), _esc(fig.name)
        if fig.file:
            rel = Path(os.path.relpath(fig.file, base)).as_posix().replace(" ", "%20")
            L += [f"![{cap or name}]({rel})", "", f"*Figure {name}{': ' + cap if cap else ''}*", ""]
        else:
            L += [f"*(Figure {name} missing: {_esc(fig.path)})*", ""]
    if v.reproduce:
        L += ["Reproduce:", ""] + _fence(v.reproduce, "sh") + [""]
    return L
