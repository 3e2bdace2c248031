"""Belkin, Hsu, Ma, Mandal (PNAS 2019), "Double descent curve in practice (I)": "random
features, random forest, and shallow neural networks" — the forest and the shallow-network
cases (random ReLU features are in checks/test_15_double_descent.py, with the RFF sweep).

Implementations under test: ``random_forest_classifier`` and ``two_layer_network_regression``.
Seeds derive from (claim, grid point, repetition).
"""
from __future__ import annotations

import numpy as np
import pytest

from problems.overparam.datasets import digits_split, one_hot
from problems.overparam.synthetic_regression import derived_seed
from problems.runtime import threads


# ------------------------------------------------------------------------ random forests
FOREST_LABELS = ("digits", "labels independent of the digit")
FOREST_REPEATS = {1: 40, 5: 4, 20: 4}  # forest seeds per tree count: single trees vary most (SD 0.04 in risk)
Z_FOREST = 3.48  # one-sided normal tail 2.5e-4: family-wise 1e-3 over the 4 candidate sweet spots


@pytest.mark.claim("dd.belkin-other-models", uses=["random_forest_classifier"])
@pytest.mark.slow
@pytest.mark.no_near_miss("a shape claim (a rise to the interpolation threshold, then a descent below the sweet "
                          "spot): no numeric value is claimed; its resolution is the z = 3.48 paired test, and "
                          "a population without the shape is its wrong-world control")
def test_random_forest_double_descent(evidence, algorithm, labels=FOREST_LABELS[0]):
    """Belkin et al. (PNAS 2019) for random forests: capacity N_leaf^max x N_tree. One tree
    (bootstrap off, max_features = sqrt) with N_leaf in {10, 20, 50, 100}, then grown to
    N_leaf = n (it interpolates: train error 0), then N_tree in {5, 20} at N_leaf = n
    (digits, 600 train / 1197 test, 10 classes; squared loss of the predicted class
    probabilities against the one-hot label, which Belkin et al. plot beside the 0-1 loss;
    40 forest seeds for single trees, 4 for forests). The double-descent curve: (i) the single
    interpolating tree interpolates; (ii) its test risk rises above the classical sweet spot
    min_{N_leaf < n} (peak at the threshold); (iii) averaging trees past the threshold brings
    the risk below the sweet spot (second descent). (ii) and (iii): z >= 3.48, the SE adding the
    spread over forest seeds (a single tree's risk varies by SD ~0.04 from seed to seed) and over
    the test points. The 0-1 loss is recorded: it shows no peak at the threshold here (a single
    descent, as Buschjaeger and Morik 2021 report for forests), only the second descent
    (McNemar, recorded).

    False alarms: the z tests are one-sided 2.5e-4 each against 'no rise' / 'no descent'
    (Bonferroni over the 4 candidate sweet spots, family-wise 1e-3 per predicate); the rise
    measured (0.047-0.08 in squared loss over 13 sets of seeds, SE ~0.008 with 40 seeds) puts
    z at 6-10, so a true curve of that size fails (ii) with probability < 1e-3 (normal tail at
    2.5 SD below the smallest rise seen). Power: labels independent of the input (the
    wrong world: every forest predicts near chance) give no descent below the sweet spot."""
    forest = algorithm("random_forest_classifier")
    split = digits_split(600, seed=1)
    n = len(split.y)
    y, y_test = split.y, split.y_test
    if labels == FOREST_LABELS[1]:
        rng = np.random.default_rng(derived_seed("dd.belkin-other-models", "independent labels"))
        y, y_test = rng.integers(0, 10, len(y)), rng.integers(0, 10, len(y_test))
    elif labels != FOREST_LABELS[0]:
        raise ValueError(f"labels {labels!r}: use one of {FOREST_LABELS}")
    onehot = np.eye(10)[y_test]
    grid = [(1, 10), (1, 20), (1, 50), (1, 100), (1, n), (5, n), (20, n)]
    sq, wrong, train_err = {}, {}, {}
    for trees, leaves in grid:
        runs = []  # (seed, test point) squared losses
        for r in range(FOREST_REPEATS[trees]):
            train_p, test_p = forest(split.x, y, split.x_test, trees, leaves,
                                     derived_seed("dd.belkin-other-models", trees, leaves, r), proba=True)
            runs.append(np.sum((test_p - onehot) ** 2, 1))
            wrong.setdefault((trees, leaves), []).append(np.argmax(test_p, 1) != y_test)
            if (trees, leaves) == (1, n):
                train_err.setdefault("1 tree, n leaves", []).append(float(np.mean(np.argmax(train_p, 1) != y)))
        sq[trees, leaves] = np.array(runs)
        wrong[trees, leaves] = np.mean(wrong[trees, leaves], axis=0)
    capacity = [t * lv for t, lv in grid]
    curve_sq = np.array([sq[k].mean() for k in grid])
    curve_01 = np.array([wrong[k].mean() for k in grid])
    evidence.parameters(data="digits, 10 classes", labels=labels, n=n, test_points=len(y_test),
                        grid=grid, forest_seeds=str(FOREST_REPEATS))
    evidence.record("test squared loss by capacity N_leaf x N_tree", curve_sq, capacity=capacity)
    evidence.record("test 0-1 error by capacity N_leaf x N_tree", curve_01, capacity=capacity)
    evidence.upper_bound("(i) one tree with n leaves interpolates: train error", train_err["1 tree, n leaves"], 0.0)
    classical = [k for k in grid if k[0] == 1 and k[1] < n]
    sweet = min(classical, key=lambda k: sq[k].mean())

    def paired_z(a, b):
        """z of mean(a) - mean(b), a and b (seeds, test points): the forest seeds and the test points
        are both random, so the SE adds the spread of the per-seed means and of the per-point means."""
        se = np.sqrt(a.mean(1).var(ddof=1) / len(a) + b.mean(1).var(ddof=1) / len(b)
                     + (a.mean(0) - b.mean(0)).var(ddof=1) / a.shape[1])
        return float((a.mean() - b.mean()) / se)

    z_rise = paired_z(sq[1, n], sq[sweet])
    z_descent = paired_z(sq[sweet], sq[20, n])
    evidence.record("sweet spot (classical regime)", f"N_leaf = {sweet[1]}", squared_loss=float(sq[sweet].mean()))
    evidence.lower_bound("(ii) peak: risk at the threshold above the sweet spot (z)", z_rise, Z_FOREST)
    evidence.lower_bound("(iii) second descent: 20 trees below the sweet spot (z)", z_descent, Z_FOREST,
                         headline=True)
    right_1, right_20 = wrong[1, n] < 0.5, wrong[20, n] < 0.5
    b, c = int(np.sum(right_20 & ~right_1)), int(np.sum(right_1 & ~right_20))
    evidence.record("0-1 loss: 20 trees vs 1 tree at n leaves (McNemar z)", (b - c) / np.sqrt(b + c) if b + c else 0.0,
                    forest_only_right=b, tree_only_right=c)
    evidence.record("0-1 loss: threshold minus sweet spot (no peak if <= 0)",
                    float(wrong[1, n].mean() - min(wrong[k].mean() for k in classical)))
    evidence.record("false_alarm_budget", 1e-3)
    evidence.resolution(f"a rise / descent of {Z_FOREST} SE (~0.03 in squared loss here)")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.semilogx(capacity, curve_sq, "o-", label="test squared loss")
        ax.semilogx(capacity, curve_01, "s--", label="test 0-1 error")
        ax.axvline(n, color="k", ls="--", lw=0.8, label="interpolation threshold (1 tree, n leaves)")
        ax.set_xlabel("capacity N_leaf x N_tree")
        ax.legend(fontsize=7)

    evidence.figure("forest-double-descent", draw, "Random forests on digits: risk against capacity "
                    "N_leaf x N_tree (1 tree up to n leaves, then more trees).")


