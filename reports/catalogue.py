"""The claims catalogue as data: ``reports/catalogue/*.toml``, one file per
section of the tutorial, files sorted by name in the tutorial's order.

Each ``[[claim]]`` carries: id, catalogue_id, part, section, slide, title,
tutorial, statement, source, expected, expected_detail, cited_reason, tier,
also_tiers, test_design, negative_control, notes, checks, and where the printed
statement is false: corrected_statement (the statement as corrected, verified by
the checks) and counterexample (one line, for the errata).

``expected`` is one of verified | corrected | refuted | inconclusive | cited: the
verdict predicted from the tutorial and its papers before a check exists, never
edited to match a result (a disagreement is a SURPRISE in the report). The verdict
policy (:mod:`reports.policy`; the same words in CONTRIBUTING.md and the report's
legend):

* ``verified`` — the statement, in its most charitable faithful reading, holds on the
  checked instances, and the check would have failed in a world where it does not
  (wrong-world and near-miss controls; its resolution is stated).
* ``corrected`` — false or ill-posed as printed because of a slip (sign, constant,
  dropped condition, quantifier, O/Ω, garbled formula): a check shows the literal
  counterexample and another verifies the corrected statement (`corrected_statement`),
  shown side by side.
* ``refuted`` — false in every faithful reading; the counterexample is shown. A
  sufficient condition is not refuted by convergence outside it, and a claim the
  tutorial makes about a paper is verified when the check confirms it.
* ``inconclusive`` — the checks ran but cannot decide at this scale or power; the check
  says why.
* ``cited`` — no program can check it (or, after a literal counterexample, its corrected
  statement); the catalogue says why (`cited_reason`).
* ``failed`` — a check that should hold did not, or a planted-bug control was not
  rejected; `pytest checks` exits non-zero.
* ``error`` — the code under test or the check itself misbehaved (an exception, a
  contract-guard rule); `pytest checks` exits non-zero.
* ``partial`` — not every check the catalogue lists for the claim has run (another CPU
  tier, one file or `-k`): what ran is shown, and the claim is not counted as a verdict.
  GPU checks are full-scale replications of claims the CPU tiers decide: one not run at
  full scale (no CUDA, or tiny scale) is shown as pending and leaves the verdict
  standing.
* ``not run`` — the claim has checks, but none of them has run (e.g. a claim with only
  gpu checks, without CUDA).
* ``not yet checked`` — no check exists yet; the catalogue's planned test design is
  shown.
"""
from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reports.policy import EXPECTED

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
ROOT = Path(__file__).resolve().parent.parent
TIERS = ("fast", "slow", "network", "gpu", "cited")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    section: str
    expected: str
    tier: str
    order: int
    file: str
    catalogue_id: str = ""
    part: str = ""
    slide: str = ""
    tutorial: str = ""
    statement: str = ""
    source: str = ""
    expected_detail: str = ""
    cited_reason: str = ""
    also_tiers: tuple[str, ...] = ()
    test_design: str = ""
    negative_control: str = ""
    notes: str = ""
    checks: tuple[str, ...] = field(default_factory=tuple)
    corrected_statement: str = ""
    counterexample: str = ""

    @property
    def prefix(self) -> str:
        return self.id.split(".", 1)[0]


@lru_cache(maxsize=4)
def load(directory: str | None = None) -> dict[str, Claim]:
    """All claims, keyed by id, in the tutorial's order. Raises CatalogueError
    with every problem found, not just the first."""
    folder = Path(directory) if directory else CATALOGUE_DIR
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise CatalogueError(f"no catalogue files (*.toml) in {folder}")
    claims: dict[str, Claim] = {}
    problems: list[str] = []
    order = 0
    for f in files:
        try:
            data = tomllib.loads(f.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{f.name}: not valid TOML: {exc}")
            continue
        for raw in data.get("claim", []):
            order += 1
            cid = raw.get("id", "")
            where = f"{f.name}: claim {cid or '#' + str(order)}"
            if not ID_PATTERN.match(cid or ""):
                problems.append(f"{where}: id must match {ID_PATTERN.pattern}")
                continue
            if cid in claims:
                problems.append(f"{where}: duplicate id (also in {claims[cid].file})")
                continue
            if raw.get("expected") not in EXPECTED:
                problems.append(f"{where}: expected={raw.get('expected')!r} not in {EXPECTED}")
            if raw.get("tier") not in TIERS:
                problems.append(f"{where}: tier={raw.get('tier')!r} not in {TIERS}")
            if raw.get("expected") == "cited" and not raw.get("cited_reason", "").strip():
                problems.append(f"{where}: expected 'cited' needs a cited_reason")
            known = set(Claim.__dataclass_fields__) - {"order", "file"}
            unknown = set(raw) - known
            if unknown:
                problems.append(f"{where}: unknown keys {sorted(unknown)}")
            fields = {k: v for k, v in raw.items() if k in known}
            fields["also_tiers"] = tuple(fields.get("also_tiers", ()))
            fields["checks"] = tuple(fields.get("checks", ()))
            fields.setdefault("title", cid)
            fields.setdefault("section", "")
            fields.setdefault("expected", "verified")
            fields.setdefault("tier", "fast")
            claims[cid] = Claim(order=order, file=f.name, **fields)
    if problems:
        raise CatalogueError("claims catalogue is invalid:\n  " + "\n  ".join(problems))
    return claims


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def dangling_check_pointers(claims: dict[str, Claim], root: Path = ROOT) -> list[str]:
    """Catalogue entries whose ``checks`` name a file or test function that does not exist."""
    out: list[str] = []
    cache: dict[Path, set[str]] = {}
    for c in claims.values():
        for pointer in c.checks:
            file, _, func = pointer.partition("::")
            path = root / file
            if not path.is_file():
                out.append(f"{c.id}: check {pointer!r}: no file {file}")
                continue
            if func:
                if path not in cache:
                    cache[path] = functions_in(path)
                if func.split("[")[0] not in cache[path]:
                    out.append(f"{c.id}: check {pointer!r}: no function {func} in {file}")
    return out
