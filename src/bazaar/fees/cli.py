"""``bazaar ledger ...`` and ``bazaar payouts ...``: the ledger and payouts from a terminal.

``bazaar ledger check`` exits 0 and prints a summary when the ledger is sound, 1 and every
problem (on stderr) when it is not, so a cron job or a deploy step can gate on it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from bazaar.config import Settings
from bazaar.identity.model import Principal, Role
from bazaar.infra.logging import configure_logging

ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
payouts_app = typer.Typer(help="Seller payout runs.", no_args_is_help=True)

# The audit log names this system actor for what the commands write.
CLI_OPERATOR = Principal(kind="system", id="cli-ledger", role=Role.OPERATOR)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    return settings


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@ledger_app.command("check")
def check() -> None:
    """Verify the whole ledger: every transaction balances, nothing is posted or reversed
    twice, reversals mirror their originals, refunds never exceed payments."""
    from bazaar.bootstrap import build

    container = build(_settings())
    try:
        report = container.ledger.check()
    finally:
        container.close()
    if not report.ok:
        for p in report.problems:
            typer.echo(f"{p.code}\t{p.transaction_id}\t{p.message}", err=True)
        raise _fail(f"{len(report.problems)} problem(s) in the ledger")
    typer.echo(f"ledger ok: {report.transactions} transactions, {report.entries} entries")
    for (account, _), balance in report.account_balances.items():
        typer.echo(f"{account}\t{balance}")


@ledger_app.command("charge-listing-fees")
def charge_listing_fees(
    month: Annotated[
        str | None, typer.Option(help="YYYY-MM, a month that is over (default: last month)")
    ] = None,
) -> None:
    """Charge sellers their monthly listing fees (idempotent per seller and month)."""
    from bazaar.bootstrap import build
    from bazaar.kernel.errors import DomainError

    container = build(_settings())
    try:
        if month is None:
            first = datetime.now(UTC).date().replace(day=1)
            day = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
        else:
            try:
                day = datetime.strptime(month, "%Y-%m").date()
            except ValueError:
                raise _fail("--month must be YYYY-MM") from None
        try:
            charged = container.ledger.charge_listing_fees(day)
        except DomainError as exc:
            raise _fail(exc.detail) from exc
    finally:
        container.close()
    for seller_id, amount in charged.items():
        typer.echo(f"{seller_id}\t{amount}")
    typer.echo(f"sellers charged: {len(charged)}")


@ledger_app.command("settle-refunds")
def settle_refunds() -> None:
    """Post the refunds the payment gateway has paid back (workers do this too)."""
    from bazaar.bootstrap import build

    container = build(_settings())
    try:
        done = container.ledger.settle_refunds()
    finally:
        container.close()
    typer.echo(f"refunds settled: {done}")


def _print_run(run_id: str, status: str, total: str, items: int, held: int) -> None:
    typer.echo(f"run {run_id}: {status}, {items} payout(s), total {total}, {held} held")


@payouts_app.command("run")
def run(
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Also confirm the planned batch")
    ] = False,
) -> None:
    """Plan this week's payout run as of today (the same week gives the same run)."""
    from bazaar.bootstrap import build
    from bazaar.kernel.errors import DomainError

    container = build(_settings())
    try:
        planned, _ = container.payouts.plan_run(CLI_OPERATOR)
        if confirm:
            planned = container.payouts.confirm_run(CLI_OPERATOR, planned.id)
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    finally:
        container.close()
    batch = planned.batch
    _print_run(planned.id, batch.status.value, str(batch.total), len(batch.items), len(batch.held))
    for item in batch.items:
        typer.echo(f"{planned.item_id(item)}\t{item.seller_id}\t{item.amount}\t{item.status}")
    for h in batch.held:
        typer.echo(f"held\t{h.seller_id}\t{h.amount}\t{h.reason}")


@payouts_app.command("confirm")
def confirm_run(run_id: str) -> None:
    """Confirm a planned payout run: every payout is posted once."""
    from bazaar.bootstrap import build
    from bazaar.kernel.errors import DomainError

    container = build(_settings())
    try:
        confirmed = container.payouts.confirm_run(CLI_OPERATOR, run_id)
    except DomainError as exc:
        raise _fail(exc.detail) from exc
    finally:
        container.close()
    batch = confirmed.batch
    _print_run(
        confirmed.id, batch.status.value, str(batch.total), len(batch.items), len(batch.held)
    )
