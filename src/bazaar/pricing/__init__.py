"""Pricing: price lists, sale prices, promotions, coupons and price experiments.

Pure Python. :mod:`bazaar.pricing.model` is the entry point that decides every price a
customer sees; the other modules hold one idea each (price lists, promotions, stacking,
coupons, experiments).
"""
