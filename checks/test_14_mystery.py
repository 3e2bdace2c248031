"""The mystery of deep learning and the over-parameterisation table (slides
"The mystery in deep learning", "Over-parameterization: #params vs n").

Implementations under test: ``train_mlp_classifier``, ``random_relu_features``,
``min_norm_least_squares``, ``empirical_rademacher``, ``interpolating_relu_network``,
``random_fourier_features``, ``gradient_descent_least_squares``,
``resnet_parameter_count``. Seeds derive from (claim, instance, repetition).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from algorithms.complexity import linear_class_sup
from checks.support import examples
from problems.overparam.datasets import DatasetUnavailable, digits_split, mnist1d
from problems.overparam.synthetic_regression import derived_seed

EPS = np.finfo(float).eps


# ------------------------------------------------------------- mystery.random-labels
def fit_true_and_random_labels(evidence, algorithm, split, widths, epochs, device, tag, min_true_accuracy=0.95,
                               true_label_fraction=0.0):
    """Train on a permutation of the labels (class balance kept) and on the true labels to 100%
    train accuracy; returns {name: (epochs to interpolate, train accuracy, test accuracy)}.
    ``true_label_fraction`` > 0 keeps that fraction of the permuted set at its true label (a
    near miss: the 'random' labels then carry signal about the input). The permuted labels are
    trained first, so that a world where they cannot be fitted or generalise fails early."""
    trainer = algorithm("train_mlp_classifier")
    rng = np.random.default_rng(derived_seed("mystery.random-labels", tag, "labels"))
    perm = rng.permutation(split.y)
    keep = rng.random(len(perm)) < true_label_fraction
    perm = np.where(keep, split.y, perm)
    out = {}
    se = np.sqrt(0.09 / len(split.y_test))  # binomial SE of a chance (p = 0.1) accuracy
    for name, labels in (("permuted labels", perm), ("true labels", split.y)):
        res = trainer(split.x, labels, split.x_test, widths, epochs=epochs, lr=1e-3, batch_size=128,
                      seed=derived_seed("mystery.random-labels", tag, name), device=device)
        test_acc = float(np.mean(np.argmax(res["test_logits"], 1) == split.y_test))
        out[name] = (res["epochs_to_interpolate"], res["train_accuracy"], test_acc)
        evidence.record(f"{name}: epochs to 100% train accuracy, train and test accuracy", out[name])
        evidence.lower_bound(f"{name}: train accuracy reaches 100%", res["train_accuracy"], 1.0)
        if name == "permuted labels":
            evidence.tight("permuted labels: test accuracy at chance (0.10 +- 3 SE)", test_acc, 0.1, abs=3 * se)
    evidence.lower_bound(f"true labels: test accuracy >= {min_true_accuracy}", out["true labels"][2], min_true_accuracy)
    ratio = out["permuted labels"][0] / out["true labels"][0]
    evidence.lower_bound("slow-down: epochs(permuted) / epochs(true) > 1", ratio, 1.0, headline=True)
    evidence.parameters(widths=tuple(widths), true_label_fraction=true_label_fraction)
    evidence.record("false_alarm_budget", 2.7e-3)
    evidence.resolution(f"rejects 'random' labels whose test accuracy is >= {0.1 + 3 * se:.3f} (3 SE above chance; "
                        "e.g. 30% of them left at their true class) and a width-8 network that cannot memorise")
    return out


@pytest.mark.claim("mystery.random-labels", uses=["train_mlp_classifier"])
@pytest.mark.slow
def test_mlp_fits_random_labels_digits(evidence, algorithm, device, widths=(512, 512), true_label_fraction=0.0):
    """Zhang et al. (ICLR 2017) at digits scale: an MLP 64-512-512-10 (Adam 1e-3, batch
    128) reaches 100% train accuracy on 1200 digits with the true labels and with a random
    permutation of them, the latter more slowly (R11: 24 vs 108 epochs), with chance test
    accuracy (R11: 9.2%) against >= 95% for the true labels. False alarm of the chance
    band: 3 binomial SEs, two-sided 2.7e-3 (normal approximation over 597 test digits); the
    other predicates are deterministic given the seeds. Power: a label set 30% of which
    keeps its true class gives test accuracy far above the band's top, 0.137 (near-miss
    control); a width-8 MLP cannot memorise (wrong-world control)."""
    split = digits_split(1200, seed=derived_seed("mystery.random-labels", "split") % 2**31)
    fit_true_and_random_labels(evidence, algorithm, split, widths, 300, device, "digits",
                               true_label_fraction=true_label_fraction)


@pytest.mark.claim("mystery.random-labels", uses=["train_mlp_classifier"])
@pytest.mark.gpu
@pytest.mark.no_near_miss("the predicates, thresholds and resolution are those of test_mlp_fits_random_labels_digits "
                          "(the same function, on MNIST-1D); its near miss sets them")
def test_mlp_fits_random_labels_mnist1d(evidence, algorithm, device, scale):
    """The same on MNIST-1D (4000 train / 1000 test, generated locally; at --scale tiny
    800 / 200, the code path only). True-label test accuracy on MNIST-1D is far below
    digits' for an MLP, so only the random-label predicates are the claim here."""
    try:
        split = mnist1d(5000, 0.8) if scale != "tiny" else mnist1d(1000, 0.8)
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))
    fit_true_and_random_labels(evidence, algorithm, split, (512, 512), 2000, device, "mnist1d", min_true_accuracy=0.0)


