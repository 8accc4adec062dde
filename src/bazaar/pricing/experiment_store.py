"""Price experiments in the database: their lifecycle, who saw which variant, the counts.

The ``experiment_runs`` table (an experiment's lifecycle: draft, running, stopped) is
defined here; exposures and conversions are :mod:`bazaar.pricing.store`'s tables. A quote
records exposures (:func:`record_exposure`), staff move runs on and read
:func:`variant_counts` for results. These queries are separate from
:mod:`bazaar.pricing.admin_store`, which holds the rule rows, budgets, coupons and groups
that every kind of pricing rule shares, because only experiments have a lifecycle and
results of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import UtcDateTime, dialect_insert, metadata
from bazaar.pricing.store import experiment_conversions, experiment_exposures

experiment_runs = sa.Table(
    "experiment_runs",
    metadata,
    sa.Column("experiment_id", sa.String(40), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("stopped_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'running', 'stopped')", name="status_known"),
)


@dataclass(frozen=True)
class RunRow:
    status: str  # draft | running | stopped
    started_at: datetime | None
    stopped_at: datetime | None


def insert_run(conn: Connection, experiment_id: str) -> None:
    conn.execute(experiment_runs.insert().values(experiment_id=experiment_id, status="draft"))


def runs(conn: Connection, experiment_ids: Iterable[str]) -> dict[str, RunRow]:
    wanted = sorted(set(experiment_ids))
    if not wanted:
        return {}
    e = experiment_runs
    rows = conn.execute(sa.select(e).where(e.c.experiment_id.in_(wanted)))
    return {r.experiment_id: RunRow(r.status, r.started_at, r.stopped_at) for r in rows}


def move_run(
    conn: Connection, experiment_id: str, *, from_status: str, to_status: str, now: datetime
) -> bool:
    """Move a run on (draft -> running -> stopped); False when it was not ``from_status``."""
    e = experiment_runs
    stamp = {"started_at": now} if to_status == "running" else {"stopped_at": now}
    result = conn.execute(
        e.update()
        .where(e.c.experiment_id == experiment_id, e.c.status == from_status)
        .values(status=to_status, **stamp)
    )
    return result.rowcount == 1


def record_exposure(
    conn: Connection, experiment_id: str, variant_id: str, unit_id: str, now: datetime
) -> bool:
    """A unit saw a variant; only its first sighting counts. False when already counted."""
    statement = dialect_insert(conn, experiment_exposures).values(
        experiment_id=experiment_id, unit_id=unit_id, variant_id=variant_id, first_seen_at=now
    )
    # RETURNING, not rowcount: PostgreSQL reports no row count for INSERT ... ON CONFLICT here.
    first = statement.on_conflict_do_nothing(index_elements=["experiment_id", "unit_id"])
    return conn.execute(first.returning(experiment_exposures.c.unit_id)).first() is not None


@dataclass(frozen=True)
class VariantCounts:
    variant_id: str
    exposures: int
    conversions: int  # exposed units with at least one order
    revenue: int  # minor units, over those units' orders
    revenue_squares: int  # sum over units of (the unit's revenue) squared


def variant_counts(conn: Connection, experiment_id: str, currency: str) -> list[VariantCounts]:
    """Per variant: exposed units, and the orders in ``currency`` of those units.

    An order counts for the variant the unit was exposed to (its exposure row), so a
    conversion without an exposure is ignored and no rate can exceed 1. Two statements
    whatever the traffic: exposures by variant, then revenue per unit summed per variant.
    """
    x, c = experiment_exposures, experiment_conversions
    exposed: dict[str, int] = {
        str(row.variant_id): int(row.units)
        for row in conn.execute(
            sa.select(x.c.variant_id, sa.func.count().label("units"))
            .where(x.c.experiment_id == experiment_id)
            .group_by(x.c.variant_id)
        )
    }
    per_unit = (
        sa.select(x.c.variant_id, sa.func.sum(c.c.revenue).label("revenue"))
        .join(c, sa.and_(c.c.experiment_id == x.c.experiment_id, c.c.unit_id == x.c.unit_id))
        .where(x.c.experiment_id == experiment_id, c.c.currency == currency)
        .group_by(x.c.variant_id, x.c.unit_id)
        .subquery()
    )
    revenue: Any = per_unit.c.revenue
    if conn.dialect.name == "postgresql":  # squares of large revenues overflow 64-bit integers
        revenue = sa.cast(revenue, sa.Numeric(38, 0))
    converted = {
        row.variant_id: (int(row.units), int(row.revenue or 0), int(row.squares or 0))
        for row in conn.execute(
            sa.select(
                per_unit.c.variant_id,
                sa.func.count().label("units"),
                sa.func.sum(revenue).label("revenue"),
                sa.func.sum(revenue * revenue).label("squares"),
            ).group_by(per_unit.c.variant_id)
        )
    }
    return [
        VariantCounts(variant, count, *converted.get(variant, (0, 0, 0)))
        for variant, count in sorted(exposed.items())
    ]
