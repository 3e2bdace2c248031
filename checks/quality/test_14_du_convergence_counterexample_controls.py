"""Wrong-world control of the literal-counterexample check of opt.du-linear-convergence (issue 13)."""
from __future__ import annotations

import pytest

import checks.test_14_du_convergence as du
from checks.support import fails


@pytest.mark.claim("opt.du-linear-convergence")
@pytest.mark.control("wrong_world", of=du.test_du_rate_as_printed,
                     margin="Du et al.'s rate (1 - eta lambda0/2)^k in place of the printed (1 - eta)^k: it holds")
def test_printed_rate_check_rejects_the_theorem_rate():
    fails(du.test_du_rate_as_printed, rate="du")
