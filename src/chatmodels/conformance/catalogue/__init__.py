"""Requirement entries and tunables, one module per suite area."""
