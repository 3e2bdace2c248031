"""The claim-verification report, rendered from the catalogue and a results file.

``render_markdown`` and ``render_html`` (the latter in :mod:`reports.render_html`)
show the same content, in this order: title and provenance of every run; summary
(claims per verdict, overall and per section); an index with one row and headline
number per claim; then per claim, in the tutorial's order, its words, precise
statement and verdict (``SURPRISE`` when it differs from the expected one), each
check's predicates (measured vs reference, tolerance ``rel*|ref| + abs``, usage =
error/tolerance), values, parameters, seed, notes, figures and reproduce command,
the negative controls, and for unchecked claims the planned test design.

Both renderers read one model (:func:`report_model`), so they cannot disagree.
A check run at another git commit than HEAD is marked ``stale (run at <sha>)``.
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from reports.catalogue import ROOT, Claim
from reports.results import VERDICTS, summarise

#: verdicts that come from running something (a surprise is only flagged for these)
REAL_VERDICTS = ("verified", "corrected", "refuted", "inconclusive", "failed", "error")
TITLE = "Neural Networks: The Good, The Bad, The Ugly — claim verification"
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


# ------------------------------------------------------------------ helpers
def current_head(root: Path = ROOT) -> str:
    """The sha of HEAD, or "" when there is none (no git, or no commit yet)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and _SHA.match(sha) else ""


