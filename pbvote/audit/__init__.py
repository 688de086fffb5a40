"""Audit: the hash-chained log, exports and the standalone verifier (pure where possible)."""
