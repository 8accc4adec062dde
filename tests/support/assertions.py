"""Assertions and probes shared by the API and integration tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from httpx2 import Response


def assert_problem(response: Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:bazaar:problem:")
    assert problem["title"]
    return problem


class StatementCounter:
    """Counts the SQL statements an engine sends while the counter is open."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        sa.event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(" ".join(statement.split()))
