"""Deterministic min-max problems: games with exact constants, weak-Minty instances, linear iteration maps, PEP certificates."""
