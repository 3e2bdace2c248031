"""Minimisation problems: smooth functions with exact constants, SGD oracles, critical-point certificates."""
