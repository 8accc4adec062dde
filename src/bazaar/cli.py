"""The ``bazaar`` command."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
from typing import Annotated

import typer

from bazaar import __version__
from bazaar.bulk_cli import export_app, import_app
from bazaar.config import Settings
from bazaar.fees.cli import ledger_app, payouts_app
from bazaar.infra.logging import configure_logging

app = typer.Typer(help="Bazaar: retail commerce and marketplace platform.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(ledger_app, name="ledger")
app.add_typer(payouts_app, name="payouts")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    return settings


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def migrate(revision: str = "head") -> None:
    """Apply database migrations (idempotent)."""
    from bazaar import migrate as migrations
    from bazaar.infra.db import create_db_engine

    settings = _settings()
    engine = create_db_engine(settings.database_url)
    try:
        migrations.upgrade(engine, revision)
    finally:
        engine.dispose()
    typer.echo(f"database at {revision}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes")] = 1,
) -> None:
    """Serve the API. With one worker the event dispatcher runs in-process (embedded mode)."""
    import uvicorn

    settings = _settings()
    if workers == 1:
        from bazaar.bootstrap import build
        from bazaar.http.app import create_app
        from bazaar.infra.collector import settle_heap

        application = create_app(build(settings))
        settle_heap()
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
        return
    if settings.dispatcher_embedded:
        typer.echo(
            "note: several workers: run `bazaar worker` for events "
            "(set BAZAAR_DISPATCHER_EMBEDDED=false to silence)",
            err=True,
        )
    uvicorn.run(
        "bazaar.http.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )


@app.command()
def worker() -> None:
    """Run the event dispatcher, the job runner and the reservation sweeper until interrupted
    (run as many as you like)."""
    from bazaar.bootstrap import build
    from bazaar.infra.collector import settle_heap

    container = build(_settings())
    settle_heap()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    container.dispatcher.start()
    container.job_runner.start()
    container.sweeper.start()
    container.cart_sweeper.start()
    container.reconciler.start()
    container.order_closer.start()
    container.listing_workers.start()  # listing validation passes and feed imports
    container.pricing_refresher.start()  # compiled pricing rules follow others' changes
    typer.echo("dispatcher, job runner and reservation sweeper running", err=True)
    stop.wait()
    container.close()


@app.command("create-operator")
def create_operator(
    email: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create an operator account."""
    from bazaar.bootstrap import build
    from bazaar.identity.model import Role
    from bazaar.kernel.errors import DomainError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise typer.BadParameter("passwords differ")
    container = build(_settings())
    try:
        user = container.identity.create_user(None, email, password, Role.OPERATOR)
    except DomainError as exc:
        details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        typer.echo(f"error: {exc.detail}{' (' + details + ')' if details else ''}", err=True)
        raise typer.Exit(1) from exc
    finally:
        container.close()
    typer.echo(user.id)


@app.command()
def demo(
    products: Annotated[
        int,
        typer.Option(
            min=0, help="Add a synthetic catalog of this many products (tops up, idempotent)"
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the synthetic products")] = 1,
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Products per create_products batch")
    ] = 1000,
) -> None:
    """Load the demo data set (idempotent: existing demo records are kept)."""
    from rich.console import Console

    from bazaar.bootstrap import build
    from bazaar.demo import load_demo

    container = build(_settings())
    try:
        summary = load_demo(
            container,
            products=products,
            seed=seed,
            batch_size=batch_size,
            console=Console(stderr=True),
        )
        container.dispatcher.drain()
    finally:
        container.close()
    for name, count in summary.items():
        typer.echo(f"{name}: {count}")


@app.command()
def purge() -> None:
    """Delete data past its time to live (delivered deliveries, expired tokens)."""
    from bazaar.bootstrap import build

    container = build(_settings())
    try:
        removed = container.purge_expired()
    finally:
        container.close()
    for name, count in removed.items():
        typer.echo(f"{name}: {count} removed")


@app.command("sweep-reservations")
def sweep_reservations() -> None:
    """Release the stock of unpaid orders whose reservation expired (workers do this too)."""
    from bazaar.bootstrap import build

    container = build(_settings())
    try:
        orders = container.inventory.sweep_expired()
    finally:
        container.close()
    typer.echo(f"orders: {orders} released")


def main() -> None:
    app()
