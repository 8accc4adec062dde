"""Payment rules without a gateway: gateway answers and the payment state machine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import Conflict, CurrencyMismatch, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.payments.model import (
    TRANSITIONS,
    GatewayResult,
    GatewayStatus,
    IllegalPaymentTransition,
    Payment,
    PaymentStatus,
    RequiredAction,
)

G = GatewayStatus
P = PaymentStatus


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def pending(amount: int = 5000) -> Payment:
    return Payment.start("pay_1", "ord_1", eur(amount), "ord_1:authorize")


def authorized(amount: int = 5000) -> Payment:
    return pending(amount).record_authorization(GatewayResult(G.AUTHORIZED, "auth_1", eur(amount)))


def captured(amount: int = 5000) -> Payment:
    return authorized(amount).record_capture(GatewayResult(G.CAPTURED, "cap_1", eur(amount)))


def refund(ref: str, amount: int) -> GatewayResult:
    return GatewayResult(G.REFUNDED, ref, eur(amount))


ACTION = RequiredAction("act_1", "https://gateway.test/3ds/auth_1")
DECLINED = GatewayResult(G.DECLINED, "auth_1", decline_code="card_declined", decline_message="No")
FAILED = GatewayResult(G.FAILED, None, decline_code="not_capturable")


# --- gateway results --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": G.DECLINED, "reference": "a"},  # no decline code
        {"status": G.AUTHORIZED, "reference": "a", "amount": eur(1), "decline_code": "x"},
        {"status": G.REQUIRES_ACTION, "reference": "a"},  # no action
        {"status": G.AUTHORIZED, "reference": "a", "amount": eur(1), "action": ACTION},
        {"status": G.CAPTURED, "reference": "a"},  # no amount
        {"status": G.VOIDED, "reference": None},  # no reference
    ],
)
def test_inconsistent_gateway_results_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"result|required"):
        GatewayResult(**kwargs)  # type: ignore[arg-type]


def test_only_completed_requests_count_as_succeeded() -> None:
    assert GatewayResult(G.AUTHORIZED, "a", eur(1)).succeeded
    assert GatewayResult(G.VOIDED, "a").succeeded
    assert not DECLINED.succeeded
    assert not FAILED.succeeded
    assert not GatewayResult(G.REQUIRES_ACTION, "a", action=ACTION).succeeded


# --- authorization ----------------------------------------------------------------------------


def test_a_payment_starts_pending_with_nothing_captured() -> None:
    # when
    payment = pending()
    # then
    assert payment.status is P.PENDING
    assert (payment.captured, payment.refunded) == (eur(0), eur(0))
    assert payment.capturable == eur(0)
    assert not payment.is_final


@pytest.mark.parametrize(("amount", "key"), [(0, "k"), (-5, "k"), (100, "")])
def test_a_payment_needs_a_positive_amount_and_a_key(amount: int, key: str) -> None:
    with pytest.raises(ValidationFailed):
        Payment.start("pay_1", "ord_1", eur(amount), key)


def test_an_authorization_makes_the_amount_capturable() -> None:
    # when
    payment = authorized()
    # then
    assert payment.status is P.AUTHORIZED
    assert payment.authorization_id == "auth_1"
    assert payment.capturable == eur(5000)


def test_a_decline_is_final_and_keeps_the_code() -> None:
    # when
    payment = pending().record_authorization(DECLINED)
    # then
    assert payment.status is P.DECLINED
    assert payment.decline_code == "card_declined"
    assert payment.is_final
    with pytest.raises(IllegalPaymentTransition):
        payment.check_capture(eur(1))


def test_a_required_action_then_confirmation_authorizes() -> None:
    # given
    waiting = pending().record_authorization(
        GatewayResult(G.REQUIRES_ACTION, "auth_1", eur(5000), action=ACTION)
    )
    # when
    payment = waiting.record_authorization(GatewayResult(G.AUTHORIZED, "auth_1", eur(5000)))
    # then
    assert waiting.status is P.REQUIRES_ACTION
    assert waiting.action == ACTION
    assert payment.status is P.AUTHORIZED
    assert payment.action is None


def test_a_required_action_can_end_declined_or_voided() -> None:
    waiting = pending().record_authorization(
        GatewayResult(G.REQUIRES_ACTION, "auth_1", action=ACTION)
    )
    assert waiting.record_authorization(DECLINED).status is P.DECLINED
    assert waiting.record_void(GatewayResult(G.VOIDED, "auth_1")).status is P.VOIDED


def test_recording_the_same_authorization_twice_changes_nothing() -> None:
    payment = authorized()
    again = payment.record_authorization(GatewayResult(G.AUTHORIZED, "auth_1", eur(5000)))
    assert again is payment


def test_a_second_different_authorization_is_illegal() -> None:
    with pytest.raises(IllegalPaymentTransition) as caught:
        authorized().record_authorization(GatewayResult(G.AUTHORIZED, "auth_2", eur(5000)))
    assert isinstance(caught.value, Conflict)


def test_a_partial_authorization_is_refused() -> None:
    with pytest.raises(ValueError, match="asked for"):
        pending().record_authorization(GatewayResult(G.AUTHORIZED, "auth_1", eur(4000)))


def test_a_capture_answer_is_not_an_authorization() -> None:
    with pytest.raises(ValueError, match="not an answer to authorize"):
        pending().record_authorization(GatewayResult(G.CAPTURED, "cap_1", eur(5000)))


# --- capture and void -------------------------------------------------------------------------


def test_capturing_less_than_authorized_is_allowed_once() -> None:
    # when
    payment = authorized().record_capture(GatewayResult(G.CAPTURED, "cap_1", eur(3000)))
    # then
    assert payment.status is P.CAPTURED
    assert (payment.captured, payment.capture_id) == (eur(3000), "cap_1")
    assert payment.refundable == eur(3000)
    with pytest.raises(IllegalPaymentTransition):
        payment.check_capture(eur(1000))


@pytest.mark.parametrize(("amount", "code"), [(5001, "exceeds_authorized"), (0, "not_positive")])
def test_capture_amount_is_checked_before_calling_the_gateway(amount: int, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        authorized().check_capture(eur(amount))
    assert caught.value.errors[0].code == code


def test_capture_in_another_currency_is_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        authorized().check_capture(Money(100, "USD"))


def test_a_capture_larger_than_authorized_is_refused_even_from_the_gateway() -> None:
    with pytest.raises(ValidationFailed):
        authorized().record_capture(GatewayResult(G.CAPTURED, "cap_1", eur(5001)))


def test_failed_answers_leave_the_payment_unchanged() -> None:
    payment = authorized()
    assert payment.record_capture(FAILED) is payment
    assert payment.record_void(FAILED) is payment
    assert captured().record_refund(FAILED) == captured()


def test_recording_the_same_capture_twice_changes_nothing() -> None:
    payment = captured()
    assert payment.record_capture(GatewayResult(G.CAPTURED, "cap_1", eur(5000))) is payment


def test_voiding_releases_an_authorization_but_not_a_capture() -> None:
    # when
    voided = authorized().record_void(GatewayResult(G.VOIDED, "auth_1"))
    # then
    assert voided.status is P.VOIDED
    assert voided.record_void(GatewayResult(G.VOIDED, "auth_1")) is voided  # replay
    with pytest.raises(IllegalPaymentTransition):
        captured().check_void()
    with pytest.raises(IllegalPaymentTransition):
        voided.check_capture(eur(1))


# --- refunds ----------------------------------------------------------------------------------


def test_partial_refunds_until_fully_refunded() -> None:
    # when
    first = captured().record_refund(refund("ref_1", 2000))
    second = first.record_refund(refund("ref_2", 3000))
    # then
    assert (first.status, first.refunded, first.refundable) == (
        P.PARTIALLY_REFUNDED,
        eur(2000),
        eur(3000),
    )
    assert (second.status, second.refunded, second.refund_ids) == (
        P.REFUNDED,
        eur(5000),
        ("ref_1", "ref_2"),
    )
    assert second.is_final


def test_a_refund_never_exceeds_what_is_left() -> None:
    payment = captured().record_refund(refund("ref_1", 4000))
    with pytest.raises(ValidationFailed) as caught:
        payment.check_refund(eur(1001))
    assert caught.value.errors[0].code == "exceeds_refundable"
    with pytest.raises(ValidationFailed):
        payment.record_refund(refund("ref_2", 1001))


def test_recording_the_same_refund_twice_counts_it_once() -> None:
    payment = captured().record_refund(refund("ref_1", 2000))
    assert payment.record_refund(refund("ref_1", 2000)) is payment


def test_nothing_is_refunded_before_a_capture() -> None:
    with pytest.raises(IllegalPaymentTransition):
        authorized().check_refund(eur(1))
    with pytest.raises(IllegalPaymentTransition):
        authorized().record_refund(refund("ref_1", 1))


def test_final_states_allow_no_transition() -> None:
    finals = {status for status, targets in TRANSITIONS.items() if not targets}
    assert finals == {P.DECLINED, P.FAILED, P.REFUNDED, P.VOIDED}
    assert set(TRANSITIONS) == set(PaymentStatus)


@given(st.lists(st.integers(min_value=1, max_value=3000), max_size=8))
def test_refunds_never_exceed_the_capture(amounts: list[int]) -> None:
    # given
    payment = captured()
    # when: every refund the rules accept is recorded
    for i, amount in enumerate(amounts):
        try:
            payment.check_refund(eur(amount))
        except (ValidationFailed, IllegalPaymentTransition):
            continue
        payment = payment.record_refund(refund(f"ref_{i}", amount))
    # then
    assert eur(0) <= payment.refunded <= payment.captured
    assert (payment.status is P.REFUNDED) == (payment.refunded == payment.captured)
