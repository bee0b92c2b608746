"""Fixtures shared across the test tree."""
