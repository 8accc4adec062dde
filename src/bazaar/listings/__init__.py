"""Listings: a seller's offers and new products, normalised, checked and validated."""
