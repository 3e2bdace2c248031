"""Non-unique optimised perturbations and DDi vs PGD adversarial training (slides
"Danskin" … "DDi vs PGD", catalogue 2.4).

The attacks under test are ``algorithm("pgd_linf")`` and ``algorithm("pgd_l2")``; the
descent directions ``algorithm("ddi_direction")`` and ``algorithm("pgd_direction")``.
Torch code runs in float64 on the ``device`` fixture.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from checks.support import measured_at
from problems.adversarial.danskin_instances import ddi_toy
from problems.runtime import seed as _seed

F64 = torch.float64


# -------------------------------------------------------------- ddi.empirical-vs-pgd
def _local_maximiser_gradients(x: np.ndarray) -> np.ndarray:
    """Gradients ∇ₓΦ(x, y) at the local maximisers y of the toy's Φ(x, ·) on [0, 1] — what
    K random-start attacks return, as in [toy.py]. Φ is convex in y with Φ_y = 4x₂ − 1 + 2y,
    so the local maximisers are y = 1 when Φ_y(1) ≥ 0 and y = 0 when Φ_y(0) ≤ 0: both
    while |x₂| ≤ 1/4, a superset of S*(x)."""
    grads = []
    if 4 * x[1] + 1 >= 0:
        grads.append(2 * (x - np.array([0.0, -1.0])))  # y = 1: the piece ‖x − (0, −1)‖²
    if 4 * x[1] - 1 <= 0:
        grads.append(2 * (x - np.array([0.0, 1.0])))  # y = 0: the piece ‖x − (0, 1)‖²
    return np.array(grads)


def _toy_run(direction, gradients, steps: int = 50, length: float = 0.1) -> np.ndarray:
    """f along ``steps`` normalised steps of ``length`` from x₀ = (1, 0) on the DDi toy."""
    toy = ddi_toy()
    x = np.array([1.0, 0.0])
    values = [toy.value(x[None])[0]]
    for _ in range(steps):
        d = direction(gradients(x)[None])[0]
        nd = np.linalg.norm(d)
        if nd == 0:
            break
        x = x + length * d / nd
        values.append(toy.value(x[None])[0])
    return np.array(values)


@pytest.mark.claim("ddi.empirical-vs-pgd", uses=["ddi_direction", "pgd_direction"])
def test_ddi_vs_pgd_on_the_toy(evidence, algorithm):
    """Synthetic part (Latorre et al. ICLR 2023, [toy.py]): 50 normalised steps of 0.1 on
    f = max(‖x − (0,−1)‖², ‖x − (0,1)‖²) from (1, 0). PGD-style steps (the gradient at one
    maximiser, exact S* of the Danskin oracle) first *raise* f by exactly t² = 0.01 and the
    sequence is not monotone; DDi (min-norm over the gradients at the attacks' local
    maximisers, a superset of S*) decreases f monotonically to its minimum 1 (x = 0 after
    10 steps; the fixed step length then overshoots)."""
    toy = ddi_toy()
    ddi = _toy_run(algorithm("ddi_direction"), _local_maximiser_gradients)
    naive = _toy_run(algorithm("pgd_direction"), lambda x: toy.danskin_candidates(tuple(x)))
    evidence.tight("PGD-style first step: f = 2 + 0.1² = 2.01", naive[1], 2.01, abs=1e-14)
    evidence.lower_bound("PGD-style: f is not monotone (largest rise)", np.max(np.diff(naive)), 1e-3, headline=False)
    evidence.monotone("DDi: f decreases until the minimiser", ddi[:11], abs=0.0)
    evidence.tight("DDi reaches min f = 1", ddi.min(), 1.0, abs=1e-12, headline=True)
    evidence.lower_bound("PGD-style stays above the minimum (catalogue: min 1.0507)", naive.min() - 1.0, 1e-2)
    evidence.record("f along the run, DDi (first 6)", ddi[:6].round(4).tolist())
    evidence.record("f along the run, PGD-style (first 6)", naive[:6].round(4).tolist(), min=float(naive.min()))

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.plot(ddi, ".-", label="DDi (min-norm direction)")
        ax.plot(naive, "x-", label="PGD-style (one maximiser)")
        ax.axhline(1.0, color="k", lw=0.6, ls=":")
        ax.set_xlabel("step (normalised, length 0.1)")
        ax.set_ylabel("f(x) = max(‖x−p₁‖², ‖x−p₂‖²)")
        ax.legend(fontsize=7)
    evidence.figure("toy-descent", draw, "DDi toy: DDi decreases f to its minimum 1; the PGD-style step "
                    "first raises f to 2.01 and then zig-zags (dotted: min f = 1)")


# ------------------------------------------------------ at.nonunique-perturbations
@functools.lru_cache(maxsize=4)  # deterministic; the planted-bug controls reuse the trained net
def _digits_mlp(device: str, width: int, train_steps: int, seed: int):
    """An MLP 64-width-10 (ReLU) trained full-batch (Adam, 1e-2) on 1200 of sklearn's 8×8
    digits scaled to [0, 1]; returns (model, X_test, y_test) for the other 597."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    perm = np.random.default_rng(seed).permutation(len(X))
    X = torch.tensor(X[perm] / 16.0, dtype=F64, device=device)
    y = torch.tensor(y[perm], device=device)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, 10)).to(device, F64)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(train_steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X[:1200]), y[:1200]).backward()
        opt.step()
    model.eval()
    return model, X[1200:], y[1200:]


