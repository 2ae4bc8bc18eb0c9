"""The scheduled promises are kept by a running service: in the API process, or by
`backorders worker` when the API's dispatcher is off, on PostgreSQL. Time passing is
arranged in the database (a cancel-by day and a promised date moved into the past); the
client sees the back orders cancelled and credited, and each exactly once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.domain.identity import Role
from tests.e2e.server import ServerProcess, graphql, worker_process

CREATE = """mutation { createProduct(input: {sku: "KB", name: "Keyboard", price: "20.00",
  policy: {leadTimeDays: 5}}) { __typename } }"""
PLACE = """mutation($k: String!) { placeOrder(input: {lines: [{sku: "KB", quantity: 1}],
  idempotencyKey: $k}) { __typename ... on PlaceOrderPayload { order {
  backOrders { id } } } } }"""
CANCEL_BY = """mutation($id: ID!, $d: Date) { setBackOrderCancelBy(id: $id, cancelBy: $d) {
  __typename } }"""
READ = """query($id: ID!) { backOrder(id: $id) { status refundedAmount { amount }
  compensatedAmount { amount } history { kind } } }"""
TODAY = "SELECT current_date::text"


async def _wait_for(client: httpx.AsyncClient, token: str, bo_id: str,
                    done: Any, seconds: float = 20) -> dict[str, Any]:
    for _ in range(int(seconds * 10)):
        row: dict[str, Any] = (await graphql(client, READ, token, id=bo_id))["backOrder"]
        if done(row):
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"not kept in {seconds}s: {row}")


@pytest.mark.parametrize("where", ["api", "worker"])
async def test_a_running_service_keeps_cancel_by_and_compensation_promises(
        pg_database: str, tmp_path: Path, where: str) -> None:
    env = {"BACKORDERS_SWEEP_SECONDS": "0.2", "BACKORDERS_COMPENSATION_AFTER_DAYS": "3",
           "BACKORDERS_COMPENSATION_PERCENT": "10"}
    server = ServerProcess(pg_database, tmp_path / "server.log",
                           **env, **({"BACKORDERS_DISPATCHER": "off"} if where == "worker"
                                     else {}))
    worker = None
    if where == "worker":
        worker = worker_process(pg_database, **env)
    db = await asyncpg.connect(pg_database.replace("postgres://", "postgresql://"))
    try:
        staff, alice = server.token("staff", Role.STAFF), server.token("alice")
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            await graphql(client, CREATE, staff)
            ids = [(await graphql(client, PLACE, alice, k=f"k{n}"))["placeOrder"]["order"][
                "backOrders"][0]["id"] for n in range(2)]
            today = await db.fetchval(TODAY)
            assert (await graphql(client, CANCEL_BY, alice, id=ids[0], d=today))[
                "setBackOrderCancelBy"]["__typename"] == "BackOrderPayload"
            # Nothing is due yet: a few sweeps later both still wait, uncredited.
            await asyncio.sleep(1)
            for bo_id in ids:
                row = (await graphql(client, READ, alice, id=bo_id))["backOrder"]
                assert (row["status"], row["compensatedAmount"]["amount"]) == (
                    "WAITING", "0.00")

            # Days pass: the cancel-by day is yesterday, the second's promise 4 days ago.
            await db.execute("UPDATE back_order SET cancel_by = current_date - 1"
                             " WHERE cancel_by IS NOT NULL")
            await db.execute("UPDATE back_order SET promised_date = current_date - 4"
                             " WHERE cancel_by IS NULL")
            cancelled = await _wait_for(client, alice, ids[0],
                                        lambda r: r["status"] == "CANCELLED")
            credited = await _wait_for(client, alice, ids[1],
                                       lambda r: r["compensatedAmount"]["amount"] != "0.00")
            assert cancelled["refundedAmount"]["amount"] == "20.00"
            assert credited["compensatedAmount"]["amount"] == "2.00"
            await asyncio.sleep(1)  # more sweeps: nothing twice
            again = [(await graphql(client, READ, alice, id=b))["backOrder"] for b in ids]
            assert [k["kind"] for k in again[0]["history"]].count("CANCELLED") == 1
            assert [k["kind"] for k in again[1]["history"]].count("COMPENSATED") == 1
            assert await db.fetchval(
                "SELECT amount_credited::text FROM customer_order o JOIN back_order b"
                " ON b.order_id = o.id WHERE b.cancel_by IS NULL") == "2.00"
    finally:
        await db.close()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        server.stop()