# ------------------------------------------------------------------- shallow networks
SHALLOW_N, SHALLOW_CLASSES, SHALLOW_NETWORKS = 100, 10, 4
#: Parameter counts P = H (d + 1) + (H + 1) K as multiples of the interpolation threshold n K.
SHALLOW_GRID = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 10.0)
SHALLOW_LABELS = ("digits", "labels independent of the digit")
WINDOW = (0.8, 1.25)  # the peak-location window of dd.belkin-rff (catalogue section 0)


@pytest.mark.claim("dd.belkin-other-models", uses=["two_layer_network_regression"])
@pytest.mark.network
@pytest.mark.no_near_miss("a shape claim (interpolation, then a descent below the classical minimum); the "
                          "wrong world (labels without signal) is its control; the peak is reported")
def test_belkin_shallow_network(evidence, algorithm, device, labels=SHALLOW_LABELS[0]):
    """Belkin et al.'s fully connected networks (one hidden layer of H units, squared loss on
    one-hot targets) at digits scale: n = 100 of the 10 classes (inputs centred), the other
    1697 digits as test set; H such that the parameter count P = H(d + 1) + (H + 1)K is
    0.25 ... 10 times the interpolation threshold nK = 1000; 4 networks per width, full-batch
    Adam (lr 1e-2, 3000 steps; Belkin et al. ran SGD to convergence, with weight reuse below
    the threshold). Medians over the networks. Asserted: (i) the widest networks interpolate
    (train MSE <= 1e-3 for P >= 2nK); (ii) the second descent: the widest network's risk is
    below the classical minimum min_{P <= 0.5 nK}. Reported, and deciding between verified and
    inconclusive: (iii) the peak, a rise >= 10% above the classical minimum at a P in
    [0.8, 1.25] nK (Belkin et al.: at P = nK). Measured: rise 1.2x at 0.76 nK, where Adam with
    this budget first interpolates - the peak part is inconclusive at this scale.

    False alarm: (i) and (ii) held with margins 200x and 2.6x (one draw of 4 networks per
    width; the medians' spread is ~10%), so a failure needs a 2.6x swing of the widest or the
    classical risk: not derived, stated <= 1e-2; (iii) cannot fail, it downgrades. Power:
    labels independent of the digit (the wrong world) give no descent below the classical
    minimum."""
    train = algorithm("two_layer_network_regression")
    split = digits_split(SHALLOW_N, seed=derived_seed("dd.belkin-other-models", "network split") % 2**31)
    centre = split.x.mean(0)
    x, x_test = split.x - centre, split.x_test - centre
    y, y_test = split.y, split.y_test
    if labels == SHALLOW_LABELS[1]:
        rng = np.random.default_rng(derived_seed("dd.belkin-other-models", "network independent labels"))
        y, y_test = rng.integers(0, 10, len(y)), rng.integers(0, 10, len(y_test))
    elif labels != SHALLOW_LABELS[0]:
        raise ValueError(f"labels {labels!r}: use one of {SHALLOW_LABELS}")
    targets, targets_test = one_hot(y, SHALLOW_CLASSES), one_hot(y_test, SHALLOW_CLASSES)
    d, k, threshold = x.shape[1], SHALLOW_CLASSES, SHALLOW_N * SHALLOW_CLASSES
    widths = [max(1, int(round((f * threshold - k) / (d + 1 + k)))) for f in SHALLOW_GRID]
    params = np.array([h * (d + 1) + (h + 1) * k for h in widths])
    train_mse, test_mse = [], []
    for h in widths:
        with threads(1):  # thousands of small products: one thread (see problems.runtime)
            pred, pred_test = train(x, targets, x_test, h, steps=3000, lr=1e-2, networks=SHALLOW_NETWORKS,
                                    seed=derived_seed("dd.belkin-other-models", "network", h), device=str(device))
        train_mse.append(np.median(((pred - targets) ** 2).sum(-1).mean(-1)))
        test_mse.append(np.median(((pred_test - targets_test) ** 2).sum(-1).mean(-1)))
    train_mse, test_mse = np.array(train_mse), np.array(test_mse)
    ratio = params / threshold
    evidence.parameters(n=SHALLOW_N, classes=k, widths=widths, parameters=params.tolist(), labels=labels,
                        networks=SHALLOW_NETWORKS)
    evidence.record("median test MSE by P / (n K)", test_mse, ratio=ratio)
    evidence.record("median train MSE by P / (n K)", train_mse, ratio=ratio)
    classical = float(test_mse[ratio <= 0.5].min())
    peak = int(np.argmax(np.where(ratio <= 1.25, test_mse, -np.inf)))
    evidence.upper_bound("(i) the widest networks interpolate: train MSE (P >= 2 nK)", train_mse[ratio >= 2], 1e-3)
    evidence.upper_bound("(ii) second descent: widest risk / classical minimum", test_mse[-1] / classical, 1.0,
                         headline=True)
    rise = float(test_mse[peak] / classical)
    evidence.record("(iii) peak: max risk at P <= 1.25 nK / classical minimum", rise, at=float(ratio[peak]),
                    window=WINDOW)
    evidence.record("false_alarm_budget", 1e-2)
    evidence.resolution("(ii) any descent below the classical minimum; (iii) reported: a rise >= 10% inside "
                        "[0.8, 1.25] nK")
    if rise < 1.1 or not WINDOW[0] <= ratio[peak] <= WINDOW[1]:
        evidence.inconclusive(f"the peak part is not reproduced at this scale: the risk rises {rise:.2f}x above "
                              f"the classical minimum at P = {ratio[peak]:.2f} nK, where Belkin et al. put it at "
                              "P = nK (n = 100, Adam 3000 steps: the networks interpolate below nK); the "
                              "interpolation of wide networks and the second descent below the classical "
                              "minimum are reproduced")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.loglog(ratio, test_mse, "o-", label="median test MSE")
        ax.loglog(ratio, np.maximum(train_mse, 1e-6), "s--", label="median train MSE")
        ax.axvline(1.0, color="k", ls="--", lw=0.8, label="P = n K")
        ax.set_xlabel("parameters / (n K)")
        ax.legend(fontsize=7)

    evidence.figure("shallow-network", draw, "Two-layer networks on digits (n = 100, 10 classes): risk "
                    "against the parameter count over the interpolation threshold nK.")