def perturbation_statistics(attack, device: str, *, n_points=100, restarts=10, width=64, train_steps=150,
                            eps=0.3, steps=20, seed=0) -> dict:
    """PGD-ℓ∞ from ``restarts`` random starts on ``n_points`` test digits: pairwise ‖δᵢ − δⱼ‖₂,
    per-example adversarial losses, and the count of pairs of parameter gradients with a
    negative inner product (the "negatives" of [toy.py])."""
    torch.set_flush_denormal(True)  # a confident net's tiny softmax gradients are denormal: 10-50× slower
    try:
        return _perturbation_statistics(attack, device, n_points, restarts, width, train_steps, eps, steps, seed)
    finally:
        torch.set_flush_denormal(False)


def _perturbation_statistics(attack, device, n_points, restarts, width, train_steps, eps, steps, seed) -> dict:
    model, X, y = _digits_mlp(device, width, train_steps, seed)
    X, y = X[:n_points], y[:n_points]

    def loss(z):
        return torch.nn.functional.cross_entropy(model(z), y, reduction="none")

    deltas = torch.stack([attack(loss, X, eps, steps, 2.5 * eps / steps, _seed("nonunique", seed, r),
                                 clip=(0.0, 1.0)) - X for r in range(restarts)])  # (R, N, 64)
    with torch.no_grad():
        adv = torch.stack([loss(X + d) for d in deltas])  # (R, N)
        clean = loss(X)
    i, j = torch.triu_indices(restarts, restarts, 1)
    dist = (deltas[i] - deltas[j]).norm(dim=-1)  # (pairs, N)
    negatives, total = 0, 0
    for k in range(min(20, n_points)):  # parameter gradients at each restart's perturbation
        grads = []
        for r in range(restarts):
            model.zero_grad()
            torch.nn.functional.cross_entropy(model(X[k:k + 1] + deltas[r, k:k + 1]), y[k:k + 1]).backward()
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
        Gm = torch.stack(grads)
        inner = (Gm @ Gm.T)[i, j]
        negatives, total = negatives + int((inner < 0).sum()), total + len(inner)
    spread = (adv.max(0).values - adv.min(0).values) / adv.mean(0)
    return {"dist": dist.cpu().numpy(), "scale": eps * math.sqrt(X.shape[1]), "spread": spread.cpu().numpy(),
            "adv": adv.cpu().numpy(), "clean": clean.cpu().numpy(), "negatives": negatives, "pairs": total}


