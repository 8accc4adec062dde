"""Carts: guest and customer carts, their items, expiry, abandonment and the cart quote."""
