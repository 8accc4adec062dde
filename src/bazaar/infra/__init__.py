"""Adapters to infrastructure (cache, rate limits, blobs, ...), each behind a Protocol port."""