def num(x: Any) -> str:
    """A number as a short string; strings (e.g. "inf" from the JSON) pass through."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, str):
        return {"inf": "∞", "-inf": "−∞", "nan": "NaN"}.get(x, x)
    text = json.dumps(x, ensure_ascii=False, default=str)
    return text if len(text) <= 160 else text[:157] + "…"


def when(ts: Any) -> str:
    if not isinstance(ts, (int, float)):
        return "unknown date"
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine(device: dict[str, Any] | None) -> str:
    d = device or {}
    parts = [f"{d['gpu']} (CUDA {d.get('cuda', '?')})" if d.get("gpu") else "",
             f"{d['platform']}, {d.get('cpu_count', '?')} CPUs" if d.get("platform") else "",
             f"--device {d['requested']}" if d.get("requested") not in (None, "auto") else ""]
    return "; ".join(x for x in parts if x) or "unknown machine"


def short_sha(git: dict[str, Any] | None) -> str:
    sha = str((git or {}).get("sha") or "unknown")
    sha = sha[:10] if _SHA.match(sha) else "no commit" if sha == "HEAD" else sha
    return sha + (" (dirty)" if (git or {}).get("dirty") else "")


def run_line(prov: dict[str, Any]) -> str:
    """One line of provenance for one run."""
    bits = [f"tier {prov.get('tier', '?')}", f"git {short_sha(prov.get('git'))}",
            when(prov.get("finished")), machine(prov.get("device")),
            f"hypothesis profile {prov.get('hypothesis_profile') or '?'}"]
    if prov.get("wall_s") is not None:
        bits.append(f"wall time {num(prov['wall_s'])} s")
    if prov.get("substituted"):
        bits.append("substituted: " + ", ".join(f"{k}={v}" for k, v in prov["substituted"].items()))
    return " · ".join(bits)


def tolerance_rule(p: dict[str, Any]) -> str:
    if p.get("kind") == "holds":
        return "exact"
    if p.get("kind") == "monotone":
        return f"step ≤ {num(p.get('abs', 0.0))}"
    return f"{num(p.get('rel', 0.0))}·|ref| + {num(p.get('abs', 0.0))} = {num(p.get('tolerance'))}"


def predicate_cells(name: str, p: dict[str, Any]) -> list[str]:
    """name, kind, measured, reference, tolerance, usage, examples, result."""
    if p.get("kind") == "holds":
        measured = f"{p.get('failures', 0)}/{p.get('size', '?')} fail"
        reference = p.get("detail") or "all hold"
    else:
        measured, reference = _pair(p)
        measured += f" {p['unit']}" if p.get("unit") else ""
        if p.get("size", 1) > 1:
            measured += f" (worst of {p['size']} at {list(p.get('at', ()))})"
    u = usage_of(p)
    usage = num(u) if not isinstance(u, (int, float)) else f"{u:.3g}" if u >= 0 else "< 0 (inside)"
    return [name, str(p.get("kind", "?")), measured, reference, tolerance_rule(p), usage,
            str(p.get("examples", 1)), "pass" if p.get("passed") else "FAIL"]


PREDICATE_HEADER = ["predicate", "kind", "measured", "reference", "tolerance rel·|ref| + abs",
                    "usage (error/tol; >1 fails)", "examples", "result"]


def usage_of(p: dict[str, Any]) -> Any:
    """error / tolerance. For one-sided predicates the error is signed (the
    amount past the bound), so a value far *inside* a bound shows as negative
    instead of as a large |error| (what the evidence record stores)."""
    kind, tol = p.get("kind"), p.get("tolerance")
    m, r = p.get("measured"), p.get("reference")
    signs = {"upper bound": 1.0, "monotone": 1.0, "lower bound": -1.0}
    if kind not in signs or not all(isinstance(x, (int, float)) for x in (m, r, tol)):
        return p.get("usage")
    over = signs[kind] * (m - r)
    return over / tol if tol > 0 else (0.0 if over <= 0 else "inf")


def distinct(a: Any, b: Any) -> tuple[str, str]:
    """Two numbers with enough digits to tell them apart (a failing tight
    predicate can differ from its reference in the 10th digit)."""
    if not (isinstance(a, float) and isinstance(b, float)) or a == b:
        return num(a), num(b)
    for digits in range(6, 18):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            return sa, sb
    return num(a), num(b)


def _pair(p: dict[str, Any]) -> tuple[str, str]:
    """measured and reference; a failure gets the digits that show why."""
    if p.get("passed"):
        return num(p.get("measured")), num(p.get("reference"))
    return distinct(p.get("measured"), p.get("reference"))


def headline_text(p: dict[str, Any] | None) -> str:
    if not p:
        return ""
    k = p.get("kind")
    if k == "holds":
        return "holds" if p.get("passed") else f"fails on {p.get('failures')}/{p.get('size')}"
    if k == "monotone":
        return f"worst step {num(p.get('measured'))} (tol {num(p.get('tolerance'))})"
    op = {"upper bound": "≤", "lower bound": "≥"}.get(k, "vs")
    m, r = _pair(p)
    return f"{m} {op} {r} (tol {num(p.get('tolerance'))})"


def find_figure(path: str, search: Iterable[Path] = ()) -> Path | None:
    """The figure file: as recorded, else relative to the repository, else by its
    name in one of the ``search`` folders (a results file made on another machine
    records that machine's absolute paths)."""
    if not path:
        return None
    p = Path(path)
    for cand in [p, ROOT / p, *[Path(d) / p.name for d in search]]:
        if cand.is_file():
            return cand
    return None


# -------------------------------------------------------------------- model
def _runs(results: dict[str, Any]) -> list[dict[str, Any]]:
    prov = results.get("provenance") or {}
    return list(prov["merged_from"]) if "merged_from" in prov else ([prov] if prov else [])


def report_model(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                 head_sha: str | None = None, figure_dirs: Iterable[Path] = ()) -> dict[str, Any]:
    """Everything the renderers show, computed once. Verdicts are recomputed
    from the check records against *this* catalogue."""
    results = results or {}
    head = current_head() if head_sha is None else head_sha
    runs = _runs(results)
    single = runs[0] if len(runs) == 1 else {}
    records = {}
    for nodeid, rec in (results.get("checks") or {}).items():
        rec = dict(rec)
        rec.setdefault("provenance", {k: single.get(k) for k in ("git", "device", "finished", "tier")})
        sha = str(((rec["provenance"] or {}).get("git") or {}).get("sha") or "")
        rec["stale"] = sha[:10] if head and _SHA.match(sha) and sha != head else ""
        records[nodeid] = rec
    summary = summarise(catalogue, records)
    search = [Path(d) for d in figure_dirs] + [ROOT / "reports" / "out" / "figures"]
    claims = []
    for cid, claim in sorted(catalogue.items(), key=lambda kv: kv[1].order):
        s = summary[cid]
        checks = [records[n] for n in s["checks"]]
        for rec in checks:
            figs = {(f.get("name"), f.get("path")): f for f in (rec.get("evidence") or {}).get("figures") or []}
            rec["figures"] = [dict(f, file=find_figure(f.get("path", ""), search)) for f in figs.values()]
        verdict = s["verdict"]
        claims.append({
            "claim": claim, "verdict": verdict, "checks": checks,
            "controls": [records[n] for n in s["controls"]],
            "surprise": verdict in REAL_VERDICTS and verdict != claim.expected,
            "headline": _claim_headline(checks),
        })
    counts = Counter(c["verdict"] for c in claims)
    sections: dict[str, Counter] = {}
    for c in claims:
        sections.setdefault(section_of(c["claim"]), Counter())[c["verdict"]] += 1
    orphans = sorted(n for n, r in records.items() if r.get("claims")
                     and not all(cid in catalogue for cid in r["claims"]))
    return {"runs": runs, "partial": bool(results.get("partial")), "head": head,
            "claims": claims, "counts": counts, "sections": sections,
            "surprises": [c for c in claims if c["surprise"]], "orphans": orphans,
            "columns": [v for v in VERDICTS if counts.get(v)] or ["not yet checked"],
            "rendered": when(_dt.datetime.now(_dt.timezone.utc).timestamp()),
            "no_results": not records}


def section_of(claim: Claim) -> str:
    return claim.section or claim.part or claim.file


def anchor(cid: str) -> str:
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", "-", cid)


def _claim_headline(checks: list[dict[str, Any]]) -> str:
    ordered = sorted(checks, key=lambda r: r.get("outcome") == "passed")  # a failure first
    for rec in ordered:
        ev = rec.get("evidence") or {}
        name = ev.get("headline")
        if name and name in (ev.get("predicates") or {}):
            return f"{name}: {headline_text(ev['predicates'][name])}"
    return ""


def counts_line(counts: Counter) -> str:
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v)) or "no claims"


