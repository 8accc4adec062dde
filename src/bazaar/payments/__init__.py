"""Payments: the gateway port, gateway answers and the life of a payment."""
