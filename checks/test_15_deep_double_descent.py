"""Deep double descent (Nakkiran, Kaplun, Bansal, Yang, Barak, Sutskever, ICLR 2020;
slide "Double descent curve in practice (II)"): model-wise and epoch-wise, on
MNIST-1D with 15% (20%) label noise, as in Greydanus's notebook
"6. deep_double_descent" / Prince's UDL book, section 8.4.

The trainer under test is ``algorithm("train_mlp_classifier")``. MNIST-1D is
generated locally (problems.overparam.datasets.mnist1d); without the ``mnist1d`` package
these checks skip with the reason. The full protocols need a GPU (``gpu``
marker); the CPU proxy (``slow``) is reduced and may come out inconclusive.
"""
from __future__ import annotations

import numpy as np
import pytest

from problems.overparam.datasets import DatasetUnavailable, Split, mnist1d
from problems.overparam.synthetic_regression import derived_seed


def noisy_mnist1d(num_samples: int, noise: float, tag: str) -> tuple[Split, np.ndarray]:
    """MNIST-1D with a fraction ``noise`` of the train labels replaced by uniform labels
    (which may coincide with the true one, as in the notebook); returns the split with
    noisy train labels and the mask of replaced labels."""
    try:
        split = mnist1d(num_samples, 0.5)
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))
    rng = np.random.default_rng(derived_seed("dd.nakkiran", tag, noise))
    replaced = rng.uniform(size=len(split.y)) < noise
    y = np.where(replaced, rng.integers(0, 10, len(split.y)), split.y)
    return Split(split.x, y, split.x_test, split.y_test), replaced


def model_wise_curve(evidence, algorithm, widths, epochs, num_samples, device, noise=0.15):
    """Train 40-h-h-10 MLPs (SGD lr 0.01, momentum 0.9, batch 100) for every width h;
    returns train and test error per width."""
    trainer = algorithm("train_mlp_classifier")
    split, _ = noisy_mnist1d(num_samples, noise, "model-wise")
    train_err, test_err = [], []
    for h in widths:
        out = trainer(split.x, split.y, split.x_test, (h, h), epochs=epochs, lr=0.01, batch_size=100,
                      seed=derived_seed("dd.nakkiran-model-wise", h), device=device, optimizer="sgd",
                      stop_at_interpolation=False)
        train_err.append(1 - out["train_accuracy"])
        test_err.append(float(np.mean(np.argmax(out["test_logits"], 1) != split.y_test)))
    train_err, test_err = np.array(train_err), np.array(test_err)
    evidence.record("train error by width", train_err, widths=widths)
    evidence.record("test error by width", test_err, widths=widths)
    return train_err, test_err


def judge_model_wise(evidence, widths, train_err, test_err, noise):
    """The catalogue's criteria; h* = smallest width with train error <= 1%."""
    widths = np.asarray(widths)
    evidence.upper_bound("the largest width memorises noisy labels (train error below the noise rate)",
                         train_err[-1], 0.9 * noise)
    fitted = np.flatnonzero(train_err <= 0.01)
    if len(fitted) == 0:
        evidence.inconclusive("no width reached train error <= 1%: the interpolation threshold is not crossed")
        return
    h_star = widths[fitted[0]]
    peak = int(np.argmax(test_err))
    ok = (h_star / 2 <= widths[peak] <= 2 * h_star and test_err[-1] <= test_err[peak] - 0.05
          and np.any(test_err[widths < h_star / 2] <= test_err[peak] - 0.03))
    evidence.record("interpolation threshold h* and test-error peak", int(h_star), peak_width=int(widths[peak]),
                    peak_error=float(test_err[peak]), last_error=float(test_err[-1]))
    if not ok:
        evidence.inconclusive("the test-error curve does not show the double-descent shape at this budget "
                              "(peak in [h*/2, 2h*], 5 points above the largest width, 3 above a small width)")

    def draw(fig):
        ax = fig.add_subplot(111)
        ax.semilogx(widths, test_err, "o-", label="test error")
        ax.semilogx(widths, train_err, "s-", label="train error (noisy labels)")
        ax.axvline(h_star, color="k", ls="--", lw=0.8, label="interpolation threshold h*")
        ax.set_xlabel("hidden width h")
        ax.legend(fontsize=7)
    evidence.figure("model-wise", draw, f"MNIST-1D, {int(noise * 100)}% label noise: test and train error vs width; "
                    "dashed: the smallest width with train error <= 1%.")


