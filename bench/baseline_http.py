"""Baselines for the HTTP figures: plain Starlette endpoints over asyncpg that read the same
rows and return the same JSON as the GraphQL operations they are compared with."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=5)
    yield
    await pool.close()


async def product(request: Request) -> JSONResponse:
    assert pool is not None
    row = await pool.fetchrow(
        "SELECT sku, name, on_hand, allocated, waiting FROM product WHERE sku = $1",
        request.query_params["sku"])
    return JSONResponse({"data": {"product": {
        "sku": row["sku"], "name": row["name"],
        "stock": {"onHand": row["on_hand"], "available": row["on_hand"] - row["allocated"],
                  "backordered": row["waiting"]}}}})


async def page(request: Request) -> JSONResponse:
    assert pool is not None
    rows = await pool.fetch(
        "SELECT b.id, b.status, b.queue_position, b.customer_id, p.sku, p.name, o.id AS oid,"
        " o.amount_charged FROM back_order b JOIN product p ON p.id = b.product_id"
        " JOIN customer_order o ON o.id = b.order_id ORDER BY b.id LIMIT 100")
    edges = [{"node": {"id": str(r["id"]), "status": r["status"],
                       "queuePosition": r["queue_position"],
                       "product": {"sku": r["sku"], "name": r["name"]},
                       "customer": {"id": r["customer_id"]},
                       "order": {"id": str(r["oid"]),
                                 "amountCharged": {"amount": str(r["amount_charged"])}}}}
             for r in rows]
    return JSONResponse({"data": {"backOrders": {"edges": edges}}})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/product", product), Route("/page", page),
                        Route("/healthz", healthz)], lifespan=lifespan)
