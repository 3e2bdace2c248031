"""The gbu-claims pytest plugin, loaded from the package ``checks/plugin/`` (one module per concern).

* ``@pytest.mark.claim("bilinear.gda-diverges")`` ties a check to a catalogue entry;
  an unknown id, or a catalogue entry pointing to a missing check, stops the run.
* ``@pytest.mark.claim(..., uses=["extragradient", "init_{scheme}"])`` also declares the registry
  names a check looks up (templates filled from its parameters); ``--impl-only`` selects on it, and
  the ``algorithm`` fixture refuses an undeclared name or a call outside the family's contract.
* tiers: fast by default, ``--tier slow``, ``--tier network`` (network-scale claims at CPU
  scale), ``--tier gpu``, ``--tier cpu`` (fast + slow + network), ``--tier all``; the
  ``gpu`` marker skips with a reason when CUDA is absent; ``--device``, ``--scale``.
* ``--gbu-seed N`` shifts every seed the checks, problems and data generators derive
  (``problems.runtime.seed``); recorded in the results file and in each reproduce command.
* hypothesis profiles ``ci`` (derandomised; the default everywhere, so a local
  run is the CI run), ``dev`` (random, database on), ``nightly`` (exploration).
* the ``evidence`` fixture (reports.evidence.Evidence) and the ``algorithm``
  fixture (the registry, honouring ``--impl NAME=module:attr``).
* at session end one results file (JSON, atomic; partial snapshots while the
  run goes), with the evidence of every xdist worker.
"""
from __future__ import annotations

import os

# One BLAS thread per process: the problems are small (threads only contend, 6x slower
# L-BFGS-B was measured on a loaded 2-core machine) and xdist supplies the parallelism.
# Set before numpy loads its BLAS, which reads it once; torch keeps its own threads
# (problems.runtime.threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from checks.plugin import PLUGINS  # noqa: E402

pytest_plugins = PLUGINS
