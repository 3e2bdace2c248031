"""Text for the report: numbers, dates, machines, predicate rows, headlines.

Used by :mod:`reports.model` to put display-ready strings into the report model,
so that the Markdown and HTML renderers show the same words."""
from __future__ import annotations

import datetime as _dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Iterable

from reports.catalogue import ROOT, Claim

SHA = re.compile(r"^[0-9a-f]{7,64}$")


def current_head(root: Path = ROOT) -> str:
    """The sha of HEAD, or "" when there is none (no git, or no commit yet)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and SHA.match(sha) else ""


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
    sha = sha[:10] if SHA.match(sha) else "no commit" if sha == "HEAD" else sha
    return sha + (" (dirty)" if (git or {}).get("dirty") else "")


def run_line(prov: dict[str, Any]) -> str:
    """One line of provenance for one run."""
    shard = prov.get("shard") or {}
    bits = [f"tier {prov.get('tier', '?')}"
            + (f" (shard {shard.get('group')}/{shard.get('splits')})" if shard else ""),
            f"git {short_sha(prov.get('git'))}",
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


def section_of(claim: Claim) -> str:
    return claim.section or claim.part or claim.file


def anchor(cid: str) -> str:
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", "-", cid)


def value_text(v: Any) -> str:
    if isinstance(v, dict) and "value" in v:
        extra = ", ".join(f"{k}={num(x)}" for k, x in v.items() if k != "value")
        return num(v["value"]) + (f" ({extra})" if extra else "")
    return num(v)
