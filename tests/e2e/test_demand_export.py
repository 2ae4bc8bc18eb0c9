"""The demand report as CSV from a real server: staff only, one row per product and bucket."""

from __future__ import annotations

import csv
import io

import httpx

from api.domain.identity import Role
from api.services.clock import utcnow
from tests.e2e.server import ServerProcess, graphql
from tests.integration.operations import CREATE_PRODUCT, PLACE_ORDER


async def test_staff_download_the_report_as_csv(server: ServerProcess,
                                                client: httpx.AsyncClient) -> None:
    staff = server.token("staff-1", Role.STAFF)
    alice = server.token("alice")
    for sku, on_hand in (("KB", 1), ("MUG", 0)):
        await graphql(client, CREATE_PRODUCT, staff, input={
            "sku": sku, "name": sku, "price": "10.00", "onHand": on_hand, "policy": {}})
    for sku, quantity in (("KB", 3), ("MUG", 2)):
        placed = await graphql(client, PLACE_ORDER, alice, input={
            "lines": [{"sku": sku, "quantity": quantity}], "idempotencyKey": sku})
        assert placed["placeOrder"]["__typename"] == "PlaceOrderPayload"
    today = utcnow().date().isoformat()
    params = {"from": today, "to": today, "bucket": "day"}

    response = await client.get("/reports/demand.csv", params=params,
                                headers={"Authorization": f"Bearer {staff}"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["sku"], r["period_start"], r["period_end"], r["units_ordered"],
             r["units_backordered"], r["open_backordered_units"],
             r["cash_collected_ahead_of_stock"]) for r in rows] == [
        ("KB", today, today, "3", "2", "2", "20.00"),
        ("MUG", today, today, "2", "2", "2", "20.00")]
    one = await client.get("/reports/demand.csv", params={**params, "sku": "MUG"},
                           headers={"Authorization": f"Bearer {staff}"})
    assert [r["sku"] for r in csv.DictReader(io.StringIO(one.text))] == ["MUG"]


async def test_the_export_is_for_staff_and_checks_its_input(server: ServerProcess,
                                                            client: httpx.AsyncClient) -> None:
    params = {"from": "2026-11-01", "to": "2026-11-30"}
    staff = {"Authorization": f"Bearer {server.token('staff-1', Role.STAFF)}"}
    customer = {"Authorization": f"Bearer {server.token('alice')}"}
    assert (await client.get("/reports/demand.csv", params=params)).status_code == 403
    assert (await client.get("/reports/demand.csv", params=params,
                             headers=customer)).status_code == 403
    bad = await client.get("/reports/demand.csv", params={**params, "bucket": "year"},
                           headers=staff)
    assert bad.status_code == 400 and "INVALID_INPUT" in bad.text
    unknown = await client.get("/reports/demand.csv", params={**params, "sku": "NOPE"},
                               headers=staff)
    assert unknown.status_code == 404
    empty = await client.get("/reports/demand.csv", params=params, headers=staff)
    assert empty.status_code == 200 and empty.text.startswith("sku,period_start,")
