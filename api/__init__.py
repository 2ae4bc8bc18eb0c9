"""Backorders: keep selling when stock runs out."""

__version__ = "0.1.0"
