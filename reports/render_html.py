"""The report as ONE self-contained HTML page, from the report model (:mod:`reports.model`)
alone: inline CSS (:mod:`reports.html_style`), figures embedded as base64 data URIs, no
fonts, scripts or network. Same content and order as the Markdown report; every piece
of text is escaped."""
from __future__ import annotations

import base64
import mimetypes
import re
from html import escape
from pathlib import Path
from typing import Any

from reports.html_style import CSS
from reports.model import PREDICATE_HEADER, CheckView, ClaimView, ControlRow, Report


def badge(verdict: str) -> str:
    return f'<span class="badge v-{verdict.replace(" ", "-")}">{escape(verdict)}</span>'


SURPRISE = '<span class="badge surprise">SURPRISE</span>'


def _table(header: list[str], rows: list[list[str]], nowrap: tuple[int, ...] = (), ids: tuple[int, ...] = ()) -> str:
    """``rows`` hold HTML already escaped by the caller; columns in ``nowrap`` never wrap their
    words, columns in ``ids`` (claim ids) wrap only at hyphens."""
    def cls(i: int) -> str:
        return ' class="nw"' if i in nowrap else ' class="id"' if i in ids else ""
    head = "".join(f"<th{cls(i)}>{escape(h)}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _inline(s: str) -> str:
    """Escaped text with the catalogue's inline Markdown: `code`, **bold**, *emphasis*."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`\n]+`)", s)):
        if i % 2:
            out.append(f"<code>{escape(part[1:-1])}</code>")
            continue
        t = escape(part)
        t = re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"<strong>\1</strong>", t)
        t = re.sub(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])", r"<em>\1</em>", t)
        out.append(t)
    return "".join(out)


def _text(s: Any) -> str:
    """The catalogue's long text (a Markdown subset) as HTML: paragraphs and bullet lists."""
    blocks: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + "</ul>")
            items.clear()

    for line in str(s).strip().splitlines():
        bullet = re.match(r"^\s*[*-]\s+(.*)$", line)
        if bullet:
            if para:
                flush()
            items.append(bullet.group(1))
        elif not line.strip():
            flush()
        elif items and line[:1].isspace():
            items[-1] += " " + line.strip()
        else:
            if items:
                flush()
            para.append(line.strip())
    flush()
    return "".join(blocks)


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(report: Report) -> str:
    m = report
    H: list[str] = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
                    '<meta name="viewport" content="width=device-width, initial-scale=1">',
                    f"<title>{escape(m.title)}</title><style>{CSS}</style></head><body><main>",
                    f"<h1>{escape(m.title)}</h1>"]
    head = escape(m.head[:10]) if m.head else "(no commit)"
    incomplete = (" — <strong>INCOMPLETE</strong>: a results file is a snapshot of a run that had not finished"
                  if m.incomplete_run else "")
    H.append(f'<p class="meta">Rendered {escape(m.rendered)} at HEAD <code>{head}</code> from '
             f'{len(m.runs)} run(s){incomplete}.</p>')
    if m.runs:
        H.append("<ul>" + "".join(f'<li class="prov">{escape(r)}</li>' for r in m.runs) + "</ul>")
    else:
        H.append('<p class="pending">No results file: every claim is shown as not yet checked.</p>')
    H.append('<div class="legend" id="legend"><p><strong>Verdicts</strong> (one policy for every claim and '
             "author)</p><dl>" + "".join(f"<dt>{badge(v)}</dt><dd>{_inline(t)}</dd>" for v, t in m.legend)
             + f"</dl><p>{escape(m.precedence)}</p><p><strong>Reproduce:</strong></p><ul>"
             + "".join(f"<li><code>{escape(c)}</code> — {escape(w)}</li>" for c, w in m.reproduce) + "</ul></div>")
    H.append('<h2 id="summary">Summary</h2>')
    H.append(f"<p><strong>{len(m.claims)} claims:</strong> "
             + " ".join(f"{badge(v)}&nbsp;{m.counts[v]}" for v in m.columns)
             + f' <span class="meta">({escape(m.counts_line)})</span></p>')
    H.append(f"<p>{escape(m.false_alarm.line)}</p>")
    cols = list(m.columns)
    rows = [[f'<a href="#{s.anchor}">{escape(s.name)}</a>', str(s.total)] + [str(s.counts.get(v, 0)) for v in cols]
            for s in m.sections]
    H.append(_counts_table(["section", "claims", *cols], rows))
    H.append('<h2 id="errata">Errata</h2>')
    if m.errata:
        H.append("<p>Every claim the checks found false as printed: corrected (a slip; the corrected statement "
                 "is verified) or refuted (false in every faithful reading).</p>")
        H.append(_table(["claim", "verdict", "as printed", "counterexample", "corrected statement"], [[
            f'<a href="#{e.anchor}"><code>{escape(e.claim_id)}</code></a>', badge(e.verdict), _inline(e.printed),
            escape(e.counterexample or "—"), _inline(e.corrected or "—")] for e in m.errata], nowrap=(1,), ids=(0,)))
    else:
        H.append("<p>No claim was found false as printed.</p>")
    if m.surprises:
        H.append(f'<h2 id="surprises">Surprises</h2><p>{SURPRISE} {len(m.surprises)} claim(s) whose verdict '
                 "differs from the expected one (the prediction fixed before the checks): " + ", ".join(
                     f'<a href="#{c.anchor}">{escape(c.id)}</a> ({escape(c.claim.expected)} → {escape(c.verdict)})'
                     for c in m.surprises) + "</p>")
    H.append('<h2 id="index">Index</h2>')
    H.append(_table(["id", "title", "expected", "verdict", "headline: measured vs reference (tol)"], [[
        f'<a href="#{c.anchor}"><code>{escape(c.id)}</code></a>', _inline(c.claim.title), badge(c.claim.expected),
        _index_verdict(c), f'<span class="mono">{escape(c.headline)}</span>'] for c in m.claims], nowrap=(2, 3), ids=(0,)))
    sec = {s.name: s.anchor for s in m.sections}
    current = None
    for c in m.claims:
        if c.section != current:
            current = c.section
            H.append(f'<h2 id="{sec[current]}">{escape(current)}</h2>')
        H.append(_claim(c))
    if m.orphans:
        H.append("<h2>Checks of claims not in the catalogue</h2><ul>"
                 + "".join(f"<li><code>{escape(n)}</code></li>" for n in m.orphans) + "</ul>")
    H.append("</main></body></html>\n")
    return "\n".join(H)


