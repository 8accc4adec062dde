"""Routes of customer groups and of the group each customer is in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from bazaar.http.deps import ContainerDep, Operator, Staff
from bazaar.pricing.schemas.customer_groups import (
    CustomerGroupIn,
    CustomerGroupOut,
    GroupAssignmentIn,
    GroupAssignmentOut,
)

router = APIRouter()


@router.post(
    "/customer-groups",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerGroupOut,
    summary="Create a customer group (operator)",
)
def create_customer_group(
    body: CustomerGroupIn, who: Operator, c: ContainerDep
) -> CustomerGroupOut:
    code, name, created_at, members = c.pricing_admin.create_group(who, body)
    return CustomerGroupOut(code=code, name=name, members=members, created_at=created_at)


@router.get(
    "/customer-groups",
    response_model=list[CustomerGroupOut],
    summary="Customer groups with their member counts (staff)",
)
def list_customer_groups(who: Staff, c: ContainerDep) -> list[CustomerGroupOut]:
    return [
        CustomerGroupOut(code=code, name=name, members=members, created_at=created_at)
        for code, name, created_at, members in c.pricing_admin.list_groups(who)
    ]


@router.put(
    "/admin/customers/{customer_id}/group",
    response_model=GroupAssignmentOut,
    summary="Put a customer in a customer group, or in none (operator)",
)
def assign_customer_group(
    customer_id: Annotated[str, Path(max_length=40)],
    body: GroupAssignmentIn,
    who: Operator,
    c: ContainerDep,
) -> GroupAssignmentOut:
    c.pricing_admin.assign_group(who, customer_id, body.group)
    return GroupAssignmentOut(customer_id=customer_id, group=body.group)


@router.get(
    "/admin/customers/{customer_id}/group",
    response_model=GroupAssignmentOut,
    summary="A customer's group (staff)",
)
def get_customer_group(
    customer_id: Annotated[str, Path(max_length=40)], who: Staff, c: ContainerDep
) -> GroupAssignmentOut:
    group = c.pricing_admin.group_of(who, customer_id)
    return GroupAssignmentOut(customer_id=customer_id, group=group)
