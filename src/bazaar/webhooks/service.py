"""Webhook subscription use cases, and the resolver that fans events out to subscriptions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.netguard import IPNetwork, check_outbound_url
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from bazaar.kernel.events import Actor, Event
from bazaar.kernel.ids import new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.webhooks import store
from bazaar.webhooks.model import (
    OPERATOR_OWNER,
    OWNER_TYPES,
    Subscription,
    WebhookSubscribed,
    WebhookUnsubscribed,
    validate_event_types,
)
from bazaar.webhooks.signature import generate_secret

UowFactory = Callable[[Actor], SqlUnitOfWork]
PLATFORM_OWNER_ID = "platform"


class WebhookService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        cursors: CursorCodec,
        *,
        allowed_networks: Sequence[IPNetwork] = (),
        resolve: Callable[[str, int], list[str]] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        # Told before a change commits (so that commit's own events see it) and after (so a
        # read that raced the commit is not kept): the resolver's cache of subscriptions.
        self._on_change = on_change or (lambda: None)
        self._uow = uow
        self._clock = clock
        self._cursors = cursors
        self._allowed_networks = tuple(allowed_networks)
        self._resolve = resolve

    def check_url(self, url: str) -> None:
        """Refuse URLs that resolve to private, loopback or link-local addresses (SSRF)."""
        check_outbound_url(
            url, allowed_networks=self._allowed_networks, resolve=self._resolve, field="url"
        )

    def subscribe(
        self,
        principal: Principal,
        *,
        url: str,
        event_types: list[str],
        description: str = "",
        owner_type: str | None = None,
        owner_id: str | None = None,
    ) -> Subscription:
        """Create a subscription; its secret is generated here and returned to the caller.

        Sellers, brands and partners subscribe for their own organisation; operators may name
        any owner, or none for a platform-wide subscription that sees every event.
        """
        owner_type, owner_id = self._owner_for(principal, owner_type, owner_id)
        types = validate_event_types(event_types)
        self.check_url(url)
        sub = Subscription(
            id=new_id("whk"),
            owner_type=owner_type,
            owner_id=owner_id,
            url=url,
            secret=generate_secret(),
            event_types=types,
            description=description.strip(),
            active=True,
            created_at=self._clock.now(),
        )
        with self._uow(principal.actor) as uow:
            store.insert(uow.conn, sub)
            self._on_change()
            uow.record(
                WebhookSubscribed(
                    subscription_id=sub.id,
                    owner_type=owner_type,
                    owner_id=owner_id,
                    url=url,
                    event_types=list(types),
                )
            )
            uow.commit()
        self._on_change()
        return sub

    def list(self, principal: Principal, *, limit: int, cursor: str | None) -> Page[Subscription]:
        """Operators see every subscription; others see their organisation's."""
        owner = self._visible_owner(principal)
        scope = scope_for("webhooks", owner=owner)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.list_for(conn, owner, after_id, limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda s: s.id)

    def get(self, principal: Principal, sub_id: str) -> Subscription:
        owner = self._visible_owner(principal)
        with self._db.read() as conn:
            sub = store.get(conn, sub_id)
        if (
            sub is None
            or not sub.active
            or (owner is not None and (sub.owner_type, sub.owner_id) != owner)
        ):
            raise NotFound("No such webhook subscription")
        return sub

    def unsubscribe(self, principal: Principal, sub_id: str) -> None:
        """Deactivate a subscription; deliveries still queued for it end as dead, not lost."""
        sub = self.get(principal, sub_id)
        with self._uow(principal.actor) as uow:
            if store.deactivate(uow.conn, sub.id):
                self._on_change()
                uow.record(
                    WebhookUnsubscribed(
                        subscription_id=sub.id, owner_type=sub.owner_type, owner_id=sub.owner_id
                    )
                )
            uow.commit()
        self._on_change()

    def _owner_for(
        self, principal: Principal, owner_type: str | None, owner_id: str | None
    ) -> tuple[str, str]:
        if principal.role is Role.OPERATOR and principal.kind == "user":
            if owner_type is None and owner_id is None:
                return OPERATOR_OWNER, PLATFORM_OWNER_ID
            if owner_type not in OWNER_TYPES or not owner_id:
                raise ValidationFailed.on("owner_type", "Name both owner_type and owner_id")
            return owner_type, owner_id
        if principal.role in (Role.SELLER, Role.BRAND, Role.PARTNER) and principal.org_id:
            principal.require_scope("webhooks:write")
            if owner_type not in (None, principal.role.value) or owner_id not in (
                None,
                principal.org_id,
            ):
                raise PermissionDenied("You can only subscribe for your own organisation")
            return principal.role.value, principal.org_id
        raise PermissionDenied("This role cannot subscribe to webhooks")

    def _visible_owner(self, principal: Principal) -> tuple[str, str] | None:
        if principal.role is Role.OPERATOR and principal.kind == "user":
            return None
        if principal.role in (Role.SELLER, Role.BRAND, Role.PARTNER) and principal.org_id:
            principal.require_scope("webhooks:read")
            return principal.role.value, principal.org_id
        raise PermissionDenied("This role has no webhook subscriptions")


