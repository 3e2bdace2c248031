"""Question Q1 with vanishing steps (Robbins-Monro; Theorem 1 of Mertikopoulos,
Hallak, Kavis, Cevher, NeurIPS 2020 [62]) and the cool-down figure of the
outer-problem slides (catalogue 2.1). Slow tier: long Monte Carlo runs.

An almost-sure asymptotic claim can only be supported in finite time. The
checks test what the theorems imply at a finite horizon: iterates stay
bounded and end in a basin of a critical point, and the mean-square distance
to it shrinks between K/10 and K significantly (the null "no shrinking" is
rejected) and as the linearised recursion e_{k+1} = (1 - alpha_k c)^2 e_k + alpha_k^2 sigma^2
predicts (c the curvature at the minimiser).
"""
from __future__ import annotations



import numpy as np
import pytest
import torch

from problems.runtime import seed as _seed
from problems.runtime import threads
from problems.optim.sgd_oracles import chi2_variance_band, run_optimizer, second_moment
from problems.optim.smooth_functions import CoerciveWell, DoubleWell, student_t_noise

SEEDS = 512



def _shrink_check(evidence, label, dist_early, dist_late, e_early, e_late, samples, linearisation=None):
    """Mean-square distances at K/10 and K against the linearised exact e_k (chi-square band
    widened by the linearisation error; only recorded when ``linearisation`` is None), and a
    significant shrink (ratio > 1 beyond the band)."""
    lo, hi = chi2_variance_band(samples, 1e-4)
    for when, d, e in (("K/10", dist_early, e_early), ("K", dist_late, e_late)):
        if linearisation is None:
            evidence.record(f"{label}: E dist^2 at {when} / linearised exact e", float(np.mean(d**2) / e))
        else:
            evidence.tight(f"{label}: E dist^2 at {when} / linearised exact e", np.mean(d**2) / e, 1.0,
                           abs=max(1 - lo, hi - 1) + linearisation)
    ratio = np.mean(dist_early**2) / np.mean(dist_late**2)
    evidence.lower_bound(f"{label}: E dist^2 shrinks from K/10 to K (beyond the noise of the estimate)", ratio,
                         hi / lo, headline=True)
    evidence.record(f"{label}: shrink factor, measured vs linearised", float(ratio), predicted=float(e_early / e_late))


