"""The methods of the tutorial's rate table "Basic results on adaptive algorithms"
(Liu, Suykens, Cevher, ICASSP 2023, slide 15): accelerated gradient descent,
AdaGrad (diagonal) and AdaGrad-Norm, Adam and AMSGrad, AcceleGrad and UniXGrad.
Gradient descent / SGD live in :mod:`algorithms.sgd`.

Every method is a ``torch.optim.Optimizer`` (family ``optimizer``, see
``algorithms.contracts``) built on :class:`algorithms.sgd.RowwiseOptimizer`, which holds
torch's param-group loop: the caller writes the gradient at the current parameter value
into ``x.grad`` and calls ``step()``; each class states its rule in ``update``. A parameter of shape
(B, ...) holds B independent problems, one per row of the leading axis:
per-coordinate methods (AdaGrad, Adam, AMSGrad) are row-independent anyway;
the norm-based ones (AdaGrad-Norm, AcceleGrad, UniXGrad) take their norms per
row. Methods that query the gradient at a point other than the one they
report (AGD, AcceleGrad, UniXGrad) leave the *next query point* in the
parameter and return the reported point from ``solution()``.
"""
from __future__ import annotations

import torch

from algorithms.registry import register
from algorithms.sgd import RowwiseOptimizer


def _row_sq_norm(t: torch.Tensor) -> torch.Tensor:
    """||row||^2 for every row of the leading axis, shaped to broadcast against ``t``
    (a 0/1-D tensor is a single row)."""
    if t.ndim <= 1:
        return (t * t).sum()
    return (t * t).flatten(1).sum(1).reshape(-1, *([1] * (t.ndim - 1)))


def _project_ball(x: torch.Tensor, radius: float) -> torch.Tensor:
    """Euclidean projection of every row onto the ball {||x|| <= radius}."""
    norm = _row_sq_norm(x).sqrt()
    return x * torch.clamp(radius / torch.clamp(norm, min=1e-300), max=1.0)


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


class _ReportsAnotherPoint(RowwiseOptimizer):
    """Shared ``solution()``: the reported point kept in ``state[p]['solution']``."""

    def solution(self) -> list[torch.Tensor]:
        """The reported iterate(s), one tensor per parameter (before the first step: the parameter)."""
        return [self.state[p].get("solution", p.detach()).clone()
                for group in self.param_groups for p in group["params"]]


class AcceleratedGradient(_ReportsAnotherPoint):
    """Nesterov's accelerated gradient (Nesterov 1983; FISTA form of Beck &
    Teboulle, SIAM J. Imaging Sci. 2009, with t_k = (k + 1)/2):

        x_k     = y_k - (1/L) grad f(y_k)                       (lr = 1/L)
        y_{k+1} = x_k + (k - 1)/(k + 2) (x_k - x_{k-1}),   k = 1, 2, ...;  y_1 = x_0.

    Guarantee (convex, L-smooth): f(x_k) - f* <= 2 L ||x_0 - x*||^2 / (k + 1)^2.
    The parameter holds the query point y_k; ``solution()`` returns x_k.
    """

    def __init__(self, params, lr: float = 1e-2):
        super().__init__(params, dict(lr=_positive("lr", lr)))

    def update(self, p, grad, st, group):
        if not st:
            st["k"] = 0
            st["solution"] = p.detach().clone()  # x_0
        st["k"] += 1
        k = st["k"]
        x_new = p - group["lr"] * grad
        momentum = (k - 1) / (k + 2)
        p.copy_(x_new + momentum * (x_new - st["solution"]))
        st["solution"] = x_new


class AdaGrad(RowwiseOptimizer):
    """Diagonal AdaGrad (Duchi, Hazan, Singer, JMLR 2011), as torch.optim.Adagrad:

        s_k     = s_{k-1} + g_k * g_k                         (coordinatewise)
        x_{k+1} = x_k - eta g_k / (sqrt(s_k) + eps)            (eta = lr).

    On a box the projection in the metric diag(sqrt(s_k)) is the coordinatewise
    clip, so the caller clips after ``step()``. Online regret on a domain of
    l_inf-diameter D_inf (Duchi et al., Thm 5, eps -> 0):
    R_T <= (D_inf^2/(2 eta) + eta) sum_i ||g_{1:T,i}||_2.
    """

    def __init__(self, params, lr: float = 1e-2, *, eps: float = 1e-10):
        super().__init__(params, dict(lr=_positive("lr", lr), eps=float(eps)))

    def update(self, p, grad, st, group):
        if not st:
            st["sum"] = torch.zeros_like(p)
        st["sum"].addcmul_(grad, grad)
        p.addcdiv_(grad, st["sum"].sqrt().add_(group["eps"]), value=-group["lr"])


