"""``python -m reports``: render, run, diff and list.

    python -m reports                         render every results file found
    python -m reports render [RESULTS ...] [--out DIR]
    python -m reports run [--tier cpu|fast|slow|network|gpu|all] [--device D] [--out DIR] [-- PYTEST_ARGS ...]
                                              (default --tier cpu: every CPU tier, with progress lines)
    python -m reports run --tier T --shards N --executor local|slurm [SLURM options] [-- PYTEST_ARGS ...]
                                              N duration-balanced shards (pytest-split) via submitit, merged
    python -m reports merge SHARD.json|DIR ... [--results OUT]   merge shard files (checked), then render
    python -m reports durations [RESULTS ...]  refresh .test_durations from the recorded durations
    python -m reports diff BASE.json HEAD.json [--strict]
    python -m reports list
    python -m reports controls [RESULTS ...]   planted-bug rejection rate per algorithm family
    python -m reports false-alarms [--tier T ...] [--runs N] [--out DIR] [--resume] [-- PYTEST_ARGS ...]
                                              rerun tiers with fresh randomness; failures per check vs budget

Exit codes: 0 success; 1 ``diff`` found a claim that got worse (``--strict``: any change);
2 bad input (missing or invalid results file, invalid catalogue, shards that cannot be
merged: one line each); ``run`` returns pytest's.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from reports.catalogue import ROOT, CatalogueError, load as load_catalogue
from reports.cli_shards import add_parsers, add_run_options
from reports.results import load as load_results, merge

OUT = ROOT / "reports" / "out"
GPU_RESULTS = ROOT / "reports" / "gpu-results"
COMMANDS = ("render", "run", "merge", "durations", "diff", "list", "controls", "false-alarms")
#: before -> afters that count as a regression in ``diff``
#: (a decided verdict that is now only partial lost evidence: worse; verified <-> corrected <-> refuted
#: are re-judgements of the statement, shown but not a regression of the code)
_LOST = {"failed", "error", "inconclusive", "partial", "not run", "not yet checked"}
WORSE = {"verified": _LOST, "corrected": _LOST, "refuted": _LOST, "inconclusive": {"failed", "error"},
         "partial": {"failed", "error"}}


class UsageProblem(Exception):
    """Bad input: reported on stderr in one line, exit code 2."""


def default_results() -> list[Path]:
    """Every ``reports/out/results-*.json`` and committed ``reports/gpu-results/*.json``."""
    return sorted(OUT.glob("results-*.json")) + sorted(GPU_RESULTS.glob("*.json"))


def _catalogue(directory: str | None):
    try:
        return load_catalogue(directory)
    except CatalogueError as exc:
        raise UsageProblem(str(exc)) from None


def _load_all(paths: list[Path]) -> list[dict]:
    runs = []
    for p in paths:
        try:
            runs.append(load_results(p))
        except (FileNotFoundError, ValueError) as exc:
            raise UsageProblem(str(exc)) from None
    return runs


def render(paths: list[Path], out: Path, catalogue_dir: str | None = None,
           head_sha: str | None = None):
    """Merge ``paths`` and write ``out/report.md`` and ``out/report.html``; returns both paths and the model."""
    from reports.render import render_html, render_markdown, report_model

    catalogue = _catalogue(catalogue_dir)
    merged = merge(catalogue, _load_all(paths))
    dirs = [d for p in paths for d in (p.parent / "figures", p.parent)]
    out.mkdir(parents=True, exist_ok=True)
    model = report_model(catalogue, merged, head_sha=head_sha, figure_dirs=dirs)
    md, html = out / "report.md", out / "report.html"
    md.write_text(render_markdown(catalogue, merged, out_dir=out, model=model), encoding="utf-8")
    html.write_text(render_html(catalogue, merged, model=model), encoding="utf-8")
    return md, html, model


def _print_rendered(md: Path, html: Path, model) -> None:
    print(f"wrote {md}")
    print(f"wrote {html}")
    print(f"claims: {model.counts_line}")
    if model.surprises:
        print("surprises (verdict differs from the expected one): "
              + ", ".join(f"{c.id} ({c.claim.expected} → {c.verdict})" for c in model.surprises))


def cmd_render(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.results] if args.results else default_results()
    if not paths:
        print(f"no results file in {OUT} or {GPU_RESULTS}: rendering the catalogue with every claim "
              "not yet checked (run `python -m reports run` or `python -m pytest checks` first)",
              file=sys.stderr)
    _print_rendered(*render(paths, Path(args.out), args.catalogue))
    return 0


def _results_option(pytest_args: list[str]) -> list[Path]:
    for i, a in enumerate(pytest_args):
        if a.startswith("--results="):
            return [Path(a.split("=", 1)[1])]
        if a == "--results" and i + 1 < len(pytest_args):
            return [Path(pytest_args[i + 1])]
    return []


def _render_with(paths: list[Path], args: argparse.Namespace) -> None:
    """Render every default results file and ``paths``."""
    found = default_results()
    found += [p for p in paths if p.is_file() and p not in found]
    _print_rendered(*render(found, Path(args.out), args.catalogue))


def cmd_run(args: argparse.Namespace) -> int:
    if args.shards:
        from reports.cli_shards import run_sharded

        return run_sharded(args, _render_with)
    cmd = [sys.executable, "-m", "pytest", "checks", "--tier", args.tier]
    if args.device:
        cmd += ["--device", args.device]
    cmd += args.pytest_args
    print("$ " + shlex.join(cmd), file=sys.stderr, flush=True)
    try:
        rc = subprocess.call(cmd, cwd=ROOT)
    except KeyboardInterrupt:
        rc = 130
    except OSError as exc:
        raise UsageProblem(f"cannot start pytest: {exc}") from None
    paths = default_results()
    extra = [p if p.is_absolute() else ROOT / p for p in _results_option(args.pytest_args)]
    paths += [p for p in extra if p.is_file() and p not in paths]
    try:
        _print_rendered(*render(paths, Path(args.out), args.catalogue))
    except UsageProblem as exc:
        print(f"error: report not rendered: {exc}", file=sys.stderr)
        return rc or 2
    return rc


def verdicts(data: dict) -> dict[str, str]:
    return {cid: c.get("verdict", "not run") for cid, c in (data.get("claims") or {}).items()}


def cmd_diff(args: argparse.Namespace) -> int:
    base, head = (verdicts(d) for d in _load_all([Path(args.base), Path(args.head)]))
    worse = changed = 0
    for cid in [*head, *(c for c in base if c not in head)]:
        before, after = base.get(cid, "(absent)"), head.get(cid, "(absent)")
        if before == after:
            continue
        changed += 1
        bad = after in WORSE.get(before, ())
        worse += bad
        print(f"{cid}: {before} → {after}{'   WORSE' if bad else ''}")
    if not changed:
        print(f"no verdict changed ({len(head)} claims)")
    else:
        print(f"{changed} verdict(s) changed, {worse} worse")
    return 1 if worse or (args.strict and changed) else 0


def cmd_list(args: argparse.Namespace) -> int:
    cat = _catalogue(args.catalogue)
    rows = [(c.id, c.tier, c.expected, str(len(c.checks))) for c in sorted(cat.values(), key=lambda c: c.order)]
    header = ("id", "tier", "expected", "checks")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for r in [header, *rows]:
        print("  ".join(x.ljust(w) if i < 3 else x.rjust(w) for i, (x, w) in enumerate(zip(r, widths))).rstrip())
    print(f"{len(rows)} claims")
    return 0


def cmd_controls(args: argparse.Namespace) -> int:
    """How many planted bugs (checks/quality/) the checks rejected, per algorithm family:
    the harness's own power. A control counts for the family of each registry name it touched."""
    from algorithms import registry

    paths = [Path(p) for p in args.results] if args.results else default_results()
    runs = _load_all(paths)
    if not runs:
        raise UsageProblem("no results file: run `python -m pytest checks` first")
    merged = merge(_catalogue(args.catalogue), runs)
    table: dict[str, list[int]] = {}
    missed = []
    for rec in merged["checks"].values():
        if not rec.get("control") or rec["outcome"] == "skipped":
            continue
        families = set()
        for name in rec.get("algorithms") or []:
            try:
                families.add(registry.registration(name).family)
            except KeyError:
                families.add("(unknown)")
        for fam in families or {"(oracle)"}:
            row = table.setdefault(fam, [0, 0])
            row[0] += 1
            row[1] += rec["outcome"] == "passed"
        if rec["outcome"] != "passed":
            missed.append(rec["nodeid"])
    if not table:
        raise UsageProblem("the results hold no planted-bug controls (checks/quality/)")
    print(f"{'family':<22}{'controls':>9}{'rejected':>10}{'rate':>8}")
    for fam, (n, ok) in sorted(table.items()):
        print(f"{fam:<22}{n:>9}{ok:>10}{ok / n:>8.0%}")
    total, ok = sum(r[0] for r in table.values()), sum(r[1] for r in table.values())
    print(f"all controls: {ok}/{total} rejected (a control counts once per family it touches)")
    for nodeid in missed:
        print(f"NOT rejected: {nodeid}")
    return 1 if missed else 0


def cmd_false_alarms(args: argparse.Namespace) -> int:
    from reports.false_alarms import measure, report

    folder = Path(args.out)
    try:
        if args.report_only:
            return report(folder)
        return measure(args.tier or ["fast"], args.runs, folder, resume=args.resume, profile=args.profile,
                       pytest_args=args.pytest_args, seed=args.seed, timeout=args.timeout)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalogue", metavar="DIR", default=None,
                        help="catalogue folder (default reports/catalogue)")
    p = argparse.ArgumentParser(prog="python -m reports", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    r = sub.add_parser("render", parents=[common], help="write report.md and report.html (default)")
    r.add_argument("results", nargs="*", metavar="RESULTS",
                   help="results files (default: reports/out/results-*.json and reports/gpu-results/*.json)")
    r.add_argument("--out", default=str(OUT), metavar="DIR", help="output folder (default reports/out)")
    r.set_defaults(func=cmd_render)
    u = sub.add_parser("run", parents=[common], help="run the checks with pytest, then render",
                       usage="python -m reports run [--tier T] [--device D] [--out DIR] [--shards N --executor "
                             "local|slurm [SLURM options]] [-- PYTEST_ARGS ...]")
    u.add_argument("--tier", choices=("cpu", "fast", "slow", "network", "gpu", "all"), default="cpu",
                   help="which checks run: cpu (default: fast + slow + network, the complete CPU report), "
                        "fast, slow, network, gpu or all")
    u.add_argument("--device", default=None, help="torch device passed to pytest (auto, cpu, cuda, ...)")
    u.add_argument("--out", default=str(OUT), metavar="DIR", help="report folder (default reports/out)")
    u.set_defaults(func=cmd_run, pytest_args=[])
    add_run_options(u)
    d = sub.add_parser("diff", help="claims whose verdict changed; exit 1 if one got worse")
    d.add_argument("base", metavar="BASE.json")
    d.add_argument("head", metavar="HEAD.json")
    d.add_argument("--strict", action="store_true", help="exit 1 on any verdict change, better or worse")
    d.set_defaults(func=cmd_diff)
    add_parsers(sub, common, _render_with, default_results)
    li = sub.add_parser("list", parents=[common], help="the catalogue: id, tier, expected verdict, checks")
    li.set_defaults(func=cmd_list)
    c = sub.add_parser("controls", parents=[common], help="planted-bug rejection rate per algorithm family")
    c.add_argument("results", nargs="*", metavar="RESULTS", help="results files (default as for render)")
    c.set_defaults(func=cmd_controls)
    f = sub.add_parser("false-alarms", help="rerun tiers with fresh randomness; failures per check vs its budget",
                       usage="python -m reports false-alarms [--tier T ...] [--runs N] [--out DIR] [--resume] "
                             "[--seed S] [--report-only] [-- PYTEST_ARGS ...]")
    f.add_argument("--tier", action="append", choices=("fast", "slow", "network", "gpu", "cpu", "all"),
                   help="a tier to rerun (repeatable; default fast)")
    f.add_argument("--runs", type=int, default=50, help="reruns per tier (default 50)")
    f.add_argument("--out", default=str(OUT / "false-alarms"), metavar="DIR",
                   help="where each run's results and the manifest go (default reports/out/false-alarms)")
    f.add_argument("--resume", action="store_true", help="continue the runs already in --out")
    f.add_argument("--report-only", action="store_true", help="summarise the runs in --out, run nothing")
    f.add_argument("--seed", type=int, default=None, help="draw the runs' seeds from this seed (default: random)")
    f.add_argument("--profile", default="fresh", help="hypothesis profile of the reruns (default fresh: random, "
                                                      "no example database)")
    f.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="time limit of one run")
    f.set_defaults(func=cmd_false_alarms, pytest_args=[])
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv.insert(0, "render")
    pytest_args: list[str] = []
    if argv[0] in ("run", "false-alarms") and "--" in argv:
        i = argv.index("--")
        argv, pytest_args = argv[:i], argv[i + 1:]
    args = parser().parse_args(argv)
    if args.command in ("run", "false-alarms"):
        args.pytest_args = pytest_args
    try:
        return args.func(args)
    except UsageProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `python -m reports list | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