@pytest.mark.slow
@pytest.mark.claim("sgd.q1-vanishing-step-bounded", uses=["polynomial_step", "sgd"])
@pytest.mark.parametrize("p", [0.6, 0.8, 1.0])
def test_robbins_monro_convergence(evidence, algorithm, p):
    """SGD on the double well (x^2 - 1)^2/4 (bounded iterates in practice; gradient not globally
    Lipschitz) with g = grad f + zeta, zeta ~ N(0, 1), alpha_k = 0.5/(k + 10)^p, p in (1/2, 1]
    (sum alpha = inf, sum alpha^2 < inf), starts +-(1 + U(-0.1, 0.1)): all 512 seeds end within 0.1
    of a minimiser +-1, median |grad f(x_K)| < 0.05, and E (x - x*)^2 follows the linearised
    recursion (curvature 2) from e_0 = 0.01/3.
    Linearisation: grad f(1 + u) = 2u (1 + 3u/2 + u^2/2), relative error <= 1.5 * 4 sd at
    K/10; chi-square band at 1e-4 per comparison (<= 2e-3 per run)."""
    sgd, schedule = algorithm("sgd"), algorithm("polynomial_step")
    K, f = 10_000, DoubleWell()
    alpha = schedule(np.arange(K), gamma=0.5, m=10.0, p=p)
    seed = _seed("sgd.q1-vanishing-step-bounded", p)
    rng = np.random.default_rng(seed)
    x0 = rng.choice([-1.0, 1.0], (SEEDS, 1)) * rng.uniform(0.9, 1.1, (SEEDS, 1))  # E u0^2 = 0.01/3
    run = run_optimizer(sgd, x0, lambda x, k: f.gradient(x) + rng.standard_normal(x.shape), K, lr=alpha[0],
                        schedule=alpha, record=[K // 10, K])
    early, late = run["x"][0, :, 0], run["x"][1, :, 0]
    e = second_moment(alpha, f.curvature_at_minimum, 1.0, 0.01 / 3, np.array([K // 10, K]))
    evidence.parameters(p=p, gamma=0.5, m=10, sigma=1.0, K=K, seeds=SEEDS)
    evidence.set_seed(seed)
    evidence.upper_bound("distance to the nearest minimiser at K", f.distance_to_minimisers(run["x"][1]), 0.1)
    evidence.upper_bound("median |grad f(x_K)|", np.median(np.abs(f.gradient(run["x"][1]))), 0.05)
    lin = 1.5 * 4 * np.sqrt(max(e[0], 0.01 / 3))  # |u| <= 4 sd (or the start's 0.1)
    _shrink_check(evidence, f"p = {p}", np.abs(early) - 1, np.abs(late) - 1, e[0], e[1], SEEDS, lin)
    # chi-square bands at 1e-4 (two comparisons and the shrink), the 4-sd linearisation event: per p
    evidence.record("false_alarm_budget", 3e-4, note="per p; chi-square bands at 1e-4")
    evidence.resolution("rejects an SGD step 2x off at p = 0.6 (E dist^2 1.9x the prediction); finer errors "
                        "are hidden by the linearisation slack 6 sd (~0.35) and, at p = 1, by the weak dependence "
                        "of k E u^2 -> gamma^2/(2 gamma c - 1) on gamma")


@pytest.mark.slow
@pytest.mark.claim("sgd.q1-thm1-no-boundedness", uses=["polynomial_step", "sgd"])
@pytest.mark.parametrize("p", [0.4, 0.9])
def test_thm1_without_boundedness(evidence, algorithm, p):
    """Theorem 1 of [62]: f = sum_i sqrt(1 + x_i^2) + 2 exp(-x_i^2) (coercive, Lipschitz, L = 5,
    nonconvex: a local max at 0, minimisers +-u_m), heavy-tailed noise (Student-t, nu = 5: finite
    q = 4 moments), alpha_k = 0.5/(k + 10)^p with p > 2/(2 + q) = 1/3 (sum alpha^(1+q/2) < inf), no
    projection, starts far out in [-5, 5]^2. Pass: no divergence (max |x| <= 100 over the run);
    every seed ends in a minimiser's basin; the mean-square distance to the minimisers shrinks
    from K/10 to K beyond the estimate's noise (chi-square band at 1e-4: approximate here, the
    iterate being a weighted sum of many t-variables). The linearised prediction is recorded,
    not asserted (heavy tails and the cubic term make its band unknown)."""
    sgd, schedule = algorithm("sgd"), algorithm("polynomial_step")
    K, f = 10_000, CoerciveWell()
    alpha = schedule(np.arange(K), gamma=0.5, m=10.0, p=p)
    seed = _seed("sgd.q1-thm1-no-boundedness", p)
    rng = np.random.default_rng(seed)
    biggest = np.zeros(1)

    def observe(k, x):
        biggest[0] = max(biggest[0], float(np.abs(x).max()))

    run = run_optimizer(sgd, rng.uniform(-5, 5, (SEEDS, 2)), lambda x, k: f.gradient(x) + student_t_noise(rng, x.shape),
                        K, lr=alpha[0], schedule=alpha, record=[K // 10, K], observe=observe)
    e = second_moment(alpha, f.curvature_at_minimum, 1.0, 0.0, np.array([K // 10, K]))
    evidence.parameters(p=p, gamma=0.5, m=10, noise="Student-t nu=5, unit variance", K=K, seeds=SEEDS,
                        curvature=f.curvature_at_minimum, u_min=f.u_min)
    evidence.set_seed(seed)
    evidence.upper_bound("max |x_k| over the run and the seeds (no divergence)", biggest[0], 100.0)
    evidence.upper_bound("distance to the minimisers at K < u_m (same basin)",
                         np.abs(np.abs(run["x"][1]) - f.u_min).max(), f.u_min)
    early = (np.abs(run["x"][0]) - f.u_min).ravel()
    late = (np.abs(run["x"][1]) - f.u_min).ravel()
    _shrink_check(evidence, f"p = {p}", early, late, e[0], e[1], early.size)
    evidence.record("false_alarm_budget", 1e-4, note="per p; the shrink test's chi-square band (approximate: heavy tails)")
    evidence.resolution("rejects a schedule decaying like k^-0.1 (no basin reached by K at p = 0.9)")
    evidence.note("Finite-time support for an almost-sure statement: boundedness and the shrinking trend "
                  "are what the theorem implies at this horizon.")


# ------------------------------------------------------------ sgd.cooldown-helps
CUTOFFS = (0.7, 0.8, 0.9, 0.95)
T_LEVEL = 1e-3  # one-sided level of each paired t-test


def _train_paired(sgd, schedule, data, *, seeds: int, epochs: int, device: str, width: int = 0, batch: int = 16,
                  alpha: float = 0.5, weight_decay: float = 1e-2) -> dict[str, np.ndarray]:
    """Classifiers trained by the registry's SGD (minibatch ``batch``) on cross-entropy +
    (weight_decay/2) ||W||^2, under five schedules: row 0 the constant alpha, row i the cool-down
    alpha/(1 + (k - k0)/period) after k0 = CUTOFFS[i-1] * steps (period = one epoch). width = 0:
    softmax regression; width > 0: one hidden ReLU layer, no biases. All seeds train at once
    (leading batch axis); seed s has its own initialisation (N(0, 1/fan_in)) and batch order,
    shared by the five schedules (paired runs); one parameter group per schedule, whose lr the
    loop sets at every step. Returns the final training objective and test error, (5, seeds), and
    the constant run's full training objective at the first cut-off, (seeds,) ("at_first_cutoff")."""
    x = torch.tensor(data.x, dtype=torch.float64, device=device)
    y = torch.tensor(data.y, dtype=torch.long, device=device)
    xt = torch.tensor(data.x_test, dtype=torch.float64, device=device)
    yt = torch.tensor(data.y_test, dtype=torch.long, device=device)
    n, p, classes = len(y), x.shape[1], int(max(data.y.max(), data.y_test.max())) + 1
    gens = [torch.Generator().manual_seed(_seed("sgd.cooldown-helps", p, width, s)) for s in range(seeds)]
    shapes = [(p, classes)] if width == 0 else [(p, width), (width, classes)]

    def init(shape):  # identical initialisation for every schedule (paired), per seed
        return torch.stack([torch.randn(shape, generator=g, dtype=torch.float64) / np.sqrt(shape[0]) for g in gens])

    start = [init(sh) for sh in shapes]
    groups = [[w.clone().to(device).requires_grad_(True) for w in start] for _ in range(1 + len(CUTOFFS))]
    per_epoch = int(np.ceil(n / batch))
    total = epochs * per_epoch
    steps = np.stack([np.full(total, alpha)] + [schedule(np.arange(total), alpha=alpha, cutoff=c * total,
                                                         period=per_epoch) for c in CUTOFFS])
    opt = sgd([{"params": ws} for ws in groups], lr=alpha)

    def logits(ws, inputs):
        h = inputs
        for i, w in enumerate(ws):
            h = h @ w
            if i < len(ws) - 1:
                h = torch.relu(h)
        return h

    def objective(ws, idx):  # per seed: (seeds,)
        ce = torch.nn.functional.cross_entropy(logits(ws, x[idx]).reshape(-1, classes), y[idx].reshape(-1),
                                               reduction="none")
        return ce.reshape(idx.shape).mean(dim=1) + 0.5 * weight_decay * sum((w * w).sum(dim=(1, 2)) for w in ws)

    everything = torch.arange(n, device=device).expand(seeds, n)
    first_cut = int(CUTOFFS[0] * total)
    at_first_cutoff = None
    with threads(1 if device == "cpu" else torch.get_num_threads()):  # small tensors: see run_optimizer
        k = 0
        for _ in range(epochs):
            order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
            for i in range(per_epoch):
                idx = order[:, i * batch:(i + 1) * batch]
                if k == first_cut:
                    with torch.no_grad():
                        at_first_cutoff = objective(groups[0], everything).cpu().numpy()
                for g, group in enumerate(opt.param_groups):
                    group["lr"] = float(steps[g, k])
                opt.zero_grad()
                sum(objective(ws, idx).sum() for ws in groups).backward()
                opt.step()
                k += 1
        with torch.no_grad():
            final = np.stack([objective(ws, everything).cpu().numpy() for ws in groups])
            error = np.stack([(logits(ws, xt.expand(seeds, *xt.shape)).argmax(-1) != yt).double().mean(-1).cpu().numpy()
                              for ws in groups])
    return {"objective": final, "test_error": error, "at_first_cutoff": at_first_cutoff}


def _paired_t(gains: np.ndarray) -> np.ndarray:
    """t statistic of the mean of paired gains per row (seeds along the last axis)."""
    mean, sd = gains.mean(-1), gains.std(-1, ddof=1)
    return np.divide(mean, sd / np.sqrt(gains.shape[-1]), out=np.zeros_like(mean), where=sd > 0)


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps", uses=["cooldown_step", "sgd"])
def test_cooldown_proxy_on_digits(evidence, algorithm):
    """CPU proxy of the ResNet/CIFAR-10 figure: L2-regularised softmax regression on scikit-learn's
    digits (a unique minimiser with non-vanishing minibatch noise, the regime of Theorem 4), 8 epochs
    of SGD with minibatch 16 and alpha = 0.5, constant vs a 1/k cool-down from cut-offs at
    70/80/90/95% of training, 32 paired seeds. Pass: for every cut-off the final training
    objective is lower than the constant run's, by a paired one-sided t-test at 1e-3 (false
    alarm <= 4e-3 over the four cut-offs, for roughly normal gains)."""
    from problems.overparam.datasets import digits_split
    from scipy import stats

    out = _train_paired(algorithm("sgd"), algorithm("cooldown_step"), digits_split(1400, seed=0), seeds=32,
                        epochs=8, device="cpu")
    gains = out["objective"][0] - out["objective"][1:]
    evidence.parameters(dataset="sklearn digits (1400 train)", model="softmax regression", weight_decay=1e-2,
                        batch=16, epochs=8, seeds=32, cutoffs=list(CUTOFFS), alpha=0.5)
    evidence.record("mean gain by cut-off (constant - cool-down)", dict(zip(map(str, CUTOFFS), gains.mean(1))))
    evidence.lower_bound("paired t statistic of the gain, every cut-off, against t_{0.999}", _paired_t(gains),
                         stats.t.isf(T_LEVEL, 31), headline=True)


COOLDOWN_NET = {"seeds": 12, "epochs": 40, "width": 64, "batch": 32, "alpha": 0.3, "weight_decay": 1e-4}


@pytest.mark.slow
@pytest.mark.claim("sgd.cooldown-helps", uses=["cooldown_step", "sgd"])
def test_cooldown_on_a_small_network(evidence, algorithm, device, alpha: float = COOLDOWN_NET["alpha"],
                                     seeds: int = COOLDOWN_NET["seeds"]):
    """"Using 1/k step-size decrease helps in practice": the figure's protocol on a small network.
    MLP 40-64-10 (ReLU, no biases) on MNIST-1D (4000 train, 1000 test), cross-entropy + 1e-4/2
    ||W||^2, SGD minibatch 32, alpha = 0.3, 40 epochs; constant vs the 1/k cool-down from
    70/80/90/95% of training; 12 paired seeds (same initialisation and batch order for all five
    schedules). Regime precondition (the figure's: the constant step has reached its noise floor
    before the first cut-off): from 70% of training to the end the constant run's training
    objective improves by at most 5% (mean over seeds of the signed relative change). Decision rule (reports/catalogue/criteria-log.md): per
    cut-off, a paired one-sided t-test at 1e-3 of gain = constant − cool-down, for the final
    training objective and for the final test error.
      verified  — every one of the 8 tests significant (gain > 0);
      refuted   — some gain significantly negative (t < −t_{0.999});
      otherwise inconclusive.
    False alarm (verified when no cut-off helps): ≤ 8e-3 (union over the 8 tests, for roughly
    normal gains). Power per test: ≥ 0.9 for a true mean gain ≥ (t_{0.999,11} + t_{0.9,11})/√12 ≈
    1.55 seed-SD, recorded with the measured effect sizes. ``alpha`` is the controls' world;
    ``seeds`` lets a control whose world fails by a wide margin run cheaper."""
    from problems.overparam.datasets import mnist1d
    from scipy import stats

    cfg = dict(COOLDOWN_NET, alpha=alpha, seeds=seeds)
    out = _train_paired(algorithm("sgd"), algorithm("cooldown_step"), mnist1d(), device=str(device), **cfg)
    gains = {k: out[k][0] - out[k][1:] for k in ("objective", "test_error")}
    seeds = cfg["seeds"]
    t_crit = stats.t.isf(T_LEVEL, seeds - 1)
    t_stats = {k: _paired_t(g) for k, g in gains.items()}
    effect = {k: g.mean(1) / g.std(1, ddof=1) for k, g in gains.items()}
    power_at = (t_crit + stats.t.isf(0.1, seeds - 1)) / np.sqrt(seeds)
    evidence.parameters(dataset="MNIST-1D (4000 train, 1000 test)", model="MLP 40-64-10", cutoffs=list(CUTOFFS),
                        **cfg)
    evidence.record("final training objective, constant step (per seed)", out["objective"][0])
    evidence.record("final test error, constant step (per seed)", out["test_error"][0])
    for k in gains:
        evidence.record(f"{k}: mean gain by cut-off (constant - cool-down)",
                        dict(zip(map(str, CUTOFFS), gains[k].mean(1))))
        evidence.record(f"{k}: effect size mean/SD by cut-off", dict(zip(map(str, CUTOFFS), effect[k])))
    evidence.record("false_alarm_budget", 8 * T_LEVEL)
    # signed: at the noise floor the objective fluctuates by several per cent both ways; a run still
    # descending improves systematically between the first cut-off and the end
    plateau = float(np.mean((out["at_first_cutoff"] - out["objective"][0]) / out["objective"][0]))
    evidence.record("constant run: mean |objective(0.7T) - objective(T)| / objective(T) (fluctuation at the floor)",
                    float(np.mean(np.abs(out["at_first_cutoff"] - out["objective"][0]) / out["objective"][0])))
    evidence.upper_bound("regime: constant run no longer descending after the first cut-off (mean rel. "
                         "improvement 0.7T -> T <= 5%)", plateau, 0.05)
    evidence.record("effect size detected with power 0.9 per test", power_at)
    worse = {k: float(t.min()) for k, t in t_stats.items()}
    helped = all(bool((t > t_crit).all()) for t in t_stats.values())
    evidence.record("paired t statistics (objective, test error) by cut-off",
                    {k: dict(zip(map(str, CUTOFFS), v)) for k, v in t_stats.items()}, critical=t_crit)
    evidence.resolution(f"detects a mean gain >= {power_at:.2f} seed-SD with power 0.9 per test; a step of "
                        "alpha/10 (no noise floor to cool down from) is not verified (wrong-world control)")
    if min(worse.values()) < -t_crit:
        measure = min(worse, key=worse.get)
        evidence.refutes("a cool-down made the final result significantly worse than the constant step",
                         counterexample=f"{measure}: paired t = {worse[measure]:.1f} < -{t_crit:.2f}")
    elif helped:
        evidence.lower_bound("every cut-off: paired t of the training-objective gain > t_{0.999}",
                             t_stats["objective"], t_crit, headline=True)
        evidence.lower_bound("every cut-off: paired t of the test-error gain > t_{0.999}", t_stats["test_error"],
                             t_crit)
    else:
        evidence.inconclusive("not every cut-off lowers both the training objective and the test error "
                              "significantly at 1e-3 (see the t statistics), and none is significantly worse")

    def draw(fig):
        ax = fig.add_subplot(111)
        labels = ["constant"] + [f"cut-off {int(c * 100)}" for c in CUTOFFS]
        ax.boxplot([out["test_error"][i] for i in range(5)], tick_labels=labels)
        ax.set_ylabel("final test error (16 seeds)")
        ax.tick_params(axis="x", labelsize=7)

    evidence.figure("cooldown", draw, "MNIST-1D MLP: final test error per schedule (paired seeds).")
