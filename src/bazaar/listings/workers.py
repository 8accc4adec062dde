"""The listing context's background work, started and stopped as one: feed imports and
validation passes (``bazaar worker``, or ``bazaar serve`` in the embedded set-up)."""

from __future__ import annotations

from dataclasses import dataclass

from bazaar.listings.feed_runner import FeedRunner
from bazaar.listings.runner import ValidationRunner


@dataclass
class ListingWorkers:
    validation: ValidationRunner
    feeds: FeedRunner

    def start(self) -> None:
        self.feeds.loop.start()
        self.validation.loop.start()

    def stop(self) -> None:
        self.feeds.loop.stop()
        self.validation.loop.stop()

    def drain(self) -> int:
        """Import every queued feed, then validate until nothing is due (tests, the CLI);
        return how many listings were validated."""
        self.feeds.drain()
        return self.validation.drain()