def value_text(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        extra = ", ".join(f"{k}={num(x)}" for k, x in v.items() if k != "value")
        return num(v["value"]) + (f" ({extra})" if extra else "")
    return num(v)


def check_meta(rec: dict[str, Any]) -> list[tuple[str, str]]:
    prov = rec.get("provenance") or {}
    meta = [("outcome", rec.get("outcome", "?")), ("duration", f"{num(rec.get('duration'))} s"),
            ("tier", rec.get("tier", "?")),
            ("ran on", f"{machine(prov.get('device'))}, {when(prov.get('finished'))}, "
                       f"git {short_sha(prov.get('git'))}")]
    if rec.get("stale"):
        meta.append(("stale", f"stale (run at {rec['stale']})"))
    if rec.get("algorithms"):
        meta.append(("algorithms", ", ".join(rec["algorithms"])))
    if rec.get("substituted"):
        meta.append(("substituted", ", ".join(rec["substituted"])))
    return meta


def render_html(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                head_sha: str | None = None, figure_dirs: Iterable[Path] = ()) -> str:
    """The report as one self-contained HTML page (see :mod:`reports.render_html`)."""
    from reports.render_html import render_html as _render_html

    return _render_html(catalogue, results, head_sha=head_sha, figure_dirs=figure_dirs)


# ----------------------------------------------------------------- markdown
def _esc(text: Any) -> str:
    """Text for Markdown: HTML-significant characters escaped (renderers show them as typed)."""
    return html.escape(str(text), quote=False)


def _one_line(text: str) -> str:
    return re.sub(r"\s*\n\s*", " ", text)


def _code(text: Any) -> str:
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


def _link(cid: str) -> str:
    return f"[{_esc(cid)}](#{anchor(cid)})"


def render_markdown(catalogue: dict[str, Claim], results: dict[str, Any] | None, *,
                    out_dir: Path | str | None = None, head_sha: str | None = None,
                    figure_dirs: Iterable[Path] = ()) -> str:
    """The report as Markdown; figures linked relative to ``out_dir`` (the folder
    the Markdown file is written to, default reports/out)."""
    m = report_model(catalogue, results, head_sha=head_sha, figure_dirs=figure_dirs)
    base = Path(out_dir) if out_dir else ROOT / "reports" / "out"
    L: list[str] = [f"# {TITLE}", ""]
    L.append(f"Rendered {m['rendered']} at HEAD {m['head'][:10] or '(no commit)'}"
             f" from {len(m['runs'])} run(s){' — **PARTIAL results**' if m['partial'] else ''}.")
    L.append("")
    L += [f"- {_esc(run_line(r))}" for r in m["runs"]] or ["- no results file: every claim is not yet checked"]
    L += ["", "## Summary", "", f"**{len(m['claims'])} claims:** {counts_line(m['counts'])}."]
    if m["surprises"]:
        L += ["", f"**{len(m['surprises'])} SURPRISE(S)** (verdict ≠ expected): "
              + ", ".join(_link(c["claim"].id) for c in m["surprises"])]
    L.append("")
    cols = m["columns"]
    L += _table(["section", "claims", *cols],
                [[_esc(s), str(sum(c.values())), *[str(c.get(v, 0)) for v in cols]]
                 for s, c in m["sections"].items()])
    L += ["## Index", ""]
    L += _table(["id", "title", "expected", "verdict", "headline: measured vs reference (tol)"],
                [[_link(c["claim"].id), _esc(c["claim"].title), c["claim"].expected,
                  c["verdict"] + (" **SURPRISE**" if c["surprise"] else ""), _esc(c["headline"])]
                 for c in m["claims"]])
    current = None
    for c in m["claims"]:
        if section_of(c["claim"]) != current:
            current = section_of(c["claim"])
            L += [f"## {_esc(current)}", ""]
        L += _md_claim(c, base)
    if m["orphans"]:
        L += ["## Checks of claims not in the catalogue", ""] + [f"- {_code(n)}" for n in m["orphans"]] + [""]
    return "\n".join(L) + "\n"


def _md_claim(c: dict[str, Any], base: Path) -> list[str]:
    cl: Claim = c["claim"]
    L = [f'<a id="{anchor(cl.id)}"></a>', "", f"### {_code(cl.id)} — {_esc(_one_line(cl.title))}", ""]
    where = [x for x in (cl.part and f"part {cl.part}", cl.section and f"section {cl.section}",
                         cl.slide and f"slide {cl.slide}", f"tier {cl.tier}") if x]
    L += [_esc(" · ".join(where)), ""]
    if cl.source:
        L += [f"**Source.** {_esc(cl.source)}", ""]
    if cl.tutorial:
        L += ["> " + _esc(line) for line in cl.tutorial.strip().splitlines()] + [""]
    if cl.statement:
        L += ["**Statement.**", "", _esc(cl.statement.strip()), ""]
    flag = " — **SURPRISE**" if c["surprise"] else ""
    L += [f"**Verdict: {c['verdict']}** (expected {cl.expected}){flag}", ""]
    if cl.expected_detail:
        L += [f"*Expected because:* {_esc(cl.expected_detail)}", ""]
    if cl.cited_reason and (c["verdict"] == "cited" or cl.expected == "cited"):
        L += [f"**Cited, not checked:** {_esc(cl.cited_reason)}", ""]
    if not c["checks"] and c["verdict"] != "cited":
        L += [f"*{c['verdict'].capitalize()}.*", ""]
        if cl.test_design:
            L += ["**Planned test design.**", "", _esc(cl.test_design.strip()), ""]
        if cl.negative_control:
            L += ["**Planned negative control.**", "", _esc(cl.negative_control.strip()), ""]
        if cl.checks:
            L += ["Planned checks: " + ", ".join(_code(p) for p in cl.checks), ""]
    if cl.notes:
        L += ["**Catalogue notes.**", "", _esc(cl.notes.strip()), ""]
    for rec in c["checks"]:
        L += _md_check(rec, base)
    if c["controls"]:
        L += ["**Negative controls (planted bugs)**", ""]
        L += _table(["control", "outcome", "duration", "message"],
                    [[_code(r["nodeid"]), r.get("outcome", "?") + (" (bug rejected)" if r.get("outcome") == "passed" else ""),
                      f"{num(r.get('duration'))} s", _esc(r.get("message") or "")] for r in c["controls"]])
    elif c["checks"]:
        L += ["*No negative control yet.*", ""]
    return L


def _md_check(rec: dict[str, Any], base: Path) -> list[str]:
    ev = rec.get("evidence") or {}
    L = [f"#### Check {_code(rec['nodeid'])}", ""]
    L += [f"- {k}: {'**' + _esc(v) + '**' if k in ('outcome', 'stale') else _esc(v)}"
          for k, v in check_meta(rec)] + [""]
    if ev.get("on_pass_reason"):
        label = f"Why {ev.get('on_pass')}" if ev.get("on_pass") != "verified" else "Note"
        L += [f"**{label}:** {_esc(ev['on_pass_reason'])}", ""]
    if rec.get("message") and rec.get("outcome") != "passed":
        L += ["Message:", ""] + _fence(rec["message"]) + [""]
    if ev.get("predicates"):
        L += _table(PREDICATE_HEADER, [[_code(c) if i == 0 else _esc(c) for i, c in enumerate(predicate_cells(n, p))]
                                       for n, p in ev["predicates"].items()])
    if ev.get("values"):
        L += ["Recorded values:", ""] + [f"- {_esc(k)} = {_esc(value_text(v))}" for k, v in ev["values"].items()] + [""]
    if ev.get("params"):
        L += ["Parameters: " + ", ".join(f"{_esc(k)}={_esc(num(v))}" for k, v in ev["params"].items()), ""]
    if ev.get("seed") is not None:
        L += [f"Seed: {_esc(num(ev['seed']))}", ""]
    L += [f"- note: {_esc(n)}" for n in ev.get("notes") or []] + ([""] if ev.get("notes") else [])
    for fig in rec.get("figures") or []:
        cap = _esc(_one_line(fig.get("caption") or ""))
        name = _esc(fig.get("name", ""))
        if fig.get("file"):
            rel = Path(os.path.relpath(fig["file"], base)).as_posix().replace(" ", "%20")
            L += [f"![{cap or name}]({rel})", "", f"*Figure {name}{': ' + cap if cap else ''}*", ""]
        else:
            L += [f"*(Figure {name} missing: {_esc(fig.get('path', ''))})*", ""]
    if rec.get("reproduce"):
        L += ["Reproduce:", ""] + _fence(rec["reproduce"], "sh") + [""]
    return L
