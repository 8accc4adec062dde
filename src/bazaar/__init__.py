"""Bazaar: retail commerce and multi-party marketplace platform."""

__version__ = "0.1.0"