def _index_verdict(c: ClaimView) -> str:
    out = badge(c.verdict) + (f" {SURPRISE}" if c.surprise else "")
    if c.stale:
        out += f' <span class="badge stale">stale {c.stale}</span>'
    if c.detail:
        out += f'<span class="sub">{escape(c.detail)}</span>'
    return out


def _counts_table(header: list[str], rows: list[list[str]]) -> str:
    cells = [[row[0]] + [f'<span class="zero">{x}</span>' if x == "0" else x for x in row[1:]] for row in rows]
    return _table(header, cells)


def _claim(c: ClaimView) -> str:
    cl = c.claim
    H = [f'<section class="claim{" is-surprise" if c.surprise else ""}" id="{c.anchor}">',
         f"<h3><code>{escape(cl.id)}</code> — {_inline(cl.title)}</h3>",
         f'<div class="meta">{escape(c.where)}' + (f"<br>Source: {escape(cl.source)}" if cl.source else "") + "</div>"]
    if cl.tutorial:
        H.append(f"<blockquote>{_text(cl.tutorial)}</blockquote>")
    if cl.statement:
        is_open = " open" if len(cl.statement) < 600 else ""
        H.append(f"<details{is_open}><summary>Precise statement</summary>{_text(cl.statement)}</details>")
    flag = f" {SURPRISE}" if c.surprise else ""
    H.append(f'<div class="verdict">Verdict: {badge(c.verdict)} (expected {badge(cl.expected)}){flag}</div>')
    if c.detail:
        so_far = f" The checks that ran say: {badge(c.interim)}." if c.interim else ""
        H.append(f'<div class="partial-note"><p>{escape(c.detail[:1].upper() + c.detail[1:])}.{so_far}</p><ul>' + "".join(
            f"<li>not run: <code>{escape(n.pointer)}</code> ({escape(n.tier or 'tier unknown')}"
            f"{': ' + escape(n.reason) if n.reason else ''})</li>" for n in c.not_run)
            + f"<li>to complete it: {_inline(c.to_complete)}</li></ul></div>")
    if c.verdict == "corrected":
        cx = f"<p><strong>Counterexample:</strong> {escape(c.counterexample)}</p>" if c.counterexample else ""
        H.append(f'<div class="sidebyside"><div><h5>As printed — fails</h5>{_text(c.printed)}{cx}</div>'
                 f"<div><h5>Corrected — verified</h5>"
                 f"{_text(c.corrected_statement or '(no corrected_statement in the catalogue)')}</div></div>")
    elif c.verdict == "refuted" and c.counterexample:
        H.append(f"<p><strong>Counterexample:</strong> {escape(c.counterexample)}</p>")
    if c.pending_note:
        H.append(f'<p class="sub">{escape(c.pending_note[:1].upper() + c.pending_note[1:])}.</p>')
    if cl.expected_detail:
        H.append(f"<details><summary>Expected verdict, in detail</summary>{_text(cl.expected_detail)}</details>")
    if cl.cited_reason and (c.verdict == "cited" or cl.expected == "cited"):
        H.append(f"<p><strong>Cited, not checked:</strong> {_inline(cl.cited_reason)}</p>")
    if not c.checks and c.verdict != "cited":
        if not c.detail:
            H.append(f'<p class="pending"><strong>{escape(c.verdict.capitalize())}.</strong>'
                     + (" Planned checks: " + ", ".join(f"<code>{escape(p)}</code>" for p in cl.checks)
                        if cl.checks else "") + "</p>")
        if cl.test_design:
            H.append(f"<details><summary>Planned test design</summary>{_text(cl.test_design)}</details>")
        if cl.negative_control:
            H.append(f"<details><summary>Planned negative control</summary>{_text(cl.negative_control)}</details>")
    if cl.notes:
        H.append(f"<details><summary>Catalogue notes</summary>{_text(cl.notes)}</details>")
    if c.checks:
        H.append(_table(["check", "tier", "outcome", "resolution", "controls"], [[
            f"<code>{escape(v.nodeid.split('::', 1)[-1])}</code>", escape(v.tier),
            _outcome(v.outcome) + (' <span class="badge stale">stale</span>' if v.stale else ""),
            escape(v.resolution_text), escape(v.controls_text)] for v in c.checks], nowrap=(1, 2)))
    H += [_check(v) for v in c.checks]
    if c.controls:
        H.append('<div class="check"><h4>Controls (wrong worlds, near misses, planted bugs: the check must '
                 "reject each)</h4>" + _table(["control", "kind", "of", "margin", "outcome", "duration", "message"],
                                              [_control_cells(r) for r in c.controls], nowrap=(1,)) + "</div>")
    elif c.checks:
        H.append('<p class="meta">No negative control yet.</p>')
    H.append("</section>")
    return "\n".join(H)


