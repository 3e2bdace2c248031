"""Deep double descent (Nakkiran, Kaplun, Bansal, Yang, Barak, Sutskever, ICLR 2020; slide
"Double descent curve in practice (II)"), model-wise and epoch-wise, on MNIST-1D with 15 %
label noise and, in the same batched run, a 0 %-noise control (checks/double_descent_sweeps.py).
The engine under test is ``algorithm("train_mlp_population")``.

Criteria, fixed before the run at scale (from the catalogue's precise statement; the numbers
below are not to be tuned):

Model-wise. h* = the smallest width whose mean train error (noisy labels) is <= 1 % (the
empirical interpolation threshold; the sweep must cross it: asserted). A bump at width w_j in
[h*/2, 2h*] with rise_j = m_j − min_{w < h*/2} m >= 3 points and fall_j = m_j − m(widest)
>= 5 points (the catalogue's margins), each >= 2 standard errors (replicate-to-replicate).
Epoch-wise. The widest network's test error along the recorded epochs: a bump with rise
(from the minimum before) and fall (to the minimum after) >= 2 points each (the catalogue's
margins), each >= 2 standard errors.
Both. The detector's false-positive rate, measured on 2000 valley-shaped null curves (the
least-squares "U" closest to the run's mean curve) carrying the run's own replicate-to-replicate
noise (AR(1) along epochs), must be <= 5 %; and the 0 %-noise control's bump height must be at
most half the 15 % one (the peak shrinks or vanishes).

Decision rule (symmetric). The margin is min(rise − claimed rise, fall − claimed fall) at the
best peak; its 95 % interval is a bootstrap over replicates (2000 resamples, the interpolation
threshold recomputed in each; checks/double_descent_statistics.py). Verified: the interval's
lower end is > 0 (a bump of the claimed size, with confidence) and the criteria above hold.
Refuted: its upper end is < 0 (no bump of the claimed size, with confidence). Otherwise
inconclusive. Epoch-wise, the claim says only that the effect occurs (Nakkiran et al.: for
large models trained long), so a bump excluded with confidence is reported as "absent at this
protocol" with verdict inconclusive, as the catalogue asks. False-alarm budget: 2.5 % for
"verified" when the true margin is <= 0 (the interval's lower end; the point detector's
measured FPR on null curves, <= 5 %, bounds the stricter rule's from above), 2.5 % for
"refuted" when it is >= 0 (nominal; the percentile bootstrap at 16 replicates covers 92.5 % on a
planted bump of the measured shape, so each side is ~3.75 % — checks/harness/
test_double_descent_statistics.py); so a decisive verdict needs the world's margin, not the seed.

Power (model-wise, computed before the run of this design from the replicate-to-replicate
spread measured on the earlier 3-seed runs, CI seeds and --gbu-seed 1: their 95 % margin
intervals were 2.8 and 2.9 points wide, i.e. a standard error of 0.73 points at 3 replicates, a
per-replicate sd of σ₁ = 1.26 points; the two runs' margins, +0.8 and −0.3, differ by 1.1 points
where σ₁ predicts an sd of 1.03, so no extra between-run component showed). With S replicates
the margin's standard error is σ₁/√S and, for a true margin μ, P(verified) = Φ(μ√S/σ₁ − 1.96),
P(refuted) = Φ(−μ√S/σ₁ − 1.96). The budget (the network tier <= ~5 CPU-minutes on 2 idle
cores; ~9 CPU-s per replicate at 15 % and at 0 % noise measured on this machine) allows 20
replicate-curves: S = 16 at 15 % noise and 4 for the 0 % control (whose criterion, a height
ratio, was 0.0 against 2.1 allowed). Then SE = 0.32 points: a margin |μ| >= 4.0·SE = 1.3 points
gets the same decisive verdict in 5 of 5 reruns with probability >= 0.9 (each run >= 0.979); a
margin within ±1.3 points of the claimed size may come out inconclusive or decisive depending on
the draw (at μ = 0: inconclusive with probability 0.95 per run).
"""
from __future__ import annotations

import numpy as np
import pytest

from checks import double_descent_sweeps as sweeps
from checks.double_descent_statistics import BumpRule, bump, calibrate
from problems.runtime import seed

MODEL_RULE = BumpRule(rise=0.03, fall=0.05, z=2.0, references="threshold")
EPOCH_RULE = BumpRule(rise=0.02, fall=0.02, z=2.0, references="minima")
FPR_BUDGET, SHRINK, REPS, FIT = 0.05, 0.5, 2000, 0.01


