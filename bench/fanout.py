"""Fan-out: N websocket subscribers, one committed change each, latency commit -> receipt.

Ours: N clients subscribe (graphql-transport-ws) to their own back order on one
``backorders serve``; one restock receipt allocates all N back orders in one commit.
Baseline: a bare Starlette websocket endpoint sends the same-sized payload to N sockets.
Both are timed from the answer to the triggering request, which each server gives before
its subscribers hear of it (ours once the change has committed: "from commit to receipt"
as figure 5 says), and also from the request. Shared and baseline report the median of
three changes.

    python -m bench.fanout            # quick: N = 100, 1000
    python -m bench.fanout --full     # N = 100, 1000, 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import websockets
from tortoise.context import TortoiseContext

from api.domain.identity import Actor, Role
from api.services import catalog, ordering, restocks
from api.store.database import migrate, tortoise_config
from tests.e2e.server import ServerProcess, free_port

SUBSCRIPTION = "subscription($id: ID!) { backOrderUpdated(id: $id) { id version status } }"
STAFF = Actor("bench-staff", Role.STAFF)


async def seed(database_url: str, count: int) -> tuple[list[int], int]:
    """A product with ``count`` one-unit back orders and a restock that covers them all."""
    await migrate(database_url)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(database_url))
        await catalog.create_product(STAFF, "FAN", "Fan-out", Decimal("1.00"))
        ids = []
        for n in range(count):
            placed = await ordering.place_order(
                Actor(f"c{n}", Role.CUSTOMER), [ordering.LineRequest("FAN", 1)], "k", "USD")
            back_orders = await placed.order.back_orders.all()
            ids.append(back_orders[0].id)
        if not count:
            return ids, 0
        when = datetime.now(UTC).date() + timedelta(days=3)
        restock = await restocks.schedule_restock(STAFF, "FAN", count, when)
        return ids, restock.id


async def _connect(url: str, subprotocol: str | None) -> Any:
    protocols = [subprotocol] if subprotocol else None
    # No permessage-deflate: our server does not take it by default, a bare uvicorn does,
    # and then the baseline would pay for compressing and inflating every message.
    return await websockets.connect(url, subprotocols=protocols, max_queue=None,
                                    open_timeout=60, ping_interval=None, compression=None)


async def open_subscribers(url: str, token: str,
                           operations: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(100)

    async def one(query: str, variables: dict[str, Any]) -> Any:
        async with gate:
            ws = await _connect(url, "graphql-transport-ws")
            await ws.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": query, "variables": variables}}))
            first = json.loads(await ws.recv())
            assert first["type"] == "next", first
            return ws

    return list(await asyncio.gather(*(one(q, v) for q, v in operations)))


def receipt(ws: Any) -> asyncio.Future[float]:
    """When the bytes of the next message reach this process. From here on the connection's
    bytes are looked at, not parsed: 5,000 parsing clients, on the two cores the server also
    runs on, would add their own time to what is measured (each message then waits for the
    parsing of those that came before it). Close with ``hang_up``."""
    received: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def data_received(data: bytes) -> None:
        if not received.done() and b"next" in data:  # a keep-alive ping is not it
            received.set_result(time.perf_counter())

    ws.data_received = data_received
    return received


def hang_up(sockets: list[Any]) -> None:
    for ws in sockets:
        ws.transport.abort()


def percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def measure_ours(count: int, workdir: Path) -> dict[str, float]:
    database = f"sqlite://{workdir / f'fan{count}.sqlite3'}"
    ids, restock_id = await seed(database, count)
    server = ServerProcess(database, workdir / f"fan{count}.log", "--no-migrate",
                           BACKORDERS_SUBSCRIBER_QUEUE="256")
    try:
        token = server.token("bench-staff", Role.STAFF)
        idle = rss_kib(server.process.pid)
        operations = [(SUBSCRIPTION, {"id": str(i)}) for i in ids]
        sockets = await open_subscribers(server.url.replace("http", "ws") + "/graphql",
                                         token, operations)
        await asyncio.sleep(1)
        per_subscriber = (rss_kib(server.process.pid) - idle) / count
        waiters = [receipt(ws) for ws in sockets]
        mutation = 'mutation($id: ID!) { receiveRestock(id: $id) { __typename } }'
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            start = time.perf_counter()
            response = await client.post("/graphql", json={
                "query": mutation, "variables": {"id": str(restock_id)}},
                headers={"Authorization": f"Bearer {token}"})
            committed = time.perf_counter()
            assert response.json()["data"]["receiveRestock"]["__typename"] == "RestockPayload"
        received = await asyncio.wait_for(asyncio.gather(*waiters), 300)
        hang_up(sockets)
        # From commit: the mutation answers after its commit (events may come first: 0).
        p50, p99 = percentiles([max(t - committed, 0.0) for t in received])
        return {"p50": p50, "p99": p99, "kib_per_subscriber": per_subscriber,
                "commit_ms": (committed - start) * 1000}
    finally:
        server.stop()


ROUNDS = 3
"""Shared and baseline: this many changes to the same subscribers, one after another; each
reports its median round by p99 (two cores shared with the clients: one round of either
can be 2x off), and every round's p99."""


