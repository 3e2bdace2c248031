"""Problem instances with exact constants, hypothesis strategies, and exact oracles."""
