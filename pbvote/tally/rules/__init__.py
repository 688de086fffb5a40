"""Voting rules. Each takes ``(instance, profile, params)`` with complete params and returns an Outcome."""
