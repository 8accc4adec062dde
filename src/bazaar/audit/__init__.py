"""Audit: the operator's view of the event log and of event deliveries."""
