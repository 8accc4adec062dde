"""Staff use cases of coupons: issue one code, generate a batch, look codes up.

Codes are stored normalised (:func:`bazaar.pricing.coupons.normalise_code`), so a lookup
finds ``WELCOME10`` whether asked for ``welcome-10`` or ``Welcome 10``. Issuing coupons
changes no compiled rule: a coupon only unlocks its promotion, read at quote time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.pricing import admin_store, events
from bazaar.pricing.admin_store import RuleKind
from bazaar.pricing.coupons import Coupon, generate_codes, normalise_code
from bazaar.pricing.schemas import CouponBatchIn, CouponIn, collect

UowFactory = Callable[[Actor], SqlUnitOfWork]
# Rounds of replacing generated codes that clashed with existing ones; with the length
# generate_codes insists on, a second round is already vanishingly rare.
MAX_ROUNDS = 5


class CouponAdmin:
    """Operators issue coupons; operators and reviewers read them with their uses."""

    def __init__(self, db: Database, uow: UowFactory, clock: Clock, cursors: CursorCodec) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors

    def create(self, principal: Principal, body: CouponIn) -> Mapping[str, Any]:
        """Issue one code for a promotion; 409 on ``code`` when a coupon has it, 422 on
        ``promotion_id`` when no promotion has that id."""
        principal.require_role(Role.OPERATOR)
        errors: list[FieldError] = []
        coupon = collect("", body.to_model, errors)
        errors += self._unknown_promotion(body.promotion_id)
        if errors or coupon is None:
            raise ValidationFailed("The coupon is not valid", errors=errors)
        with self._uow(principal.actor) as uow:
            if not admin_store.insert_coupons(uow.conn, [_values(coupon, self._clock.now())]):
                raise Conflict(
                    "A coupon has this code",
                    errors=[FieldError("code", f"{coupon.code} is taken", "taken")],
                )
            uow.record(events.CouponCreated(code=coupon.code, promotion_id=coupon.promotion_id))
            uow.commit()
        return self.get(principal, coupon.code)

    def generate(self, principal: Principal, body: CouponBatchIn) -> tuple[str, list[str]]:
        """``count`` new random codes sharing limits; returns the batch id and the codes.

        Codes are unguessable (see ``coupons.generate_codes``) and unique: one that clashes
        with an existing code is replaced before the batch commits, all in one transaction.
        """
        principal.require_role(Role.OPERATOR)
        batch_id = new_id("cpb")
        errors: list[FieldError] = []
        template = collect("", lambda: body.to_coupon("X", batch_id), errors)
        codes = collect(
            "", lambda: generate_codes(body.count, length=body.length, prefix=body.prefix), errors
        )
        errors += self._unknown_promotion(body.promotion_id)
        if errors or codes is None or template is None:
            raise ValidationFailed("The coupons cannot be generated", errors=errors)
        now = self._clock.now()
        issued: list[str] = []
        tried: set[str] = set()
        with self._uow(principal.actor) as uow:
            for _ in range(MAX_ROUNDS):
                tried.update(codes)
                rows = [_values(template, now, code) for code in codes]
                inserted = admin_store.insert_coupons(uow.conn, rows)
                issued += [code for code in codes if code in inserted]
                if len(issued) == body.count:
                    break
                codes = generate_codes(
                    body.count - len(issued), length=body.length, prefix=body.prefix, existing=tried
                )
            else:
                raise Conflict("No free codes found: use a longer length or another prefix")
            uow.record(
                events.CouponsGenerated(
                    batch_id=batch_id,
                    promotion_id=body.promotion_id,
                    count=len(issued),
                    prefix=body.prefix,
                )
            )
            uow.commit()
        return batch_id, issued

    def get(self, principal: Principal, code: str) -> Mapping[str, Any]:
        """A coupon by its code in any case or spacing (``welcome-10`` finds ``WELCOME10``)."""
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        try:
            normalised = normalise_code(code)
        except ValidationFailed:
            raise NotFound("No such coupon") from None
        with self._db.read() as conn:
            found = admin_store.get_coupon(conn, normalised)
        if found is None:
            raise NotFound("No such coupon")
        return found

    def list_coupons(
        self,
        principal: Principal,
        *,
        promotion_id: str | None,
        batch_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[Mapping[str, Any]]:
        """Coupons with their uses, by code, of a promotion and/or a batch."""
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        scope = scope_for("coupons", promotion_id=promotion_id, batch_id=batch_id)
        after = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = admin_store.list_coupons(
                conn,
                promotion_id=promotion_id,
                batch_id=batch_id,
                after_code=after,
                limit=limit + 1,
            )
        return page_after(self._cursors, rows, limit, scope, key=lambda r: str(r["code"]))

    def _unknown_promotion(self, promotion_id: str) -> list[FieldError]:
        with self._db.read() as conn:
            found = admin_store.existing_rule_ids(conn, RuleKind.PROMOTION, [promotion_id])
        if found:
            return []
        return [FieldError("promotion_id", "No such promotion", "unknown_promotion")]


def _values(coupon: Coupon, now: datetime, code: str | None = None) -> dict[str, Any]:
    return {
        "code": code or coupon.code,
        "promotion_id": coupon.promotion_id,
        "starts_at": coupon.starts_at,
        "expires_at": coupon.expires_at,
        "usage_limit": coupon.usage_limit,
        "usage_limit_per_customer": coupon.usage_limit_per_customer,
        "batch_id": coupon.batch_id,
        "created_at": now,
    }