def check_nonunique(evidence, stats: dict, scale_note: str) -> None:
    """Catalogue criteria: median pairwise distance > 0.3·ε√dim (not unique); the losses far
    above the clean loss (median ratio ≥ 10 asserted); their relative spread < 10% — when it
    is not, the proxy cannot decide "concentrate" and the verdict is inconclusive."""
    evidence.lower_bound("median pairwise ‖δᵢ − δⱼ‖₂ / (ε√dim)", np.median(stats["dist"]) / stats["scale"], 0.3,
                         headline=True)
    evidence.lower_bound("median adversarial loss / median clean loss", np.median(stats["adv"]) /
                         np.median(stats["clean"]), 10.0)
    spread = float(np.median(stats["spread"]))
    evidence.record("median over examples of (max − min)/mean adversarial loss (catalogue: < 0.10)", spread)
    evidence.record("pairs of parameter gradients with ⟨gᵢ, gⱼ⟩ < 0 (negatives)", stats["negatives"],
                    of=stats["pairs"])
    evidence.note(scale_note)
    if spread >= 0.10:
        evidence.inconclusive(f"{scale_note} Perturbations from different starts are distinct and all far above "
                              f"the clean loss, but their losses spread by {spread:.0%} of the mean (catalogue "
                              "asks < 10%); in an exploratory run at ε = 0.1 they concentrated (8%) but were "
                              "nearly identical (0.03·ε√dim): the proxy cannot show both at once.")


@pytest.mark.claim("at.nonunique-perturbations", uses=["pgd_linf"])
@pytest.mark.slow
def test_nonunique_perturbations_cpu_proxy(evidence, algorithm, device):
    """Catalogue CPU proxy: a ReLU MLP on sklearn digits, ε = 0.3 (pixels in [0, 1]), 20-step
    PGD-ℓ∞ from 10 random starts on 100 test digits: optimised perturbations differ
    (pairwise distances bounded away from 0) while their losses sit far above the clean
    loss. Deterministic (fixed seeds): no false-alarm budget to state."""
    stats = perturbation_statistics(algorithm("pgd_linf"), device)
    check_nonunique(evidence, stats, "CPU proxy: 64-64-10 ReLU MLP on 8×8 digits, 100 points, 10 restarts.")
    evidence.parameters(eps=0.3, steps=20, restarts=10, points=100, width=64)


@pytest.mark.claim("at.nonunique-perturbations", uses=["pgd_linf"])
@pytest.mark.gpu
def test_nonunique_perturbations_gpu(evidence, algorithm, device, scale):
    """Larger scale on a GPU: all 597 test digits, a 1024-wide MLP, 20 restarts. CIFAR-10 is
    not available offline, so the verdict says it stays a proxy. ``--scale tiny``: 40 points,
    3 restarts, width 32, 100 training steps (the code path only)."""
    size = (dict(n_points=597, restarts=20, width=1024, train_steps=1000) if scale == "full"
            else dict(n_points=40, restarts=3, width=32, train_steps=100))
    stats = perturbation_statistics(algorithm("pgd_linf"), device, **size)
    with measured_at(evidence, scale):
        check_nonunique(evidence, stats, "GPU proxy: 64-1024-10 ReLU MLP on digits, 597 points, 20 restarts.")
    evidence.inconclusive("measured on a digits MLP; the tutorial's CIFAR-10/ResNet-18 setting is not reproduced")