class WebhookResolver:
    """Outbox subscriber resolver: one delivery per interested, entitled subscription.

    Every commit with events asks it, so it keeps the active subscriptions in memory instead
    of querying each time. :meth:`invalidate` (called by :class:`WebhookService` around its
    changes) makes the next commit read them again; a change made by another process is
    picked up within ``ttl_s``.
    """

    def __init__(
        self, *, ttl_s: float = 2.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._generation = 0
        # (generation it was read in, when it was read, the active subscriptions)
        self._cached: tuple[int, float, _ActiveSubscriptions] | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._cached = None

    def subscribers(self, conn: Connection, events: Sequence[Event]) -> list[list[str]]:
        active = self._active(conn)
        return [
            [f"webhook:{sub.id}" for sub in active.candidates(event) if sub.wants(event)]
            for event in events
        ]

    def _active(self, conn: Connection) -> _ActiveSubscriptions:
        now = self._monotonic()
        with self._lock:
            cached, generation = self._cached, self._generation
        if cached is not None and cached[0] == generation and now - cached[1] < self._ttl_s:
            return cached[2]
        active = _ActiveSubscriptions.of(store.active(conn))
        with self._lock:
            # A change committed while this read ran bumped the generation: keep the result
            # for this commit only, the next one reads again.
            if self._generation == generation:
                self._cached = (generation, now, active)
        return active


@dataclass(frozen=True)
class _ActiveSubscriptions:
    """Active subscriptions indexed by owner, so an event is checked against only those
    that may see it: every one for a public event, else the operators' and its audience's."""

    every: tuple[Subscription, ...]
    operators: tuple[Subscription, ...]
    by_owner: Mapping[str, tuple[Subscription, ...]]

    @classmethod
    def of(cls, subs: Sequence[Subscription]) -> _ActiveSubscriptions:
        by_owner: dict[str, list[Subscription]] = {}
        for sub in subs:
            by_owner.setdefault(sub.owner_ref, []).append(sub)
        return cls(
            every=tuple(subs),
            operators=tuple(s for s in subs if s.owner_type == OPERATOR_OWNER),
            by_owner={ref: tuple(group) for ref, group in by_owner.items()},
        )

    def candidates(self, event: Event) -> tuple[Subscription, ...]:
        if event.public:
            return self.every
        found = self.operators
        for ref in event.audience():
            if not ref.startswith(f"{OPERATOR_OWNER}:"):  # operators' are in already
                found += self.by_owner.get(ref, ())
        return found


def subscription_for_delivery(db: Database, sub_id: str) -> Subscription | None:
    with db.read() as conn:
        return store.get(conn, sub_id)
