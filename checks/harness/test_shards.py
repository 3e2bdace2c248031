"""Self-tests of sharded runs: a shard's results file records its group and N; the merge
refuses, one line per problem, a missing / duplicated / unfinished / corrupted shard, a
check reported twice, and mixed commits or tiers unless asked; the local submitit
executor runs N groups that together run every check once."""
from __future__ import annotations

import json
import os
import shutil
import uuid

import pytest

import reports.__main__ as cli
from reports.catalogue import ROOT, load
from reports.results import load as load_results, write_results
from reports.shards import ShardProblems, durations_from_results, merge_shards

SHA_A, SHA_B = "a" * 40, "b" * 40
A, B, C = "checks/test_c.py::test_a", "checks/test_c.py::test_b", "checks/test_c.py::test_c"


def _rec(nodeid: str, claims=("bilinear.gda-diverges",), outcome: str = "passed", duration: float = 1.5) -> dict:
    return {"nodeid": nodeid, "claims": list(claims), "outcome": outcome, "control": False, "tier": "fast",
            "duration": duration, "message": "", "evidence": {"on_pass": "verified"}}


def _shard(tmp_path, group: int, splits: int, nodeids, sha: str = SHA_A, tier: str = "fast", partial=False):
    path = tmp_path / f"results-{group}of{splits}.json"
    prov = {"git": {"sha": sha, "dirty": False}, "tier": tier, "started": 100.0 + group, "finished": 110.0 + group,
            "command": "python -m pytest checks", "device": {"platform": "Linux", "cpu_count": 2, "gpu": f"GPU {group}"}}
    write_results(path, load(), {n: _rec(n) for n in nodeids}, prov, partial=partial,
                  shard={"group": group, "splits": splits, "algorithm": "least_duration"})
    return path


def test_a_shard_file_records_its_group_and_device(tmp_path):
    path = _shard(tmp_path, 2, 3, [A])
    data = load_results(path)
    assert data["shard"] == {"group": 2, "splits": 3, "algorithm": "least_duration"}
    assert data["provenance"]["shard"]["group"] == 2
    assert data["checks"][A]["provenance"]["shard"] == data["shard"]
    assert data["checks"][A]["provenance"]["device"]["gpu"] == "GPU 2"
    _shard(tmp_path, 2, 3, [B])  # a rerun of the group replaces its file, never merges into it
    assert set(load_results(path)["checks"]) == {B}


def test_merged_shards_equal_the_union(tmp_path):
    paths = [_shard(tmp_path, 1, 3, [A]), _shard(tmp_path, 2, 3, [B]), _shard(tmp_path, 3, 3, [C])]
    merged = merge_shards(load(), paths)
    assert set(merged["checks"]) == {A, B, C}
    assert merged["provenance"]["shards"] == 3 and merged["provenance"]["tier"] == "fast"
    assert [r["shard"]["group"] for r in merged["runs"]] == [1, 2, 3]


@pytest.mark.parametrize("case, expected", [
    ("missing", ["shard group 2 of 3 missing (have groups 1, 3)"]),
    ("twice", ["shard group 1 of 3 given twice"]),
    ("check twice", [f"check {B} reported twice"]),
    ("mixed sha", ["shards ran at different commits: aaaaaaaaaa (groups 1, 2); bbbbbbbbbb (group 3) "
                   "(pass --allow-mixed-sha to merge them anyway)"]),
    ("mixed tiers", ["shards ran at different tiers: fast (groups 1, 2); slow (group 3)"]),
    ("unfinished", ["shard group 3 of 3 is a snapshot of a run that did not finish"]),
    ("corrupted", ["is not a valid results file"]),
    ("two problems", ["shard group 2 of 3 missing", "shards ran at different commits"]),
])
def test_the_merge_refuses_with_one_line_per_problem(tmp_path, capsys, case, expected):
    (tmp_path / "other").mkdir()
    one = _shard(tmp_path, 1, 3, [A])
    two = _shard(tmp_path, 2, 3, [B])
    three = {"mixed sha": lambda: _shard(tmp_path, 3, 3, [C], sha=SHA_B),
             "two problems": lambda: _shard(tmp_path, 3, 3, [C], sha=SHA_B),
             "mixed tiers": lambda: _shard(tmp_path, 3, 3, [C], tier="slow"),
             "unfinished": lambda: _shard(tmp_path, 3, 3, [C], partial=True),
             "check twice": lambda: _shard(tmp_path, 3, 3, [B, C]),
             }.get(case, lambda: _shard(tmp_path, 3, 3, [C]))()
    paths = [one, two, three]
    if case in ("missing", "two problems"):
        paths.remove(two)
    if case == "twice":
        paths.append(_shard(tmp_path / "other", 1, 3, [A]))
    if case == "corrupted":
        three.write_text(three.read_text(encoding="utf-8")[:200], encoding="utf-8")
    with pytest.raises(ShardProblems) as exc:
        merge_shards(load(), paths)
    assert len(exc.value.lines) == len(expected)
    for line, want in zip(exc.value.lines, expected):
        assert want in line and "\n" not in line
    rc = cli.main(["merge", *map(str, paths), "--results", str(tmp_path / "merged.json"), "--no-render"])
    err = capsys.readouterr().err.splitlines()
    assert rc == 2 and len(err) == len(expected) and all(e.startswith("error: ") for e in err)
    assert not (tmp_path / "merged.json").exists()


