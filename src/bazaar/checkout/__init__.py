"""Checkout: addresses, VAT, shipping and the quote that prices a cart for delivery."""