def threshold_window(widths, train_mean) -> tuple[int, tuple[int, int]] | tuple[None, None]:
    """h* (index of the smallest width with mean train error <= 1 %) and the index range of [h*/2, 2h*]."""
    widths = np.asarray(widths)
    fitted = np.flatnonzero(np.asarray(train_mean) <= FIT)
    if len(fitted) == 0:
        return None, None
    h = widths[fitted[0]]
    inside = np.flatnonzero((widths >= h / 2) & (widths <= 2 * h))
    return int(fitted[0]), (int(inside[0]), int(inside[-1]))


def decide(evidence, name, E15, E0, rule, window15, window0, correlated, positions, unit, absent="refuted",
           window_of=None):
    """Apply the fixed criterion to the 15 % curve E15 (replicates, K) and the 0 % control E0 by
    the symmetric rule of the module docstring; a bump excluded with confidence gives ``absent``
    ("refuted", or "inconclusive" for a claim that says only that the effect occurs somewhere).
    ``window_of(rows)`` recomputes the model-wise window in each bootstrap resample."""
    b15, b0 = bump(E15, rule, window15), bump(E0, rule, window0)
    cal = calibrate(E15, rule, window15, correlated=correlated, reps=REPS, window_of=window_of,
                    rng=np.random.default_rng(seed("dd.nakkiran", name, "calibration")))
    peak = positions[b15.peak]
    lo, hi = positions[cal.peak_interval[0]], positions[cal.peak_interval[1]]
    evidence.record(f"{name}: bump height min(rise, fall), 95% interval", round(b15.height, 4),
                    interval=[round(v, 4) for v in cal.height_interval], peak=f"{unit} {peak}",
                    peak_range=f"{unit} {lo}-{hi}", rise=round(b15.rise, 4), fall=round(b15.fall, 4),
                    z_rise=round(b15.z_rise, 2), z_fall=round(b15.z_fall, 2))
    evidence.record(f"{name}: margin min(rise - {rule.rise:g}, fall - {rule.fall:g}), 95% replicate-bootstrap "
                    "interval", round(b15.margin, 4), interval=[round(v, 4) for v in cal.margin_interval],
                    replicates=E15.shape[0], resamples=cal.reps, undefined_resamples=cal.undefined)
    evidence.record(f"{name}: detector false-positive rate on valley nulls with the run's noise",
                    cal.false_positive_rate, nulls=cal.reps, ar1_phi=round(cal.noise.phi, 3),
                    sigma_range=[round(float(cal.noise.sigma.min()), 4), round(float(cal.noise.sigma.max()), 4)])
    evidence.record(f"{name}: 0%-noise control bump height", round(b0.height, 4), noisy=round(b15.height, 4),
                    replicates=E0.shape[0])
    lower, upper = cal.margin_interval
    defined = cal.undefined <= 0.025 * cal.reps  # else the interval's tails are not known
    fires, calibrated = b15.fires(rule), cal.false_positive_rate <= FPR_BUDGET
    shrinks = b0.height <= SHRINK * b15.height
    if defined and lower > 0 and fires and calibrated and shrinks:
        evidence.lower_bound(f"{name}: bump margin's 95% lower bound (points above the claimed rise and fall)",
                             lower, 0.0, headline=True)
        evidence.lower_bound(f"{name}: rise and fall in standard errors", min(b15.z_rise, b15.z_fall), rule.z)
        evidence.upper_bound(f"{name}: detector false-positive rate", cal.false_positive_rate, FPR_BUDGET)
        evidence.upper_bound(f"{name}: 0%-noise bump height / 15% bump height", b0.height, SHRINK * b15.height)
        return "verified", b15, b0, cal
    if defined and upper < 0 and absent == "inconclusive":
        evidence.inconclusive(f"{name}: absent at this protocol — no bump of the claimed size (rise >= {rule.rise:g}, "
                              f"fall >= {rule.fall:g}; margin's 97.5% bound {upper:.4f} < 0); the claim says the "
                              "effect occurs (Nakkiran et al.: large models, long training), which one proxy cannot "
                              "refute")
        return "absent", b15, b0, cal
    if defined and upper < 0:
        evidence.refutes(f"{name}: no double-descent bump of the claimed size (rise >= {rule.rise:g}, fall >= "
                         f"{rule.fall:g}): the bump margin's 97.5% upper bound is {upper:.4f} < 0",
                         counterexample=f"MNIST-1D, 15% noise, protocol {name}: bump height {b15.height:.3f} "
                                        f"(95% interval {cal.height_interval[0]:.3f}-{cal.height_interval[1]:.3f})")
        return "refuted", b15, b0, cal
    why = [w for w, bad in ((f"margin's 95% interval {lower:.4f}..{upper:.4f} includes 0", lower <= 0 <= upper),
                            ("no bump of the claimed size and significance at the point estimate", not fires),
                            (f"detector FPR {cal.false_positive_rate:.3f} > {FPR_BUDGET}", not calibrated),
                            (f"0%-noise bump {b0.height:.4f} not <= half of 15% ({b15.height:.4f})", not shrinks),
                            (f"{cal.undefined} of {cal.reps} resamples admit no peak", not defined)) if bad]
    evidence.inconclusive(f"{name}: " + "; ".join(why))
    return "inconclusive", b15, b0, cal