def _control_cells(r: ControlRow) -> list[str]:
    return [f"<code>{escape(r.nodeid)}</code>", escape(r.label),
            ", ".join(f"<code>{escape(p.split('::')[-1])}</code>" for p in r.of) or "—", escape(r.margin or "—"),
            _outcome(r.outcome) + (" — rejected" if r.rejected else ""), escape(r.duration), escape(r.message)]


def _outcome(o: str) -> str:
    return f'<span class="o-{escape(o)}">{escape(o)}</span>'


def _check(v: CheckView) -> str:
    H = ['<div class="check">', f"<h4>Check <code>{escape(v.nodeid)}</code></h4>"]
    items = []
    for k, x in v.meta:
        if k == "outcome":
            items.append(f"<strong>outcome</strong> {_outcome(x)}")
        elif k == "stale":
            items.append(f'<span class="badge stale">{escape(x)}</span>')
        else:
            items.append(f"<strong>{escape(k)}</strong> {escape(x)}")
    items.append(f"<strong>resolution</strong> {escape(v.resolution_text)}")
    H.append(f'<p class="cmeta">{" · ".join(items)}</p>')
    if v.on_pass_reason:
        label = f"Why {v.on_pass}" if v.on_pass != "verified" else "Note"
        H.append(f"<p><strong>{escape(label)}:</strong> {_inline(v.on_pass_reason)}</p>")
    if v.counterexample:
        H.append(f"<p><strong>Counterexample:</strong> {escape(v.counterexample)}</p>")
    if v.message and v.outcome != "passed":
        H.append(f"<p><strong>Message:</strong></p><pre>{escape(v.message)}</pre>")
    if v.predicates:
        H.append(_table(PREDICATE_HEADER, [[
            f"<code>{escape(p.name)}</code>", *(escape(x) for x in (p.kind, p.measured, p.reference, p.tolerance,
                                                                  p.usage, p.examples)),
            f'<span class="{"pass" if p.passed else "fail"}">{"pass" if p.passed else "FAIL"}</span>']
            for p in v.predicates]))
    if v.values:
        H.append("<p><strong>Recorded values</strong></p>" + _table(
            ["name", "value"], [[f"<code>{escape(k)}</code>", escape(x)] for k, x in v.values]))
    if v.params or v.seed:
        kv = [f"<code>{escape(k)}</code>=<span class=mono>{escape(x)}</span>" for k, x in v.params]
        if v.seed:
            kv.append(f"seed=<span class=mono>{escape(v.seed)}</span>")
        H.append("<p><strong>Parameters:</strong> " + ", ".join(kv) + "</p>")
    if v.notes:
        H.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in v.notes) + "</ul>")
    for fig in v.figures:
        cap, name = escape(fig.caption), escape(fig.name)
        if fig.file:
            H.append(f'<figure><img src="{data_uri(fig.file)}" alt="{name}">'
                     f"<figcaption><strong>{name}</strong>{': ' + cap if cap else ''}</figcaption></figure>")
        else:
            H.append(f'<p class="missing">Figure {name} missing: {escape(fig.path)}</p>')
    if v.reproduce:
        H.append(f"<p><strong>Reproduce:</strong></p><pre>{escape(v.reproduce)}</pre>")
    H.append("</div>")
    return "\n".join(H)
