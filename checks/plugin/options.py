"""Options and tiers: the command line, hypothesis profiles, ``--gbu-seed``, the ``device`` and
``scale`` fixtures."""
from __future__ import annotations

import contextlib
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

TIERS = ("fast", "slow", "network", "gpu", "cpu", "all")
TIER_SETS = {"fast": {"fast"}, "slow": {"slow"}, "network": {"network"}, "gpu": {"gpu"},
             "cpu": {"fast", "slow", "network"}, "all": {"fast", "slow", "network", "gpu"}}
PROFILE_VARIABLE = "GBU_HYPOTHESIS_PROFILE"
_QUIET_HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                 HealthCheck.data_too_large, HealthCheck.filter_too_much]

# Checks state their example counts; a profile scales them (checks/support.py).
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          max_examples=20, suppress_health_check=_QUIET_HEALTH)
settings.register_profile("dev", derandomize=False, deadline=None, max_examples=20,
                          print_blob=True, suppress_health_check=_QUIET_HEALTH)
# fresh: what `python -m reports false-alarms` reruns under: random and no example database,
# so that a failing example found by one run is not replayed by the next (independent runs).
settings.register_profile("fresh", derandomize=False, deadline=None, database=None, max_examples=20,
                          print_blob=True, suppress_health_check=_QUIET_HEALTH)
settings.register_profile("nightly", derandomize=False, deadline=None, max_examples=400,
                          print_blob=True, suppress_health_check=_QUIET_HEALTH)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("gbu-claims")
    g.addoption("--tier", choices=TIERS, default="fast",
                help="which checks run: fast (default), slow, network, gpu, cpu (= fast + slow + network) or all")
    g.addoption("--gbu-seed", type=int, default=None, metavar="N",
                help="shift every derived seed by N (fresh randomness on the same code; default: the fixed CI seeds)")
    g.addoption("--device", default="auto",
                help="torch device for network checks: auto (cuda if present), cpu, cuda, cuda:1 ...")
    g.addoption("--results", default=None,
                help="results file to write (default reports/out/results-<tier>.json)")
    g.addoption("--impl", action="append", default=[], metavar="NAME=module:attr",
                help="run the checks of algorithm NAME against your implementation")
    g.addoption("--impl-only", action="store_true",
                help="with --impl: run only the checks that use a substituted algorithm")
    g.addoption("--impl-timeout", type=float, default=60.0, metavar="SECONDS",
                help="time limit for one call of a substituted implementation (contract rule R5)")
    g.addoption("--scale", choices=("tiny", "full"), default=None,
                help="size of network-scale (gpu) experiments: full on CUDA, tiny otherwise (default)")
    g.addoption("--no-figures", action="store_true", help="do not draw figures")
    g.addoption("--gpu-budget-override", action="store_true",
                help="run the GPU tier even when its plan exceeds the 10-minute budget (checks/gpu_budget.py)")


_PREVIOUS = pytest.StashKey[tuple[str, str | None]]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from problems.runtime import SEED_VARIABLE

    # what this run changes process-wide, restored at its end (a pytest run inside a check, pytester)
    config.stash[_PREVIOUS] = (settings.get_current_profile_name(), os.environ.get(SEED_VARIABLE))
    # The default profile, loaded before Hypothesis's own plugin, whose pytest_configure then loads
    # --hypothesis-profile if given; both run before collection imports the checks (whose @settings
    # and examples() read the profile at import).
    settings.load_profile(os.environ.get(PROFILE_VARIABLE, "ci"))
    shift = config.getoption("--gbu-seed")
    if shift is not None:
        from problems.runtime import set_seed_shift

        set_seed_shift(shift)  # through the environment, so xdist workers and subprocesses see it


def pytest_unconfigure(config: pytest.Config) -> None:
    from problems.runtime import SEED_VARIABLE

    profile, shift = config.stash.get(_PREVIOUS, (None, None))
    if profile is not None:
        settings.load_profile(profile)
    if shift is None:
        os.environ.pop(SEED_VARIABLE, None)
    else:
        os.environ[SEED_VARIABLE] = shift


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Each check runs with one torch intra-op thread on the CPU, as numpy runs with one BLAS thread
    (conftest.py): the tensors are small, so a second thread only spins (10-50x slower measured on a
    loaded 2-core machine, e.g. the digits MLP of checks/test_14_mystery.py: 13 s vs 270 s), and
    xdist supplies the parallelism. torch is not imported for this: a run without it pins nothing."""
    with _one_cpu_thread(item.config):
        yield


def _one_cpu_thread(config: pytest.Config):
    torch = sys.modules.get("torch")
    choice = config.getoption("--device")
    if torch is None or choice.startswith("cuda") or (choice == "auto" and torch.cuda.is_available()):
        return contextlib.nullcontext()
    from problems.runtime import threads

    return threads(1)


def tier_of(item: pytest.Item) -> str:
    for tier in ("gpu", "network", "slow"):
        if item.get_closest_marker(tier):
            return tier
    return "fast"


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """The torch device the network checks run on (``--device``)."""
    choice = request.config.getoption("--device")
    if choice == "auto":
        return "cuda" if cuda_available() else "cpu"
    if choice.startswith("cuda") and not cuda_available():
        pytest.skip(f"--device {choice}: CUDA is not available on this machine")
    return choice


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest, device: str) -> str:
    """'full' or 'tiny': how large a network-scale experiment runs (``--scale``;
    default full on CUDA, tiny on the CPU)."""
    return request.config.getoption("--scale") or ("full" if device.startswith("cuda") else "tiny")
