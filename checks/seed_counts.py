"""Count tests for the multi-seed checks of nonlinear stochastic dynamics (sections 09, 13), where no
exact law is available: each seed is an independent Bernoulli trial ("ends on the cycle").

A criterion "at least k of S seeds succeed" has two error probabilities, both stated in the
evidence and in the check's docstring:

* false alarm  P(Bin(S, p_true) < k): the check fails although every seed succeeds with
  probability >= p_true (the claim holds);
* false pass   P(Bin(S, p_false) >= k): the check passes although seeds succeed with
  probability <= p_false (a world where the claim fails); its complement is the power.

"All S seeds" (k = S) has false alarm 1 - p_true^S, e.g. 0.47 at p_true = 0.99, S = 64: not a
criterion a claim that holds "for almost every seed" can meet reliably.
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def count_errors(seeds: int, at_least: int, p_true: float, p_false: float) -> tuple[float, float]:
    """(false alarm, false pass) of the criterion 'at least `at_least` of `seeds`'."""
    return float(stats.binom.cdf(at_least - 1, seeds, p_true)), float(stats.binom.sf(at_least - 1, seeds, p_false))


def count_test(evidence, label: str, successes, at_least: int, *, p_true: float, p_false: float,
               headline: bool = False) -> float:
    """Assert that at least ``at_least`` entries of ``successes`` hold; record both error
    probabilities; return the false alarm (to add into the check's budget)."""
    successes = np.asarray(successes, bool)
    false_alarm, false_pass = count_errors(successes.size, at_least, p_true, p_false)
    evidence.record(f"{label}: seeds that succeed", int(successes.sum()), of=int(successes.size),
                    false_alarm_at_p=[p_true, false_alarm], false_pass_at_p=[p_false, false_pass])
    evidence.lower_bound(f"{label}: seeds that succeed (count test, at least {at_least} of {successes.size})",
                         int(successes.sum()), at_least, headline=headline)
    return false_alarm
