"""Controls of the deep double-descent checks: a planted bug (a frozen engine, on a small
protocol where the correct engine memorises), wrong worlds (valley-shaped curves: the
classical regime with no second descent) and near misses (a bump short of the claimed size
by a stated margin), the last two as synthetic sweeps with 0.5-point seed-to-seed noise."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import checks.test_15_deep_double_descent as ddd
from algorithms import registry
from checks import double_descent_sweeps as sweeps
from checks.support import does_not_verify, on_both_tiers, rejects, verifies

SMALL = sweeps.TINY  # seconds, yet the correct engine's widest networks memorise the 15% noisy labels
# On the CPU grid (16, 24, 32, 48, 64, 96, 128, 192): h* = 96 at 15% noise, 64 at 0%.
TRAIN15 = [0.46, 0.40, 0.34, 0.18, 0.04, 0.0, 0.0, 0.0]
TRAIN0 = [0.37, 0.28, 0.20, 0.05, 0.0, 0.0, 0.0, 0.0]
CLEAN = [0.46, 0.44, 0.43, 0.42, 0.42, 0.40, 0.39, 0.38]  # the 0% control: no bump
SIGMA = 0.005  # 0.5-point seed-to-seed noise


def frozen_engine(x, y, specs, **kw):
    """BUG: every learning rate 0 — nothing is learnt, nothing memorised."""
    specs = [replace(s, lr=0.0) for s in specs]
    return registry.reference("train_mlp_population")(x, y, specs, **kw)


def model_sweep(curve15):
    return sweeps.synthetic_sweep(curve15, CLEAN, TRAIN15, TRAIN0, SIGMA, 7)


def epoch_sweep(curve15):
    epochs = np.array(sweeps.CPU.record_epochs(), float)
    clean = 0.42 + 0.3 * np.exp(-epochs / 10)
    return sweeps.synthetic_sweep(CLEAN, CLEAN, TRAIN15, TRAIN0, SIGMA, 11, epoch_curve15=curve15,
                                  epoch_curve0=clean)


def epoch_curve(rise: float, fall: float) -> np.ndarray:
    """Descends to 0.46 by epoch ~20, rises by ``rise`` to a peak at epoch ~50, then falls by ``fall``."""
    e = np.log(np.array(sweeps.CPU.record_epochs(), float))
    base = 0.46 + 0.3 * np.exp(-np.exp(e) / 3)
    up = rise * np.clip((e - np.log(20)) / (np.log(50) - np.log(20)), 0, 1)
    down = fall * np.clip((e - np.log(50)) / (np.log(150) - np.log(50)), 0, 1)
    return base + up - down


def correct_engine_memorises_on_small():
    """Not vacuous: on SMALL the reference engine's widest networks memorise the noisy labels."""
    sweep = sweeps.run_sweep(registry.reference("train_mlp_population"), SMALL)
    assert sweep.final("train_error", 0)[:, -1].mean() <= ddd.FIT, "SMALL is too small for the planted-bug control"


@pytest.mark.claim("dd.nakkiran-model-wise")
@pytest.mark.network
def test_frozen_engine_is_rejected_model_wise():
    correct_engine_memorises_on_small()
    rejects(ddd.test_model_wise_double_descent, "train_mlp_population", frozen_engine, protocol=SMALL)


@pytest.mark.claim("dd.nakkiran-epoch-wise")
@pytest.mark.network
def test_frozen_engine_is_rejected_epoch_wise():
    correct_engine_memorises_on_small()
    rejects(ddd.test_epoch_wise_double_descent, "train_mlp_population", frozen_engine, protocol=SMALL)


# The GPU-tier checks apply the same criterion to their full-scale run: each world is also shown to
# the GPU-tier twin of the check, at scale "full".
@pytest.mark.claim("dd.nakkiran-model-wise")
@pytest.mark.network
@pytest.mark.parametrize("check, scale, power", on_both_tiers(
    "wrong_world", ddd.test_model_wise_double_descent, ddd.test_model_wise_double_descent_gpu,
    "a classical U (valley) in width with 0.5-point noise: no second descent"))
def test_valley_in_width_is_not_verified(check, scale, power):
    valley = [0.50, 0.49, 0.48, 0.485, 0.49, 0.50, 0.51, 0.52]
    assert does_not_verify(check, sweep=model_sweep(valley), **scale) == "refuted"


@pytest.mark.claim("dd.nakkiran-model-wise")
@pytest.mark.network
@pytest.mark.parametrize("check, scale, power", on_both_tiers(
    "near_miss", ddd.test_model_wise_double_descent, ddd.test_model_wise_double_descent_gpu,
    "fall from the peak to the widest width 4 points where 5 are claimed (rise 4)",
    power=[0.50, 0.49, 0.49, 0.51, 0.53, 0.51, 0.49, 0.47]))  # 1 point beyond: the check's power
def test_bump_one_point_short_is_not_verified(check, scale, power):
    short = [0.50, 0.49, 0.49, 0.51, 0.53, 0.52, 0.51, 0.49]
    assert does_not_verify(check, sweep=model_sweep(short), **scale) != "verified"
    if power is not None:
        verifies(check, "a bump 1 point beyond the claimed size", sweep=model_sweep(power))


@pytest.mark.claim("dd.nakkiran-epoch-wise")
@pytest.mark.network
@pytest.mark.parametrize("check, scale, power", on_both_tiers(
    "wrong_world", ddd.test_epoch_wise_double_descent, ddd.test_epoch_wise_double_descent_gpu,
    "classical overfitting in epochs (descent, then a 3-point rise that stays) with 0.5-point noise",
    gpu_margin="classical overfitting in epochs (descent, then a 3-point rise that stays)"))
def test_overfitting_without_second_descent_is_not_verified(check, scale, power):
    assert does_not_verify(check, sweep=epoch_sweep(epoch_curve(0.03, 0.0)), **scale) != "verified"


@pytest.mark.claim("dd.nakkiran-epoch-wise")
@pytest.mark.network
@pytest.mark.parametrize("check, scale, power", on_both_tiers(
    "near_miss", ddd.test_epoch_wise_double_descent, ddd.test_epoch_wise_double_descent_gpu,
    "rise and fall of 1.5 points where 2 are claimed", power=(0.03, 0.03)))
def test_epoch_bump_half_a_point_short_is_not_verified(check, scale, power):
    assert does_not_verify(check, sweep=epoch_sweep(epoch_curve(0.015, 0.015)), **scale) != "verified"
    if power is not None:
        verifies(check, "an epoch-wise bump of 3 points", sweep=epoch_sweep(epoch_curve(*power)))