# -------------------------------------------- ddi.empirical-vs-pgd: adversarial training
def adversarial_training(direction, attack, model, X, y, *, eps, attacks=10, attack_steps=10, iters=40,
                         lr=0.01, eval_every=10, seed=0) -> np.ndarray:
    """Adversarial training with normalised steps θ ← θ + lr·d/‖d‖ ([toy.py]), d = direction(M)
    from the parameter gradients M (K × P) of the mean loss under K random-start PGD-ℓ∞
    attacks (DDi: min-norm in conv; PGD-AT: the first attack's). Returns the robust loss
    (a 20-step attack) every ``eval_every`` iterations."""
    params = [p for p in model.parameters()]
    K, N = attacks, len(X)
    XK, yK = X.repeat(K, *([1] * (X.dim() - 1))), y.repeat(K)

    def per_example(z, labels):
        out = model(z)
        if out.shape[-1] == 1:
            return torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], labels, reduction="none")
        return torch.nn.functional.cross_entropy(out, labels, reduction="none")

    def robust_loss(it):
        xa = attack(lambda z: per_example(z, y), X, eps, 20, 2.5 * eps / 20, _seed("eval", seed, it))
        with torch.no_grad():
            return float(per_example(xa, y).mean())

    names = [name for name, _ in model.named_parameters()]
    buffers = dict(model.named_buffers())

    def attack_losses(theta, xa):  # (K,) mean loss under each attack, as a function of the parameters
        out = torch.func.functional_call(model, ({**dict(zip(names, theta))}, buffers), (xa,))
        if out.shape[-1] == 1:
            per = torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], yK, reduction="none")
        else:
            per = torch.nn.functional.cross_entropy(out, yK, reduction="none")
        return per.view(K, N).mean(1)

    curve = []
    for it in range(iters):
        if it % eval_every == 0:
            curve.append(robust_loss(it))
        xa = attack(lambda z: per_example(z, yK), XK, eps, attack_steps, 2.5 * eps / attack_steps,
                    _seed("train", seed, it)).detach()
        jac = torch.func.jacrev(attack_losses)(tuple(p.detach() for p in params), xa)  # one call for all K rows
        M = torch.cat([j.reshape(K, -1) for j in jac], dim=1)
        d = torch.as_tensor(direction(M.detach().cpu().numpy()[None])[0], dtype=F64, device=X.device)
        d = d / d.norm().clamp_min(1e-300)
        with torch.no_grad():
            offset = 0
            for p in params:
                p += lr * d[offset:offset + p.numel()].view_as(p)
                offset += p.numel()
    curve.append(robust_loss(iters))
    return np.array(curve)


def _toy_network(seed: int, device: str):
    """The 2-2-1 network of [toy.py]: logit = vᵀ elu(Wx + b), weights ~ 0.2·N(0, 1); 100
    Gaussian points in ℝ², labels 1[x₁ > 0]; ε = 1."""
    g = torch.Generator().manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ELU(), torch.nn.Linear(2, 1, bias=False)).to(device, F64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.2 * torch.randn(p.shape, generator=g, dtype=F64))
    X = torch.randn(100, 2, generator=torch.Generator().manual_seed(1000 + seed), dtype=F64).to(device)
    return model, X, (X[:, 0] > 0).to(F64)


