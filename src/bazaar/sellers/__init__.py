"""Sellers: applications, their screening, tax ids and payout accounts, and seller status."""
