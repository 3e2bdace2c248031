"""Run-time conventions shared by checks, problems and algorithms: derived seeds and thread counts.

* ``seed(*parts)`` derives every seed from what it is for — (claim, instance, repetition) —
  so that a check is reproducible on its own and independent of the order checks run in.
  ``--gbu-seed N`` (environment ``GBU_SEED``) shifts every derived seed at once: the same code
  rerun on fresh randomness. With no shift, ``seed`` is ``crc32("/".join(parts))``, the
  values the checks have always used, so CI is deterministic and its verdicts do not move.
* ``threads(n)``: torch's intra-op threads inside a block, restored afterwards. Small tensors on a
  shared 2-core machine run 10–50× slower with two spinning threads than with one (measured, see
  ``algorithms.networks``); nothing sets threads at import time.
* ``blas_threads(n)``: numpy's BLAS/LAPACK threads inside a block — a separate pool from torch's
  (threadpoolctl; a no-op without it). Many tiny LAPACK calls (L-BFGS-B, 2×2 SVDs) ran up to 6×
  slower with a multi-threaded BLAS on a loaded 2-core machine (measured).
"""
from __future__ import annotations

import contextlib
import os
import sys
import zlib
from typing import Iterator

SEED_VARIABLE = "GBU_SEED"


def seed_shift() -> int:
    """The run's seed shift (``--gbu-seed``; 0 = the fixed CI seeds)."""
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE}={raw!r}: expected an integer seed shift") from None


def set_seed_shift(shift: int) -> None:
    """Set the shift for this process and its children (pytest-xdist workers, subprocesses)."""
    os.environ[SEED_VARIABLE] = str(int(shift))


def shifted(text: str) -> str:
    """``text`` with the run's seed shift folded in (unchanged when there is none)."""
    shift = seed_shift()
    return f"gbu-seed={shift}/{text}" if shift else text


def seed(*parts: object) -> int:
    """A 32-bit seed derived from ``parts`` (claim id, instance, repetition, ...)."""
    return zlib.crc32(shifted("/".join(map(str, parts))).encode())


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``n`` inside the block."""
    torch = sys.modules.get("torch")
    if torch is None:
        import torch  # noqa: PLC0415 - only callers that run torch code ask for threads
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def blas_threads(n: int):
    """numpy's BLAS/LAPACK thread count set to ``n`` inside the block (threadpoolctl; without it,
    nothing changes: only a speed matter)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(max(1, int(n)))
