"""Slides ≈63–68, trained networks: adversarial examples on digits, the non-lazy stability
bound, and the CNN width/depth experiment (a ``gpu`` sweep with a ``scale`` knob; the slow
tier runs it at ``scale="tiny"`` on the CPU).

Perturbation stability comes from the registry (``perturbation_stability``); its closed
form P/ε = c_p E‖∇ₐh‖ (exact for the first-order definition, any network) is asserted
alongside every measurement, so that a wrong sampler cannot hide behind a trend.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import torch
from scipy import stats

from algorithms.networks import he_conv_init
from problems.overparam.network_oracles import ball_projection_constant, derived_seed, digits, digits_split, sphere_points
from problems.runtime import threads

Z = stats.norm.isf(1e-5 / 2)  # two-sided 1e-5 per comparison


def _stability(algorithm, weights, alpha, inputs, seed, forward):
    """P/ε by Monte Carlo (registry) and the closed form c_p mean‖∇h‖ on the same networks and inputs."""
    est = algorithm("perturbation_stability")(weights, alpha, inputs, 1.0, samples=32, seed=seed, forward=forward)
    grads = algorithm("input_gradients")(weights, alpha, inputs, forward=forward)
    closed = ball_projection_constant(inputs.shape[-1]) * grads.norm(dim=-1).mean(-1)
    return est["P"].cpu().numpy(), est["se"].cpu().numpy(), closed.cpu().numpy()


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
NONLAZY_C, NONLAZY_N = 1.6, 10
NONLAZY_WIDTHS = (200, 400, 800)


@pytest.mark.slow
@pytest.mark.claim("robust.nonlazy-bound", uses=["full_batch_gradient_descent", "input_gradients", "ntk_gram",
                                                 "perturbation_stability", "relu_network"])
def test_nonlazy_stability_bound(evidence, algorithm, device):
    """Theorem (non-lazy, two-layer): with β = m^{−c}, c > 3/2, α = 1 and m ≫ n², perturbation
    stability ≤ Õ(n/m^{c+1.5}). Here c = 1.6, n = 10 points on S⁹ (labels ±1), m ∈ {200, 400, 800}
    (m ≥ 2n²), GD with the step of the c = ½ copy until mean squared residual 1e-2. Measured:
    P/ε (Monte Carlo = closed form, asserted) at initialisation — slope exactly (1 − 4c)/2 in
    log m, from E‖∇h‖² = p m^{1−4c}/2 — and after training. Predicted slope −(c + 1.5) = −3.1.
    At init the measured decay (−2.7) is *slower* than the bound's, and after training P/ε is
    of order one (the net fits ±1 labels): the bound's hidden constants and its exact setting
    (paper not at hand) decide; inconclusive here."""
    X = torch.tensor(sphere_points(NONLAZY_N, 10, derived_seed("robust.nonlazy-bound", "data")), device=device)
    y = torch.tensor(np.sign(np.random.default_rng(derived_seed("robust.nonlazy-bound", "y"))
                             .standard_normal(NONLAZY_N)), device=device)
    A = torch.tensor(sphere_points(64, 10, derived_seed("robust.nonlazy-bound", "test"), min_angle_cos=1.0),
                     device=device)
    net = algorithm("relu_network")
    init_p, end_p, residuals = [], [], []
    for m in NONLAZY_WIDTHS:
        g = torch.Generator().manual_seed(derived_seed("robust.nonlazy-bound", m))
        Z0 = [torch.randn((2, m, 10), generator=g, dtype=torch.float64).to(device),
              torch.randn((2, 1, m), generator=g, dtype=torch.float64).to(device)]
        alpha = torch.ones(2, dtype=torch.float64, device=device)
        weights = [z * m**-NONLAZY_C for z in Z0]
        lam = torch.linalg.eigvalsh(algorithm("ntk_gram")([z * m**-0.5 for z in Z0], alpha, X, forward=net))[:, -1]
        P0, se0, closed0 = _stability(algorithm, weights, alpha, A, derived_seed("nonlazy", m, 0), net)
        res = algorithm("full_batch_gradient_descent")(weights, alpha, X, y, 1 / lam, 5000, keep_snapshots=False,
                                                       stop_loss=1e-2 * NONLAZY_N / 2, forward=net)
        P1, se1, closed1 = _stability(algorithm, res["weights"], alpha, A, derived_seed("nonlazy", m, 1), net)
        evidence.tight("P/eps (MC) = c_p E||grad h|| at init and after training",
                       np.concatenate([P0, P1]), np.concatenate([closed0, closed1]),
                       abs=Z * np.concatenate([se0, se1]) + 1e-300)
        init_p.append(P0.mean())
        end_p.append(P1.mean())
        residuals.append((2 * res["loss"][-1]).cpu().numpy())
    logm = np.log(NONLAZY_WIDTHS)
    slope_init = float(np.polyfit(logm, np.log(init_p), 1)[0])
    slope_end = float(np.polyfit(logm, np.log(end_p), 1)[0])
    evidence.parameters(c=NONLAZY_C, n=NONLAZY_N, widths=NONLAZY_WIDTHS, predicted_slope=-(NONLAZY_C + 1.5))
    evidence.record("P/eps at init per width", init_p)
    evidence.record("P/eps after training per width", end_p)
    evidence.record("final squared residuals", residuals)
    evidence.record("slopes in log m (init, trained) vs the bound's -(c+1.5)", [slope_init, slope_end],
                    bound=-(NONLAZY_C + 1.5))
    # E||grad h|| ∝ m^{(1-4c)/2} exactly in the mean square; the Jensen ratio E||g|| / sqrt(E||g||^2)
    # drifts by O(1/m) over the widths: 0.05 allowance on the slope
    evidence.tight("init: slope = (1 - 4c)/2", slope_init, (1 - 4 * NONLAZY_C) / 2, abs=0.05, headline=True)
    evidence.inconclusive(f"measured slopes {slope_init:.2f} (init) and {slope_end:.2f} (trained) vs the bound's "
                          f"{-(NONLAZY_C + 1.5):.1f}: the init decay is slower than the bound's and trained P/eps "
                          "is O(1); without the paper's constants and setting this cannot decide the theorem.")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(NONLAZY_WIDTHS, init_p, "o-", label=f"init (slope {slope_init:.2f})")
        ax.loglog(NONLAZY_WIDTHS, end_p, "s-", label=f"trained (slope {slope_end:.2f})")
        ref = init_p[0] * (np.array(NONLAZY_WIDTHS) / NONLAZY_WIDTHS[0]) ** -(NONLAZY_C + 1.5)
        ax.loglog(NONLAZY_WIDTHS, ref, "k:", label="m^-(c+1.5) (bound's rate)")
        ax.set_xlabel("width m")
        ax.set_ylabel("P/eps")
        ax.legend(fontsize=7)

    evidence.figure("nonlazy", draw, "Perturbation stability in the non-lazy regime (c = 1.6) vs the bound's rate.")


# --------------------------------------------------- robust.cnn-width-depth, zhu trends (gpu)
# full: sized for ≈ 10 GPU-minutes per check (the CNN stops at 2^9 channels: 2^12 channels × 10 layers on
# 8×8 images is ≈ 100 GFLOP per image and forward pass, not worth it); tiny: the CPU code path
SCALES = {"full": {"depths": (4, 6, 8, 10), "widths": tuple(2**k for k in range(4, 13)), "seeds": 3,
                   "steps": 100, "train": 362},
          "tiny": {"depths": (2, 3), "widths": (4, 8), "seeds": 1, "steps": 10, "train": 32}}
CNN_MAX_WIDTH = 2**9


def _ntk_trace(weights, alpha, X, net):
    """tr Θ₀ = Σ_i ‖∇_θ h(a_i)‖² per network, one backward pass per input and no Jacobian stored
    (at width 2¹² and depth 10 the Jacobian of 362 inputs would take a terabyte). η = 1/tr Θ₀
    ≤ 1/λ_max(Θ₀) is a safe NTK-normalised step."""
    ws = [w.detach().clone().requires_grad_(True) for w in weights]
    out = net(ws, alpha, X)
    total = torch.zeros(out.shape[0], dtype=out.dtype, device=out.device)
    for i in range(out.shape[1]):
        grads = torch.autograd.grad(out[:, i].sum(), ws, retain_graph=i + 1 < out.shape[1])
        total = total + sum((g.reshape(g.shape[0], -1) ** 2).sum(-1) for g in grads)
    return total


def _trained_sweep(algorithm, device, scale, arch, scheme):
    """P/ε after GD training (η = 1/tr Θ₀, ``steps`` steps) on digits 3-vs-7
    (±1 targets), per (depth, width): (MC, SE, closed form, train accuracy), one entry per seed."""
    cfg = dict(SCALES[scale])
    if arch == "cnn":
        cfg["widths"] = tuple(w for w in cfg["widths"] if w <= CNN_MAX_WIDTH)
    X_all, y_all = digits()
    idx = np.flatnonzero((y_all == 3) | (y_all == 7))[: cfg["train"]]
    X = torch.tensor(X_all[idx], device=device)
    y = torch.tensor(np.where(y_all[idx] == 3, 1.0, -1.0), device=device)
    net = algorithm("conv_relu_network" if arch == "cnn" else "relu_network")
    out = {}
    for L in cfg["depths"]:
        for w in cfg["widths"]:
            s = derived_seed("robust.trained-sweep", arch, scheme, L, w)
            if arch == "cnn":
                draw = he_conv_init(L, w, batch=cfg["seeds"], seed=s, device=device, lecun=scheme == "lecun")
            else:
                draw = algorithm(f"init_{scheme}")(64, w, L, batch=cfg["seeds"], seed=s, device=device)
            trace = _ntk_trace(draw.weights, draw.alpha, X, net)
            res = algorithm("full_batch_gradient_descent")(draw.weights, draw.alpha, X, y, 1 / trace, cfg["steps"],
                                                           keep_snapshots=False, forward=net)
            acc = (torch.sign(net(res["weights"], draw.alpha, X)) == y).double().mean(-1).cpu().numpy()
            out[L, w] = (*_stability(algorithm, res["weights"], draw.alpha, X[:32], s, net), acc)
    return cfg, out


def _report_sweep(evidence, cfg, out, tag):
    P = np.array([[out[L, w][0] for w in cfg["widths"]] for L in cfg["depths"]])  # (depths, widths, seeds)
    evidence.tight("P/eps (MC) = c_p E||grad h||", np.array([v[0] for v in out.values()]),
                   np.array([v[2] for v in out.values()]), abs=Z * np.array([v[1] for v in out.values()]))
    evidence.parameters(**cfg)
    evidence.record("P/eps [depth][width] (mean over seeds)", P.mean(-1))
    evidence.record("train accuracy [depth][width]", np.array([[out[L, w][3].mean() for w in cfg["widths"]]
                                                              for L in cfg["depths"]]))
    evidence.record("argmax width per depth", [cfg["widths"][int(i)] for i in P.mean(-1).argmax(1)])

    def draw(fig):
        ax = fig.add_subplot(111)
        for i, L in enumerate(cfg["depths"]):
            ax.loglog(cfg["widths"], P.mean(-1)[i], "o-", label=f"L={L}")
        ax.set_xlabel("width")
        ax.set_ylabel("P/eps after training")
        ax.legend(fontsize=7)

    evidence.figure(tag, draw, f"Perturbation stability after training vs width per depth ({tag}).")
    return P


@pytest.mark.gpu
@pytest.mark.claim("robust.cnn-width-depth", uses=["conv_relu_network", "full_batch_gradient_descent",
                                                   "input_gradients", "perturbation_stability"])
def test_cnn_stability_width_depth(evidence, algorithm, device, scale):
    """CNN (3×3 convolutions, He init) trained by GD (η = 1/tr Θ₀) on digits 3-vs-7: P/ε after
    training vs width (2⁴…2⁹ channels) and depth (4…10), 3 seeds. Tutorial (slide 66): stability
    grows strongly with depth at every width; width up-then-down. Asserted: MC = closed form; at full scale log P
    increasing in depth at every width and seed; the width shape is reported (inconclusive
    when monotone). At ``scale="tiny"`` (CPU) trends are recorded, not decided."""
    with _one_thread():
        cfg, out = _trained_sweep(algorithm, device, scale, "cnn", "he")
    P = _report_sweep(evidence, cfg, out, f"cnn-{scale}")
    if scale == "full":
        evidence.monotone("log P increases with depth at every width and seed", np.log(P), decreasing=False,
                          headline=True)
        if all(int(i) in (0, len(cfg["widths"]) - 1) for i in P.mean(-1).argmax(1)):
            evidence.inconclusive("the width curve is monotone at this scale: no interior maximum (up-then-down)")
    else:
        evidence.inconclusive("tiny CPU scale (depths 2-3, widths 4-8): trends recorded, not decided")


@pytest.mark.gpu
@pytest.mark.claim("robust.zhu-lazy-bounds", uses=["full_batch_gradient_descent", "init_{scheme}", "input_gradients",
                                                   "perturbation_stability", "relu_network"])
@pytest.mark.parametrize("scheme", ["lecun", "he", "ntk"])
def test_fcnn_stability_depth_after_training(evidence, algorithm, device, scale, scheme):
    """The table's depth trends on P/ε after (lazy, NTK-normalised) GD training of L-layer FCNNs
    (widths 2⁴…2¹², depths 4…10, 3 seeds): LeCun ↘ asserted; He/NTK ↗: verified if log P
    increases with depth at every width, otherwise the measured P contradicts "depth hurts"
    (refuted as a statement about P; the bound's trend is checked symbolically)."""
    with _one_thread():
        cfg, out = _trained_sweep(algorithm, device, scale, "fcnn", scheme)
    P = _report_sweep(evidence, cfg, out, f"fcnn-{scheme}-{scale}")
    if scale != "full":
        evidence.inconclusive("tiny CPU scale: trends recorded, not decided")
    elif scheme == "lecun":
        evidence.monotone("LeCun: log P decreases with depth at every width", np.log(P).mean(-1), headline=True)
    elif not np.all(np.diff(np.log(P).mean(-1), axis=0) > 0):
        evidence.refutes(f"{scheme}: P/eps after lazy training does not increase with depth at every width")
