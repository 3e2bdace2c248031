"""Measurements on networks (family ``measurement``): the lazy-training ratio, input
gradients, perturbation stability, Lipschitz bounds, the empirical NTK, weight drift and
activation flips, the separation of a data set, and the printed robustness bounds. (The ℓ∞ PGD attack
is ``pgd_linf`` of algorithms.attacks.)

Conventions: networks are given as (weights, α) of ``algorithms.networks`` — weights a list
of tensors (B, out, in) — and evaluated through ``forward`` (default: the reference
``relu_network``); every measurement is batched over the B networks.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch

from algorithms.networks import _threads_for, relu_network
from algorithms.registry import register

Tensor = torch.Tensor


def _matrix_norm(X: Tensor, norm: str) -> Tensor:
    if norm == "fro":
        return torch.linalg.matrix_norm(X, ord="fro")
    if norm == "spec":
        return torch.linalg.matrix_norm(X, ord=2)
    raise ValueError(f"norm must be 'fro' or 'spec', got {norm!r}")


# ------------------------------------------------------------ lazy ratio
def lazy_training_ratio(params_t: Sequence[Tensor], params_0: Sequence[Tensor], *,
                        reduce: str = "sum", norm: str = "fro") -> Tensor:
    """The tutorial's lazy-training ratio (slides ≈60–62, 68):

        κ = Σ_l ‖X_l(t) − X_l(0)‖ / Σ_l ‖X_l(0)‖                      (reduce="sum")
        max_l ‖X_l(t) − X_l(0)‖ / ‖X_l(0)‖                            (reduce="max_layer",
                                                    the per-layer definition of Luo et al.)
        the per-layer ratios stacked on a last axis of size L            (reduce="per_layer")

    with ‖·‖ Frobenius (norm="fro") or spectral (norm="spec"). Tensors (…, out, in); the
    result has the leading batch shape. Take the sup over t yourself (over snapshots)."""
    if len(params_t) != len(params_0):
        raise ValueError(f"{len(params_t)} current vs {len(params_0)} initial weight matrices")
    moved = torch.stack([_matrix_norm(a - b, norm) for a, b in zip(params_t, params_0)], -1)
    size = torch.stack([_matrix_norm(b, norm) for b in params_0], -1)
    if reduce == "sum":
        return moved.sum(-1) / size.sum(-1)
    if reduce == "max_layer":
        return (moved / size).max(-1).values
    if reduce == "per_layer":
        return moved / size
    raise ValueError(f"reduce must be 'sum', 'max_layer' or 'per_layer', got {reduce!r}")


# ------------------------------------------------------- input gradients
def input_gradients(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, *,
                    output_relu: bool = False, forward: Callable | None = None) -> Tensor:
    """∇ₐh_x(a) for B networks at n inputs: (B, n, p). The networks act independently, so
    one backward pass of Σ_{b,i} h_b(a_bi) gives every gradient."""
    fwd = forward or relu_network
    B = weights[0].shape[0]
    a = (inputs.expand(B, *inputs.shape) if inputs.dim() == 2 else inputs).detach().clone()
    a.requires_grad_(True)
    with _threads_for(a.shape[-2] * sum(w.numel() for w in weights), weights[0].device):
        out = fwd([w.detach() for w in weights], alpha, a, output_relu=output_relu)
        (grad,) = torch.autograd.grad(out.sum(), a)
    return grad


def _dual_norm(g: Tensor, threat: str) -> Tensor:
    if threat == "l2":
        return g.norm(dim=-1)
    if threat == "linf":
        return g.abs().sum(-1)  # the dual of ℓ∞ is ℓ1
    raise ValueError(f"threat model must be 'l2' or 'linf', got {threat!r}")


# -------------------------------------------------- perturbation stability
def perturbation_stability(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, eps: float, *,
                           samples: int = 64, seed: int = 0, output_relu: bool = False,
                           forward: Callable | None = None) -> dict[str, Tensor]:
    """Perturbation stability (Zhu, Liu, Chrysos, Cevher, NeurIPS 2022):

        P(h, ε) = E_{a, â} |∇ₐh_x(a)ᵀ(a − â)|,   a ~ the inputs, â ~ Unif(B₂(ε, a)),

    by Monte Carlo: ``samples`` points â uniform in the ℓ₂ ball around each input
    (direction u/‖u‖, radius ε U^{1/p}). Returns {"P": (B,), "se": (B,)}: the estimate per
    network (mean over inputs and samples) and its standard error over the n·samples terms."""
    grads = input_gradients(weights, alpha, inputs, output_relu=output_relu, forward=forward)
    B, n, p = grads.shape
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    u = torch.randn((B, n, samples, p), generator=g, dtype=torch.float64)
    radius = eps * torch.rand((B, n, samples, 1), generator=g, dtype=torch.float64) ** (1.0 / p)
    delta = (u / u.norm(dim=-1, keepdim=True) * radius).to(grads)
    terms = (delta @ grads.unsqueeze(-1)).squeeze(-1).abs().reshape(B, -1)
    return {"P": terms.mean(-1), "se": terms.std(-1) / math.sqrt(terms.shape[-1])}


# ------------------------------------------------------------- Lipschitz
def lipschitz_upper_bound(weights: Sequence[Tensor], alpha: Any, *, threat: str = "l2") -> Tensor:
    """L ≤ Π_l ‖X_l‖₂ / α (ReLU is 1-Lipschitz and positively homogeneous), for the ℓ₂
    threat model; for ℓ∞ the dual norm is ℓ₁ and ‖g‖₁ ≤ √p ‖g‖₂ adds the factor √p.
    Tensors (B, out, in); returns (B,). For one linear layer A this is exactly ‖A‖₂."""
    bound = torch.ones(weights[0].shape[:-2], dtype=weights[0].dtype, device=weights[0].device)
    for X in weights:
        bound = bound * torch.linalg.matrix_norm(X, ord=2)
    a = torch.as_tensor(alpha, dtype=bound.dtype, device=bound.device)
    bound = bound / a.abs()
    if threat == "linf":
        return bound * math.sqrt(weights[0].shape[-1])
    if threat != "l2":
        raise ValueError(f"threat model must be 'l2' or 'linf', got {threat!r}")
    return bound


def lipschitz_lower_bound(weights: Sequence[Tensor], alpha: Any, *, threat: str = "l2",
                          restarts: int = 64, steps: int = 20, step_size: float = 0.05,
                          seed: int = 0, output_relu: bool = False,
                          forward: Callable | None = None) -> Tensor:
    """A lower bound on L = sup_a ‖∇ₐh_x(a)‖_* (dual norm of the threat model): every value
    of ‖∇h(a)‖_* at a point of differentiability, and every difference quotient
    |h(a) − h(b)|/‖a − b‖, is ≤ L. ``restarts`` random pairs (a, b) on the unit sphere are
    moved by ``steps`` steps of normalised gradient ascent on the difference quotient; the
    result is the max over all gradient norms met and all quotients. Returns (B,)."""
    fwd = forward or relu_network
    ws = [w.detach() for w in weights]
    B, p = ws[0].shape[0], ws[0].shape[-1]
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    pts = torch.randn((B, 2 * restarts, p), generator=g, dtype=torch.float64).to(ws[0])
    pts = pts / pts.norm(dim=-1, keepdim=True)
    primal = 2 if threat == "l2" else math.inf
    best = torch.zeros(B, dtype=ws[0].dtype, device=ws[0].device)
    with _threads_for(2 * restarts * sum(w.numel() for w in ws), ws[0].device):
        return _ascend(fwd, ws, alpha, pts, best, threat, primal, restarts, steps, step_size, output_relu)


def _ascend(fwd, ws, alpha, pts, best, threat, primal, restarts, steps, step_size, output_relu):
    for _ in range(steps + 1):
        grads = input_gradients(ws, alpha, pts, output_relu=output_relu, forward=fwd)
        best = torch.maximum(best, _dual_norm(grads, threat).max(-1).values)
        x = pts.detach().clone().requires_grad_(True)
        out = fwd(ws, alpha, x, output_relu=output_relu)
        a_out, b_out = out[:, :restarts], out[:, restarts:]
        dist = torch.linalg.vector_norm(x[:, :restarts] - x[:, restarts:], ord=primal, dim=-1)
        quotient = (a_out - b_out).abs() / dist.clamp_min(1e-12)
        best = torch.maximum(best, quotient.detach().max(-1).values)
        (step,) = torch.autograd.grad(quotient.sum(), x)
        step = step / step.norm(dim=-1, keepdim=True).clamp_min(1e-300)
        pts = (x + step_size * step).detach()
    return best


# ------------------------------------------------------------------ NTK
def ntk_gram(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, *,
             trainable: Sequence[bool] | None = None, output_relu: bool = False,
             forward: Callable | None = None) -> Tensor:
    """Empirical NTK Θ_ij = ⟨∇_x h(a_i), ∇_x h(a_j)⟩ over the trained layers, (B, n, n);
    one backward pass per input (the B networks are independent)."""
    fwd = forward or relu_network
    train = list(trainable) if trainable is not None else [True] * len(weights)
    ws = [w.detach().clone().requires_grad_(t) for w, t in zip(weights, train)]
    with _threads_for(inputs.shape[-2] * sum(w.numel() for w in ws), ws[0].device):
        out = fwd(ws, alpha, inputs, output_relu=output_relu)
        rows = []
        for i in range(out.shape[1]):
            grads = torch.autograd.grad(out[:, i].sum(), [w for w, t in zip(ws, train) if t],
                                        retain_graph=i + 1 < out.shape[1])
            rows.append(torch.cat([gr.reshape(gr.shape[0], -1) for gr in grads], -1))
        J = torch.stack(rows, 1)  # (B, n, P)
        return J @ J.transpose(-1, -2)


def ntk_top_eigenvalue(weights: Sequence[Tensor], alpha: Any, inputs: Tensor, *, iterations: int = 30,
                       seed: int = 0, forward: Callable | None = None) -> Tensor:
    """λ_max(Θ) of the empirical NTK Θ = J Jᵀ (J = ∂h(a_i)/∂x, all layers) per network, (B,),
    by power iteration v ← J Jᵀ v / ‖J Jᵀ v‖ without forming Θ: Jᵀv is one backward pass,
    J u one forward-mode pass. GD on ½‖h − y‖² is stable in the linearised (lazy) model iff
    η < 2/λ_max(Θ), so η = 1/λ_max is the NTK-normalised step. The iterate's Rayleigh
    quotient never exceeds λ_max; after k steps it is within a factor (1 − (λ₂/λ₁)^{2k}) of it."""
    fwd = forward or relu_network
    ws = [w.detach() for w in weights]
    B, n = ws[0].shape[0], inputs.shape[-2]
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    v = torch.randn((B, n), generator=g, dtype=torch.float64).to(ws[0])
    lam = torch.zeros(B, dtype=ws[0].dtype, device=ws[0].device)
    with _threads_for(n * sum(w.numel() for w in ws), ws[0].device):
        for _ in range(iterations):
            v = v / v.norm(dim=-1, keepdim=True)
            wr = [w.clone().requires_grad_(True) for w in ws]
            grads = torch.autograd.grad((fwd(wr, alpha, inputs) * v).sum(), wr)  # Jᵀv per network
            _, jjv = torch.func.jvp(lambda *W: fwd(list(W), alpha, inputs), tuple(ws), tuple(grads))
            lam = (jjv * v).sum(-1)
            v = jjv
    return lam


# ---------------------------------------------------- drift and flips
def neuron_drift(W_t: Tensor, W_0: Tensor) -> Tensor:
    """max_r ‖w_r(t) − w_r(0)‖₂ over the rows (neurons) of a first layer (B, m, p): (B,)."""
    return (W_t - W_0).norm(dim=-1).max(-1).values


def activation_flip_fraction(W_t: Tensor, W_0: Tensor, inputs: Tensor) -> Tensor:
    """Fraction of (input i, neuron r) pairs with 1(w_r(t)ᵀa_i > 0) ≠ 1(w_r(0)ᵀa_i > 0): (B,)."""
    now = inputs @ W_t.transpose(-1, -2) > 0
    then = inputs @ W_0.transpose(-1, -2) > 0
    return (now != then).to(W_t.dtype).mean((-1, -2))


# ------------------------------------------------------------ separation
def dataset_separation(X_query: np.ndarray, y_query: np.ndarray, X_ref: np.ndarray,
                       y_ref: np.ndarray, *, norm: str = "linf", block: int = 512) -> float:
    """min ‖x − x′‖ over x ∈ X_query, x′ ∈ X_ref with different labels (Yang, Rashtchian,
    Zhang, Salakhutdinov, Chaudhuri, NeurIPS 2020: "train–train" with query = ref, "test–train"
    with query = test). norm 'linf' (Chebyshev) or 'l2'; blocks of ``block`` query rows."""
    from scipy.spatial.distance import cdist

    metric = {"linf": "chebyshev", "l2": "euclidean"}.get(norm)
    if metric is None:
        raise ValueError(f"norm must be 'linf' or 'l2', got {norm!r}")
    best = math.inf
    for s in range(0, len(y_query), block):
        D = cdist(X_query[s:s + block], X_ref, metric=metric)
        D[np.asarray(y_query[s:s + block])[:, None] == np.asarray(y_ref)[None, :]] = np.inf
        best = min(best, float(D.min()))
    return best


# ----------------------------------------------------- printed bounds
def stability_bound(name: str, m: Any, L: Any, p: Any = None) -> Any:
    """The bounds on P(f, ε)/ε printed in the tutorial (slide "Main results (Lazy-training
    regime)" and the comparison table), as functions of width m, depth L and input dim p;
    numpy arrays and sympy symbols alike:

        zhu_lecun  (√(L³m/p) e^{−m/L³} + √(1/p)) (√2/2)^{L−2}
        zhu_he     √(L³m/p) e^{−m/L³} + √(1/p)
        zhu_ntk    √(L³m/p) e^{−m/L³} + 1
        wu2021     L² m^{1/3} √(log m) + √m L             (Wu et al., NeurIPS 2021 [80])
        huang2021  2^{(3L−5)/2} √L                        (Huang et al., NeurIPS 2021 [42])"""
    sym = any(hasattr(v, "free_symbols") for v in (m, L, p))
    if sym:
        import sympy as sp

        sqrt, exp, log = sp.sqrt, sp.exp, sp.log
    else:
        sqrt, exp, log = np.sqrt, np.exp, np.log
    if name.startswith("zhu"):
        if p is None:
            raise ValueError(f"{name} needs the input dimension p")
        peak = sqrt(L**3 * m / p) * exp(-m / L**3)
        if name == "zhu_lecun":
            return (peak + sqrt(1 / p)) * (sqrt(2) / 2) ** (L - 2)
        if name == "zhu_he":
            return peak + sqrt(1 / p)
        if name == "zhu_ntk":
            return peak + 1
    if name == "wu2021":
        return L**2 * m ** (1 / (3 if not sym else sp.Integer(3))) * sqrt(log(m)) + sqrt(m) * L
    if name == "huang2021":
        return 2 ** ((3 * L - 5) / 2) * sqrt(L)
    raise ValueError(f"unknown bound {name!r}; known: zhu_lecun, zhu_he, zhu_ntk, wu2021, huang2021")


# Registered by call, not decorator: mutmut leaves decorated functions unmutated.
register("lazy_training_ratio", family="measurement")(lazy_training_ratio)
register("input_gradients", family="measurement")(input_gradients)
register("perturbation_stability", family="measurement")(perturbation_stability)
register("lipschitz_upper_bound", family="measurement")(lipschitz_upper_bound)
register("lipschitz_lower_bound", family="measurement")(lipschitz_lower_bound)
register("ntk_gram", family="measurement")(ntk_gram)
register("ntk_top_eigenvalue", family="measurement")(ntk_top_eigenvalue)
register("neuron_drift", family="measurement")(neuron_drift)
register("activation_flip_fraction", family="measurement")(activation_flip_fraction)
register("dataset_separation", family="measurement")(dataset_separation)
register("stability_bound", family="measurement")(stability_bound)
