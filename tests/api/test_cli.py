"""The ``bazaar`` command against a fresh SQLite file: migrate, create-operator, demo."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bazaar.bootstrap import build
from bazaar.cli import app
from bazaar.demo import DEMO_SELLER_OWNER, NORTHWIND
from bazaar.http.app import create_app
from tests.support.factories import test_settings

PASSWORD = "operator password of decent length"


@pytest.fixture(autouse=True)
def keep_root_logging() -> Iterator[None]:
    # Every command calls configure_logging, which replaces the root handlers with one bound
    # to the runner's captured stderr; put pytest's back afterwards.
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
    """A runner whose environment points every command at a fresh, migrated database."""
    runner = CliRunner(
        env={
            "BAZAAR_ENV": "test",
            "BAZAAR_DATABASE_URL": database_url,
            "BAZAAR_SECRET_KEY": "cli-test-secret-0123456789abcdef",
            "BAZAAR_ARGON2_TIME_COST": "1",
            "BAZAAR_ARGON2_MEMORY_KIB": "64",
            "BAZAAR_ARGON2_PARALLELISM": "1",
            "BAZAAR_LOG_JSON": "false",
            "BAZAAR_LOG_LEVEL": "WARNING",
            "BAZAAR_MEDIA_DIR": str(tmp_path / "media"),
        }
    )
    migrated = runner.invoke(app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert "database at head" in migrated.stdout
    return runner


def create_operator(runner: CliRunner, email: str, password: str = PASSWORD) -> Result:
    return runner.invoke(app, ["create-operator", email, "--password-stdin"], input=password + "\n")


def test_migrate_is_idempotent(bazaar: CliRunner) -> None:
    # given a database the fixture already migrated, when migrate runs again
    again = bazaar.invoke(app, ["migrate"])

    # then it succeeds and changes nothing
    assert again.exit_code == 0, again.output


def test_create_operator_makes_an_operator_who_can_sign_in(
    bazaar: CliRunner, database_url: str, tmp_path: Path
) -> None:
    # when an operator is created from the command line
    result = create_operator(bazaar, "ops@example.com")

    # then it prints the new user id
    assert result.exit_code == 0, result.output
    user_id = result.stdout.strip()
    assert user_id.startswith("usr_")
    assert PASSWORD not in result.output

    # and that operator can sign in through the API and is an operator
    container = build(test_settings(database_url, tmp_path))
    try:
        with TestClient(create_app(container, run_dispatcher=False)) as client:
            token = client.post(
                "/api/v1/auth/token", json={"email": "ops@example.com", "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            me = client.get(
                "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
            )
    finally:
        container.close()
    assert me.json()["id"] == user_id
    assert me.json()["role"] == "operator"


def test_a_duplicate_operator_exits_non_zero_with_a_clear_message(bazaar: CliRunner) -> None:
    # given an operator
    assert create_operator(bazaar, "ops@example.com").exit_code == 0

    # when the same address is created again
    result = create_operator(bazaar, "OPS@example.com")

    # then the command fails and says why, on stderr
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert result.stdout == ""


def test_a_weak_operator_password_is_refused(bazaar: CliRunner) -> None:
    result = create_operator(bazaar, "ops@example.com", password="short")

    assert result.exit_code == 1
    assert "password" in result.stderr


def test_demo_is_idempotent(bazaar: CliRunner) -> None:
    # given the demo data loaded once
    first = bazaar.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "users: 2" in first.stdout
    assert "products: 12" in first.stdout
    assert "images: 12" in first.stdout
    assert "orders: 3" in first.stdout

    # when it is loaded again
    second = bazaar.invoke(app, ["demo"])

    # then nothing new is created
    assert second.exit_code == 0, second.output
    assert "users: 0" in second.stdout
    assert "products: 0" in second.stdout
    assert "images: 0" in second.stdout
    assert "orders: 0" in second.stdout


def test_the_demo_catalog_shows_pictures_and_competing_offers(
    bazaar: CliRunner, database_url: str, tmp_path: Path
) -> None:
    # given the demo loaded
    assert bazaar.invoke(app, ["demo"]).exit_code == 0

    # when a shopper lists the products and opens one
    container = build(test_settings(database_url, tmp_path))
    try:
        with TestClient(create_app(container, run_dispatcher=False)) as client:
            listing = client.get("/api/v1/products", params={"q": "organic cotton tee"})
            tee = listing.json()["items"][0]
            detail = client.get(f"/api/v1/products/{tee['id']}").json()
            picture = client.get(tee["image_url"])
    finally:
        container.close()

    # then the tee has a picture, served as an image, and offers from two fulfillers
    assert tee["image_url"], listing.text
    assert picture.status_code == 200
    assert picture.headers["content-type"] in {"image/jpeg", "image/webp"}
    assert len(detail["images"]) == 1
    assert {o["fulfiller"]["id"] for o in detail["offers"]} == {"retailer", NORTHWIND}
    assert detail["buy_box"]["offer_id"] in {o["id"] for o in detail["offers"]}


def test_the_demo_seller_has_paid_orders_waiting_to_be_accepted(
    bazaar: CliRunner, database_url: str, tmp_path: Path
) -> None:
    # given the demo loaded (the command runs the dispatcher, which routes paid orders)
    assert bazaar.invoke(app, ["demo"]).exit_code == 0

    # when Northwind's owner signs in and lists its fulfillment orders
    container = build(test_settings(database_url, tmp_path))
    try:
        with TestClient(create_app(container, run_dispatcher=False)) as client:
            email, password = DEMO_SELLER_OWNER
            token = client.post("/api/v1/auth/token", json={"email": email, "password": password})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            listed = client.get("/api/v1/seller/fulfillments", headers=headers)
    finally:
        container.close()

    # then both of its demo orders wait for it to accept them
    assert listed.status_code == 200, listed.text
    assert [f["status"] for f in listed.json()["items"]] == ["pending", "pending"]


def test_demo_with_a_synthetic_catalog_is_searchable_and_tops_up(
    bazaar: CliRunner, database_url: str, tmp_path: Path
) -> None:
    # given the demo with 200 synthetic products, loaded in small batches
    first = bazaar.invoke(app, ["demo", "--products", "200", "--batch-size", "64"])
    assert first.exit_code == 0, first.output
    assert "products: 12" in first.stdout
    assert "synthetic_products: 200" in first.stdout
    assert "synthetic_brands: 2000" in first.stdout
    assert "synthetic_pictures: 200" in first.stdout

    # when it is loaded again, then asked for more
    again = bazaar.invoke(app, ["demo", "--products", "200"])
    more = bazaar.invoke(app, ["demo", "--products", "250"])

    # then the second run creates nothing and the third only the missing products
    assert again.exit_code == 0, again.output
    assert "users: 0" in again.stdout
    assert "products: 0" in again.stdout
    assert "synthetic_products: 0" in again.stdout
    assert "synthetic_brands: 0" in again.stdout
    assert more.exit_code == 0, more.output
    assert "synthetic_products: 50" in more.stdout
    assert "synthetic_pictures: 0" in again.stdout
    assert "synthetic_pictures: 50" in more.stdout

    # and every product is searchable: by a word, by category with attribute facets
    container = build(test_settings(database_url, tmp_path))
    try:
        with TestClient(create_app(container, run_dispatcher=False)) as client:
            everything = client.get("/api/v1/products", params={"limit": 5})
            tees = client.get("/api/v1/products", params={"q": "organic cotton tee"})
            shoes = client.get(
                "/api/v1/products", params={"category": "shoes", "sort": "price_asc"}
            )
            first_id = everything.json()["items"][0]["id"]
            detail = client.get(f"/api/v1/products/{first_id}")
    finally:
        container.close()
    assert everything.status_code == 200, everything.text
    assert everything.json()["total"] == 12 + 250
    assert "Organic cotton tee" in [i["title"] for i in tees.json()["items"]]
    assert shoes.json()["total"] > 0
    prices = [i["price"]["amount"] for i in shoes.json()["items"]]
    assert prices == sorted(prices)
    assert {"category", "brand", "price"} <= set(shoes.json()["facets"])
    assert detail.status_code == 200, detail.text
    assert detail.json()["variants"]
    assert detail.json()["offers"]
    # and every product shows a picture; synthetic ones share a pool stored once
    assert all(i["image_url"] for i in everything.json()["items"])
    assert any("/media/shared/" in i["image_url"] for i in everything.json()["items"])
