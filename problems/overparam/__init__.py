"""Over-parameterisation: datasets (offline), synthetic regression, independent network oracles."""
