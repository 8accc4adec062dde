"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

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
        return Response(
            b'{"status":"ready","checks":' + _checks_json(checks) + b"}",
            media_type="application/json",
        )
    failing = ", ".join(name for name, ok in checks.items() if not ok)
    return problem_response(503, detail=f"Not ready: {failing} unreachable")


def _checks_json(checks: dict[str, bool]) -> bytes:
    parts = ",".join(f'"{k}":"{"ok" if v else "down"}"' for k, v in checks.items())
    return ("{" + parts + "}").encode()


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(c: ContainerDep) -> Response:
    return Response(c.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
