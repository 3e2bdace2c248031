"""The gbu-claims pytest plugin, loaded by the root ``conftest.py``, one module per concern:

* :mod:`checks.plugin.options` — command-line options, tiers, hypothesis profiles, ``--gbu-seed``,
  the ``device`` and ``scale`` fixtures;
* :mod:`checks.plugin.selection` — catalogue validation, tier selection, ``--impl-only`` (by the
  checks' ``claim(..., uses=[...])`` declarations), the CUDA skip;
* :mod:`checks.plugin.implementations` — ``--impl``, the ``algorithm`` fixture (declared names
  only, calls within the family contract), the registry lookups of each check;
* :mod:`checks.plugin.results` — the ``evidence`` fixture, one record per check, the results
  file (a thin call into ``reports.results``), progress lines, the summary.

Run-wide state lives in ``config.stash`` (:mod:`checks.plugin.state`), per-check state in
``item.stash``.
"""
from __future__ import annotations

PLUGINS = ["checks.plugin.options", "checks.plugin.selection", "checks.plugin.implementations",
           "checks.plugin.results"]
