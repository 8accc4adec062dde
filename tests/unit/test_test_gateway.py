"""The built-in test gateway: token outcomes, idempotency under threads, simulated failures."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bazaar.kernel.money import Money
from bazaar.payments.gateway import GatewayUnavailable, IdempotencyKeyReused, PaymentGateway
from bazaar.payments.model import GatewayResult, GatewayStatus, Payment, PaymentStatus
from bazaar.payments.test_gateway import (
    DECLINE,
    INSUFFICIENT_FUNDS,
    NETWORK_ERROR,
    SUCCESS,
    THREE_DS,
    THREE_DS_FAIL,
    TestGateway,
)

G = GatewayStatus


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def authorized(gateway: TestGateway, amount: int = 5000, key: str = "auth-1") -> GatewayResult:
    result = gateway.authorize(eur(amount), SUCCESS, key)
    assert result.status is G.AUTHORIZED
    return result


def test_it_implements_the_gateway_protocol() -> None:
    gateway: PaymentGateway = TestGateway()
    assert gateway.find_by_idempotency_key("nothing") is None


# --- tokens -----------------------------------------------------------------------------------


def test_the_success_token_authorizes() -> None:
    # given
    gateway = TestGateway()
    # when
    result = gateway.authorize(eur(5000), SUCCESS, "key-1", order_id="ord_1")
    # then
    assert (result.status, result.amount) == (G.AUTHORIZED, eur(5000))
    [record] = gateway.authorizations()
    assert (record.id, record.status, record.order_id) == (result.reference, G.AUTHORIZED, "ord_1")


@pytest.mark.parametrize(
    ("token", "code"), [(DECLINE, "card_declined"), (INSUFFICIENT_FUNDS, "insufficient_funds")]
)
def test_decline_tokens_are_declined_with_their_code(token: str, code: str) -> None:
    # when
    result = TestGateway().authorize(eur(5000), token, "key-1")
    # then
    assert (result.status, result.decline_code) == (G.DECLINED, code)
    assert result.decline_message


def test_the_3ds_token_requires_action_then_confirm_authorizes() -> None:
    # given
    gateway = TestGateway()
    waiting = gateway.authorize(eur(5000), THREE_DS, "key-1")
    assert waiting.status is G.REQUIRES_ACTION
    assert waiting.action is not None
    assert waiting.reference is not None
    assert waiting.reference in waiting.action.url
    # when
    confirmed = gateway.confirm(waiting.reference, "key-2")
    # then
    assert (confirmed.status, confirmed.reference) == (G.AUTHORIZED, waiting.reference)
    assert gateway.authorizations()[0].status is G.AUTHORIZED
    assert gateway.confirm(waiting.reference, "key-3").decline_code == "not_awaiting_action"


def test_a_failed_3ds_challenge_declines() -> None:
    gateway = TestGateway()
    waiting = gateway.authorize(eur(5000), THREE_DS_FAIL, "key-1")
    assert waiting.reference is not None
    result = gateway.confirm(waiting.reference, "key-2")
    assert (result.status, result.decline_code) == (G.DECLINED, "authentication_failed")


def test_the_network_error_token_raises_and_records_nothing() -> None:
    # given
    gateway = TestGateway()
    # when
    with pytest.raises(GatewayUnavailable):
        gateway.authorize(eur(5000), NETWORK_ERROR, "key-1")
    # then
    assert gateway.authorizations() == []
    assert gateway.find_by_idempotency_key("key-1") is None


@pytest.mark.parametrize(
    ("amount", "token", "code"),
    [(eur(5000), "tok_unknown", "invalid_token"), (eur(0), SUCCESS, "invalid_amount")],
)
def test_bad_requests_fail_without_an_authorization(amount: Money, token: str, code: str) -> None:
    gateway = TestGateway()
    result = gateway.authorize(amount, token, "key-1")
    assert (result.status, result.decline_code, result.reference) == (G.FAILED, code, None)
    assert gateway.authorizations() == []


# --- capture, void, refund --------------------------------------------------------------------


def test_capture_then_partial_refunds_up_to_the_captured_amount() -> None:
    # given
    gateway = TestGateway()
    auth = authorized(gateway)
    assert auth.reference is not None
    # when
    capture = gateway.capture(auth.reference, eur(4000), "cap-1")
    assert capture.reference is not None
    first = gateway.refund(capture.reference, eur(1500), "ref-1")
    second = gateway.refund(capture.reference, eur(2500), "ref-2")
    too_much = gateway.refund(capture.reference, eur(1), "ref-3")
    # then
    assert (capture.status, capture.amount) == (G.CAPTURED, eur(4000))
    assert (first.status, second.status) == (G.REFUNDED, G.REFUNDED)
    assert (too_much.status, too_much.decline_code) == (G.FAILED, "amount_too_large")
    assert [r.amount for r in gateway.refunds()] == [eur(1500), eur(2500)]
    assert gateway.authorizations()[0].status is G.CAPTURED


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (eur(5001), "amount_too_large"),
        (eur(-1), "invalid_amount"),
        (Money(1, "USD"), "currency_mismatch"),
    ],
)
def test_capture_amount_is_checked(amount: Money, code: str) -> None:
    gateway = TestGateway()
    auth = authorized(gateway)
    assert auth.reference is not None
    result = gateway.capture(auth.reference, amount, "cap-1")
    assert (result.status, result.decline_code) == (G.FAILED, code)
    assert gateway.captures() == []


def test_an_authorization_is_captured_at_most_once() -> None:
    gateway = TestGateway()
    auth = authorized(gateway)
    assert auth.reference is not None
    gateway.capture(auth.reference, eur(1000), "cap-1")
    again = gateway.capture(auth.reference, eur(1000), "cap-2")
    assert again.decline_code == "not_capturable"
    assert len(gateway.captures()) == 1


def test_void_releases_an_authorization_which_then_cannot_be_captured() -> None:
    gateway = TestGateway()
    auth = authorized(gateway)
    assert auth.reference is not None
    assert gateway.void(auth.reference, "void-1").status is G.VOIDED
    assert gateway.capture(auth.reference, eur(1), "cap-1").decline_code == "not_capturable"
    assert gateway.void(auth.reference, "void-2").decline_code == "not_voidable"


def test_unknown_references_fail() -> None:
    gateway = TestGateway()
    assert gateway.capture("nope", eur(1), "k1").decline_code == "unknown_authorization"
    assert gateway.void("nope", "k2").decline_code == "unknown_authorization"
    assert gateway.confirm("nope", "k3").decline_code == "unknown_authorization"
    assert gateway.refund("nope", eur(1), "k4").decline_code == "unknown_capture"


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_key_and_request_replays_the_first_result() -> None:
    # given
    gateway = TestGateway()
    first = authorized(gateway, key="order-1")
    # when
    again = gateway.authorize(eur(5000), SUCCESS, "order-1")
    # then
    assert again == first
    assert len(gateway.authorizations()) == 1
    assert gateway.call_count("authorize") == 2


def test_the_same_key_with_another_request_is_refused() -> None:
    gateway = TestGateway()
    auth = authorized(gateway, key="k")
    assert auth.reference is not None
    with pytest.raises(IdempotencyKeyReused):
        gateway.authorize(eur(5001), SUCCESS, "k")
    with pytest.raises(IdempotencyKeyReused):
        gateway.capture(auth.reference, eur(5000), "k")
    assert len(gateway.authorizations()) == 1


def test_a_capture_replayed_with_its_key_captures_once() -> None:
    gateway = TestGateway()
    auth = authorized(gateway)
    assert auth.reference is not None
    first = gateway.capture(auth.reference, eur(5000), "cap-1")
    assert gateway.capture(auth.reference, eur(5000), "cap-1") == first
    assert len(gateway.captures()) == 1


def test_concurrent_calls_with_one_key_authorize_exactly_once() -> None:
    # given: many threads released at the same moment with the same key
    gateway = TestGateway()
    threads = 32
    start = threading.Barrier(threads)

    def pay(_: int) -> GatewayResult:
        start.wait()
        return gateway.authorize(eur(5000), SUCCESS, "order-1", order_id="ord_1")

    # when
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(pay, range(threads)))
    # then
    assert len(gateway.authorizations()) == 1
    assert {r.reference for r in results} == {gateway.authorizations()[0].id}
    assert gateway.call_count("authorize") == threads


def test_concurrent_calls_with_distinct_keys_authorize_once_each() -> None:
    gateway = TestGateway()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: authorized(gateway, key=f"k{i}"), range(64)))
    assert len({r.reference for r in results}) == 64
    assert len(gateway.authorizations()) == 64


def test_a_missing_key_is_a_bug() -> None:
    with pytest.raises(ValueError, match="idempotency key is required"):
        TestGateway().authorize(eur(1), SUCCESS, "")


# --- failures for reconciler tests ------------------------------------------------------------


def test_a_crash_after_authorizing_is_found_by_key_and_never_charged_twice() -> None:
    # given: the connection drops after the gateway authorized
    gateway = TestGateway(fail_after_authorize=True)
    with pytest.raises(GatewayUnavailable):
        gateway.authorize(eur(5000), SUCCESS, "order-1")
    # when: the reconciler asks what happened, and the original call is retried
    found = gateway.find_by_idempotency_key("order-1")
    retried = gateway.authorize(eur(5000), SUCCESS, "order-1")
    # then
    assert found is not None
    assert found.status is G.AUTHORIZED
    assert retried == found
    assert len(gateway.authorizations()) == 1
    assert gateway.call_count("find") == 1


def test_a_reconciler_settles_a_pending_payment_from_the_lookup() -> None:
    # given: checkout saved a pending payment, then lost the gateway's answer
    gateway = TestGateway(fail_after_authorize=True)
    payment = Payment.start("pay_1", "ord_1", eur(5000), "ord_1:authorize")
    with pytest.raises(GatewayUnavailable):
        gateway.authorize(payment.amount, SUCCESS, payment.idempotency_key)
    # when
    found = gateway.find_by_idempotency_key(payment.idempotency_key)
    assert found is not None
    settled = payment.record_authorization(found)
    # then
    assert settled.status is PaymentStatus.AUTHORIZED
    assert settled.authorization_id == gateway.authorizations()[0].id


def test_a_crash_after_capturing_is_replayed_by_key() -> None:
    gateway = TestGateway()
    auth = authorized(gateway)
    assert auth.reference is not None
    gateway.fail_after_capture = True
    with pytest.raises(GatewayUnavailable):
        gateway.capture(auth.reference, eur(5000), "cap-1")
    retried = gateway.capture(auth.reference, eur(5000), "cap-1")
    assert retried.status is G.CAPTURED
    assert len(gateway.captures()) == 1


def test_an_unavailable_gateway_does_nothing() -> None:
    # given
    gateway = TestGateway(unavailable=True)
    # when / then
    with pytest.raises(GatewayUnavailable):
        gateway.authorize(eur(5000), SUCCESS, "k")
    with pytest.raises(GatewayUnavailable):
        gateway.find_by_idempotency_key("k")
    gateway.unavailable = False
    assert gateway.find_by_idempotency_key("k") is None
    assert gateway.authorizations() == []
