"""Slides ≈58–62, 68: lazy training — the ratio κ, its width dependence under each
initialisation, the Chizat et al. condition, and the linearised model.

Training data (every check): n = 20 points uniform on S⁹, labels ±1. Two-layer networks
h(a) = (1/α) v σ(W a), full-batch GD on ½‖h − y‖² with the learning rate set by the NTK at
initialisation, η = c/λ_max(Θ₀) (c = 1; c = ½ for mean-field, whose c = 1 run diverges).
κ is the tutorial's summed Frobenius ratio Σ_l‖X_l(t) − X_l(0)‖_F / Σ_l‖X_l(0)‖_F, sup over
t; "per layer" is the sup of each layer's own ratio. Slopes are least-squares slopes of
log κ (mean over 2 seeds) against log m.

Decision rule for "κ → 0 / Θ(1) / → ∞": the slope's sign with a margin of ¼ — halfway
between Θ(1) (slope 0) and the slowest lazy rate (m^{−1/2}, the Jacot parametrisation).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.support import examples
from problems.overparam.network_oracles import derived_seed, sphere_points
from problems.runtime import threads

N_POINTS, DIM = 20, 10
WIDTHS = (64, 256, 1024, 4096)
SEEDS = 2
MARGIN = 0.25


def _data(device="cpu"):
    X = torch.tensor(sphere_points(N_POINTS, DIM, derived_seed("lazy", "data")), device=device)
    y = torch.tensor(np.sign(np.random.default_rng(derived_seed("lazy", "labels")).standard_normal(N_POINTS)),
                     device=device)
    return X, y


def _slope(widths, values) -> float:
    return float(np.polyfit(np.log(widths), np.log(values), 1)[0])


def _train(algorithm, weights, alpha, X, y, lr, stop, cap, record_every=1):
    """GD from the registry; κ (summed) and the per-layer ratios, sup over the recorded steps."""
    ratio = algorithm("lazy_training_ratio")
    w0 = [w.detach().clone() for w in weights]
    res = algorithm("full_batch_gradient_descent")(
        weights, alpha, X, y, lr, cap, stop_loss=stop, record_every=record_every, keep_snapshots=False,
        forward=algorithm("relu_network"),
        monitor=lambda ws, out: {"kappa": ratio(ws, w0), "per_layer": ratio(ws, w0, reduce="per_layer")})
    return (res["monitor"]["kappa"].max(0).values.cpu().numpy(),
            res["monitor"]["per_layer"].max(0).values.cpu().numpy(), res)


def _non_lazy_step(non_lazy: bool) -> float:
    """Fraction of 1/lambda_max(NTK at init) used as the GD step. Outside the lazy regime the NTK
    grows during training past its initial value, and a full step diverged (NaN) under a fresh seed."""
    return 0.5 if non_lazy else 1.0


def _ntk_lr(algorithm, weights, alpha, X, c=1.0):
    lam = torch.linalg.eigvalsh(algorithm("ntk_gram")(weights, alpha, X, forward=algorithm("relu_network")))
    return c / lam[:, -1]


# ------------------------------------------------------------------------ lazy.definition
@pytest.mark.claim("lazy.definition", uses=["lazy_training_ratio"])
@pytest.mark.no_near_miss("an identity against an independent numpy evaluation (rel 1e-12): any other ratio "
                          "(per-layer max, current weights, no subtraction) differs outright")
@settings(max_examples=examples(15))
@given(depth=st.integers(1, 4), batch=st.integers(1, 3), m=st.integers(1, 12), p=st.integers(1, 12),
       scale=st.floats(1e-3, 1e3), move=st.floats(0.0, 10.0), seed=st.integers(0, 2**16))
def test_lazy_ratio_definition(evidence, algorithm, depth, batch, m, p, scale, move, seed):
    """κ = Σ_l‖X_l(t) − X_l(0)‖ / Σ_l‖X_l(0)‖ against an independent numpy evaluation (Frobenius
    and spectral norms, per layer and max-layer); κ = 0 at t = 0; invariance under a common
    rescaling; summed κ ≤ max-layer ratio (the mediant inequality). Rounding: a norm of N
    entries carries ≤ N ε relative error, so 1e-12 relative covers N ≤ 10⁴; the rescaling invariance
    adds the cancellation of c X_t − c X_0 when the move is tiny (an absolute term, derived below)."""
    ratio = algorithm("lazy_training_ratio")
    g = torch.Generator().manual_seed(seed)
    shapes = [(m, p)] + [(m, m)] * max(depth - 2, 0) + ([(1, m)] if depth > 1 else [])
    X0 = [torch.randn((batch, *s), generator=g, dtype=torch.float64) * scale for s in shapes]
    Xt = [x + move * scale * torch.randn(x.shape, generator=g, dtype=torch.float64) for x in X0]
    evidence.parameters(depth=depth, shapes=shapes, scale=scale, move=move)
    evidence.tight("kappa(t=0) = 0", ratio([x.clone() for x in X0], X0), 0.0, abs=0.0)
    for norm, ordv in (("fro", "fro"), ("spec", 2)):
        moved = np.stack([[np.linalg.norm((a - b)[k].numpy(), ord=ordv) for k in range(batch)]
                          for a, b in zip(Xt, X0)], -1)
        size = np.stack([[np.linalg.norm(b[k].numpy(), ord=ordv) for k in range(batch)] for b in X0], -1)
        evidence.tight(f"summed kappa ({norm}) = numpy oracle", ratio(Xt, X0, norm=norm),
                       moved.sum(-1) / size.sum(-1), rel=1e-12, headline=norm == "fro")
        evidence.tight(f"per-layer ratios ({norm}) = numpy oracle", ratio(Xt, X0, reduce="per_layer", norm=norm),
                       moved / size, rel=1e-12)
        evidence.upper_bound(f"summed kappa <= max-layer ratio ({norm}, mediant)", ratio(Xt, X0, norm=norm),
                             ratio(Xt, X0, reduce="max_layer", norm=norm), rel=1e-12)
    c = 7.5
    # c X_t - c X_0 differs from c (X_t - X_0) by the rounding of the products, eps |c X_t| per entry: when the
    # move is tiny (move ~ 1e-7) that cancellation, not the 1e-12, bounds the error of kappa. Absolute term:
    # 4 eps sum_l ||X_l(t)||_F / sum_l ||X_l(0)||_F (the numerator's rounding over the denominator).
    cancel = 4 * np.finfo(float).eps * (sum(x.flatten(1).norm(dim=1) for x in Xt)
                                        / sum(x.flatten(1).norm(dim=1) for x in X0)).numpy()
    evidence.tight("invariant under X -> cX (t and 0 alike)", ratio([c * x for x in Xt], [c * x for x in X0]),
                   ratio(Xt, X0), rel=1e-12, abs=cancel)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("exact to 1e-12 relative")


# ---------------------------------------------------------------------- lazy.kappa-by-init
LAZY_SCHEMES = ("lecun", "he", "ntk")
EXPECTED = {"lecun": "lazy", "he": "lazy", "ntk": "lazy", "xavier": "order one", "mean_field": "order one",
            "jacot": "lazy (m^-1/2)"}


def _kappa_sweep(algorithm, scheme, device):
    X, y = _data(device)
    init = algorithm(f"init_{scheme}")
    kappas, layers, steps = [], [], []
    for m in WIDTHS:
        draw = init(DIM, m, 2, batch=SEEDS, seed=derived_seed("lazy.kappa-by-init", scheme, m), device=device)
        out0 = algorithm("relu_network")(draw.weights, draw.alpha, X)
        loss0 = 0.5 * ((out0 - y) ** 2).sum(-1)
        lazy = scheme in LAZY_SCHEMES or scheme == "jacot"
        stop = 1e-3 * loss0 if lazy else torch.full_like(loss0, 1e-2 * N_POINTS / 2)
        lr = _ntk_lr(algorithm, draw.weights, draw.alpha, X, _non_lazy_step(scheme == "mean_field"))
        k, per, res = _train(algorithm, draw.weights, draw.alpha, X, y, lr, stop, cap=4000, record_every=2)
        kappas.append(k)
        layers.append(per)
        steps.append(res["stopped_at"].cpu().numpy())
    return np.array(kappas), np.array(layers), np.array(steps)


@pytest.mark.slow
@pytest.mark.claim("lazy.kappa-by-init", uses=["full_batch_gradient_descent", "init_{scheme}", "lazy_training_ratio",
                                               "ntk_gram", "relu_network"])
@pytest.mark.no_near_miss("a decision rule on a slope's sign with the margin 1/4 halfway between Theta(1) and the "
                          "slowest lazy rate: slopes within 1/4 of the boundary are undecided by design; the "
                          "wrong world (Xavier's variances where He's are claimed lazy) is its control")
@pytest.mark.parametrize("scheme", ["lecun", "he", "ntk", "xavier", "mean_field", "jacot"])
def test_kappa_by_init(evidence, algorithm, device, scheme):
    """κ → 0 with width under LeCun, He, NTK (slope of log κ ≤ −¼; the summed κ of the standard
    parametrisation goes as m^{−1}: a moving read-out O(m^{−1/2}) over ‖X₁(0)‖_F ~ √m);
    κ = Θ(1) under Xavier and mean-field (|slope| ≤ ¼); the Jacot parametrisation gives the
    m^{−1/2} law (slope within ¼ of −½). Widths 64…4096, 2 seeds, stop at 1e-3 L₀ (lazy
    inits) or at mean squared residual 1e-2 (the others), cap 4000 steps. False alarm: the
    measured slopes sit ≥ 0.5 inside their margins (lazy ≈ −1, order-one ≈ 0); a fresh seed
    moved them by < 0.1 in our runs (2 seeds per width): budget not derived, stated ≤ 1e-2.
    Power: Xavier's variances under He's name (κ of order one) are rejected."""
    kappas, layers, steps = _kappa_sweep(algorithm, scheme, device)
    mean_k = kappas.mean(1)
    slope = _slope(WIDTHS, mean_k)
    layer_slopes = [_slope(WIDTHS, layers[:, :, j].mean(1)) for j in range(layers.shape[-1])]
    evidence.parameters(scheme=scheme, widths=WIDTHS, seeds=SEEDS, n=N_POINTS, p=DIM)
    evidence.record("kappa (mean over seeds) per width", mean_k)
    evidence.record("per-layer sup ratio (W, v) per width", layers.mean(1))
    evidence.record("per-layer slopes (W, v)", layer_slopes)
    evidence.record("GD steps to the stopping loss", steps)
    evidence.record("fitted slope of log kappa vs log m", slope, expected=EXPECTED[scheme])
    if scheme in LAZY_SCHEMES:
        evidence.upper_bound("slope of log kappa_sum <= -1/4 (kappa -> 0)", slope, -MARGIN, headline=True)
        evidence.upper_bound("slope of the moving layer's own ratio <= -1/4", min(layer_slopes), -MARGIN)
    elif scheme == "jacot":
        evidence.tight("slope of log kappa = -1/2 (Jacot parametrisation)", slope, -0.5, abs=MARGIN, headline=True)
    else:
        evidence.tight("slope of log kappa = 0 (kappa of order one)", slope, 0.0, abs=MARGIN, headline=True)
        evidence.lower_bound("kappa stays of order one at every width", mean_k.min(), 0.1)

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(WIDTHS, mean_k, "o-", label=f"{scheme}: summed kappa (slope {slope:.2f})")
        for j, name in enumerate(("W", "v")):
            ax.loglog(WIDTHS, layers[:, :, j].mean(1), ".--", label=f"layer {name} (slope {layer_slopes[j]:.2f})")
        ax.set_xlabel("width m")
        ax.set_ylabel("sup_t ratio")
        ax.legend(fontsize=7)

    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("a slope on the wrong side of its 1/4 margin")
    evidence.figure(f"kappa-{scheme}", draw, f"Lazy-training ratio vs width under {scheme} initialisation.")


# ---------------------------------------------------------------- lazy.chizat-condition
CHIZAT_C = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def predicted_slope(c: float) -> float:
    """Slope of log κ vs log m for β₁ = β_L = m^{−c}, α = 1 (our derivation). Lazy side: the
    displacement is ‖Δθ‖² = rᵀΘ⁻¹r with Θ ~ m^{1−2c}, r ~ max(1, m^{1/2−2c}), over ‖θ₀‖ ~ m^{1/2−c}:
    κ ~ max(1, m^{1/2−2c}) m^{2c−1}. Non-lazy side (c > ½): the fitted weights are O(m^{−1/2})
    entrywise whatever the start, so κ ~ m^{−1/2}/m^{−c} = m^{c−1/2}."""
    if c >= 0.5:
        return c - 0.5
    return max(-0.5, 2 * c - 1)


#: GD stops at this mean squared residual. The lazy runs start near mean residual 1 (1.04), so a stop
#: at 1e-2 left loss(end)/loss(0) at ~0.0096, on the edge of the checked "loss drops >= 99 %" (0.0104
#: under a fresh seed: the predicate tested the stop rule, not the training). Half of it leaves a
#: factor-2 margin.
STOP_RESIDUAL = 5e-3


@lru_cache(maxsize=4)
def _scaled_sweep(gd, net, ntk, device):
    """GD runs for every c and width: weights Z·m^{−c} from one standard normal draw Z; the step
    from the NTK of the copy Z·m^{−min(c, ½)} (so that small initialisations still train in a few
    hundred steps), halved for c ≥ ½: there the NTK grows during training past the copy's, and a
    full step diverged (NaN slopes) under a fresh seed; stop at mean squared residual STOP_RESIDUAL, cap 1000 steps. Snapshots every 16 steps
    and at the last, so that κ can be measured afterwards by whichever ratio is under test
    (cached per GD/network/NTK implementation)."""
    algorithm = {"full_batch_gradient_descent": gd, "relu_network": net, "ntk_gram": ntk}.__getitem__
    X, y = _data(device)
    out = {}
    for c in CHIZAT_C:
        for m in WIDTHS:
            s = derived_seed("lazy.chizat-condition", m)
            g = torch.Generator().manual_seed(s)
            Z = [torch.randn((SEEDS, m, DIM), generator=g, dtype=torch.float64).to(device),
                 torch.randn((SEEDS, 1, m), generator=g, dtype=torch.float64).to(device)]
            alpha = torch.ones(SEEDS, dtype=torch.float64, device=device)
            lr = _ntk_lr(algorithm, [z * m ** -min(c, 0.5) for z in Z], alpha, X, _non_lazy_step(c >= 0.5))
            w0 = [z * m**-c for z in Z]
            res = gd(w0, alpha, X, y, lr, 1000, stop_loss=STOP_RESIDUAL * N_POINTS / 2, record_every=16, forward=net)
            out[c, m] = (w0, res["snapshots"], (res["loss"][-1] / res["loss"][0]).cpu().numpy())
    return out


def chizat_slopes(algorithm, device):
    runs = _scaled_sweep(algorithm("full_batch_gradient_descent"), algorithm("relu_network"),
                         algorithm("ntk_gram"), device)
    ratio = algorithm("lazy_training_ratio")
    kappa = {c: np.array([torch.stack([ratio(snap, runs[c, m][0]) for snap in runs[c, m][1]]).max(0).values
                          .mean().item() for m in WIDTHS]) for c in CHIZAT_C}
    return runs, kappa, {c: _slope(WIDTHS, kappa[c]) for c in CHIZAT_C}


def draw_chizat(fig, kappa, slopes):
    ax = fig.add_subplot(111)
    for c in CHIZAT_C:
        ax.loglog(WIDTHS, kappa[c], "o-", ms=3, label=f"c={c}: slope {slopes[c]:.2f} (pred. {predicted_slope(c):.2f})")
    ax.set_xlabel("width m")
    ax.set_ylabel("sup_t kappa")
    ax.set_title("beta = m^-c, alpha = 1: lazy iff c < 1/2 (m beta^2 -> inf)", fontsize=8)
    ax.legend(fontsize=6)


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition", uses=["full_batch_gradient_descent", "lazy_training_ratio", "ntk_gram",
                                                  "relu_network"])
def test_chizat_condition_as_printed(evidence, algorithm, device, c=0.75):
    """As printed: v, x ~ N(0, β²) two-layer nets are lazy as long as mβ → ∞. With β the
    standard deviation m^{−c}, c = ¾ gives mβ = m^{1/4} → ∞, yet κ grows with m (slope
    ≥ 1/8, half the predicted ¼): a counterexample. The condition holds if β denotes the
    variance: m·α·β_std² → ∞ (checked by test_chizat_condition_corrected). ``c`` < ½, where
    mβ → ∞ and the nets are lazy, is a world where the printed statement holds (wrong-world
    control c = ¼; near miss c = ½, the boundary where mβ² stays Θ(1))."""
    runs, kappa, slopes = chizat_slopes(algorithm, device)
    evidence.parameters(c=c, widths=WIDTHS, m_beta=[m ** (1 - c) for m in WIDTHS])
    evidence.record(f"kappa at c = {c} per width", kappa[c])
    evidence.lower_bound(f"slope of log kappa at c = {c} (m beta -> inf) is positive: not lazy", slopes[c],
                         0.125, headline=True)
    evidence.lower_bound(f"kappa(widest) > kappa(narrowest) at c = {c}", kappa[c][-1] / kappa[c][0], 1.0)
    evidence.resolution("rejects kappa slopes below 1/8 (half the predicted 1/4): the boundary c = 1/2 "
                        "(slope ~0, near-miss control) is rejected")
    evidence.corrects("with beta the standard deviation, m*beta -> inf at c = 3/4 but kappa grows like "
                      f"m^{slopes[c]:.2f}: not lazy. The condition is m*alpha*beta^2 -> inf "
                      "(beta read as a variance), verified by test_chizat_condition_corrected.",
                      counterexample=(f"alpha = 1, v, x ~ N(0, beta^2), beta = m^-{c:g}: m beta = m^{1 - c:g} -> inf "
                                      f"but the lazy ratio grows like m^{slopes[c]:.2f} (m = {WIDTHS[0]}..{WIDTHS[-1]})"))
    evidence.figure("kappa-vs-width-by-c", lambda fig: draw_chizat(fig, kappa, slopes),
                    "κ vs width for β = m^{−c}: the literal condition mβ → ∞ predicts lazy for every c < 1.")


@pytest.mark.slow
@pytest.mark.claim("lazy.chizat-condition", uses=["full_batch_gradient_descent", "lazy_training_ratio", "ntk_gram",
                                                  "relu_network"])
@pytest.mark.no_near_miss("slopes identified to within 1/8, half the 1/4 spacing of the grid's predicted slopes: a "
                          "slope error of 1/8 is a different c; the wrong world (alpha = m^-1/2, which moves the "
                          "lazy boundary to c = 3/4) is its control")
def test_chizat_condition_corrected(evidence, algorithm, device):
    """Corrected: lazy iff m α β² → ∞, i.e. c < ½ for β = m^{−c}, α = 1. Slopes match the
    prediction within 1/8 (half the ¼ spacing of the grid's predicted slopes, so a slope
    identifies its c) for c ≥ ½, and are ≤ −¼ (κ → 0) for c ≤ ¼. Also: in the lazy runs the
    loss drops ≥ 99% while κ stays ≤ 0.05 at the widest width (the parameters, not the
    output, change little)."""
    runs, kappa, slopes = chizat_slopes(algorithm, device)
    evidence.parameters(c=CHIZAT_C, widths=WIDTHS)
    evidence.record("slopes by c", [slopes[c] for c in CHIZAT_C],
                    predicted=[predicted_slope(c) for c in CHIZAT_C])
    high = [c for c in CHIZAT_C if c >= 0.5]
    evidence.tight("slope = c - 1/2 for c >= 1/2", [slopes[c] for c in high], [c - 0.5 for c in high],
                   abs=0.125, headline=True)
    evidence.upper_bound("slope <= -1/4 for c <= 1/4 (lazy)", [slopes[c] for c in CHIZAT_C if c <= 0.25], -MARGIN)
    evidence.upper_bound("lazy runs: kappa at m = 4096 <= 0.05", [kappa[c][-1] for c in (0.0, 0.25)], 0.05)
    evidence.upper_bound("lazy runs: loss drops >= 99% at m = 4096",
                         np.concatenate([runs[c, WIDTHS[-1]][2] for c in (0.0, 0.25)]), 0.01)
    # 2 seeds per width; the measured slopes sit within 0.02 of the predictions, windows 1/8: not derived
    evidence.record("false_alarm_budget", 1e-2)
    evidence.figure("kappa-vs-width-by-c", lambda fig: draw_chizat(fig, kappa, slopes),
                    "κ vs width for β = m^{−c}, α = 1, with the predicted slopes.")


# -------------------------------------------------------------------- lazy.linearization
LIN_WIDTHS = (256, 1024, 4096)
LIN_STEPS = 100
#: Initialisations per width. The mean-field gap is O(1) but heavy-tailed across initialisations
#: (1.0 to 4.7 at one width): with 2 its slope ranged -0.36..+0.15 over 3 seed shifts and the
#: wrong-world control passed under a fresh seed. With 12, over 8 shifts: mean field -0.03..+0.03,
#: Jacot -0.58..-0.69; 8 keeps both at least 0.2 from the margin -1/4.
LIN_SEEDS = 8


def _jacobian(weights, alpha, inputs, net):
    """∂h(a_i)/∂θ for every input, flattened over the layers: (B, n, P)."""
    ws = [w.detach().clone().requires_grad_(True) for w in weights]
    out = net(ws, alpha, inputs)
    rows = [torch.cat([g.reshape(g.shape[0], -1) for g in
                       torch.autograd.grad(out[:, i].sum(), ws, retain_graph=True)], -1)
            for i in range(out.shape[1])]
    return torch.stack(rows, 1), out.detach()


def _one_thread():
    """The Jacobians and the linearised GD are thousands of small products: one thread (two were
    10× slower on the loaded 2-core machine). Restores the setting after."""
    return threads(1)


def _linearisation_gap(algorithm, scheme, device):
    """sup_t sup_{a ∈ test} |h_t(a) − h^lin_t(a)| per width, both models trained by the same GD
    (η = 1/λ_max(Θ₀), LIN_STEPS steps); h^lin_t = h₀ + ∇_θh₀ (θ^lin_t − θ₀) is the oracle."""
    X, y = _data(device)
    X_test = torch.tensor(sphere_points(N_POINTS, DIM, derived_seed("lazy.linearization", "test")), device=device)
    net = algorithm("relu_network")
    gaps, outputs = [], []
    for m in LIN_WIDTHS:
        draw = algorithm(f"init_{scheme}")(DIM, m, 2, batch=LIN_SEEDS, seed=derived_seed("lazy.linearization", m),
                                           device=device)
        lr = _ntk_lr(algorithm, draw.weights, draw.alpha, X, _non_lazy_step(scheme == "mean_field"))
        res = algorithm("full_batch_gradient_descent")(
            draw.weights, draw.alpha, X, y, lr, LIN_STEPS, keep_snapshots=False, forward=net,
            monitor=lambda ws, out: {"test": net(ws, draw.alpha, X_test)})
        J, h0 = _jacobian(draw.weights, draw.alpha, X, net)
        J_test, h0_test = _jacobian(draw.weights, draw.alpha, X_test, net)
        delta = torch.zeros(J.shape[0], J.shape[2], dtype=J.dtype, device=device)
        lin = [h0_test]
        for _ in range(LIN_STEPS):
            residual = h0 + (J @ delta.unsqueeze(-1)).squeeze(-1) - y
            delta = delta - lr[:, None] * (J.transpose(1, 2) @ residual.unsqueeze(-1)).squeeze(-1)
            lin.append(h0_test + (J_test @ delta.unsqueeze(-1)).squeeze(-1))
        observed = res["monitor"]["test"]
        gap = (observed - torch.stack(lin)[: observed.shape[0]]).abs().amax((0, 2))
        if observed.shape[0] < LIN_STEPS + 1:
            # every network's loss went non-finite and GD stopped: the gap is unbounded (saturated at
            # 1e100, still a violation, so that a diverging world is judged, not a crash)
            gap = torch.full_like(gap, 1e100)
        gaps.append(gap.cpu().numpy())
        outputs.append(res["monitor"]["test"].abs().amax((0, 2)).cpu().numpy())
    return np.array(gaps), np.array(outputs)


@pytest.mark.slow
@pytest.mark.claim("lazy.linearization", uses=["full_batch_gradient_descent", "init_jacot", "ntk_gram",
                                               "relu_network"])
@pytest.mark.no_near_miss("a slope-sign decision with the margin 1/4: it separates Jacot's alpha = m^1/2 (slope "
                          "-0.62) from mean field (0.00); intermediate output scales alpha = m^0.7..0.9 give "
                          "-0.28..-0.34, inside the margin, so the check resolves the two regimes, not exponents")
def test_linearised_training_agrees(evidence, algorithm, device, scheme="jacot"):
    """In the lazy regime training h and its first-order Taylor expansion h^lin around the
    initialisation are equivalent: under the Jacot parametrisation sup_t sup_a |h_t − h^lin_t|
    → 0 as O(m^{−1/2}) (Lee et al., NeurIPS 2019; Chizat et al., NeurIPS 2019, Thm 2.3). Pass:
    slope of log gap vs log m ≤ −¼ (the lazy margin), widths 256…4096, 8 initialisations per width
    (LIN_SEEDS), 20 test points. False alarm: over 8 seed shifts (12 initialisations) the Jacot
    slope lay in −0.69..−0.58, ≥ 0.33 inside the margin: stated ≤ 1e-2. Power: the mean-field
    parametrisation (slope 0.00) is rejected (wrong world); intermediate output scales
    α = m^0.7…0.9 (slopes −0.28…−0.34) are not resolved."""
    with _one_thread():
        gaps, outputs = _linearisation_gap(algorithm, scheme, device)
    slope = _slope(LIN_WIDTHS, gaps.mean(1))
    evidence.parameters(widths=LIN_WIDTHS, steps=LIN_STEPS, seeds=LIN_SEEDS, scheme=scheme)
    evidence.record("sup gap per width (mean over seeds)", gaps.mean(1))
    evidence.record("sup |h_t| on the test points per width", outputs.mean(1))
    evidence.upper_bound("slope of log sup-gap vs log m <= -1/4", slope, -MARGIN, headline=True)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("a gap slope above -1/4: separates alpha = m^1/2 from mean field, not intermediate exponents")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(LIN_WIDTHS, gaps.mean(1), "o-", label=f"sup gap (slope {slope:.2f})")
        ax.loglog(LIN_WIDTHS, gaps.mean(1)[0] * (np.array(LIN_WIDTHS) / LIN_WIDTHS[0]) ** -0.5, "k:",
                  label="m^-1/2")
        ax.set_xlabel("width m")
        ax.set_ylabel("sup_t sup_a |h_t - h_lin_t|")
        ax.legend(fontsize=7)

    evidence.figure("linearisation-gap", draw, "Network vs linearised model under the same GD (Jacot "
                    "parametrisation): the gap shrinks like m^{-1/2}.")