# ------------------------------------------------------- mystery.rademacher-vacuous
RADEMACHER_N, RADEMACHER_WIDTH = 500, 1024
POPULATIONS = ("digits < 5 vs >= 5", "labels independent of the digit")


@pytest.mark.claim("mystery.rademacher-vacuous", uses=["empirical_rademacher", "min_norm_least_squares",
                                                       "random_relu_features"])
def test_memorising_class_has_rademacher_one(evidence, algorithm, width=RADEMACHER_WIDTH, population=POPULATIONS[0]):
    """The tutorial: complexity measures like the Rademacher complexity "suggest the opposite
    behaviour (overfitting)" of what the network does. For the class H of two-layer ReLU nets
    64-``width``-1 with a random first layer (outputs clipped to [-1, 1]; read-out = the
    min-norm least-squares fit, i.e. GD on the read-out run to convergence) on n = 500 digits:

    (i) the class memorises: a member h_v fits each of 5 random sign vectors v, so
        R_A(H) >= E_v (1/n) sum v_i clip(h_v(a_i)) >= 0.95, and the bound
        sup|R - R_n| <= 2 R_A(H) + 3 sqrt(log(2/delta)/(2n)) (Bartlett-Mendelson, 0-1 loss)
        is >= 1.9: vacuous, it allows any test error;
    (ii) yet the same class, fitted to the population's labels (digit < 5 vs >= 5), interpolates
        them and generalises: test 0-1 error on the other 1297 digits, plus its Hoeffding
        deviation at 1e-6, is below 1/4 (half the chance error): the bound predicts nothing
        of what happens. Where the labels carry no information about the input (the wrong
        world), (ii) fails: the bound's pessimism is then right.
    Control of the argument: the linear class {<w, .>: ||w|| <= 1/max||a_i||} (outputs in
    [-1, 1]) on the same inputs has R_A < 0.1 (Monte Carlo, 2000 draws, Hoeffding 1e-6), so
    (i) does not call every class vacuous.

    False alarm: (ii) 1e-6 (Hoeffding on 1297 test points); (i) is deterministic given the
    sign vectors (min-norm interpolation is exact once rank F = n, which random ReLU
    features of centred inputs have almost surely for width >= n). Power: a class of
    width 0.9 n fits random signs to correlation ~0.83 (rejected by (i)); a population
    with test error >= 0.18 is rejected by (ii)."""
    features, fit = algorithm("random_relu_features"), algorithm("min_norm_least_squares")
    split = digits_split(RADEMACHER_N, seed=0)
    centre = split.x.mean(0)  # centred: ReLU features of non-negative pixels would be rank deficient
    x, x_test = split.x - centre, split.x_test - centre
    rng = np.random.default_rng(derived_seed("mystery.rademacher-vacuous", "signs"))
    v = rng.choice(np.array([-1.0, 1.0]), size=(5, RADEMACHER_N))
    phi = features(64, int(width), 1.0, rng)
    f = phi(x)
    theta = fit(np.broadcast_to(f, (5, *f.shape)), v)
    h = np.clip(np.einsum("nm,km->kn", f, theta), -1, 1)
    lower = float(np.mean(np.sum(v * h, 1) / RADEMACHER_N))
    delta = 0.05
    bound = 2 * lower + 3 * np.sqrt(np.log(2 / delta) / (2 * RADEMACHER_N))
    evidence.parameters(n=RADEMACHER_N, width=int(width), population=population, test_points=len(x_test))
    evidence.lower_bound("(i) memorising class: lower bound on R_A(H)", lower, 0.95, headline=True)
    evidence.record("(i) Rademacher bound on sup|R - R_n| (0-1 loss, delta = 0.05)", float(bound))

    if population == POPULATIONS[0]:
        y, y_test = np.where(split.y < 5, 1.0, -1.0), np.where(split.y_test < 5, 1.0, -1.0)
    elif population == POPULATIONS[1]:
        label_rng = np.random.default_rng(derived_seed("mystery.rademacher-vacuous", "independent labels"))
        y, y_test = label_rng.choice([-1.0, 1.0], len(x)), label_rng.choice([-1.0, 1.0], len(x_test))
    else:
        raise ValueError(f"population {population!r}: use one of {POPULATIONS}")
    theta_y = fit(f, y)
    train_error = float(np.mean(np.sign(f @ theta_y) != y))
    test_error = float(np.mean(np.sign(phi(x_test) @ theta_y) != y_test))
    hoeffding_test = float(np.sqrt(np.log(1 / 1e-6) / (2 * len(x_test))))  # one-sided, 0-1 values
    evidence.upper_bound("(ii) the same class interpolates the population's labels: train error", train_error, 0.0)
    evidence.record("(ii) test 0-1 error of the interpolating member", test_error, hoeffding=hoeffding_test)
    evidence.upper_bound("(ii) generalises: test error + Hoeffding(1e-6) < 1/4 while the bound is vacuous",
                         test_error + hoeffding_test, 0.25)
    radius = 1 / np.max(np.linalg.norm(x, axis=1))
    estimate, _ = algorithm("empirical_rademacher")(linear_class_sup(x, radius), RADEMACHER_N, 2000, rng)
    hoeffding = np.sqrt(np.log(2 / 1e-6) / (2 * 2000))  # values in [0, 1]
    evidence.upper_bound("linear class with outputs in [-1, 1]: R_A + Hoeffding < 0.1", estimate + hoeffding, 0.1)
    evidence.record("linear class R_A (Monte Carlo)", estimate, one_over_sqrt_n=1 / np.sqrt(RADEMACHER_N))
    evidence.record("false_alarm_budget", 1e-6 + 1e-6)
    evidence.resolution("rejects a class that fits random signs to correlation <= 0.83 (width 0.9 n) and a "
                        "population on which the interpolant's test error is >= 0.18")


