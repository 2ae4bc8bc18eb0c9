"""The README's walk-through, run as written by bash against ``backorders serve --demo``."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.server import ServerProcess, backorders_command, free_port

ROOT = Path(__file__).resolve().parents[2]


def walkthrough_script(port: int) -> str:
    """The shell blocks of the README's walk-through, pointed at the test server."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Walk-through", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    script = "\n".join(textwrap_dedent(b) for b in blocks)
    command = " ".join(backorders_command())
    return script.replace(".venv/bin/backorders", command).replace(
        "http://127.0.0.1:8000", f"http://127.0.0.1:{port}")


def textwrap_dedent(block: str) -> str:
    return "\n".join(line.strip() for line in block.splitlines())


def test_the_readme_walkthrough_works_as_written(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite://{tmp_path / 'demo.sqlite3'}", tmp_path / "server.log",
                           "--demo", secret=None)
    try:
        script = walkthrough_script(server.port)
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                             text=True, timeout=120, cwd=tmp_path, check=False)
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(answers) == 9, run.stdout
    assert all("errors" not in a for a in answers), run.stdout
    product, placed, received, mine, shipped, cancelled, joined, counted, claimed = (
        a["data"] for a in answers)
    assert product["product"]["availability"] == "BACKORDERABLE"
    [bo] = placed["placeOrder"]["order"]["backOrders"]
    assert (bo["id"], bo["status"], bo["queuePosition"]) == ("3", "WAITING", 3)
    assert received["receiveRestock"]["restock"]["status"] == "RECEIVED"
    assert [e["node"]["status"] for e in mine["backOrders"]["edges"]] == ["ALLOCATED"]
    assert shipped["shipBackOrder"]["backOrder"]["status"] == "SHIPPED"
    assert cancelled["cancelBackOrder"]["__typename"] == "InvalidTransitionError"
    assert joined["joinWaitlist"]["entry"] == {"id": "1", "status": "WAITING"}
    assert counted["adjustStock"]["__typename"] == "ProductPayload"
    assert claimed["claimHold"]["order"]["amountCharged"]["amount"] == "59.00"


def test_the_demo_mail_sink_shows_alices_email(tmp_path: Path) -> None:
    port = free_port()
    sink = subprocess.Popen([*backorders_command(), "mail-sink", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    server = ServerProcess(
        f"sqlite://{tmp_path / 'demo.sqlite3'}", tmp_path / "server.log", "--demo",
        secret=None,
        BACKORDERS_NOTIFY_EMAIL_URL=f"mailto://127.0.0.1:{port}?from=shop@example.com&to={{to}}")
    try:
        token = server.token("alice")
        place = ('mutation { placeOrder(input: {lines: [{sku: "KB-ERGO", quantity: 2}], '
                 'idempotencyKey: "sink"}) { __typename } }')
        answer = httpx.post(f"{server.url}/graphql", json={"query": place},
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.json()["data"]["placeOrder"]["__typename"] == "PlaceOrderPayload"
        time.sleep(5)  # the in-process dispatcher sends within a second or so
    finally:
        server.stop()
        sink.terminate()
        output = sink.communicate(timeout=10)[0]
    assert "--- mail to alice@example.com" in output
    assert "Subject: You are number 3 in line for Ergonomic keyboard" in output
