"""Catalog: products shoppers browse and every other context refers to by id."""
