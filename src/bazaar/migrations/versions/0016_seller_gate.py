"""identity: seller API keys made before statements:read keep reading statements

Statements and payouts now need the scope ``statements:read`` on an API key. Every seller key
could read them before the scope existed, so each key a seller owns is given the scope once,
here, and no integration loses access on upgrade. Keys made from now on carry it only when
asked for.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from alembic import op

import bazaar.infra.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SCOPE = "statements:read"

api_keys = sa.table(
    "api_keys",
    sa.column("id", sa.String),
    sa.column("owner_type", sa.String),
    sa.column("scopes", bazaar.infra.db.Json),
)


def _rescope(add: bool) -> None:
    bind = op.get_bind()
    keys = bind.execute(
        sa.select(api_keys.c.id, api_keys.c.scopes).where(api_keys.c.owner_type == "seller")
    ).all()
    for key_id, stored in keys:
        scopes = set(cast(list[str], stored))
        wanted = scopes | {SCOPE} if add else scopes - {SCOPE}
        if wanted != scopes:
            bind.execute(
                api_keys.update().where(api_keys.c.id == key_id).values(scopes=sorted(wanted))
            )


def upgrade() -> None:
    _rescope(add=True)


def downgrade() -> None:
    _rescope(add=False)
