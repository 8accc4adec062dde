"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import json

from fastapi import APIRouter, Response

from bazaar.http.deps import ContainerDep
from bazaar.http.problems import problem_response

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database (and Redis, when configured) answer")
def readyz(c: ContainerDep) -> Response:
    checks = {"database": c.db.ping()}
    if c.settings.redis_url:
        checks["redis"] = c.cache.ping()
    if all(checks.values()):
        body = {"status": "ready", "checks": dict.fromkeys(checks, "ok")}
        return Response(json.dumps(body).encode(), media_type="application/json")
    failing = ", ".join(name for name, ok in checks.items() if not ok)
    return problem_response(503, detail=f"Not ready: {failing} unreachable")


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(c: ContainerDep) -> Response:
    return Response(c.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