class AdaGradNorm(RowwiseOptimizer):
    """AdaGrad-Norm (Ward, Wu, Bottou, ICML 2019; the scalar AdaGrad of Levy,
    Yurtsever, Cevher, NeurIPS 2018), one scalar b per row:

        b_{k+1}^2 = b_k^2 + ||g_k||^2,     x_{k+1} = x_k - eta g_k / b_{k+1}     (eta = lr).

    With eta = D/sqrt(2), b_0 = 0 and a projection onto a convex set of diameter D
    (done by the caller) this is LYC's AdaGrad. A row whose b is still 0 (only
    zero gradients so far) does not move.
    """

    def __init__(self, params, lr: float = 1e-2, *, b0: float = 0.0):
        if not b0 >= 0:
            raise ValueError(f"b0 must be >= 0, got {b0!r}")
        super().__init__(params, dict(lr=_positive("lr", lr), b0=float(b0)))

    def update(self, p, grad, st, group):
        if not st:
            st["b2"] = torch.full_like(_row_sq_norm(p), group["b0"] ** 2)
        st["b2"] = st["b2"] + _row_sq_norm(grad)
        b = st["b2"].sqrt()
        p.sub_(group["lr"] * grad / torch.where(b > 0, b, torch.ones_like(b)))


class Adam(RowwiseOptimizer):
    """Adam (Kingma & Ba, ICLR 2015), as torch.optim.Adam (no weight decay):

        m_k = beta1 m_{k-1} + (1 - beta1) g_k,     v_k = beta2 v_{k-1} + (1 - beta2) g_k^2,
        x_{k+1} = x_k - alpha_k (m_k/(1 - beta1^k)) / (sqrt(v_k/(1 - beta2^k)) + eps).

    Reddi, Kale, Kumar (ICLR 2018, Thm 1) give a convex online problem on which
    it converges to the worst point.
    """

    def __init__(self, params, lr: float = 1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        super().__init__(params, dict(lr=_positive("lr", lr), betas=(float(b1), float(b2)), eps=float(eps)))

    def update(self, p, grad, st, group):
        b1, b2 = group["betas"]
        if not st:
            st["k"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
        st["k"] += 1
        st["m"].mul_(b1).add_(grad, alpha=1 - b1)
        st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
        m_hat = st["m"] / (1 - b1 ** st["k"])
        v_hat = st["v"] / (1 - b2 ** st["k"])
        p.addcdiv_(m_hat, v_hat.sqrt().add_(group["eps"]), value=-group["lr"])


class AMSGrad(Adam):
    """AMSGrad (Reddi, Kale, Kumar, ICLR 2018, Algorithm 2):

        m_k = beta1 m_{k-1} + (1 - beta1) g_k,    v_k = beta2 v_{k-1} + (1 - beta2) g_k^2,
        vhat_k = max(vhat_{k-1}, v_k),            x_{k+1} = x_k - alpha_k m_k / (sqrt(vhat_k) + eps).

    As in the paper, no bias correction: the max makes alpha_k/sqrt(vhat_k) non-increasing,
    which is what the O(sqrt(T)) regret bound needs (their Thm 4).
    """

    def update(self, p, grad, st, group):
        b1, b2 = group["betas"]
        if not st:
            st["m"], st["v"], st["vhat"] = (torch.zeros_like(p) for _ in range(3))
        st["m"].mul_(b1).add_(grad, alpha=1 - b1)
        st["v"].mul_(b2).addcmul_(grad, grad, value=1 - b2)
        torch.maximum(st["vhat"], st["v"], out=st["vhat"])
        p.addcdiv_(st["m"], st["vhat"].sqrt().add_(group["eps"]), value=-group["lr"])


class AcceleGrad(_ReportsAnotherPoint):
    """AcceleGrad (Levy, Yurtsever, Cevher, NeurIPS 2018, Algorithm 1) on the ball
    K = {||x|| <= radius} of diameter D = 2 radius, per row:

        alpha_t = 1 (t <= 2), (t + 1)/4 (t >= 3);   tau_t = 1/alpha_t
        x_{t+1} = tau_t z_t + (1 - tau_t) y_t                       (query point)
        g_t     = grad f(x_{t+1})
        eta_t   = lr * 2D / sqrt(G^2 + sum_{s<=t} alpha_s^2 ||g_s||^2)
        z_{t+1} = Pi_K(z_t - alpha_t eta_t g_t)
        y_{t+1} = x_{t+1} - eta_t g_t
        output  ybar_T = sum_t alpha_t y_{t+1} / sum_t alpha_t          (``solution()``)

    with x_0 = y_0 = z_0 the initial parameter (in K). Guarantees without knowing
    L or sigma: O(L D^2 log(LD/G) / T^2) smooth, O(GD sqrt(log T)/sqrt(T)) nonsmooth
    or stochastic (their Thms 1.1, 3.1). lr = 1 is the paper's method.
    """

    def __init__(self, params, lr: float = 1.0, *, radius: float = 1.0, G: float = 1.0):
        super().__init__(params, dict(lr=_positive("lr", lr), radius=_positive("radius", radius),
                                      G=_positive("G", G)))

    @staticmethod
    def weight(t: int) -> float:
        return 1.0 if t <= 2 else (t + 1) / 4

    def update(self, p, g, st, group):
        D = 2 * group["radius"]
        if not st:
            start = _project_ball(p.detach().clone(), group["radius"])
            st.update(t=0, z=start.clone(), y=start.clone(), ysum=torch.zeros_like(p), asum=0.0,
                      denom=torch.full_like(_row_sq_norm(p), group["G"] ** 2))
        a = self.weight(st["t"])
        st["denom"] = st["denom"] + a * a * _row_sq_norm(g)
        eta = group["lr"] * 2 * D / st["denom"].sqrt()
        st["z"] = _project_ball(st["z"] - a * eta * g, group["radius"])
        st["y"] = p - eta * g
        st["ysum"] += a * st["y"]
        st["asum"] += a
        st["solution"] = st["ysum"] / st["asum"]
        st["t"] += 1
        tau = 1.0 / self.weight(st["t"])
        p.copy_(tau * st["z"] + (1 - tau) * st["y"])


class UniXGrad(_ReportsAnotherPoint):
    """UniXGrad (Kavis, Levy, Bach, Cevher, NeurIPS 2019, Algorithm 1, Euclidean
    prox) on the ball K = {||x|| <= radius}, D = 2 radius, weights alpha_t = t,
    A_t = sum_{s<=t} alpha_s, per row; two gradient queries per iteration:

        zt_t  = (alpha_t y_{t-1} + sum_{s<t} alpha_s x_s) / A_t,   M_t = grad f(zt_t)
        eta_t = lr * 2D / sqrt(1 + sum_{s<t} alpha_s^2 ||g_s - M_s||^2)
        x_t   = Pi_K(y_{t-1} - alpha_t eta_t M_t)
        xb_t  = (sum_{s<=t} alpha_s x_s) / A_t,                   g_t = grad f(xb_t)
        y_t   = Pi_K(y_{t-1} - alpha_t eta_t g_t)
        output xb_T                                               (``solution()``)

    with y_0 the initial parameter. ``step()`` alternates: it consumes M_t (the
    parameter then holds xb_t) and then g_t (the parameter then holds zt_{t+1}).
    Guarantees without knowing L or sigma: O(L D^2 / T^2) smooth, O(D(G + sigma)/sqrt(T))
    nonsmooth / stochastic (their Thms 1, 2). lr = 1 is the paper's method.
    """

    def __init__(self, params, lr: float = 1.0, *, radius: float = 1.0):
        super().__init__(params, dict(lr=_positive("lr", lr), radius=_positive("radius", radius)))

    def update(self, p, grad, st, group):
        D, R = 2 * group["radius"], group["radius"]
        if not st:
            y0 = _project_ball(p.detach().clone(), R)
            st.update(t=1, phase="M", y=y0, xsum=torch.zeros_like(p), asum=1.0,
                      sq=torch.zeros_like(_row_sq_norm(p)), solution=y0.clone())
        t = st["t"]
        if st["phase"] == "M":  # grad = M_t at zt_t
            st["M"] = grad.clone()
            st["eta"] = group["lr"] * 2 * D / (1 + st["sq"]).sqrt()
            st["x"] = _project_ball(st["y"] - t * st["eta"] * st["M"], R)
            st["solution"] = (st["xsum"] + t * st["x"]) / st["asum"]
            p.copy_(st["solution"])
            st["phase"] = "g"
        else:  # grad = g_t at xb_t
            st["y"] = _project_ball(st["y"] - t * st["eta"] * grad, R)
            st["sq"] = st["sq"] + t * t * _row_sq_norm(grad - st["M"])
            st["xsum"] += t * st["x"]
            st["t"] = t + 1
            st["asum"] += t + 1
            p.copy_(((t + 1) * st["y"] + st["xsum"]) / st["asum"])
            st["phase"] = "M"


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("accelerated_gradient", family="optimizer")(AcceleratedGradient)
register("adagrad", family="optimizer")(AdaGrad)
register("adagrad_norm", family="optimizer")(AdaGradNorm)
register("adam", family="optimizer")(Adam)
register("amsgrad", family="optimizer")(AMSGrad)
register("accelegrad", family="optimizer")(AcceleGrad)
register("unixgrad", family="optimizer")(UniXGrad)
