"""Torch optimisers for planted bugs. Each one is a ``RowwiseOptimizer`` (the parameter-group
loop of algorithms/, written once), so that a bug states only the update it gets wrong."""
from __future__ import annotations

import torch

from algorithms.adaptive import UniXGrad, _project_ball, _row_sq_norm
from algorithms.sgd import RowwiseOptimizer


class PlantedSGD(RowwiseOptimizer):
    """x+ = x - lr g unless a subclass changes ``update``; ``generator`` feeds the noisy ones."""

    def __init__(self, params, lr=1e-2, generator=None, **_):
        super().__init__(params, dict(lr=lr))
        self.generator = generator

    def update(self, p, grad, state, group):
        p.add_(grad, alpha=-group["lr"])


class UniXGradReweighted(UniXGrad):
    """UniXGrad with weights alpha_t = t^exponent instead of t, in the averages and the step sizes."""

    exponent = 1.0

    def update(self, p, grad, st, group):
        D, R = 2 * group["radius"], group["radius"]
        if not st:
            y0 = _project_ball(p.detach().clone(), R)
            st.update(t=1, phase="M", y=y0, xsum=torch.zeros_like(p), asum=1.0,
                      sq=torch.zeros_like(_row_sq_norm(p)), solution=y0.clone())
        a = st["t"] ** self.exponent
        if st["phase"] == "M":
            st["M"] = grad.clone()
            st["eta"] = group["lr"] * 2 * D / (1 + st["sq"]).sqrt()
            st["x"] = _project_ball(st["y"] - a * st["eta"] * st["M"], R)
            st["solution"] = (st["xsum"] + a * st["x"]) / st["asum"]
            p.copy_(st["solution"])
            st["phase"] = "g"
        else:
            st["y"] = _project_ball(st["y"] - a * st["eta"] * grad, R)
            st["sq"] = st["sq"] + a * a * _row_sq_norm(grad - st["M"])
            st["xsum"] += a * st["x"]
            st["t"] += 1
            a_next = st["t"] ** self.exponent
            st["asum"] += a_next
            p.copy_((a_next * st["y"] + st["xsum"]) / st["asum"])
            st["phase"] = "M"


class SGDScaledStep(PlantedSGD):
    """SGD applying ``factor`` times the requested step."""

    factor = 1.0

    def update(self, p, grad, state, group):
        p.add_(grad, alpha=-self.factor * group["lr"])


class SGDAscent(PlantedSGD):
    """SGD with the sign of the step flipped."""

    def update(self, p, grad, state, group):
        p.add_(grad, alpha=group["lr"])
