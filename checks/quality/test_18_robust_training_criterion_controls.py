"""Wrong-world control of robust.adversarial-examples on its catalogue criterion (issue 13: the criterion
robust accuracy <= clean/2 was restored after it had been swapped following a near miss)."""
from __future__ import annotations

import pytest

import checks.test_18_robust_training as training
from checks.support import fails


@pytest.mark.slow
@pytest.mark.claim("robust.adversarial-examples")
@pytest.mark.control("wrong_world", of=training.test_pgd_breaks_a_digits_mlp,
                     margin="PGD at eps = 0.02 (a fifth of the radius): the network keeps most of its accuracy")
def test_adversarial_check_rejects_a_radius_where_the_network_is_robust():
    fails(training.test_pgd_breaks_a_digits_mlp, eps=0.02)