@pytest.mark.claim("dd.nakkiran-model-wise", uses=["train_mlp_classifier"])
@pytest.mark.slow
def test_model_wise_double_descent_cpu_proxy(evidence, algorithm):
    """CPU proxy: 2000 train / 2000 test MNIST-1D samples, 15% label noise, widths 8, 32, 128,
    100 epochs (the notebook uses 4000 samples, 28 widths, 1000 epochs): the largest width
    must memorise noisy labels; the double-descent shape is asserted only if it appears,
    otherwise the verdict is inconclusive (measured here: test error 0.55-0.60 at every
    width, no peak: inconclusive)."""
    widths = (8, 32, 128)
    train_err, test_err = model_wise_curve(evidence, algorithm, widths, 100, 4000, "cpu")
    judge_model_wise(evidence, widths, train_err, test_err, 0.15)


@pytest.mark.claim("dd.nakkiran-model-wise", uses=["train_mlp_classifier"])
@pytest.mark.gpu
def test_model_wise_double_descent_gpu(evidence, algorithm, device, scale):
    """The notebook's protocol: 4000 / 4000 samples, 15% label noise, the 28 widths, 1000 epochs
    (at --scale tiny: 500 / 500 samples, widths 16 and 256, 100 epochs: the code path only)."""
    widths = (2, 4, 6, 8, 10, 14, 18, 22, 26, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90, 100, 120, 140, 160, 180, 200,
              250, 300, 400)
    epochs, samples = 1000, 8000
    if scale == "tiny":
        widths, epochs, samples = (16, 256), 100, 1000
    train_err, test_err = model_wise_curve(evidence, algorithm, widths, epochs, samples, device)
    judge_model_wise(evidence, widths, train_err, test_err, 0.15)


@pytest.mark.claim("dd.nakkiran-epoch-wise", uses=["train_mlp_classifier"])
@pytest.mark.gpu
def test_epoch_wise_double_descent_gpu(evidence, algorithm, device, scale):
    """Epoch-wise: the width-400 MLP on MNIST-1D with 20% label noise, Adam 1e-4, test
    error logged every 10 epochs for 2000 epochs; passes as 'verified' if some
    e1 < e2 < e3 have test(e2) >= test(e1) + 2 points and test(e3) <= test(e2) - 2 points,
    else 'inconclusive' (the effect is fragile; the catalogue expects inconclusive). At --scale
    tiny: 500 / 500 samples, width 256, Adam 1e-3, 150 epochs (the code path only)."""
    trainer = algorithm("train_mlp_classifier")
    samples, width, lr, epochs = (8000, 400, 1e-4, 2000) if scale != "tiny" else (1000, 256, 1e-3, 150)
    split, _ = noisy_mnist1d(samples, 0.20, "epoch-wise")
    out = trainer(split.x, split.y, split.x_test, (width, width), epochs=epochs, lr=lr, batch_size=100,
                  seed=derived_seed("dd.nakkiran-epoch-wise"), device=device, stop_at_interpolation=False,
                  record_test_every=10)
    errors = [float(np.mean(p != split.y_test)) for p in out["history"]["test_predictions"]]
    train_err = [1 - out["train_accuracy"]]
    errors = np.array(errors)
    evidence.record("test error every 10 epochs", errors)
    evidence.upper_bound("training memorises the noisy labels (train error below the noise rate)", train_err[-1], 0.18)
    run_max = np.maximum.accumulate(errors)
    rise = np.array([errors[j] - errors[:j].min() for j in range(1, len(errors))])
    found = any(rise[j - 1] >= 0.02 and np.any(errors[j + 1:] <= errors[j] - 0.02) for j in range(1, len(errors) - 1))
    evidence.record("largest rise after a minimum", float(rise.max()), final_running_max=float(run_max[-1]))
    if not found:
        evidence.inconclusive("no rise of 2 points followed by a fall of 2 points in the test error")
