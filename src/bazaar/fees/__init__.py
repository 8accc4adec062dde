"""Fees: commission and fee rules, the double-entry ledger, seller statements and payouts."""
