"""Self-tests of the report renderer and its command line (no claim marker).

A synthetic catalogue (five claims, one per outcome the report must show) and a
synthetic results file are rendered; the page must be self-contained, show
every claim, count verdicts right and escape all text."""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest

import reports.__main__ as cli
from reports.catalogue import load
from reports.evidence import Evidence
from reports.render import render_html, render_markdown, report_model
from reports.results import build, write_atomic

# a 1x1 PNG
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
SHA = "0123456789abcdef0123456789abcdef01234567"
CATALOGUE = '''
[[claim]]
id = "t.good"
section = "1 Good"
slide = "3"
title = "A verified claim"
tutorial = "GD converges."
statement = "f(x_k) decreases."
source = "Nesterov 2004"
expected = "verified"
tier = "fast"

[[claim]]
id = "t.bad"
section = "1 Good"
title = "Fails <script>alert(1)</script>"
tutorial = "Rates & \\"constants\\"."
expected = "verified"
tier = "fast"

[[claim]]
id = "t.refuted"
section = "2 Bad"
title = "The slide's literal formula"
expected = "refuted"
tier = "fast"

[[claim]]
id = "t.cited"
section = "2 Bad"
title = "Universal approximation"
expected = "cited"
cited_reason = "An existence theorem; nothing finite decides it."
tier = "cited"

[[claim]]
id = "t.todo"
section = "3 Ugly"
title = "Lazy training"
expected = "verified"
tier = "slow"
test_design = "Train widths 256 to 16384; fit the slope of the weight movement."
'''


def _record(nodeid, claims, outcome, ev=None, control=False, message=""):
    return {"nodeid": nodeid, "claims": claims, "outcome": outcome, "control": control, "tier": "fast",
            "duration": 0.01, "message": message, "reproduce": f"python -m pytest {nodeid}",
            "algorithms": [], "substituted": [], "evidence": ev.to_json() if ev else None}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    (root / "catalogue").mkdir()
    (root / "catalogue" / "01-test.toml").write_text(CATALOGUE, encoding="utf-8")
    catalogue = load(str(root / "catalogue"))
    (root / "figures").mkdir()
    (root / "figures" / "good.png").write_bytes(PNG)

    good = Evidence(["t.good"])
    good.tight("rate", [0.5, 0.25], [0.5, 0.25], rel=1e-12, abs=1e-15, headline=True)
    good.upper_bound("gap", 0.1, 1.0, abs=1e-12)
    good.record("iterations", 40)
    good.parameters(L=1.0, alpha=0.5)
    good.set_seed(7)
    good.note("note with <b>markup</b>")
    good.figures = [{"name": "curve", "path": str(root / "figures" / "good.png"), "caption": "f vs k"},
                    {"name": "gone", "path": str(root / "figures" / "absent.png"), "caption": ""}]
    bad = Evidence(["t.bad"])
    with pytest.raises(AssertionError) as exc:
        bad.upper_bound("radius", 1.5, 1.0, abs=1e-12, headline=True)
    refuted = Evidence(["t.refuted"])
    refuted.lower_bound("radius", 1.1, 1.0, abs=1e-12)
    refuted.refutes("the literal update diverges at step 0.45")
    records = {r["nodeid"]: r for r in [
        _record("checks/test_t.py::test_good", ["t.good"], "passed", good),
        _record("checks/quality/test_t.py::test_bug", ["t.good"], "passed", control=True),
        _record("checks/test_t.py::test_bad", ["t.bad"], "failed", bad, message=f"AssertionError: {exc.value} <&>"),
        _record("checks/test_t.py::test_refuted", ["t.refuted"], "passed", refuted),
    ]}
    prov = {"git": {"sha": SHA, "dirty": False}, "device": {"platform": "Linux", "cpu_count": 2},
            "hypothesis_profile": "ci", "tier": "fast", "finished": time.time(), "wall_s": 1.5}
    results = build(catalogue, records, prov)
    write_atomic(root / "results-fast.json", results)
    return root, catalogue, results


def test_html_is_self_contained_and_escaped(setup):
    root, catalogue, results = setup
    html = render_html(catalogue, results, head_sha=SHA)
    assert 'src="http' not in html and 'href="http' not in html
    assert "<script" not in html and "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count("data:image/png;base64,") == 1
    assert "Figure gone missing" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Rates &amp; &quot;constants&quot;." in html
    assert "&lt;b&gt;markup&lt;/b&gt;" in html and "&lt;&amp;&gt;" in html
    for cid in catalogue:
        assert f'id="{"claim-" + cid.replace(".", "-")}"' in html


def test_verdicts_counts_and_surprises(setup):
    _, catalogue, results = setup
    model = report_model(catalogue, results, head_sha=SHA)
    got = {c.id: c.verdict for c in model.claims}
    assert got == {"t.good": "verified", "t.bad": "failed", "t.refuted": "refuted",
                   "t.cited": "cited", "t.todo": "not yet checked"}
    assert [c.id for c in model.surprises] == ["t.bad"]
    md = render_markdown(catalogue, results, head_sha=SHA)
    assert "**5 claims:** 1 verified, 1 refuted, 1 cited, 1 failed, 1 not yet checked." in md
    assert md.count("**SURPRISE**") == 2  # index row + claim section of t.bad
    html = render_html(catalogue, results, head_sha=SHA)
    assert html.count('<span class="badge surprise">SURPRISE</span>') == 3  # summary, index, section