def test_mixed_commits_merge_when_asked(tmp_path, capsys):
    paths = [_shard(tmp_path, 1, 2, [A]), _shard(tmp_path, 2, 2, [B], sha=SHA_B)]
    out = tmp_path / "merged.json"
    assert cli.main(["merge", str(tmp_path), "--results", str(out), "--no-render", "--allow-mixed-sha"]) == 0
    data = load_results(out)
    assert {n: r["provenance"]["git"]["sha"] for n, r in data["checks"].items()} == {A: SHA_A, B: SHA_B}
    assert len(paths) == 2 and "merged 2 shard(s) of tier fast" in capsys.readouterr().err


def test_durations_file_from_recorded_durations(tmp_path):
    path = tmp_path / ".test_durations"
    path.write_text(json.dumps({"checks/old.py::test_kept": 9.0, A: 99.0}), encoding="utf-8")
    data = load_results(_shard(tmp_path, 1, 1, [A, B]))
    data["checks"][B]["outcome"] = "skipped"
    assert durations_from_results([data], path) == 1
    assert json.loads(path.read_text(encoding="utf-8")) == {A: 1.5, "checks/old.py::test_kept": 9.0}


SAMPLE = '''
import pytest

@pytest.mark.claim("bilinear.gda-diverges")
@pytest.mark.parametrize("k", range(5))
def test_sample(evidence, k):
    evidence.holds("ran", True)
'''


@pytest.mark.slow  # three pytest processes (~10 s on 2 idle cores); CI also merges 3 shards of the fast tier
def test_local_executor_runs_every_group_once(tmp_path):
    """Three local submitit shards of a five-item sample: every item runs in exactly one group."""
    pytest.importorskip("submitit")
    from reports.submit import ShardPlan, exit_status, submit, wait

    folder = ROOT / "checks" / f".selftest-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        (folder / "sample.py").write_text(SAMPLE, encoding="utf-8")
        plan = ShardPlan(tier="fast", splits=3, folder=tmp_path, paths=[str(folder / "sample.py")],
                         pytest_args=["--no-figures", "-p", "no:xdist"], timeout_min=10)
        log = tmp_path / "progress.txt"
        with open(log, "w", encoding="utf-8") as out:
            summaries, problems = wait(plan, submit(plan), poll_s=0.5, out=out)
        merged = merge_shards(load(), [plan.results_path(g) for g in (1, 2, 3)])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert problems == [] and exit_status(summaries) == 0
    assert sorted(n.split("::")[-1] for n in merged["checks"]) == [f"test_sample[{k}]" for k in range(5)]
    progress = log.read_text(encoding="utf-8")
    assert "[shards] 3 shard(s) of tier fast submitted (local" in progress
    assert all(f"group {g}/3 finished: pytest exit 0" in progress for g in (1, 2, 3))


def test_slurm_options_pass_through_to_sbatch(tmp_path, monkeypatch):
    """No cluster here: a stand-in ``srun`` on PATH lets submitit build the sbatch script of an array task."""
    pytest.importorskip("submitit")
    from reports.submit import ShardPlan, _executor

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "srun").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    (tmp_path / "bin" / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    plan = ShardPlan(tier="gpu", splits=8, executor="slurm", folder=tmp_path, partition="gpu", gpus_per_node=1,
                     cpus_per_task=4, mem_gb=16, timeout_min=120, slurm_extra={"qos": "normal"})
    script = _executor(plan)._executor._make_submission_file_text("python -m submitit.core._submit x", "uid")
    for line in ("--partition=gpu", "--gpus-per-node=1", "--cpus-per-task=4", "--mem=16GB", "--time=120",
                 "--qos=normal", "--job-name=gbu-gpu"):
        assert f"#SBATCH {line}\n" in script
