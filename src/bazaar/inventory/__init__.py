"""Inventory: warehouses, stock levels, reservations, allocation and stock feeds."""
