"""Slides ≈63–68, trained networks: adversarial examples on digits and the non-lazy stability
bound (the CNN width/depth experiment is ``test_18_cnn_stability``, Zhu et al.'s lazy trends
``test_18_zhu_trends``).

Perturbation stability is computed from the registry's ``input_gradients`` through its closed
form P/ε = c_p E‖∇ₐh‖ (exact for the first-order definition, any network; the Monte Carlo
estimator is checked against it under ``robust.perturbation-stability-def``).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import torch
from scipy import stats

from problems.overparam.network_oracles import ball_projection_constant, derived_seed, digits_split, sphere_points
from problems.runtime import threads

Z = stats.norm.isf(1e-5 / 2)  # two-sided 1e-5 per comparison


# -------------------------------------------------------------- robust.adversarial-examples
def _one_thread():
    """Small networks train as a stream of tiny products: on a loaded 2-core machine one thread
    trained the digits MLP in 5 s where two took 90 s (OpenMP synchronisation per op)."""
    return threads(1)


@lru_cache(maxsize=2)
def _digits_mlp(device: str):
    """MLP 64-256-256-10 (biases, ReLU) trained by Adam (lr 1e-3, batch 128) on 1200 digits until
    its test accuracy reaches 97% (cap 60 epochs); deterministic seed."""
    X_tr, y_tr, X_te, y_te = digits_split(1200, 0)
    torch.manual_seed(derived_seed("robust.adversarial-examples"))
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10)).double().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = torch.tensor(X_tr, device=device), torch.tensor(y_tr, device=device)
    Xe, ye = torch.tensor(X_te, device=device), torch.tensor(y_te, device=device)
    g = torch.Generator().manual_seed(0)
    with _one_thread():
        for _ in range(60):
            for idx in torch.randperm(len(yt), generator=g).split(128):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
                opt.step()
            with torch.no_grad():
                if (model(Xe).argmax(1) == ye).double().mean() >= 0.97:
                    break
    model.requires_grad_(False)
    return model, Xe, ye


def certified_nearest_neighbour_accuracy(eps: float) -> float:
    """Test accuracy of the ℓ∞ 1-NN classifier on digits (1200 train) that is *certified* at radius
    ε: x is robustly classified if d∞(x, other labels) − d∞(x, own label) > 2ε (triangle
    inequality), a lower bound on its ℓ∞-robust accuracy."""
    from scipy.spatial.distance import cdist

    X_tr, y_tr, X_te, y_te = digits_split(1200, 0)
    D = cdist(X_te, X_tr, "chebyshev")
    own = np.where(y_te[:, None] == y_tr[None, :], D, np.inf).min(1)
    other = np.where(y_te[:, None] != y_tr[None, :], D, np.inf).min(1)
    return float(np.mean(other - own > 2 * eps))


def empirical_bernstein_radius(values: np.ndarray, value_range: float, delta: float) -> float:
    """One-sided radius r with P(E X - mean > r) <= delta for n i.i.d. X in an interval of length
    ``value_range`` (Maurer & Pontil 2009, Thm 4): sqrt(2 V ln(2/delta)/n) + 7 R ln(2/delta)/(3(n - 1)),
    V the sample variance."""
    n = len(values)
    log_term = np.log(2 / delta)
    return float(np.sqrt(2 * np.var(values, ddof=1) * log_term / n) + 7 * value_range * log_term / (3 * (n - 1)))


@pytest.mark.slow
@pytest.mark.claim("robust.adversarial-examples", uses=["pgd_linf"])
def test_pgd_breaks_a_digits_mlp(evidence, algorithm, device, eps=0.1):
    """An accurate network is not robust (the catalogue's criterion, fixed before the run): an MLP with
    ≥ 97% clean test accuracy on digits, attacked by ℓ∞ PGD (registry ``pgd_linf``; ε = 0.1 on [0,1]
    pixels, 20 steps of 0.025, random start), keeps at most half its clean accuracy: robust ≤ ½·clean.
    Both are estimated on the 597 test digits, so the criterion is decided on the paired statistic
    d_i = 1[robust_i] − ½·1[clean_i] ∈ [−½, 1]: passes (verified) if an upper confidence bound on E d is
    ≤ 0, fails if a lower confidence bound is > 0, and is inconclusive when the interval contains 0
    (empirical Bernstein, false alarm 1e-3 per side). Contrast: uniform noise of the same radius costs
    at most 3 points (≈ 3 SE of an accuracy over 597 test digits). ``eps`` = 0.02 is a world where the
    network is robust (PGD keeps most of the accuracy): the check fails there."""
    model, Xe, ye = _digits_mlp(str(device))
    clean_i = (model(Xe).argmax(1) == ye).double()
    clean = clean_i.mean().item()
    attack = algorithm("pgd_linf")
    loss = lambda x: torch.nn.functional.cross_entropy(model(x), ye, reduction="none")  # noqa: E731
    g = torch.Generator().manual_seed(derived_seed("robust.adversarial-examples", "attack"))
    with _one_thread():
        x_adv = attack(loss, Xe, eps, 20, eps / 4, g, clip=(0.0, 1.0))
    robust_i = (model(x_adv).argmax(1) == ye).double()
    robust = robust_i.mean().item()
    noise = (torch.rand(Xe.shape, generator=g, dtype=torch.float64).to(Xe) * 2 - 1) * eps
    noisy = (model((Xe + noise).clamp(0, 1)).argmax(1) == ye).double().mean().item()
    certified = certified_nearest_neighbour_accuracy(eps)
    d = (robust_i - 0.5 * clean_i).cpu().numpy()
    radius_up = empirical_bernstein_radius(d, 1.5, 1e-3)
    radius_down = empirical_bernstein_radius(-d, 1.5, 1e-3)
    evidence.parameters(eps=eps, steps=20, step_size=eps / 4, test_points=len(ye))
    evidence.lower_bound("clean test accuracy >= 0.97", clean, 0.97)
    evidence.tight("uniform noise of the same radius: accuracy within 3 points", noisy, clean, abs=0.03)
    evidence.record("accuracies (clean, PGD, noise, 1-NN certified)", [clean, robust, noisy, certified])
    evidence.record("PGD accuracy / clean accuracy (criterion: <= 1/2)", robust / clean)
    evidence.record("robust - clean/2 with its confidence interval (empirical Bernstein, 1e-3 per side)",
                    float(d.mean()), interval=[float(d.mean() - radius_down), float(d.mean() + radius_up)])
    # fails when the criterion is violated beyond the statistical resolution
    evidence.upper_bound("lower confidence bound of robust - clean/2 (criterion robust <= clean/2)",
                         float(d.mean() - radius_down), 0.0, headline=True)
    evidence.resolution(f"decides robust <= clean/2 only beyond the confidence radius ±{max(radius_up, radius_down):.3f} "
                        "(597 test digits, 1e-3 per side); a network robust at ε = 0.02 is rejected")
    if d.mean() + radius_up > 0:
        evidence.inconclusive(f"robust accuracy {robust:.3f} vs half the clean accuracy {clean / 2:.3f}: the "
                              f"difference {d.mean():+.3f} is inside the confidence radius "
                              f"{max(radius_up, radius_down):.3f} of 597 test digits; the catalogue's criterion "
                              "cannot be decided at this resolution")
    evidence.figure("accuracies", lambda fig: _bars(fig, ["clean", "uniform noise", f"PGD eps={eps}",
                                                          "1-NN certified"], [clean, noisy, robust, certified]),
                    f"Digits MLP at ℓ∞ radius {eps}: clean, noisy and adversarial accuracy, and the accuracy a "
                    "1-NN classifier is certified to keep.")


def _bars(fig, names, values):
    ax = fig.add_subplot(111)
    ax.bar(names, values)
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy")


# --------------------------------------------------------------------- robust.nonlazy-bound
NONLAZY_C, NONLAZY_N, NONLAZY_P = 1.6, 10, 10
NONLAZY_INIT_WIDTHS = (200, 400, 800, 1600)
NONLAZY_TRAIN_WIDTHS = (200, 400, 800)
Z3 = stats.norm.isf(1e-3)  # one-sided 1e-3 per confidence bound


def _two_layer(m: int, c: float, nets: int, seed_tag, device):
    """``nets`` two-layer networks h(a) = vᵀσ(Wa), W (m, p), v (1, m), entries N(0, m^{−2c}) (α = 1,
    β₁ = β₂ = β = m^{−c}), and the same draws scaled to c = ½ (for the NTK-normalised step)."""
    g = torch.Generator().manual_seed(derived_seed("robust.nonlazy-bound", seed_tag, m))
    Z0 = [torch.randn((nets, m, NONLAZY_P), generator=g, dtype=torch.float64).to(device),
          torch.randn((nets, 1, m), generator=g, dtype=torch.float64).to(device)]
    return [z * m**-c for z in Z0], [z * m**-0.5 for z in Z0]


@pytest.mark.slow
@pytest.mark.claim("robust.nonlazy-bound", uses=["full_batch_gradient_descent", "input_gradients", "ntk_gram",
                                                 "relu_network"])
def test_nonlazy_stability_bound(evidence, algorithm, device, c: float = NONLAZY_C, train: bool = True):
    """Theorem (non-lazy, two-layer; tutorial): with α = 1, β₁ = β₂ = β ~ m^{−c}, c > 1.5, m ≫ n²,
    perturbation stability ≤ Õ(n/m^{c+1.5}) w.h.p. Read like every Õ upper bound (the verdict policy):
    a measured/bound ratio growing polynomially in m violates it. c = 1.6, n = 10 points on S⁹.

    (a) At initialisation (t = 0, where every training run starts): E‖∇ₐh‖² = p m β⁴/2 =
        p m^{1−4c}/2 exactly, so log P/ε has slope (1 − 4c)/2 = −2.7 in log m; measured on 16
        networks per width, m ∈ {200, …, 1600}: slope within 0.05 of (1−4c)/2, and its lower
        1e-3 confidence bound ≥ −(c + 1.5) + 0.2, i.e. P/(ε n m^{−c−1.5}) grows at least like m^{0.2}.
    (b) After training (GD, the step of the c = ½ copy, until mean squared residual ≤ 1e-2;
        m ∈ {200, 400, 800}): h is positively 1-homogeneous (bias-free ReLU), so ∇ₐh(a)·a = h(a)
        (Euler) and, for ‖a‖ = 1, ‖∇ₐh(a)‖ ≥ |h(a)|: on the training inputs (a sample of D_A)
        P/ε ≥ c_p mean|h(x_i)| ≥ c_p (1 − rms residual), independent of m. Asserted: Euler's identity
        (rel 1e-9), P/ε ≥ c_p mean|h(x_i)| (exact), and the slope of log P/ε (test inputs on S⁹)
        ≥ −(c + 1.5) + 1.
    Both → refuted. False refutation: (a) ≤ 1e-3 (normal approximation over networks); (b) is
    deterministic. ``c``/``train`` are the controls' worlds (c = 2.5 untrained: the bound holds)."""
    net = algorithm("relu_network")
    c_p = ball_projection_constant(NONLAZY_P)
    A = torch.tensor(sphere_points(256, NONLAZY_P, derived_seed("robust.nonlazy-bound", "test"), min_angle_cos=1.0),
                     device=device)
    alpha = torch.ones(16, dtype=torch.float64, device=device)
    logs, ses = [], []
    for m in NONLAZY_INIT_WIDTHS:
        weights, _ = _two_layer(m, c, 16, "init", device)
        g = algorithm("input_gradients")(weights, alpha, A[:64], forward=net).norm(dim=-1)
        per_net = (c_p * g.mean(-1)).cpu().numpy()
        logs.append(float(np.log(per_net.mean())))
        ses.append(float(per_net.std(ddof=1) / np.sqrt(len(per_net)) / per_net.mean()))
    x, w = np.log(NONLAZY_INIT_WIDTHS), 1 / np.array(ses) ** 2
    xm = np.sum(w * x) / np.sum(w)
    slope_init = float(np.sum(w * (x - xm) * (np.array(logs) - np.sum(w * np.array(logs)) / np.sum(w)))
                       / np.sum(w * (x - xm) ** 2))
    se_init = float(1 / np.sqrt(np.sum(w * (x - xm) ** 2)))
    bound_slope = -(c + 1.5)
    evidence.parameters(c=c, n=NONLAZY_N, p=NONLAZY_P, init_widths=NONLAZY_INIT_WIDTHS,
                        train_widths=NONLAZY_TRAIN_WIDTHS, bound_slope=bound_slope)
    evidence.record("P/eps at init per width (mean of 16 networks)", np.exp(logs))
    evidence.tight("(a) init: slope of log P/eps in log m = (1 - 4c)/2", slope_init, (1 - 4 * c) / 2, abs=0.05)
    evidence.lower_bound("(a) init: LCB of the slope >= -(c + 1.5) + 0.2 (ratio to the bound grows >= m^0.2)",
                         slope_init - Z3 * se_init, bound_slope + 0.2, headline=True)
    if not train:
        return
    X = torch.tensor(sphere_points(NONLAZY_N, NONLAZY_P, derived_seed("robust.nonlazy-bound", "data")),
                     device=device)
    y = torch.tensor(np.sign(np.random.default_rng(derived_seed("robust.nonlazy-bound", "y"))
                             .standard_normal(NONLAZY_N)), device=device)
    two = torch.ones(2, dtype=torch.float64, device=device)
    trained, euler, lower, floor, residuals = [], [], [], [], []
    for m in NONLAZY_TRAIN_WIDTHS:
        weights, half = _two_layer(m, c, 2, "train", device)
        lam = torch.linalg.eigvalsh(algorithm("ntk_gram")(half, two, X, forward=net))[:, -1]
        # half the copy's step: from a small (non-lazy) start the NTK grows past the copy's during
        # training, and a full step diverged (NaN) under a fresh seed (as in the Chizat sweep)
        res = algorithm("full_batch_gradient_descent")(weights, two, X, y, 0.5 / lam, 5000, keep_snapshots=False,
                                                       stop_loss=1e-2 * NONLAZY_N / 2, forward=net)
        ws = res["weights"]
        h_train = net(ws, two, X).detach()
        g_train = algorithm("input_gradients")(ws, two, X, forward=net)
        euler.append(((g_train * X).sum(-1) - h_train).abs().max().item() / h_train.abs().max().item())
        lower.append(((c_p * g_train.norm(dim=-1).mean(-1)) - c_p * h_train.abs().mean(-1)).min().item())
        floor.append((c_p * h_train.abs().mean(-1)).min().item())
        residuals.append(float(np.sqrt(2 * res["loss"][-1].max().item() / NONLAZY_N)))
        trained.append(float((c_p * algorithm("input_gradients")(ws, two, A, forward=net).norm(dim=-1).mean()).item()))
    slope_trained = float(np.polyfit(np.log(NONLAZY_TRAIN_WIDTHS), np.log(trained), 1)[0])
    evidence.record("trained: P/eps on fresh inputs per width", trained)
    evidence.record("trained: c_p mean|h(x_i)| on the training inputs (Euler lower bound) per width", floor)
    evidence.record("trained: rms residual per width (max over the 2 networks)", residuals)
    evidence.record("slopes in log m (init, trained) vs the bound's -(c + 1.5)", [slope_init, slope_trained],
                    bound=bound_slope)
    evidence.upper_bound("(b) Euler: |grad h(x).x - h(x)| / max|h| (rel 1e-9)", euler, 1e-9)
    evidence.lower_bound("(b) P/eps on the training inputs >= c_p mean|h(x_i)|", lower, 0.0)
    evidence.lower_bound("(b) trained: slope of log P/eps >= -(c + 1.5) + 1", slope_trained, bound_slope + 1)
    evidence.resolution("rejects the refutation where the bound holds by m^-0.1 at init (c = 2.1, near-miss "
                        "control); detects a violation growing >= m^0.2")
    evidence.refutes("the printed bound n/m^{c+1.5} decays faster than perturbation stability at initialisation "
                     "(exactly m^{(1-4c)/2}: ratio ~ m^{2-c} for c < 2) and after training (Euler: P/eps >= "
                     "c_p mean|h| on the data, constant in m); no constant or log factor closes a polynomial gap",
                     counterexample=f"c = {c}: P/eps at init ~ m^{slope_init:.2f} and after training "
                                    f"~ m^{slope_trained:.2f} (P/eps = {trained[-1]:.3f} at m = "
                                    f"{NONLAZY_TRAIN_WIDTHS[-1]}) vs the bound's m^{bound_slope:.1f}")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(NONLAZY_INIT_WIDTHS, np.exp(logs), "o-", label=f"init (slope {slope_init:.2f})")
        ax.loglog(NONLAZY_TRAIN_WIDTHS, trained, "s-", label=f"trained (slope {slope_trained:.2f})")
        ax.loglog(NONLAZY_TRAIN_WIDTHS, floor, "^:", label="Euler lower bound c_p mean|h| (trained)")
        ref = np.exp(logs[0]) * (np.array(NONLAZY_INIT_WIDTHS) / NONLAZY_INIT_WIDTHS[0]) ** bound_slope
        ax.loglog(NONLAZY_INIT_WIDTHS, ref, "k--", label=f"m^{bound_slope:.1f} (the bound's rate)")
        ax.set_xlabel("width m")
        ax.set_ylabel("P/eps")
        ax.legend(fontsize=7)

    evidence.figure("nonlazy", draw, "Perturbation stability in the non-lazy regime (c = 1.6) against the bound's "
                    "rate: it decays more slowly at initialisation and not at all after training.")