# ----------------------------------------------------- overparam.existence-2nplusd
@pytest.mark.claim("overparam.existence-2nplusd", uses=["interpolating_relu_network"])
@settings(max_examples=examples(10))
@given(n=st.integers(2, 200), d=st.integers(1, 20), seed=st.integers(0, 2**16))
@example(n=200, d=20, seed=0)
def test_two_layer_relu_interpolates_with_2n_plus_d_weights(evidence, algorithm, n, d, seed):
    """Zhang et al. (ICLR 2017), Thm 1: a two-layer ReLU net with 2n + d weights fits any
    labels on n distinct points of R^d: the residual is within the backward-error bound of
    forward substitution plus evaluation (4 n eps sum_j |M_ij w_j| + eps |y_i|, Higham,
    Accuracy and Stability, Thm 8.5); two points with equal inputs and different labels
    cannot be fitted, and the construction refuses them. Deterministic given the draw (no
    false alarm; a coincident projection has probability 0 and is refused, not mis-fitted).
    Power: one hidden unit fewer (2n + d - 2 weights, least squares on n - 1 breakpoints)
    leaves residuals far above rounding (near-miss control)."""
    build = algorithm("interpolating_relu_network")
    rng = np.random.default_rng(derived_seed("overparam.existence-2nplusd", n, d, seed))
    x, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    net = build(x, y, rng)
    m = np.maximum(x @ net.a[:, None] - net.b[None, :], 0.0)
    bound = 4 * n * EPS * (np.abs(m) @ np.abs(net.w)) + EPS * np.abs(y)
    evidence.parameters(n=n, d=d, seed=seed)
    evidence.upper_bound("|f(x_i) - y_i| within the backward-error bound", np.abs(net(x) - y), bound, headline=True)
    evidence.tight("number of parameters = 2n + d", net.num_parameters, 2 * n + d)
    dup = np.vstack([x, x[:1]])
    try:
        build(dup, np.append(y, y[0] + 1.0), rng)
        refused = False
    except ValueError:
        refused = True
    evidence.holds("duplicate input with a different label is refused", refused)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("rejects a construction one hidden unit short (2n + d - 2 weights)")


