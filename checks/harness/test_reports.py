"""Self-tests of the report renderer and its command line (no claim marker).

A synthetic catalogue (five claims, one per outcome the report must show) and a
synthetic results file are rendered; the page must be self-contained, show
every claim, count verdicts right and escape all text."""
from __future__ import annotations

import base64
import json
import re
import time

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

[[claim]]
id = "t.corrected"
section = "3 Ugly"
title = "A rate with a slip"
tutorial = "O(1/k) for every step-size constant."
statement = "E f - f* = O(1/k) when gamma lam > 1/2; k^(-2 gamma lam) otherwise."
corrected_statement = "O(1/k) only when gamma lam > 1/2."
counterexample = "catalogue's own line"
expected = "corrected"
tier = "fast"
checks = ["checks/test_t.py::test_literal", "checks/test_t.py::test_fixed"]

[[claim]]
id = "t.partial"
section = "3 Ugly"
title = "Half of it ran"
expected = "verified"
tier = "fast"
also_tiers = ["slow"]
checks = ["checks/test_t.py::test_part_fast", "checks/test_t.py::test_part_slow"]

[[claim]]
id = "t.gpu"
section = "3 Ugly"
title = "Needs a GPU"
expected = "verified"
tier = "gpu"
checks = ["checks/test_t.py::test_on_gpu"]
'''
GPU_SKIP = "gpu check: CUDA is not available on this machine (run it at tiny scale on the CPU with --tier gpu --device cpu)"


def _record(nodeid, claims, outcome, ev=None, control=False, message="", tier="fast", **fields):
    return {"nodeid": nodeid, "claims": claims, "outcome": outcome, "control": control, "tier": tier,
            "duration": 0.01, "message": message, "reproduce": f"python -m pytest {nodeid}",
            "algorithms": [], "substituted": [], "evidence": ev.to_json() if ev else None, **fields}


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
    refuted.refutes("the literal update diverges at step 0.45", counterexample="alpha = 0.45: |z_k| doubles")
    literal = Evidence(["t.corrected"])
    literal.upper_bound("slope at gamma lam = 1/4", -0.5, -0.9, abs=0.5)
    literal.corrects("the printed O(1/k) fails for small gamma", counterexample="gamma lam = 1/4: slope -1/2, not -1")
    fixed = Evidence(["t.corrected"])
    fixed.tight("slope at gamma lam = 2", -1.0, -1.0, abs=0.02, headline=True)
    fixed.resolution("rejects a slope error >= 0.05")
    fixed.record("false_alarm_budget", 1e-4)
    part = Evidence(["t.partial"])
    part.holds("sign", True)
    part.record("false_alarm_budget", 2e-4)
    near = {"control_kind": "near_miss", "control_of": ["checks/test_t.py::test_fixed"], "margin": "rate k^-0.95"}
    world = {"control_kind": "wrong_world", "control_of": ["checks/test_t.py::test_fixed"], "margin": ""}
    records = {r["nodeid"]: r for r in [
        _record("checks/test_t.py::test_literal", ["t.corrected"], "passed", literal),
        _record("checks/test_t.py::test_fixed[2]", ["t.corrected"], "passed", fixed),
        _record("checks/quality/test_t.py::test_near", ["t.corrected"], "passed", control=True, **near),
        _record("checks/quality/test_t.py::test_world", ["t.corrected"], "passed", control=True, **world),
        _record("checks/test_t.py::test_part_fast", ["t.partial"], "passed", part),
        _record("checks/test_t.py::test_on_gpu", ["t.gpu"], "skipped", message=GPU_SKIP, tier="gpu"),
        _record("checks/test_t.py::test_good", ["t.good"], "passed", good),
        _record("checks/quality/test_t.py::test_bug", ["t.good"], "passed", control=True),
        _record("checks/test_t.py::test_bad", ["t.bad"], "failed", bad, message=f"AssertionError: {exc.value} <&>"),
        _record("checks/test_t.py::test_refuted", ["t.refuted"], "passed", refuted),
    ]}
    prov = {"git": {"sha": SHA, "dirty": False}, "device": {"platform": "Linux", "cpu_count": 2},
            "hypothesis_profile": "ci", "tier": "fast", "finished": time.time(), "wall_s": 1.5}
    collected = {"checks/test_t.py::test_part_slow": "slow"}
    results = build(catalogue, records, prov, collected=collected)
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
    assert got == {"t.good": "verified", "t.bad": "failed", "t.refuted": "refuted", "t.cited": "cited",
                   "t.todo": "not yet checked", "t.corrected": "corrected", "t.partial": "partial",
                   "t.gpu": "not run"}
    assert [c.id for c in model.surprises] == ["t.bad"]
    md = render_markdown(catalogue, results, head_sha=SHA)
    assert ("**8 claims:** 1 verified, 1 corrected, 1 refuted, 1 cited, 1 failed; "
            "1 partial, 1 not run, 1 not yet checked (not counted as verdicts).") in md
    assert md.count("**SURPRISE**") == 2  # index row + claim section of t.bad
    assert "**1 SURPRISE(S)** (verdict ≠ expected" in md and "[t.bad](#claim-t-bad) (verified → failed)" in md
    html = render_html(catalogue, results, head_sha=SHA)
    assert html.count('<span class="badge surprise">SURPRISE</span>') == 3  # surprises, index, section


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
    assert "| `checks/quality/test_t.py::test_bug` | planted bug | — | — | passed (rejected)" in md
    assert "stale" not in md


def test_partial_claim_is_shown_with_what_did_not_run_and_not_counted(setup):
    _, catalogue, results = setup
    assert results["claims"]["t.partial"]["detail"] == "fast checks only; 1 slow check not run"
    assert results["claims"]["t.partial"]["interim"] == "verified"
    model = report_model(catalogue, results, head_sha=SHA)
    part = next(c for c in model.claims if c.id == "t.partial")
    assert (part.verdict, part.interim, part.surprise) == ("partial", "verified", False)
    assert [(n.pointer, n.tier) for n in part.not_run] == [("checks/test_t.py::test_part_slow", "slow")]
    assert model.counts["partial"] == 1 and "verified" not in [c.verdict for c in model.claims
                                                               if c.id == "t.partial"]
    md = render_markdown(catalogue, results, head_sha=SHA)
    assert "| partial — fast checks only; 1 slow check not run |" in md
    assert "*Fast checks only; 1 slow check not run.* The checks that ran say: verified." in md
    assert "- not run: `checks/test_t.py::test_part_slow` (slow)\n- to complete it: `python -m reports run` (every CPU tier)" in md
    html = render_html(catalogue, results, head_sha=SHA)
    assert '<span class="badge v-partial">partial</span><span class="sub">fast checks only; 1 slow check not run' in html


def test_gpu_only_claim_without_cuda_is_not_run_with_the_reason(setup):
    _, catalogue, results = setup
    gpu = next(c for c in report_model(catalogue, results, head_sha=SHA).claims if c.id == "t.gpu")
    assert gpu.verdict == "not run" and not gpu.surprise
    assert gpu.detail == "1 gpu check not run (gpu check: CUDA is not available on this machine (run it at tiny " \
                         "scale on the CPU with --tier gpu --device cpu))"


def test_corrected_claim_shows_both_halves_and_the_errata(setup):
    _, catalogue, results = setup
    model = report_model(catalogue, results, head_sha=SHA)
    assert [(e.claim_id, e.verdict, e.counterexample) for e in model.errata] == [
        ("t.refuted", "refuted", "alpha = 0.45: |z_k| doubles"),
        ("t.corrected", "corrected", "gamma lam = 1/4: slope -1/2, not -1")]  # the check's line beats the catalogue's
    md = render_markdown(catalogue, results, head_sha=SHA)
    assert md.index("## Summary") < md.index("## Errata") < md.index("## Index")
    assert ("| [t.corrected](#claim-t-corrected) | corrected | O(1/k) for every step-size constant. | "
            "gamma lam = 1/4: slope -1/2, not -1 | O(1/k) only when gamma lam &gt; 1/2. |") in md
    assert ("| as printed (fails) | corrected (verified) |\n|---|---|\n| O(1/k) for every step-size constant."
            "<br>counterexample: gamma lam = 1/4: slope -1/2, not -1 | O(1/k) only when gamma lam &gt; 1/2. |") in md
    html = render_html(catalogue, results, head_sha=SHA)
    assert '<div class="sidebyside"><div><h5>As printed — fails</h5><p>O(1/k) for every step-size constant.</p>' in html
    assert "<h5>Corrected — verified</h5><p>O(1/k) only when gamma lam &gt; 1/2.</p>" in html
    assert html.index('id="summary"') < html.index('id="errata"') < html.index('id="index"')


def test_legend_is_generated_from_the_policy_and_written_once(setup):
    from reports import catalogue as catalogue_module
    from reports.catalogue import ROOT
    from reports.policy import POLICY, PRECEDENCE_LINE

    _, catalogue, results = setup
    md = render_markdown(catalogue, results, head_sha=SHA)
    html = render_html(catalogue, results, head_sha=SHA)
    assert md.index("**Verdicts**") < md.index("## Summary")
    contributing = " ".join((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").split())
    schema = " ".join(catalogue_module.__doc__.split())
    for verdict, text in POLICY:
        assert f"- **{verdict}** — {_md_esc(text)}" in md
        assert f'<dt><span class="badge v-{verdict.replace(" ", "-")}">' in html
        assert f"**{verdict}** — {text}" in contributing, f"CONTRIBUTING.md lacks the policy line of {verdict}"
        assert f"``{verdict}`` — {text}" in schema, f"reports/catalogue.py lacks the policy line of {verdict}"
    assert _md_esc(PRECEDENCE_LINE) in md and PRECEDENCE_LINE in contributing
    assert "`pip install -e . && python -m reports run` — every CPU tier" in md


def _md_esc(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def test_resolution_column_and_controls_by_kind(setup):
    _, catalogue, results = setup
    corrected = next(c for c in report_model(catalogue, results, head_sha=SHA).claims if c.id == "t.corrected")
    fixed = next(v for v in corrected.checks if v.pointer == "checks/test_t.py::test_fixed")
    assert fixed.resolution_text == "rejects a slope error >= 0.05; near miss rate k^-0.95: rejected"
    assert fixed.controls_text == "wrong world 1/1 rejected, near miss 1/1 rejected"
    literal = next(v for v in corrected.checks if v.pointer == "checks/test_t.py::test_literal")
    assert literal.resolution_text == "not stated" and literal.controls_text == "—"
    md = render_markdown(catalogue, results, head_sha=SHA)
    assert ("| `test_fixed[2]` | fast | passed | rejects a slope error &gt;= 0.05; near miss rate k^-0.95: "
            "rejected | wrong world 1/1 rejected, near miss 1/1 rejected |") in md
    assert "| `checks/quality/test_t.py::test_near` | near miss | `test_fixed` | rate k^-0.95 | passed (rejected)" in md


def test_false_alarm_budget_of_the_suite(setup):
    _, catalogue, results = setup
    model = report_model(catalogue, results, head_sha=SHA)
    assert model.false_alarm.total == pytest.approx(3e-4)
    assert "Family-wise false-alarm budget of the suite: 0.0003 — the sum of the budgets stated by 2" in \
        render_markdown(catalogue, results, head_sha=SHA)


def test_index_expected_column_keeps_its_words_whole(setup):
    """The index's "expected" column wrapped to one letter per line: every cell allowed
    breaks anywhere (overflow-wrap:anywhere), which makes a column's minimum width one
    character, and the automatic table layout then squeezed the short columns."""
    from reports.html_style import CSS

    _, catalogue, results = setup
    html = render_html(catalogue, results, head_sha=SHA)
    index = html[html.index('id="index"'):]
    index = index[:index.index("</table>")]
    assert '<th class="nw">expected</th>' in index
    assert '<td class="nw"><span class="badge v-corrected">corrected</span></td>' in index
    css = re.sub(r"/\*.*?\*/", "", CSS, flags=re.S)
    rules = {sel.strip(): body for sel, body in re.findall(r"([^{}]+)\{([^}]*)\}", css)}
    assert "white-space:nowrap" in rules["td.nw, th.nw"].replace(" ", "")
    assert "anywhere" not in rules["th, td"] and "white-space:nowrap" in rules[".badge"].replace("\n", "")


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


def test_run_defaults_to_every_cpu_tier():
    """README command 1 (`python -m reports run`) runs fast + slow + network: the complete CPU report."""
    args = cli.parser().parse_args(["run"])
    assert args.tier == "cpu" and args.shards == 0
