"""Bulk product import and export against real SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.catalog import store
from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.bulk import BatchOutcome
from bazaar.catalog.drafts import CategoryDraft
from bazaar.catalog.import_runs import Format, ImportRun
from bazaar.catalog.importing import UnusableInput
from bazaar.catalog.model import ProductStatus
from bazaar.identity.model import Principal, Role
from tests.support.factories import Account, make_account, test_settings

SELLER = "sel_01jd3w7k6q8r2m4n5p6s7t8v9x"


def set_up_taxonomy(container: Container, principal: Principal) -> None:
    """apparel/t-shirts declaring typed attributes, a brand and a seller fulfiller."""
    container.taxonomy.create_category(principal, CategoryDraft("Apparel", "apparel"))
    container.taxonomy.create_category(
        principal,
        CategoryDraft(
            "T-shirts",
            "t-shirts",
            parent="apparel",
            attributes=[
                AttributeDef("weight", AttributeType.NUMBER, unit="g"),
                AttributeDef("organic", AttributeType.BOOLEAN),
                AttributeDef("fit", AttributeType.ENUM, values=("slim", "regular")),
            ],
        ),
    )
    container.taxonomy.create_brand(principal, "Acme", "acme")
    container.taxonomy.set_fulfiller(principal, SELLER, "Seller One", 45)


def product(sku: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Tee {sku}",
        "category": "apparel/t-shirts",
        "variants": [{"sku": sku}],
        "offers": [{"variant": sku, "price": {"amount": 1999, "currency": "EUR"}, "stock": 5}],
    }
    body.update(fields)
    return body


def jsonl(*rows: dict[str, Any] | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


def run_import(
    container: Container,
    principal: Principal,
    data: bytes,
    fmt: Format = Format.JSONL,
    *,
    batch_size: int = 2,
    restart: bool = False,
    on_batch: Callable[[ImportRun, BatchOutcome], None] | None = None,
) -> ImportRun:
    digest = hashlib.sha256(data).hexdigest()
    return container.bulk.import_products(
        principal,
        io.BytesIO(data),
        fmt,
        run_key=f"test:{digest}",
        fingerprint=digest,
        batch_size=batch_size,
        restart=restart,
        on_batch=on_batch,
    )


def skus_in_store(container: Container) -> list[str]:
    with container.db.read() as conn:
        return sorted(conn.scalars(sa.select(store.variants.c.sku)))


@pytest.fixture
def staff(container: Container, operator: Account) -> Principal:
    set_up_taxonomy(container, operator.principal)
    return operator.principal


def test_each_kind_of_bad_row_is_reported_and_only_its_batch_is_not_written(
    container: Container, staff: Principal
) -> None:
    # given a file in batches of two, where batches 2 to 5 each hold a bad row
    data = jsonl(
        product("A-1"),
        product("B-1", attributes={"weight": 180, "organic": True, "fit": "slim"}),
        product("C-1"),
        product("D-1", category="no/such-category"),
        product("E-1", attributes={"weight": "heavy"}),
        product("F-1", attributes={"fit": "baggy"}),
        product("A-1"),  # the SKU of line 1, written in the first batch
        product("G-1", variants=[{"sku": "G-1", "gtin": "4006381333932"}]),  # check digit
        "{not json",
        product("H-1"),
        product("I-1"),
        product("J-1", variants=[{"sku": "J-1", "gtin": "4006381333931"}]),
    )

    # when it is imported
    outcomes: list[BatchOutcome] = []
    run = run_import(container, staff, data, on_batch=lambda _, o: outcomes.append(o))

    # then every bad row is reported with its line, field and reason
    assert [(e.line, e.field, e.code) for e in run.errors] == [
        (4, "category", "unknown_category"),
        (5, "attributes.weight", "invalid_value"),
        (6, "attributes.fit", "invalid_value"),
        (7, "variants[0].sku", "duplicate"),
        (8, "variants[0].gtin", "invalid_gtin_check_digit"),
        (9, "line", "malformed"),
    ]
    assert "slim, regular" in run.errors[2].reason
    # and only the clean batches were written; nothing of a bad batch was
    assert skus_in_store(container) == ["A-1", "B-1", "I-1", "J-1"]
    assert (run.created, run.failed, run.skipped) == (4, 6, 2)
    assert [(o.first_line, o.created, o.failed, o.skipped) for o in outcomes] == [
        (1, 2, 0, 0),
        (3, 0, 1, 1),
        (5, 0, 2, 0),
        (7, 0, 2, 0),
        (9, 0, 1, 1),
        (11, 2, 0, 0),
    ]
    assert run.status == "completed"
    assert run.lines_done == 12


def test_csv_errors_point_at_the_row_and_column(container: Container, staff: Principal) -> None:
    # given a CSV file of products with bad cells on their second or only rows
    data = (
        b"handle,title,category,attr.weight,attr.fit,sku,option.size,variant_gtin,price\n"
        b"tee,Tee,apparel/t-shirts,180,slim,TEE-S,S,,19.99\n"
        b"tee,,,,,TEE-M,M,,19.99\n"
        b"polo,Polo,apparel/t-shirts,200,slim,POLO-S,S,,25\n"
        b"polo,,,,,TEE-S,M,,25\n"  # the SKU of line 2
        b"cap,Cap,apparel/t-shirts,heavy,wide,CAP-1,,,9\n"
        b"cup,Cup,apparel/t-shirts,,,CUP-S,S,,4\n"
        b"cup,,,,,CUP-M,M,4006381333932,4\n"
    )

    # when imported one product per batch
    run = run_import(container, staff, data, Format.CSV, batch_size=1)

    # then the errors name CSV lines and columns
    assert sorted((e.line, e.field, e.code) for e in run.errors) == [
        (5, "sku", "duplicate"),
        (6, "attr.fit", "invalid_value"),
        (6, "attr.weight", "invalid_value"),
        (8, "variant_gtin", "invalid_gtin_check_digit"),
    ]
    assert skus_in_store(container) == ["TEE-M", "TEE-S"]


def test_an_import_interrupted_mid_file_resumes_after_the_last_written_batch(
    container: Container, staff: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the second batch's commit fails once, after its checkpoint was recorded
    data = jsonl(*(product(f"R-{i}") for i in range(1, 7)))
    real = container.catalog.create_products
    calls = 0

    def crash_on_second_commit(principal: Principal, drafts: Any, on_commit: Any = None) -> Any:
        nonlocal calls
        calls += 1
        if calls != 2:
            return real(principal, drafts, on_commit=on_commit)

        def then_crash(conn: sa.Connection) -> None:
            on_commit(conn)
            raise RuntimeError("the process died")

        return real(principal, drafts, on_commit=then_crash)

    monkeypatch.setattr(container.catalog, "create_products", crash_on_second_commit)

    # when the import runs into it
    with pytest.raises(RuntimeError, match="died"):
        run_import(container, staff, data)

    # then only the first batch is written, and the run's checkpoint says so
    assert skus_in_store(container) == ["R-1", "R-2"]
    digest = hashlib.sha256(data).hexdigest()
    interrupted = container.bulk.unfinished_run(f"test:{digest}")
    assert interrupted is not None
    assert interrupted.lines_done == 2

    # when the same file is imported again
    seen: list[int] = []
    run = run_import(container, staff, data, on_batch=lambda _, o: seen.append(o.first_line))

    # then it resumes at line 3 and every product exists exactly once
    assert seen == [3, 5]
    assert skus_in_store(container) == [f"R-{i}" for i in range(1, 7)]
    assert (run.id, run.created, run.failed, run.status) == (interrupted.id, 6, 0, "completed")


def test_restart_starts_over_and_reports_what_is_already_there(
    container: Container, staff: Principal
) -> None:
    data = jsonl(product("S-1"), product("S-2"))
    first = run_import(container, staff, data)

    again = run_import(container, staff, data, restart=True)

    assert again.id != first.id
    assert (again.created, again.failed) == (0, 2)
    assert {e.code for e in again.errors} == {"duplicate"}


def test_a_csv_file_with_an_unknown_column_imports_nothing(
    container: Container, staff: Principal
) -> None:
    with pytest.raises(UnusableInput):
        run_import(container, staff, b"title,category,sku,prize\nT,apparel,S-1,3\n", Format.CSV)
    assert skus_in_store(container) == []


# --- export ----------------------------------------------------------------------------------


@pytest.fixture
def empty_store(sqlite_template: Path, tmp_path: Path, operator: Account) -> Iterator[Container]:
    """A second, empty store (SQLite) with the same categories, brand and fulfillers."""
    path = tmp_path / "other.db"
    shutil.copyfile(sqlite_template, path)
    other = build(test_settings(f"sqlite:///{path}", tmp_path / "other"))
    set_up_taxonomy(other, make_account(other, Role.OPERATOR).principal)
    yield other
    other.close()


def export(container: Container, principal: Principal, fmt: Format, **kwargs: Any) -> bytes:
    out = io.BytesIO()
    container.bulk.export_products(principal, out, fmt, **kwargs)
    return out.getvalue()


def test_an_export_imports_back_into_an_empty_store_unchanged(
    container: Container, staff: Principal, empty_store: Container
) -> None:
    # given products with variants, attributes, a brand, several offers and each status
    rich = product(
        "TEE-S",
        description="Soft.\nOrganic.",
        brand="acme",
        attributes={"weight": 180.5, "organic": True, "fit": "regular"},
        gtin="4006381333931",
        mpn="AC-1",
        status="draft",
        rating=4.5,
        rating_count=12,
        variants=[
            {"sku": "TEE-S", "options": {"size": "S"}, "weight_g": 180},
            {
                "sku": "TEE-M",
                "options": {"size": "M"},
                "gtin": "96385074",
                "dimensions": {"length_mm": 300, "width_mm": 200, "height_mm": 10},
            },
        ],
        offers=[
            {"variant": "TEE-S", "price": {"amount": 1999, "currency": "EUR"}, "stock": 5},
            {
                "variant": "TEE-S",
                "price": {"amount": 1850, "currency": "EUR"},
                "shipping": {"amount": 495, "currency": "EUR"},
                "stock": 2,
                "delivery_days": 4,
                "fulfiller_id": SELLER,
                "status": "inactive",
            },
        ],
    )
    source = jsonl(rich, product("MUG-1", status="archived"), product("CAP-1"))
    assert run_import(container, staff, source).created == 3
    original = export(container, staff, Format.JSONL)

    # when the JSONL export is imported into the empty store and exported again
    other = empty_store
    other_staff = Principal(kind="system", id="t", role=staff.role)
    assert run_import(other, other_staff, original).created == 3

    # then both exports are identical
    assert export(other, other_staff, Format.JSONL) == original
    lines = [json.loads(line) for line in original.splitlines()]
    assert lines[0] == {**rich, "offers": lines[0]["offers"]}
    assert lines[0]["offers"][0]["shipping"] == {"amount": 0, "currency": "EUR"}


def test_a_csv_export_imports_back_into_an_empty_store(
    container: Container, staff: Principal, empty_store: Container
) -> None:
    source = jsonl(
        product(
            "TEE-S",
            attributes={"weight": 180, "organic": False},
            variants=[{"sku": "TEE-S", "options": {"size": "S"}}, {"sku": "TEE-M"}],
            offers=[
                {"variant": "TEE-S", "price": {"amount": 1999, "currency": "EUR"}},
                {
                    "variant": "TEE-S",
                    "price": {"amount": 1899, "currency": "EUR"},
                    "fulfiller_id": SELLER,
                },
            ],
        ),
        product("MUG-1", brand="acme", status="archived"),
    )
    run_import(container, staff, source)
    csv_export = export(container, staff, Format.CSV)

    other_staff = Principal(kind="system", id="t", role=staff.role)
    run = run_import(empty_store, other_staff, csv_export, Format.CSV)

    assert (run.created, run.error_count) == (2, 0), run.errors

    def records(c: Container, who: Principal) -> list[Any]:
        return [json.loads(line) for line in export(c, who, Format.JSONL).splitlines()]

    assert records(empty_store, other_staff) == records(container, staff)
    assert csv_export.splitlines()[0].startswith(b"handle,title,description,category,brand")


def test_an_export_can_be_limited_to_a_status(container: Container, staff: Principal) -> None:
    run_import(container, staff, jsonl(product("A-1"), product("D-1", status="draft")))

    active = export(container, staff, Format.JSONL, statuses=[ProductStatus.ACTIVE])

    assert [json.loads(line)["variants"][0]["sku"] for line in active.splitlines()] == ["A-1"]
