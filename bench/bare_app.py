"""The baseline: a bare Starlette app serving pre-rendered JSON documents.

It answers the same paths as Bazaar with byte-identical bodies captured from a running
Bazaar, so the difference between the two is what Bazaar does per request (middleware,
routing, dependency injection, cache lookup, ETag) and nothing else.

Run by the scenarios as ``uvicorn --app-dir bench --factory bare_app:create_app`` with
``BENCH_BARE_DIR`` pointing at a directory holding ``list.json`` (the product list) and
``products/<id>.json`` (one file per product).
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ENV_DIR = "BENCH_BARE_DIR"


def create_app() -> Starlette:
    root = Path(os.environ[ENV_DIR])
    list_body = (root / "list.json").read_bytes()
    product_bodies = {p.stem: p.read_bytes() for p in (root / "products").glob("*.json")}

    async def list_products(request: Request) -> Response:
        return Response(list_body, media_type="application/json")

    async def get_product(request: Request) -> Response:
        body = product_bodies.get(request.path_params["product_id"])
        if body is None:
            return Response(b'{"detail":"not found"}', 404, media_type="application/json")
        return Response(body, media_type="application/json")

    return Starlette(
        routes=[
            Route("/api/v1/products", list_products),
            Route("/api/v1/products/{product_id}", get_product),
        ]
    )