def compare_ddi_pgd(evidence, algorithm, runs: list[tuple[np.ndarray, np.ndarray]], scale: str, unit: str) -> None:
    """Record the robust-loss curves (mean over seeds) and what they say; assert only that
    both trainings lower the robust loss. The tutorial's claim is about CIFAR-10 robust
    accuracy: whatever the proxy shows, the verdict is inconclusive at this scale."""
    ddi = np.mean([r[0] for r in runs], axis=0)
    pgd = np.mean([r[1] for r in runs], axis=0)
    evidence.upper_bound("DDi-AT lowers the robust loss (final / initial)", ddi[-1] / ddi[0], 1.0)
    evidence.upper_bound("PGD-AT lowers the robust loss (final / initial)", pgd[-1] / pgd[0], 1.0)
    early = slice(1, len(ddi) // 2 + 1)
    evidence.record("mean robust loss, first half of training: DDi vs PGD", [float(ddi[early].mean()),
                                                                             float(pgd[early].mean())])
    evidence.record("final robust loss: DDi vs PGD", [float(ddi[-1]), float(pgd[-1])])
    evidence.record(f"robust loss every 10 {unit}, DDi (mean of {len(runs)} seeds)", ddi.round(4).tolist())
    evidence.record(f"robust loss every 10 {unit}, PGD (mean of {len(runs)} seeds)", pgd.round(4).tolist())
    better = "lower" if ddi[early].mean() < pgd[early].mean() else "not lower"
    evidence.inconclusive(f"{scale}: DDi's early robust loss is {better} than PGD-AT's "
                          f"({ddi[early].mean():.4f} vs {pgd[early].mean():.4f}); the tutorial's statement is about "
                          "CIFAR-10 ResNet-18 robust accuracy (SiLU without BN vs ReLU+BN), not reproduced here.")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.plot(ddi, ".-", label="DDi-AT")
        ax.plot(pgd, "x-", label="PGD-AT")
        ax.set_xlabel(f"training {unit} (×10)")
        ax.set_ylabel("robust loss (20-step PGD)")
        ax.legend(fontsize=7)
    evidence.figure("robust-loss", draw, f"DDi vs PGD adversarial training, {scale} (mean over seeds)")


@pytest.mark.claim("ddi.empirical-vs-pgd", uses=["ddi_direction", "pgd_direction", "pgd_linf"])
@pytest.mark.slow
def test_ddi_vs_pgd_training_small_network(evidence, algorithm, device):
    """CPU proxy of "DDi vs PGD adversarial training" ([toy.py]): the 2-2-1 ELU network on
    100 Gaussian points, ε = 1, 10 attacks per step, 40 normalised steps of 0.01, 2 seeds."""
    attack = algorithm("pgd_linf")
    runs = []
    for seed in range(2):
        curves = []
        for name in ("ddi_direction", "pgd_direction"):
            model, X, y = _toy_network(seed, device)
            curves.append(adversarial_training(algorithm(name), attack, model, X, y, eps=1.0, seed=seed))
        runs.append(tuple(curves))
    compare_ddi_pgd(evidence, algorithm, runs, "2-2-1 ELU network, 100 points (CPU proxy)", "iterations")
    evidence.parameters(eps=1.0, attacks=10, iterations=40, lr=0.01, seeds=2)


@pytest.mark.claim("ddi.empirical-vs-pgd", uses=["ddi_direction", "pgd_direction", "pgd_linf"])
@pytest.mark.gpu
def test_ddi_vs_pgd_training_digits_gpu(evidence, algorithm, device, scale):
    """GPU scale: a 64-512-512-10 SiLU MLP without BatchNorm on 1200 digits, ε = 0.1, 8 attacks
    per step, 300 full-batch normalised steps of 0.05, 3 seeds. ``--scale tiny``: 100 digits,
    width 16, 2 attacks, 10 steps, 1 seed (the code path only)."""
    full = scale == "full"
    n, width, attacks, iters, seeds = (1200, 512, 8, 300, 3) if full else (100, 16, 2, 10, 1)
    from sklearn.datasets import load_digits

    Xn, yn = load_digits(return_X_y=True)
    X = torch.tensor(Xn[:n] / 16.0, dtype=F64, device=device)
    y = torch.tensor(yn[:n], device=device)
    attack, runs = algorithm("pgd_linf"), []
    for seed in range(seeds):
        curves = []
        for name in ("ddi_direction", "pgd_direction"):
            torch.manual_seed(seed)
            model = torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.SiLU(), torch.nn.Linear(width, width),
                                        torch.nn.SiLU(), torch.nn.Linear(width, 10)).to(device, F64)
            curves.append(adversarial_training(algorithm(name), attack, model, X, y, eps=0.1, attacks=attacks,
                                               iters=iters, lr=0.05, seed=seed, eval_every=min(10, iters)))
        runs.append(tuple(curves))
    compare_ddi_pgd(evidence, algorithm, runs, "digits SiLU MLP without BN (GPU)", "steps")