def judge_model_wise(evidence, sweep):
    widths = np.asarray(sweep.protocol.widths)
    tr15, tr0 = sweep.final("train_error", 0).mean(0), sweep.final("train_error", 1).mean(0)
    evidence.record("train error by width (15% noise, 0% noise)", tr15.round(4), control=tr0.round(4))
    evidence.upper_bound("the widest networks memorise the noisy labels (train error, interpolation threshold "
                         "crossed)", tr15[-1], FIT)
    evidence.lower_bound("the narrowest networks do not (train error >= half the noise rate)", tr15[0],
                         sweep.protocol.noise[0] / 2)
    h15, win15 = threshold_window(widths, tr15)
    h0, win0 = threshold_window(widths, tr0)
    if h0 is None:
        win0 = win15
    evidence.holds("the grid reaches below h*/2", [win15[0] > 0 and win0[0] > 0],
                   f"h* = {widths[h15]}, smallest width {widths[0]}")
    train15 = sweep.final("train_error", 0)
    verdict, b15, b0, cal = decide(evidence, "model-wise", sweep.final("test_error", 0),
                                   sweep.final("test_error", 1), MODEL_RULE, win15, win0, False, widths, "width",
                                   window_of=lambda rows: threshold_window(widths, train15[rows].mean(0))[1])
    evidence.record("interpolation threshold h* (15%, 0%)", int(widths[h15]),
                    control=None if h0 is None else int(widths[h0]))
    draw_model_wise(evidence, sweep, widths[h15], b15, cal, verdict)
    return verdict


def judge_epoch_wise(evidence, sweep):
    widths = np.asarray(sweep.protocol.widths)
    E15, E0 = sweep.test_error[0][-1], sweep.test_error[1][-1]  # widest width: (replicates, epochs)
    tr = sweep.train_error[0][-1, :, -1].mean()
    evidence.upper_bound(f"the widest network (h = {widths[-1]}) memorises the noisy labels", tr, FIT)
    verdict, b15, b0, cal = decide(evidence, "epoch-wise", E15, E0, EPOCH_RULE, None, None, True,
                                   np.asarray(sweep.epochs), "epoch", absent="inconclusive")
    draw_epoch_wise(evidence, sweep, b15, verdict)
    return verdict


