"""Self-tests of the harness: plugin, catalogue, reports, benchmarks (no claim checks)."""
