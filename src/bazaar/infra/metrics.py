"""Prometheus metrics: request latency by route template, and the outbox's health.

Each application gets its own registry (several apps can live in one test process). Outbox
figures are read from the database at scrape time, so every API process reports the same
queue, whichever one the scraper reaches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bazaar.infra.outbox import OutboxStats

log = logging.getLogger("bazaar.metrics")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _OutboxCollector(Collector):
    def __init__(self, read_stats: Callable[[], OutboxStats]) -> None:
        self._read_stats = read_stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            stats = self._read_stats()
        except Exception:  # a scrape must not fail because the database is briefly away
            log.exception("could not read outbox stats")
            return
        deliveries = GaugeMetricFamily(
            "bazaar_outbox_deliveries", "Event deliveries by status", labels=["status"]
        )
        deliveries.add_metric(["pending"], stats.pending)
        deliveries.add_metric(["in_flight"], stats.in_flight)
        deliveries.add_metric(["dead"], stats.dead)
        yield deliveries
        yield GaugeMetricFamily(
            "bazaar_outbox_lag_seconds",
            "Age of the oldest delivery that is due and not yet delivered",
            value=stats.oldest_due_age_s,
        )


class Metrics:
    """The metrics one application exposes at ``/metrics``."""

    def __init__(self, read_outbox_stats: Callable[[], OutboxStats] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "bazaar_http_request_duration_seconds",
            "HTTP request latency by method, route template and status code",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "bazaar_http_rate_limited",
            "Requests refused by the rate limiter",
            registry=self.registry,
        )
        self.carts_abandoned = Counter(
            "bazaar_carts_abandoned",
            "Carts with items recorded as abandoned by the cart sweep (in this process)",
            registry=self.registry,
        )
        if read_outbox_stats is not None:
            self.registry.register(_OutboxCollector(read_outbox_stats))

    def render(self) -> bytes:
        return generate_latest(self.registry)