# ---------------------------------------------------------------------------- figures
def draw_model_wise(evidence, sweep, h_star, b15, cal, verdict):
    widths = np.asarray(sweep.protocol.widths)

    def draw(fig):
        ax = fig.add_subplot(111)
        for r, (style, label) in enumerate((("o-", "15% label noise"), ("s--", "0% (control)"))):
            te, tr = sweep.final("test_error", r), sweep.final("train_error", r)
            ax.errorbar(widths, te.mean(0), yerr=te.std(0, ddof=1), fmt=style, ms=3, capsize=2,
                        label=f"test, {label}")
            ax.plot(widths, tr.mean(0), style, ms=3, alpha=0.45, label=f"train, {label}")
        ax.plot(widths, cal.null_curve, ":", color="gray", label="valley null (no 2nd descent)")
        ax.axvline(h_star, color="k", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xticks(widths, [str(w) for w in widths], fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("hidden width h (40-h-h-10 MLP)")
        ax.set_ylabel("error")
        ax.set_title(f"model-wise: {verdict}", fontsize=9)
        ax.legend(fontsize=6)
    p = sweep.protocol
    evidence.figure("model-wise", draw, f"MNIST-1D ({p.num_train} train), {p.seeds} replicates (0%: {p.replicates(1)}): "
                    "test and train error vs width at the last epoch, 15% label noise and the 0% control; dashed "
                    f"line: interpolation threshold h* = {h_star}; bars: replicate-to-replicate sd.")


def draw_epoch_wise(evidence, sweep, b15, verdict):
    widths, epochs = np.asarray(sweep.protocol.widths), np.asarray(sweep.epochs)
    picks = sorted({0, len(widths) // 2, len(widths) - 2, len(widths) - 1})

    def draw(fig):
        ax = fig.add_subplot(111)
        for k in picks:
            line, = ax.plot(epochs, sweep.test_error[0][k].mean(0), "-", label=f"h = {widths[k]}, 15%")
            ax.plot(epochs, sweep.test_error[1][k].mean(0), "--", color=line.get_color(), label=f"h = {widths[k]}, 0%")
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test error")
        ax.set_title(f"epoch-wise (widest h = {widths[-1]}): {verdict}", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
    evidence.figure("epoch-wise", draw, "MNIST-1D: test error vs epoch (mean over replicates), 15% label noise (solid) "
                    "and the 0% control (dashed); the criterion reads the widest network.")


# ----------------------------------------------------------------------------- checks
@pytest.mark.claim("dd.nakkiran-model-wise", uses=["train_mlp_population"])
@pytest.mark.network
def test_model_wise_double_descent(evidence, algorithm, protocol=sweeps.CPU, sweep=None):
    """Network tier: the CPU protocol (checks/double_descent_sweeps.py: 4000 train, widths
    16-192, 200 epochs of Adam, 16 replicates at 15 % noise (each its own label draw) and 4 at
    0 % in one batched run); the criterion, decision rule and power of the module docstring."""
    sweep = sweep or sweeps.run_sweep(algorithm("train_mlp_population"), protocol)
    evidence.parameters(protocol=protocol.name, widths=list(protocol.widths), seeds=protocol.seeds,
                        control_seeds=protocol.replicates(1),
                        epochs=protocol.epochs, train_seconds=round(sweep.seconds, 1))
    judge_model_wise(evidence, sweep)
    evidence.resolution("rejects a bump 1 point short of the claimed rise/fall (near-miss control) and a valley "
                        "curve with the run's noise (wrong world)")


@pytest.mark.claim("dd.nakkiran-epoch-wise", uses=["train_mlp_population"])
@pytest.mark.network
def test_epoch_wise_double_descent(evidence, algorithm, protocol=sweeps.CPU, sweep=None):
    """Network tier: the widest network of the same batched run, test error at 30
    log-spaced epochs; the criterion of the module docstring."""
    sweep = sweep or sweeps.run_sweep(algorithm("train_mlp_population"), protocol)
    evidence.parameters(protocol=protocol.name, width=protocol.widths[-1], seeds=protocol.seeds,
                        epochs=protocol.epochs)
    judge_epoch_wise(evidence, sweep)
    evidence.resolution("rejects a bump 0.5 point short of the claimed 2-point rise/fall (near-miss control) and "
                        "a valley curve with the run's noise (wrong world)")


def gpu_cost(cal) -> float:
    """The full-scale sweep: training plus the recorded evaluations (train and test sets)."""
    p = sweeps.GPU
    return cal.training_seconds(p.specs(), p.num_train, p.epochs, evaluations=len(p.record_epochs()),
                                eval_samples=4000)


@pytest.mark.claim("dd.nakkiran-model-wise", uses=["train_mlp_population"])
@pytest.mark.gpu
@pytest.mark.gpu_budget(estimate=gpu_cost)
def test_model_wise_double_descent_gpu(evidence, algorithm, device, scale, sweep=None):
    """GPU tier: the notebook's protocol (28 widths, SGD lr 0.01 momentum 0.9, 1000 epochs),
    5 seeds, 15 % and 0 % noise; at --scale tiny the code path only (inconclusive)."""
    from checks.support import measured_at

    protocol = sweeps.GPU if scale == "full" else sweeps.TINY
    sweep = sweep or sweeps.run_sweep(algorithm("train_mlp_population"), protocol, device)
    evidence.parameters(protocol=protocol.name, device=device, train_seconds=round(sweep.seconds, 1))
    with measured_at(evidence, scale):
        judge_model_wise(evidence, sweep)


@pytest.mark.claim("dd.nakkiran-epoch-wise", uses=["train_mlp_population"])
@pytest.mark.gpu
@pytest.mark.gpu_budget(estimate=lambda cal: 0.0)  # reads the model-wise check's run (memoised in the process)
def test_epoch_wise_double_descent_gpu(evidence, algorithm, device, scale, sweep=None):
    """GPU tier: the widest network (h = 400) of the notebook-protocol run, 40 log-spaced
    epochs up to 1000; at --scale tiny the code path only (inconclusive)."""
    from checks.support import measured_at

    protocol = sweeps.GPU if scale == "full" else sweeps.TINY
    sweep = sweep or sweeps.run_sweep(algorithm("train_mlp_population"), protocol, device)
    evidence.parameters(protocol=protocol.name, device=device)
    with measured_at(evidence, scale):
        judge_epoch_wise(evidence, sweep)
