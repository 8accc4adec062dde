"""``bazaar import products`` and ``bazaar export products`` against a fresh SQLite file."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bazaar.bootstrap import build
from bazaar.catalog.drafts import CategoryDraft
from bazaar.cli import app
from bazaar.identity.model import Principal, Role
from tests.support.factories import test_settings


@pytest.fixture(autouse=True)
def keep_root_logging() -> Iterator[None]:
    # Every command calls configure_logging, which replaces the root handlers; restore them.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def bazaar(tmp_path: Path) -> CliRunner:
    """A runner on a fresh, migrated database holding the category apparel/t-shirts."""
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
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
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    container = build(test_settings(database_url, tmp_path))
    try:
        staff = Principal(kind="system", id="test", role=Role.OPERATOR)
        container.taxonomy.create_category(staff, CategoryDraft("Apparel", "apparel"))
        container.taxonomy.create_category(staff, CategoryDraft("Tees", "t-shirts", "apparel"))
    finally:
        container.close()
    return runner


def product(sku: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Tee {sku}",
        "category": "apparel/t-shirts",
        "variants": [{"sku": sku}],
        "offers": [{"variant": sku, "price": {"amount": 1999, "currency": "EUR"}, "stock": 5}],
    }
    body.update(fields)
    return body


def write_jsonl(path: Path, *rows: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_an_import_with_bad_rows_exits_1_and_writes_the_error_report(
    bazaar: CliRunner, tmp_path: Path
) -> None:
    # given a file whose second product names an unknown category
    source = write_jsonl(
        tmp_path / "catalog.jsonl",
        product("A-1"),
        product("B-1", category="nowhere"),
        product("C-1"),
    )

    # when it is imported a product per batch
    result = bazaar.invoke(app, ["import", "products", str(source), "--batch-size", "1"])

    # then the good rows are in, the command says what failed and exits 1
    assert result.exit_code == 1, result.output
    assert "2 products created, 1 failed" in result.stdout
    assert "line 2, category: No such category" in result.stderr
    report = tmp_path / "catalog.jsonl.errors.jsonl"
    assert [json.loads(line) for line in report.read_text().splitlines()] == [
        {"line": 2, "field": "category", "reason": "No such category", "code": "unknown_category"}
    ]


def test_a_clean_import_exits_0_and_leaves_no_report(bazaar: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "catalog.csv"
    source.write_text("title,category,sku,price\nTee,apparel/t-shirts,T-1,19.99\n")

    result = bazaar.invoke(app, ["import", "products", str(source)])

    assert result.exit_code == 0, result.output
    assert "1 products created, 0 failed" in result.stdout
    assert not (tmp_path / "catalog.csv.errors.jsonl").exists()


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        ("bad.csv", "title,category,sku,prize\nT,apparel,S,1\n", [], "Unknown column 'prize'"),
        ("catalog.txt", "{}\n", [], "cannot tell the format"),
        ("missing.jsonl", None, [], "cannot read"),
    ],
)
def test_unusable_input_exits_2_and_imports_nothing(
    bazaar: CliRunner,
    tmp_path: Path,
    name: str,
    content: str | None,
    args: list[str],
    message: str,
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_text(content)

    result = bazaar.invoke(app, ["import", "products", str(source), *args])

    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_export_writes_what_import_reads(bazaar: CliRunner, tmp_path: Path) -> None:
    # given two imported products, one a draft
    source = write_jsonl(tmp_path / "in.jsonl", product("A-1"), product("B-1", status="draft"))
    assert bazaar.invoke(app, ["import", "products", str(source)]).exit_code == 0

    # when all are exported to a file, and the active ones as CSV to stdout
    out = tmp_path / "out.jsonl"
    to_file = bazaar.invoke(app, ["export", "products", "--output", str(out)])
    to_stdout = bazaar.invoke(app, ["export", "products", "--format", "csv", "--status", "active"])

    # then the file holds both products in the import shape, and stdout the active one
    assert to_file.exit_code == 0, to_file.output
    assert "2 products exported" in to_file.stderr
    assert [json.loads(line)["variants"][0]["sku"] for line in out.read_text().splitlines()] == [
        "A-1",
        "B-1",
    ]
    assert to_stdout.exit_code == 0, to_stdout.output
    rows = to_stdout.stdout.splitlines()
    assert rows[0].startswith("handle,title")
    assert len(rows) == 2
    assert ",A-1," in rows[1]
