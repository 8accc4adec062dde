"""Identity, webhook subscriptions and the audit log: the services every other context uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from argon2 import PasswordHasher

from bazaar.audit.service import AuditService
from bazaar.identity.service import IdentityService
from bazaar.infra.netguard import IPNetwork, Resolver
from bazaar.webhooks.service import WebhookService

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_platform(
    container: Container,
    *,
    allowed_networks: Sequence[IPNetwork],
    resolve: Resolver | None,
    on_subscriptions_change: Callable[[], None],
) -> None:
    """Users and tokens, webhook subscriptions (checked against ``allowed_networks``), audit.

    ``on_subscriptions_change`` drops the event delivery's cached subscriptions, so a new or
    removed subscription is seen by the next event.
    """
    settings = container.settings
    container.identity = IdentityService(
        container.db,
        container.uow,
        container.clock,
        PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        container.limiter,
        container.cursors,
        token_ttl_s=settings.token_ttl_s,
        login_max_failures=settings.login_max_failures,
        login_lockout_s=settings.login_lockout_s,
    )
    container.webhooks = WebhookService(
        container.db,
        container.uow,
        container.clock,
        container.cursors,
        allowed_networks=allowed_networks,
        resolve=resolve,
        on_change=on_subscriptions_change,
    )
    container.audit = AuditService(container.db, container.uow, container.clock, container.cursors)