async def median_of(sockets: list[Any], trigger: Any) -> dict[str, Any]:
    """``trigger`` makes one change; times count from its answer, which both servers give
    before the subscribers hear of it (ours once it has committed), and also from the
    request. A message that comes before the answer counts 0."""
    rounds = []
    for _ in range(ROUNDS):
        waiters = [receipt(ws) for ws in sockets]
        start = time.perf_counter()
        await trigger()
        answered = time.perf_counter()
        received = await asyncio.wait_for(asyncio.gather(*waiters), 300)
        p50, p99 = percentiles([max(t - answered, 0.0) for t in received])
        rounds.append({"p50": p50, "p99": p99,
                       "p99_from_request": percentiles([t - start for t in received])[1]})
        await asyncio.sleep(0.5)
    ordered = sorted(rounds, key=lambda r: r["p99"])
    return {**ordered[len(ordered) // 2], "rounds_p99": [r["p99"] for r in rounds]}


SHARED = 'subscription { productStockChanged(sku: "FAN") { sku version stock { onHand } } }'


async def measure_shared(count: int, workdir: Path) -> dict[str, float]:
    """N subscribers of one product; one small stock change; latency from its commit."""
    database = f"sqlite://{workdir / f'shared{count}.sqlite3'}"
    await seed(database, 0)
    server = ServerProcess(database, workdir / f"shared{count}.log", "--no-migrate")
    try:
        token = server.token("bench-staff", Role.STAFF)
        idle = rss_kib(server.process.pid)
        sockets = await open_subscribers(server.url.replace("http", "ws") + "/graphql",
                                         token, [(SHARED, {})] * count)
        await asyncio.sleep(1)
        per_subscriber = (rss_kib(server.process.pid) - idle) / count
        mutation = 'mutation { adjustStock(sku: "FAN", delta: 1) { __typename } }'
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            async def change() -> None:
                await client.post("/graphql", json={"query": mutation},
                                  headers={"Authorization": f"Bearer {token}"})
            timing = await median_of(sockets, change)
        hang_up(sockets)
        return {**timing, "kib_per_subscriber": per_subscriber}
    finally:
        server.stop()


async def measure_baseline(count: int, payload: str) -> dict[str, float]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.baseline_ws:app", "--port", str(port),
         "--log-level", "warning"], cwd=Path(__file__).resolve().parents[1])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.05)
        gate = asyncio.Semaphore(100)

        async def one() -> Any:
            async with gate:
                return await _connect(f"ws://127.0.0.1:{port}/ws", None)

        sockets = await asyncio.gather(*(one() for _ in range(count)))
        await asyncio.sleep(0.5)
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            async def broadcast() -> None:
                await client.post("/broadcast", content=payload)
            timing = await median_of(list(sockets), broadcast)
        hang_up(list(sockets))
        return timing
    finally:
        process.terminate()
        process.wait()


SAMPLE = json.dumps({"id": "1", "type": "next", "payload": {"data": {"productStockChanged": {
    "sku": "FAN", "version": 3, "stock": {"onHand": 1}}}}})


async def run(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="backorders-bench-") as tmp:
        for count in sizes:
            shared = await measure_shared(count, Path(tmp))
            own = await measure_ours(count, Path(tmp))
            base = await measure_baseline(count, SAMPLE)
            rows.append({"n": count, "shared": shared, "own": own, "baseline": base,
                         "ratio_p99": shared["p99"] / max(base["p99"], 0.001)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="N = 100, 1000, 5000")
    parser.add_argument("--sizes", help="comma-separated N, overrides --full")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [100, 1000, 5000] if args.full else [100, 1000])
    rows = asyncio.run(run(sizes))
    print("shared: N subscribers of one product, one stock change (from the request);")
    print("own: N subscribers of their own back order, one restock allocating all")
    print("(from the commit); baseline: bare Starlette websocket broadcast (from the request).")
    print("shared p50/p99 from the commit, base from its answer; req p99 from the request")
    print(f"{'N':>6} {'shared p50':>10} {'shared p99':>10} {'req p99':>8} {'base p50':>9} "
          f"{'base p99':>9} {'ratio':>6} {'own p50':>8} {'own p99':>8} {'KiB/sub':>8}  target")
    for row in rows:
        shared, own, base = row["shared"], row["own"], row["baseline"]
        target = "p99 <= 2x baseline" if row["n"] == 1000 else ""
        met = ("met" if row["ratio_p99"] <= 2 else "NOT met") if target else ""
        print(f"{row['n']:>6} {shared['p50']:>8.1f}ms {shared['p99']:>8.1f}ms "
              f"{shared['p99_from_request']:>6.1f}ms "
              f"{base['p50']:>7.1f}ms {base['p99']:>7.1f}ms {row['ratio_p99']:>6.2f} "
              f"{own['p50']:>6.1f}ms {own['p99']:>6.1f}ms "
              f"{shared['kib_per_subscriber']:>8.1f}  {target} {met}")
    for row in rows:
        print(f"N = {row['n']}: p99 of each round (ms): shared "
              + ", ".join(f"{v:.1f}" for v in row["shared"]["rounds_p99"]) + "; base "
              + ", ".join(f"{v:.1f}" for v in row["baseline"]["rounds_p99"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
