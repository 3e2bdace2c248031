"""The report as ONE self-contained HTML page: inline CSS, figures embedded as
base64 data URIs, no fonts, scripts or network. Same content and order as the
Markdown report (both read :func:`reports.render.report_model`); every piece of
text is escaped."""
from __future__ import annotations

import base64
import mimetypes
import re
from html import escape
from pathlib import Path
from typing import Any, Iterable

from reports.catalogue import Claim
from reports.render import (PREDICATE_HEADER, TITLE, anchor, check_meta, num,
                            predicate_cells, report_model, run_line, section_of, value_text)

CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg2:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; color:var(--fg); background:#fff;
       font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width:1100px; margin:0 auto; padding:24px 28px 64px; }
h1 { font-size:1.7em; margin:0 0 .3em; }
h2 { font-size:1.35em; margin:2em 0 .6em; padding-bottom:.25em; border-bottom:2px solid var(--line); }
h3 { font-size:1.12em; margin:0 0 .4em; }
h4 { font-size:1em; margin:.2em 0 .5em; word-break:break-all; }
a { color:#0969da; text-decoration:none; } a:hover { text-decoration:underline; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:.88em; }
pre { background:var(--bg2); border:1px solid var(--line); border-radius:6px; padding:8px 10px;
      overflow-x:auto; white-space:pre-wrap; word-break:break-word; margin:.4em 0; }
table { border-collapse:collapse; margin:.5em 0 1em; width:100%; font-size:.9em; }
th, td { border:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top;
         overflow-wrap:anywhere; }
th { background:var(--bg2); font-weight:600; }
td.n { text-align:right; font-variant-numeric: tabular-nums; }
.zero { color:#b0b8c1; }
.prov { color:var(--muted); font-size:.9em; margin:.2em 0; padding-left:1.2em; }
.badge { display:inline-block; padding:1px 9px; border-radius:10px; font-size:.82em; font-weight:600;
         white-space:nowrap; border:1px solid transparent; }
.v-verified { background:#1a7f37; color:#fff; }
.v-refuted { background:#8250df; color:#fff; }
.v-corrected { background:#bf8700; color:#fff; }
.v-inconclusive { background:#d4a72c; color:#1f2328; }
.v-cited { background:#6e7781; color:#fff; }
.v-failed, .v-error { background:#cf222e; color:#fff; }
.v-not-run, .v-not-yet-checked { background:#eaeef2; color:#59636e; border-color:#d1d9e0; }
.o-passed { color:#1a7f37; font-weight:600; } .o-failed, .o-error { color:#cf222e; font-weight:600; }
.o-skipped { color:#59636e; font-weight:600; }
.surprise { background:#fff1e5; color:#bc4c00; border:1px solid #bc4c00; }
.stale { background:#fff8c5; color:#7d4e00; border:1px solid #d4a72c; }
.fail { color:#cf222e; font-weight:600; } .pass { color:#1a7f37; }
.claim { border:1px solid var(--line); border-radius:8px; padding:14px 18px; margin:1.2em 0; }
.claim.is-surprise { border-left:5px solid #bc4c00; }
.meta { color:var(--muted); font-size:.9em; margin:.1em 0 .6em; }
blockquote { margin:.5em 0; padding:.2em 1em; border-left:4px solid var(--line); color:#33393f;
             background:#fbfcfd; }
details { margin:.4em 0; } summary { cursor:pointer; font-weight:600; }
.verdict { margin:.6em 0; font-size:1.02em; }
.check { border-top:1px dashed var(--line); margin-top:.9em; padding-top:.7em; }
blockquote p, details p { margin:.35em 0; } li { margin:.15em 0; }
.cmeta { margin:.2em 0 .6em; font-size:.9em; color:#33393f; }
figure { margin:.6em 0; display:inline-block; max-width:100%; vertical-align:top; }
figure img { max-width:100%; height:auto; border:1px solid var(--line); }
figcaption { font-size:.85em; color:var(--muted); }
.missing { color:#9a6700; font-style:italic; }
.pending { background:var(--bg2); border-radius:6px; padding:6px 12px; }
"""


def badge(verdict: str) -> str:
    return f'<span class="badge v-{verdict.replace(" ", "-")}">{escape(verdict)}</span>'


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    """``rows`` hold HTML already escaped by the caller."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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


def render_html(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                head_sha: str | None = None, figure_dirs: Iterable[Path] = ()) -> str:
    m = report_model(catalogue, results, head_sha=head_sha, figure_dirs=figure_dirs)
    H: list[str] = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
                    '<meta name="viewport" content="width=device-width, initial-scale=1">',
                    f"<title>{escape(TITLE)}</title><style>{CSS}</style></head><body><main>",
                    f"<h1>{escape(TITLE)}</h1>"]
    head = escape(m["head"][:10]) if m["head"] else "(no commit)"
    H.append(f'<p class="meta">Rendered {escape(m["rendered"])} at HEAD <code>{head}</code> from '
             f'{len(m["runs"])} run(s){" — <strong>PARTIAL results</strong>" if m["partial"] else ""}.</p>')
    if m["runs"]:
        H.append("<ul>" + "".join(f'<li class="prov">{escape(run_line(r))}</li>' for r in m["runs"]) + "</ul>")
    else:
        H.append('<p class="pending">No results file: every claim is shown as not yet checked.</p>')
    # summary
    H.append('<h2 id="summary">Summary</h2>')
    H.append(f"<p><strong>{len(m['claims'])} claims:</strong> "
             + " ".join(f"{badge(v)}&nbsp;{m['counts'][v]}" for v in m["columns"]) + "</p>")
    if m["surprises"]:
        H.append(f'<p><span class="badge surprise">SURPRISE</span> {len(m["surprises"])} claim(s) whose verdict '
                 "differs from the expected one: " + ", ".join(
                     f'<a href="#{anchor(c["claim"].id)}">{escape(c["claim"].id)}</a>' for c in m["surprises"]) + "</p>")
    cols = m["columns"]
    sec_ids = {s: f"sec-{i}" for i, s in enumerate(m["sections"], 1)}
    rows = []
    for s, c in m["sections"].items():
        rows.append([f'<a href="#{sec_ids[s]}">{escape(s)}</a>', f'{sum(c.values())}']
                    + [str(c.get(v, 0)) for v in cols])
    H.append(_counts_table(["section", "claims", *cols], rows))
    # index
    H.append('<h2 id="index">Index</h2>')
    H.append(_table(["id", "title", "expected", "verdict", "headline: measured vs reference (tol)"], [[
        f'<a href="#{anchor(c["claim"].id)}"><code>{escape(c["claim"].id)}</code></a>',
        _inline(c["claim"].title), escape(c["claim"].expected),
        badge(c["verdict"]) + (' <span class="badge surprise">SURPRISE</span>' if c["surprise"] else ""),
        f'<span class="mono">{escape(c["headline"])}</span>'] for c in m["claims"]]))
    current = None
    for c in m["claims"]:
        s = section_of(c["claim"])
        if s != current:
            current = s
            H.append(f'<h2 id="{sec_ids[s]}">{escape(s)}</h2>')
        H.append(_claim(c))
    if m["orphans"]:
        H.append("<h2>Checks of claims not in the catalogue</h2><ul>"
                 + "".join(f"<li><code>{escape(n)}</code></li>" for n in m["orphans"]) + "</ul>")
    H.append("</main></body></html>\n")
    return "\n".join(H)


def _counts_table(header: list[str], rows: list[list[str]]) -> str:
    cells = [[row[0]] + [f'<span class="zero">{x}</span>' if x == "0" else x for x in row[1:]]
             for row in rows]
    return _table(header, cells)


def _claim(c: dict[str, Any]) -> str:
    cl: Claim = c["claim"]
    H = [f'<section class="claim{" is-surprise" if c["surprise"] else ""}" id="{anchor(cl.id)}">',
         f"<h3><code>{escape(cl.id)}</code> — {_inline(cl.title)}</h3>"]
    where = [x for x in (cl.part and f"part {cl.part}", cl.section and f"section {cl.section}",
                         cl.slide and f"slide {cl.slide}", f"tier {cl.tier}") if x]
    H.append(f'<div class="meta">{escape(" · ".join(where))}'
             + (f"<br>Source: {escape(cl.source)}" if cl.source else "") + "</div>")
    if cl.tutorial:
        H.append(f"<blockquote>{_text(cl.tutorial)}</blockquote>")
    if cl.statement:
        is_open = " open" if len(cl.statement) < 600 else ""
        H.append(f"<details{is_open}><summary>Precise statement</summary>{_text(cl.statement)}</details>")
    flag = ' <span class="badge surprise">SURPRISE</span>' if c["surprise"] else ""
    H.append(f'<div class="verdict">Verdict: {badge(c["verdict"])} (expected {badge(cl.expected)}){flag}</div>')
    if cl.expected_detail:
        H.append(f"<details><summary>Expected verdict, in detail</summary>{_text(cl.expected_detail)}</details>")
    if cl.cited_reason and (c["verdict"] == "cited" or cl.expected == "cited"):
        H.append(f"<p><strong>Cited, not checked:</strong> {_inline(cl.cited_reason)}</p>")
    if not c["checks"] and c["verdict"] != "cited":
        H.append(f'<p class="pending"><strong>{escape(c["verdict"].capitalize())}.</strong>'
                 + (" Planned checks: " + ", ".join(f"<code>{escape(p)}</code>" for p in cl.checks) if cl.checks else "")
                 + "</p>")
        if cl.test_design:
            H.append(f"<details><summary>Planned test design</summary>{_text(cl.test_design)}</details>")
        if cl.negative_control:
            H.append(f"<details><summary>Planned negative control</summary>{_text(cl.negative_control)}</details>")
    if cl.notes:
        H.append(f"<details><summary>Catalogue notes</summary>{_text(cl.notes)}</details>")
    H += [_check(rec) for rec in c["checks"]]
    if c["controls"]:
        H.append('<div class="check"><h4>Negative controls (planted bugs)</h4>' + _table(
            ["control", "outcome", "duration", "message"],
            [[f"<code>{escape(r['nodeid'])}</code>", _outcome(r.get("outcome", "?"))
              + (" — bug rejected" if r.get("outcome") == "passed" else ""),
              f'{escape(num(r.get("duration")))} s', escape(r.get("message") or "")] for r in c["controls"]]) + "</div>")
    elif c["checks"]:
        H.append('<p class="meta">No negative control yet.</p>')
    H.append("</section>")
    return "\n".join(H)


def _outcome(o: str) -> str:
    return f'<span class="o-{escape(o)}">{escape(o)}</span>'


def _check(rec: dict[str, Any]) -> str:
    ev = rec.get("evidence") or {}
    H = ['<div class="check">', f"<h4>Check <code>{escape(rec['nodeid'])}</code></h4>"]
    items = []
    for k, v in check_meta(rec):
        if k == "outcome":
            items.append(f"<strong>outcome</strong> {_outcome(v)}")
        elif k == "stale":
            items.append(f'<span class="badge stale">{escape(v)}</span>')
        else:
            items.append(f"<strong>{escape(k)}</strong> {escape(v)}")
    H.append(f'<p class="cmeta">{" · ".join(items)}</p>')
    if ev.get("on_pass_reason"):
        label = f"Why {ev.get('on_pass')}" if ev.get("on_pass") != "verified" else "Note"
        H.append(f"<p><strong>{escape(label)}:</strong> {_inline(ev['on_pass_reason'])}</p>")
    if rec.get("message") and rec.get("outcome") != "passed":
        H.append(f"<p><strong>Message:</strong></p><pre>{escape(rec['message'])}</pre>")
    if ev.get("predicates"):
        rows2 = []
        for name, p in ev["predicates"].items():
            cells = [escape(x) for x in predicate_cells(name, p)]
            cells[0] = f"<code>{cells[0]}</code>"
            cells[-1] = f'<span class="{"pass" if p.get("passed") else "fail"}">{cells[-1]}</span>'
            rows2.append(cells)
        H.append(_table(PREDICATE_HEADER, rows2))
    if ev.get("values"):
        H.append("<p><strong>Recorded values</strong></p>" + _table(
            ["name", "value"], [[f"<code>{escape(k)}</code>", escape(value_text(v))] for k, v in ev["values"].items()]))
    if ev.get("params") or ev.get("seed") is not None:
        kv = [f"<code>{escape(k)}</code>=<span class=mono>{escape(num(v))}</span>" for k, v in (ev.get("params") or {}).items()]
        if ev.get("seed") is not None:
            kv.append(f"seed=<span class=mono>{escape(num(ev['seed']))}</span>")
        H.append("<p><strong>Parameters:</strong> " + ", ".join(kv) + "</p>")
    if ev.get("notes"):
        H.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in ev["notes"]) + "</ul>")
    for fig in rec.get("figures") or []:
        cap = escape(fig.get("caption") or "")
        name = escape(fig.get("name", ""))
        if fig.get("file"):
            H.append(f'<figure><img src="{data_uri(fig["file"])}" alt="{name}">'
                     f"<figcaption><strong>{name}</strong>{': ' + cap if cap else ''}</figcaption></figure>")
        else:
            H.append(f'<p class="missing">Figure {name} missing: {escape(fig.get("path", ""))}</p>')
    if rec.get("reproduce"):
        H.append(f"<p><strong>Reproduce:</strong></p><pre>{escape(rec['reproduce'])}</pre>")
    H.append("</div>")
    return "\n".join(H)
