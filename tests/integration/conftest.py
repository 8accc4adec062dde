"""Fixtures of the checkout race tests: a shop built for many simultaneous writers, its HTTP
client and a member of its staff. A module that needs another shop (its own gateway, say)
defines its own ``shop``; ``http`` and ``staff`` then use that one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from tests.support.concurrency import racing_container
from tests.support.factories import Account, make_account


@pytest.fixture
def shop(db_url: str, tmp_path: Path) -> Iterator[Container]:
    c = racing_container(db_url, tmp_path)
    yield c
    c.close()


@pytest.fixture
def http(shop: Container) -> Iterator[TestClient]:
    with TestClient(create_app(shop, run_dispatcher=False)) as client:
        yield client


@pytest.fixture
def staff(shop: Container) -> Account:
    return make_account(shop, Role.OPERATOR)
