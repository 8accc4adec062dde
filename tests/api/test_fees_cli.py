"""``bazaar ledger check`` and ``bazaar payouts run`` against a fresh SQLite file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bazaar.bootstrap import build
from bazaar.cli import app
from bazaar.fees import store
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from tests.support.factories import make_account, test_settings
from tests.support.marketplace import new_seller, offer, place_order


@pytest.fixture(autouse=True)
def keep_root_logging() -> Iterator[None]:
    # Every command reconfigures the root logger for the runner's stderr; restore pytest's.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def bazaar(database_url: str, tmp_path: Path) -> CliRunner:
    runner = CliRunner(
        env={
            "BAZAAR_ENV": "test",
            "BAZAAR_DATABASE_URL": database_url,
            "BAZAAR_SECRET_KEY": "cli-test-secret-0123456789abcdef",
            "BAZAAR_LOG_JSON": "false",
            "BAZAAR_LOG_LEVEL": "WARNING",
            "BAZAAR_MEDIA_DIR": str(tmp_path / "media"),
        }
    )
    migrated = runner.invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    return runner


def _a_paid_seller_order(database_url: str, tmp_path: Path) -> None:
    container = build(test_settings(database_url, tmp_path))
    try:
        operator = make_account(container, Role.OPERATOR)
        seller = new_seller(container, operator)
        with TestClient(create_app(container, run_dispatcher=False)) as client:
            place_order(client, [(offer(container, operator, fulfiller=seller), 1)])
        container.dispatcher.drain()
    finally:
        container.close()


def test_ledger_check_passes_a_sound_ledger_and_fails_a_tampered_one(
    bazaar: CliRunner, database_url: str, tmp_path: Path
) -> None:
    # Given a ledger holding one paid order
    _a_paid_seller_order(database_url, tmp_path)

    # When it is checked, it passes with a summary
    clean = bazaar.invoke(app, ["ledger", "check"])
    assert clean.exit_code == 0, clean.output
    assert "ledger ok: 1 transactions" in clean.stdout
    assert "vat_payable" in clean.stdout

    # When an entry is changed behind the ledger's back, the check fails and says where
    container = build(test_settings(database_url, tmp_path))
    try:
        with container.db.write() as conn:
            conn.execute(
                store.entries.update().where(store.entries.c.position == 0).values(amount=1)
            )
    finally:
        container.close()
    tampered = bazaar.invoke(app, ["ledger", "check"])
    assert tampered.exit_code == 1
    assert "unbalanced" in tampered.stderr
    assert "problem(s) in the ledger" in tampered.stderr


def test_payouts_run_plans_and_confirms_the_weeks_run(
    bazaar: CliRunner, database_url: str, tmp_path: Path
) -> None:
    _a_paid_seller_order(database_url, tmp_path)

    planned = bazaar.invoke(app, ["payouts", "run"])
    assert planned.exit_code == 0, planned.output
    assert "proposed, 0 payout(s)" in planned.stdout
    assert "held\tsel_" in planned.stdout  # not delivered yet

    confirmed = bazaar.invoke(app, ["payouts", "run", "--confirm"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "confirmed" in confirmed.stdout

    unknown = bazaar.invoke(app, ["payouts", "confirm", "pyr_nope"])
    assert unknown.exit_code == 1
    assert "No such payout run" in unknown.stderr
