"""Outbound webhooks: endpoint registration, signed delivery and receiver-side verification."""
