"""Reference implementations, registered by name (see :mod:`algorithms.registry`)."""
from algorithms.registry import get, names, reference, register, substitute, substituted

__all__ = ["get", "names", "reference", "register", "substitute", "substituted"]
