"""Path and query parameters the pricing routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

RuleId = Annotated[str, Path(max_length=40)]
IncludeDeleted = Annotated[bool, Query(description="Also list deleted rules")]
