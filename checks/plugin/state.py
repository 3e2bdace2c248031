"""Stash keys: the plugin's run-wide state (``config.stash``) and per-check state (``item.stash``)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    """What one pytest run accumulates (on the xdist controller: the records of every worker)."""

    results: Path
    shard: Any = None  # pytest-split's (--splits N, --group i), or None
    collected: dict[str, str] | None = None  # nodeid -> tier of every collected check (those not run too)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    last_write: float = 0.0
    progress_total: int = 0
    summary: dict[str, Any] | None = None


RUN = pytest.StashKey[Run]()
EVIDENCE = pytest.StashKey[Any]()          # item -> reports.evidence.Evidence
LOOKUPS = pytest.StashKey[Any]()           # item -> algorithms.registry.LookupLog
USES = pytest.StashKey[frozenset]()        # item -> the registry names it declares (templates expanded)
