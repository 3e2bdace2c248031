"""torch.optim's own optimisers shaped for ``--impl`` where torch spells a method as an option
of another class, so that the checks can run torch's code:

    python -m pytest checks --impl amsgrad=algorithms.torch_optim:AMSGrad --impl-only

No registrations here: these are substitutes, not references.
"""
from __future__ import annotations

import torch


class AMSGrad(torch.optim.Adam):
    """torch.optim.Adam(amsgrad=True): AMSGrad with Adam's debiasing,

        x_{t+1} = x_t - alpha_t (m_t/(1 - beta1^t)) / (sqrt(vhat_t/(1 - beta2^t)) + eps),
        vhat_t = max(vhat_{t-1}, v_t),

    Reddi, Kale, Kumar (ICLR 2018) print AMSGrad (Algorithm 2) without Adam's debiasing; a
    footnote of their Sec. 2 says it is removed for simplicity and that their arguments apply
    to the debiased version too. The reference ``amsgrad`` is Algorithm 2 as printed; the
    conformance check accepts either form (checks/test_03_update_rules.py)."""

    def __init__(self, params, lr: float = 1e-3, *, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=betas, eps=eps, amsgrad=True)
