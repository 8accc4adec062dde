"""Every context's tables on the one shared ``MetaData``, for Alembic and for tests.

Importing a context's ``store`` module registers its tables; list each one here.
"""

from __future__ import annotations

from bazaar.catalog import store as _catalog  # noqa: F401
from bazaar.identity import store as _identity  # noqa: F401
from bazaar.infra import outbox as _outbox  # noqa: F401
from bazaar.infra.db import metadata
from bazaar.webhooks import store as _webhooks  # noqa: F401

__all__ = ["metadata"]
