"""A seller's stock feed (``POST /api/v1/stock/sync``) obeys the seller's status: it serves
orders already routed to the seller, so active and suspended sellers sync; a closed seller
and an applicant are refused with a 403 problem naming the status, and nothing is written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.kernel.ids import new_id
from bazaar.sellers.model import SellerStatus
from tests.support.assertions import assert_problem
from tests.support.factories import Account
from tests.support.sellers import put_seller_on_file, set_seller_status

SYNC = "/api/v1/stock/sync"


def seller_with_warehouse(
    client: TestClient, container: Container, operator: Account, status: SellerStatus
) -> tuple[dict[str, str], str]:
    """A seller in ``status`` with a warehouse and a ``stock:write`` key: (headers, warehouse)."""
    seller_id = put_seller_on_file(container, new_id("sel"))
    warehouse = client.post(
        "/api/v1/warehouses",
        json={"name": "Seller DC", "country": "NL", "owner": seller_id},
        headers=operator.headers,
    )
    assert warehouse.status_code == 201, warehouse.text
    key = client.post(
        "/api/v1/api-keys",
        json={
            "name": "wms",
            "scopes": ["stock:write"],
            "owner_type": "seller",
            "owner_id": seller_id,
        },
        headers=operator.headers,
    )
    assert key.status_code == 201, key.text
    if status is not SellerStatus.ACTIVE:
        set_seller_status(container, seller_id, status)
    return {"Authorization": f"Bearer {key.json()['secret']}"}, warehouse.json()["id"]


def sync_body(warehouse_id: str) -> dict[str, object]:
    return {
        "source": "wms",
        "items": [
            {"sku": "SELLER-SKU-1", "warehouse_id": warehouse_id, "on_hand": 5, "sequence": 1}
        ],
    }


@pytest.mark.parametrize("status", [SellerStatus.ACTIVE, SellerStatus.SUSPENDED])
def test_a_trading_or_suspended_seller_syncs_its_stock(
    client: TestClient, container: Container, operator: Account, status: SellerStatus
) -> None:
    # given a seller in this status with a warehouse and a stock key
    headers, warehouse_id = seller_with_warehouse(client, container, operator, status)

    # when its WMS sends a count
    response = client.post(SYNC, json=sync_body(warehouse_id), headers=headers)

    # then the count is applied
    assert response.status_code == 200, response.text
    assert [item["outcome"] for item in response.json()["items"]] == ["applied"]
    [view] = container.inventory.levels(["SELLER-SKU-1"])
    assert view.level.on_hand == 5


@pytest.mark.parametrize(
    "status", [SellerStatus.CLOSED, SellerStatus.APPLIED, SellerStatus.CHANGES_REQUESTED]
)
def test_a_closed_seller_or_an_applicant_may_not_sync(
    client: TestClient, container: Container, operator: Account, status: SellerStatus
) -> None:
    # given a seller in this status with a warehouse and a stock key
    headers, warehouse_id = seller_with_warehouse(client, container, operator, status)

    # when its WMS sends a count
    response = client.post(SYNC, json=sync_body(warehouse_id), headers=headers)

    # then it is refused, naming the status, and nothing is written
    problem = assert_problem(response, 403)
    assert (problem["code"], problem["seller_status"]) == ("seller_status", status.value)
    assert container.inventory.levels(["SELLER-SKU-1"]) == []