def test_markdown_content(setup):
    root, catalogue, results = setup
    md = render_markdown(catalogue, results, out_dir=root / "out", head_sha=SHA)
    for cid in catalogue:
        assert f'<a id="claim-{cid.replace(".", "-")}"></a>' in md and f"`{cid}`" in md
    assert "](../figures/good.png)" in md
    assert "Fails &lt;script&gt;" in md
    assert "**Why refuted:** the literal update diverges at step 0.45" in md
    assert "An existence theorem; nothing finite decides it." in md
    assert "*Not yet checked.*" in md and "fit the slope of the weight movement" in md
    assert "rate: 0.5 vs 0.5 (tol" in md  # headline in the index
    assert "```sh\npython -m pytest checks/test_t.py::test_bad\n```" in md
    assert "| `checks/quality/test_t.py::test_bug` | passed (bug rejected)" in md
    assert "stale" not in md


def test_stale_marker(setup):
    _, catalogue, results = setup
    head = "f" * 40
    assert f"stale (run at {SHA[:10]})" in render_markdown(catalogue, results, head_sha=head)
    assert f"stale (run at {SHA[:10]})" in render_html(catalogue, results, head_sha=head)


def test_empty_results_render_the_catalogue(setup):
    _, catalogue, _ = setup
    html = render_html(catalogue, None, head_sha="")
    assert "No results file" in html and html.count('class="badge v-not-yet-checked"') >= 4


def test_cli_render_without_results(setup, tmp_path, monkeypatch, capsys):
    root, _, _ = setup
    monkeypatch.setattr(cli, "OUT", tmp_path / "nothing")
    monkeypatch.setattr(cli, "GPU_RESULTS", tmp_path / "nothing-either")
    rc = cli.main(["render", "--catalogue", str(root / "catalogue"), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert rc == 0 and "no results file" in err
    assert "4 not yet checked" in out and "1 cited" in out
    assert (tmp_path / "out" / "report.html").is_file()
    assert "t.todo" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_cli_render_finds_figures_moved_with_the_results(setup, tmp_path, capsys):
    root, catalogue, results = setup
    moved = json.loads(json.dumps(results))
    ev = moved["checks"]["checks/test_t.py::test_good"]["evidence"]
    ev["figures"][0]["path"] = "/elsewhere/on/the/gpu/machine/figures/good.png"
    write_atomic(tmp_path / "gpu.json", moved)
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "good.png").write_bytes(PNG)
    rc = cli.main(["render", str(tmp_path / "gpu.json"), "--catalogue", str(root / "catalogue"),
                   "--out", str(tmp_path / "out")])
    assert rc == 0 and "1 failed" in capsys.readouterr().out
    assert "data:image/png;base64," in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_cli_errors(setup, tmp_path, capsys):
    root, _, _ = setup
    assert cli.main(["render", str(tmp_path / "absent.json"), "--catalogue", str(root / "catalogue"),
                     "--out", str(tmp_path)]) == 2
    assert "no results file" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert cli.main(["diff", str(tmp_path / "bad.json"), str(root / "results-fast.json")]) == 2
    assert cli.main(["list", "--catalogue", str(tmp_path)]) == 2


def _with_verdicts(path: Path, verdicts: dict[str, str]) -> Path:
    write_atomic(path, {"schema": 1, "partial": False, "provenance": {}, "checks": {},
                        "claims": {c: {"verdict": v, "checks": [], "controls": []} for c, v in verdicts.items()}})
    return path


@pytest.mark.parametrize("before, after, rc", [
    ("verified", "verified", 0), ("verified", "failed", 1), ("refuted", "inconclusive", 1),
    ("verified", "not run", 1), ("inconclusive", "error", 1), ("inconclusive", "verified", 0),
    ("failed", "verified", 0), ("not yet checked", "verified", 0), ("inconclusive", "not run", 0),
])
def test_diff_exit_codes(tmp_path, capsys, before, after, rc):
    base = _with_verdicts(tmp_path / "base.json", {"a": before, "b": "cited"})
    head = _with_verdicts(tmp_path / "head.json", {"a": after, "b": "cited"})
    assert cli.main(["diff", str(base), str(head)]) == rc
    out = capsys.readouterr().out
    assert (f"a: {before} → {after}" in out) == (before != after)
    assert "b:" not in out


def test_list(setup, capsys):
    root, catalogue, _ = setup
    assert cli.main(["list", "--catalogue", str(root / "catalogue")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "tier", "expected", "checks"]
    assert [ln.split()[0] for ln in lines[1:-1]] == list(catalogue)
    assert re.match(r"t\.cited\s+cited\s+cited\s+0", lines[4])


def test_failing_numbers_get_the_digits_that_differ():
    from reports.render import distinct, headline_text

    assert distinct(8.17716000001e-12, 8.17716e-12) == ("8.17716000001e-12", "8.17716e-12")
    failing = {"kind": "tight", "measured": 1.0000001, "reference": 1.0, "tolerance": 1e-9, "passed": False}
    assert headline_text(failing) == "1.0000001 vs 1 (tol 1e-09)"
