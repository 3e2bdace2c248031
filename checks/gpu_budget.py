"""The GPU tier's plan: each full-scale check's time, measured at tiny scale and extrapolated,
printed before the tier starts; a plan over the budget (10 minutes on one H100) is refused
unless ``--gpu-budget-override``.

A gpu check declares its cost with ``@pytest.mark.gpu_budget(estimate=f)``, ``f(cal)``
returning seconds from a :class:`Calibration`. The calibration times the batched engine on
the run's device at tiny scale — a few steps of a one-network bucket (the per-bucket-step cost,
launch-bound on a GPU) and of a wide bucket (the multiply-add rate) — and
:func:`Calibration.training_seconds` extrapolates a population's training from the engine's
own bucket plan: bucket steps × per-step cost + padded multiply-adds / rate. A check without
the marker is listed as "no estimate" (and counted as 0 in the total, which the plan says).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

BUDGET_S = 600.0


@dataclass(frozen=True)
class Calibration:
    device: str
    seconds_per_bucket_step: float
    seconds_per_mac: float

    def training_seconds(self, specs, num_train: int, epochs: int, evaluations: int = 0,
                         eval_samples: int = 0, input_dim: int = 40, classes: int = 10) -> float:
        """Time to train ``specs`` for ``epochs`` on ``num_train`` samples (plus ``evaluations``
        passes over ``num_train + eval_samples`` samples), by the engine's bucket plan."""
        from algorithms.batched_training import plan_buckets, _padded_macs

        overhead = 3e8 if self.device.startswith("cuda") else 3e6
        groups: dict[tuple[int, int], list] = {}
        for s in specs:
            groups.setdefault((len(s.hidden), s.batch_size), []).append([input_dim, *s.hidden, classes])
        total = 0.0
        for (_, batch), dims in groups.items():
            steps_per_epoch = -(-num_train // batch)
            for part in plan_buckets(dims, batch, overhead):
                macs = _padded_macs([dims[i] for i in part], batch)
                step = self.seconds_per_bucket_step + macs * self.seconds_per_mac
                total += epochs * steps_per_epoch * step
                total += evaluations * (num_train + eval_samples) / batch * macs / 3 * self.seconds_per_mac
        return total


def calibrate(device: str) -> Calibration:
    """Time the engine at tiny scale on ``device``: a 1-network width-8 bucket (step cost) and
    a 4-network width-512 bucket (multiply-add rate), per step, after a warm-up."""
    import numpy as np
    import torch

    from algorithms import registry
    from algorithms.batched_training import NetworkSpec, _padded_macs

    engine = registry.get("train_mlp_population")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2000, 40)), rng.integers(0, 10, 2000)

    def timed(specs):
        """Seconds per step: (3 epochs − 1 epoch) / 40 steps, so set-up and evaluation cancel."""
        engine(x[:200], y[:200], specs, epochs=1, device=device)  # warm-up (allocations, kernels)
        seconds = []
        for epochs in (1, 3):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            engine(x, y, specs, epochs=epochs, device=device)  # 20 steps of batch 100 per epoch
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - start)
        return max(seconds[1] - seconds[0], 1e-9) / 40

    from problems.runtime import threads

    with threads(1):  # as the checks run the engine
        small = timed([NetworkSpec((8, 8), 1e-3, 0)])
        wide = timed([NetworkSpec((512, 512), 1e-3, s) for s in range(4)])
    macs = _padded_macs([[40, 512, 512, 10]] * 4, 100)
    return Calibration(device, small, max(wide - small, 1e-12) / macs)


def plan(items, device: str) -> tuple[list[tuple[str, float | None]], float, Calibration]:
    """(nodeid, seconds or None) per gpu item, the total, and the calibration used."""
    cal = calibrate(device)
    rows = []
    for item in items:
        mark = item.get_closest_marker("gpu_budget")
        rows.append((item.nodeid, float(mark.kwargs["estimate"](cal)) if mark else None))
    return rows, sum(s for _, s in rows if s is not None), cal


def report_and_enforce(config, items) -> None:
    """Print the plan of the full-scale gpu items; refuse (UsageError) a plan over BUDGET_S."""
    import pytest

    gpu_items = [i for i in items if i.get_closest_marker("gpu")]
    scale = config.getoption("--scale")
    device = config.getoption("--device")
    if not gpu_items or device == "cpu" and scale != "full":
        return
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and scale != "full":
        return
    rows, total, cal = plan(gpu_items, device)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"GPU tier plan on {device} (per bucket step {cal.seconds_per_bucket_step * 1e3:.2f} ms, "
             f"{1 / cal.seconds_per_mac / 1e9:.1f} GMAC/s, measured at tiny scale):"]
    lines += [f"  {'no estimate' if s is None else f'{s:8.1f} s'}  {nodeid}" for nodeid, s in rows]
    lines.append(f"  total {total / 60:.1f} min (budget {BUDGET_S / 60:.0f} min"
                 f"{'; items without an estimate counted as 0' if any(s is None for _, s in rows) else ''})")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line)
    if total > BUDGET_S and not config.getoption("--gpu-budget-override"):
        raise pytest.UsageError(f"the GPU tier's plan takes {total / 60:.1f} min > {BUDGET_S / 60:.0f} min; shrink "
                                "the full-scale protocols or pass --gpu-budget-override")