# --------------------------------------------------------- overparam.last-layer-only
@pytest.mark.claim("overparam.last-layer-only", uses=["gradient_descent_least_squares", "random_fourier_features"])
def test_training_last_layer_converges_linearly(evidence, algorithm, widths=(600, 2000)):
    """Training only the read-out of a net whose hidden features F (n x m) have rank n is
    linear least squares; GD from 0 with eta = 1/lambda_max(F F^T) has residual
    r_k = (I - eta F F^T)^k r_0: (a) every eigen-component of r_k equals (1 - eta lambda_i)^k
    times that of r_0 (the algorithm under test against the exact linear recursion, 200
    steps; rounding 1e-9 of ||r_0||); (b) rank n: lambda_min(F F^T) > 100 n eps lambda_max
    (beyond the rounding of the eigen-solver), so every component, hence ||r_k||, decays
    geometrically to zero; (c) the catalogue's bound ||r_k||^2 <= (1 - eta lambda_min)^(2k)
    ||r_0||^2 (digits 3-vs-7, n = 300, RFF m = 600, 2000). (At these widths eta lambda_min
    ~ 3e-6: (c) alone cannot tell convergence from a plateau in 200 steps; (a) and (b) do.)
    With m = n/2 (rank < n) the residual instead decreases to the least-squares residual
    ||P_null(F^T) y|| > 0, and no further. Deterministic (no false alarm). Power: one
    feature short of rank n (m = n - 1) is rejected by (b)."""
    rff, gd = algorithm("random_fourier_features"), algorithm("gradient_descent_least_squares")
    split = digits_split(300, classes=(3, 7), seed=0)
    y = np.where(split.y == 0, 1.0, -1.0)
    n = len(y)
    for m in widths:
        f = rff(64, m, 2.8, np.random.default_rng(derived_seed("overparam.last-layer-only", m)))(split.x)
        lam, u = np.linalg.eigh(f @ f.T)
        eta = 1 / lam[-1]
        theta, hist = gd(f, y, eta, 200)
        k = np.arange(201)
        evidence.lower_bound(f"(b) m = {m}: rank n, lambda_min(F F^T) / lambda_max > 100 n eps", lam[0] / lam[-1],
                             100 * n * EPS)
        # r_0 = -y (theta_0 = 0); float64 GD over 200 steps and the eigen-solver stay far below 1e-9 ||y||
        evidence.tight(f"(a) m = {m}: u_i^T r_200 = (1 - eta lambda_i)^200 u_i^T r_0", u.T @ (f @ theta - y),
                       (1 - eta * lam) ** 200 * (u.T @ -y), abs=1e-9 * np.linalg.norm(y))
        bound = (1 - eta * lam[0]) ** (2 * k) * hist[0]
        evidence.upper_bound(f"(c) m = {m}: ||r_k||^2 <= (1 - eta lambda_min)^(2k) ||r_0||^2", hist, bound, rel=1e-6,
                             abs=1e-24, headline=m == max(widths))
        evidence.record(f"m = {m}: eta lambda_min (rate per step)", float(eta * lam[0]))
    f = rff(64, 150, 2.8, np.random.default_rng(derived_seed("overparam.last-layer-only", 150)))(split.x)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    floor = float(np.sum(y**2) - np.sum((u.T @ y) ** 2))
    eta = 1 / s[0] ** 2
    _, hist = gd(f, y, eta, 3000)
    evidence.lower_bound("m = n/2: residual never below the least-squares floor", hist, floor, rel=1e-9)
    evidence.record("m = n/2: final squared residual vs floor", float(hist[-1]), floor=floor)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("rejects m = n - 1 features (rank one short of n); modal decay to 1e-9 ||y||")


