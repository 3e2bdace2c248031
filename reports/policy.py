"""The verdict policy, written once.

The report's legend is generated from :data:`POLICY`; CONTRIBUTING.md ("Verdict
policy") and the catalogue schema (:mod:`reports.catalogue`) carry the same
lines word for word, and ``checks/harness/test_reports.py`` checks that they do.

A claim's verdict is computed by :func:`reports.verdict.claim_status` from the
records of its checks; when they disagree, :data:`PRECEDENCE` decides.
"""
from __future__ import annotations

#: what each verdict and status means, in the order the legend shows them
POLICY: tuple[tuple[str, str], ...] = (
    ("verified", "the statement, in its most charitable faithful reading, holds on the checked "
                 "instances, and the check would have failed in a world where it does not "
                 "(wrong-world and near-miss controls; its resolution is stated)."),
    ("corrected", "false or ill-posed as printed because of a slip (sign, constant, dropped "
                  "condition, quantifier, O/Ω, garbled formula): a check shows the literal "
                  "counterexample and another verifies the corrected statement "
                  "(`corrected_statement`), shown side by side."),
    ("refuted", "false in every faithful reading; the counterexample is shown. A sufficient "
                "condition is not refuted by convergence outside it, and a claim the tutorial "
                "makes about a paper is verified when the check confirms it."),
    ("inconclusive", "the checks ran but cannot decide at this scale or power; the check says why."),
    ("cited", "no program can check it (or, after a literal counterexample, its corrected statement); "
              "the catalogue says why (`cited_reason`)."),
    ("failed", "a check that should hold did not, or a planted-bug control was not rejected; "
               "`pytest checks` exits non-zero."),
    ("error", "the code under test or the check itself misbehaved (an exception, a contract-guard "
              "rule); `pytest checks` exits non-zero."),
    ("partial", "not every check the catalogue lists for the claim has run (another CPU tier, one "
                "file or `-k`): what ran is shown, and the claim is not counted as a verdict. GPU "
                "checks are full-scale replications of claims the CPU tiers decide: one not run at "
                "full scale (no CUDA, or tiny scale) is shown as pending and leaves the verdict standing."),
    ("not run", "the claim has checks, but none of them has run (e.g. a claim with only gpu checks, without CUDA)."),
    ("not yet checked", "no check exists yet; the catalogue's planned test design is shown."),
)

#: verdicts a claim can be counted under (``partial``, ``not run`` and ``not yet checked`` are statuses)
VERDICTS = ("verified", "corrected", "refuted", "inconclusive", "cited", "failed", "error")
#: displayed, never counted as a verdict
STATUSES = ("partial", "not run", "not yet checked")
#: every value a claim's ``verdict`` field can take, in display order
ALL = VERDICTS + STATUSES
#: a catalogue entry's ``expected`` (a prediction fixed before its checks exist)
EXPECTED = ("verified", "corrected", "refuted", "inconclusive", "cited")
#: which verdict wins when a claim's checks disagree (first wins)
PRECEDENCE = ("error", "failed", "partial", "refuted", "inconclusive", "corrected", "verified")
PRECEDENCE_LINE = ("When a claim's checks disagree: " + " > ".join(PRECEDENCE)
                   + ". Checks of every CPU tier listed in the catalogue count; gpu checks count when run at full scale.")

#: the name under which a stochastic check states its false-alarm probability,
#: ``evidence.record(FALSE_ALARM_BUDGET, p)``; the report sums them (a union bound)
FALSE_ALARM_BUDGET = "false_alarm_budget"


def legend_lines() -> list[str]:
    """``verdict — meaning`` lines, the form used in CONTRIBUTING.md and the catalogue docstring."""
    return [f"{v} — {text}" for v, text in POLICY]

