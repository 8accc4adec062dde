"""What a seller may do in each status: the rule behind every seller route's 403."""

from __future__ import annotations

import pytest

from bazaar.kernel.errors import PermissionDenied
from bazaar.sellers.model import SellerStatus
from bazaar.sellers.standing import SellerAction, SellerNotPermitted, check_standing, may

READ, FULFIL, LIST = SellerAction.READ, SellerAction.FULFIL, SellerAction.LIST
INTEGRATE = SellerAction.INTEGRATE


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        (SellerStatus.ACTIVE, {READ, FULFIL, LIST, INTEGRATE}),
        # ships what customers already paid for; its webhooks go quiet
        (SellerStatus.SUSPENDED, {READ, FULFIL}),
        (SellerStatus.CLOSED, {READ}),  # keeps its books
        (SellerStatus.APPLIED, set()),
        (SellerStatus.CHANGES_REQUESTED, set()),
    ],
)
def test_each_status_allows_its_actions(status: SellerStatus, allowed: set[SellerAction]) -> None:
    assert {action for action in SellerAction if may(status, action)} == allowed


def test_a_refusal_names_the_status_and_the_action() -> None:
    with pytest.raises(SellerNotPermitted) as refused:
        check_standing("sel_1", SellerStatus.SUSPENDED, LIST)
    assert isinstance(refused.value, PermissionDenied)  # a 403
    assert refused.value.extensions == {"seller_status": "suspended"}
    assert "suspended" in refused.value.detail
    assert "list refused" in refused.value.detail


def test_an_unknown_seller_is_refused_everything() -> None:
    for action in SellerAction:
        with pytest.raises(SellerNotPermitted) as refused:
            check_standing("sel_gone", None, action)
        assert refused.value.extensions == {"seller_status": None}
        assert "sel_gone" in refused.value.detail


def test_an_allowed_action_passes() -> None:
    check_standing("sel_1", SellerStatus.CLOSED, READ)
    check_standing("sel_1", SellerStatus.SUSPENDED, FULFIL)