# ------------------------------------------------------------ overparam.model-sizes
@pytest.mark.claim("overparam.model-sizes", uses=["resnet_parameter_count"])
def test_resnet152_parameter_count(evidence, algorithm, blocks=(3, 8, 36, 3)):
    """The tutorial's 'ResNet-152: 60.3 M' parameters: the bottleneck ResNet with blocks
    (3, 8, 36, 3) (He et al., CVPR 2016) has 60,192,808 (= torchvision's resnet152),
    within 1% of 60.3 M; ResNet-50 has 25,557,032. (GPT-3's 175 B and ChatGPT's
    unpublished size are cited.) Exact arithmetic; the 1% tolerance is the tutorial's
    rounding to three digits plus the slack the catalogue grants. Power: one bottleneck
    block more in stage 3 (1.8% more parameters) is rejected."""
    count = algorithm("resnet_parameter_count")
    n152 = count(tuple(blocks))
    evidence.parameters(blocks=tuple(blocks))
    evidence.record("ResNet-152 parameters", n152)
    evidence.tight("ResNet-152 vs the tutorial's 60.3 M", n152, 60.3e6, rel=0.01, headline=True)
    evidence.tight("ResNet-50 = 25,557,032 (torchvision)", count((3, 4, 6, 3)), 25_557_032)
    evidence.tight("ResNet-152 = 60,192,808 (torchvision)", n152, 60_192_808)
    evidence.record("false_alarm_budget", 0.0)
    evidence.resolution("rejects a count 1% off 60.3 M, e.g. one bottleneck block more (+1.8%)")


@pytest.mark.claim("overparam.model-sizes", uses=["resnet_parameter_count"])
@pytest.mark.slow
@pytest.mark.no_near_miss("an exact integer identity (torch modules vs the formula); a count off by one parameter fails")
def test_resnet152_count_matches_torch_modules(evidence, algorithm):
    """Differential: ResNet-152 built from torch modules on the meta device (no memory)
    has exactly the parameter count of the arithmetic formula."""
    import torch

    def bottleneck(cin, mid, stride_block):
        layers = [torch.nn.Conv2d(cin, mid, 1, bias=False), torch.nn.BatchNorm2d(mid),
                  torch.nn.Conv2d(mid, mid, 3, padding=1, bias=False), torch.nn.BatchNorm2d(mid),
                  torch.nn.Conv2d(mid, 4 * mid, 1, bias=False), torch.nn.BatchNorm2d(4 * mid)]
        if stride_block:
            layers += [torch.nn.Conv2d(cin, 4 * mid, 1, bias=False), torch.nn.BatchNorm2d(4 * mid)]
        return layers

    with torch.device("meta"):
        mods = [torch.nn.Conv2d(3, 64, 7, bias=False), torch.nn.BatchNorm2d(64)]
        cin = 64
        for stage, blocks in enumerate((3, 8, 36, 3)):
            for b in range(blocks):
                mods += bottleneck(cin, 64 * 2**stage, b == 0)
                cin = 4 * 64 * 2**stage
        mods.append(torch.nn.Linear(cin, 1000))
        total = sum(p.numel() for m in mods for p in m.parameters())
    evidence.tight("torch modules vs formula", total, algorithm("resnet_parameter_count")((3, 8, 36, 3)))
    evidence.record("false_alarm_budget", 0.0)
