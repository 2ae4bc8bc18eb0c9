"""Webhooks' pure rules, the signing headers, and the real sender against bad receivers."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.domain import retries
from api.domain import webhooks as rules
from api.domain.errors import InvalidInput
from api.webhooks import signing
from api.webhooks.sender import Sender

attempts = st.integers(min_value=1, max_value=200)
bases = st.floats(min_value=0.001, max_value=3600)
caps = st.floats(min_value=0.001, max_value=86_400)


@given(attempts, bases, caps, st.floats(min_value=0, max_value=0.999999))
def test_a_wait_is_in_the_upper_half_of_its_ceiling_and_never_over_the_cap(
        attempt: int, base: float, cap: float, draw: float) -> None:
    ceiling = retries.backoff_ceiling(attempt, base, cap)
    wait = retries.backoff(attempt, base, cap, lambda: draw)
    assert ceiling / 2 <= wait <= ceiling <= cap


@given(attempts, bases, caps)
def test_ceilings_never_shrink_and_double_until_the_cap(attempt: int, base: float,
                                                        cap: float) -> None:
    now, after = (retries.backoff_ceiling(attempt, base, cap),
                  retries.backoff_ceiling(attempt + 1, base, cap))
    assert after >= now
    assert after == min(cap, now * 2) or now == cap


@given(st.binary(min_size=24, max_size=64))
def test_every_key_of_24_to_64_bytes_is_a_secret(key: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    assert rules.secret(secret) == secret
    assert rules.secret(secret.rstrip("=")) == secret.rstrip("=")  # unpadded, as Svix writes


@given(st.one_of(st.binary(max_size=23), st.binary(min_size=65, max_size=100)))
def test_a_key_too_short_or_too_long_is_refused(key: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.secret("whsec_" + base64.b64encode(key).decode())
    assert refused.value.field == "secret"


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1",
    "100.64.0.1", "2002:7f00:1::"])
def test_addresses_inside_a_network_are_not_public(address: str) -> None:
    assert not rules.public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_internet_addresses_are_public(address: str) -> None:
    assert rules.public(ipaddress.ip_address(address))


@given(st.lists(st.sampled_from(list(rules.WebhookEvent)), min_size=1))
def test_events_are_kept_once_each_in_a_stable_order(wanted: list[rules.WebhookEvent]) -> None:
    chosen = rules.events(wanted)
    assert chosen == sorted(set(wanted))


def test_a_judged_answer_is_delivered_only_for_2xx() -> None:
    assert rules.judge(200).delivered and rules.judge(204).delivered
    for status in (301, 400, 410, 500, 503, None):
        assert not rules.judge(status).delivered
    assert "redirect" in (rules.judge(302).error or "")


def test_the_previous_secret_signs_only_until_its_overlap_ends() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = now + timedelta(hours=1)
    assert rules.signing_secrets("a", "b", later, now) == ["a", "b"]
    assert rules.signing_secrets("a", "b", now, later) == ["a"]
    assert rules.signing_secrets("a", None, None, now) == ["a"]


KEY = "whsec_" + base64.b64encode(b"x" * 32).decode()


@given(st.text(max_size=200), st.integers(min_value=1, max_value=10**12))
def test_signed_headers_verify_and_any_other_body_does_not(body: str, delivery: int) -> None:
    headers = signing.headers(delivery, body, [KEY], datetime.now(UTC))
    assert headers["webhook-id"] == f"msg_{delivery}"
    Webhook(KEY).verify(body, headers, json_parse=False)
    with pytest.raises(WebhookVerificationError):
        Webhook(KEY).verify(body + " ", headers, json_parse=False)


async def test_the_sender_refuses_a_loopback_receiver_without_connecting() -> None:
    connected = asyncio.Event()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = Sender(timeout=2, allow_private=False)
    try:
        for url in (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/"):
            answer = await sender.post(url, "{}", {})
            assert answer.status is None and "not a public address" in (answer.error or "")
        assert not connected.is_set()
    finally:
        await sender.close()
        server.close()
        await server.wait_closed()


async def test_a_hanging_receiver_costs_one_timeout_and_no_more() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = Sender(timeout=0.5, allow_private=True)
    started = asyncio.get_running_loop().time()
    try:
        answer = await sender.post(f"http://127.0.0.1:{port}/", "{}", {})
    finally:
        await sender.close()
        server.close()
    assert answer.status is None and "no answer within" in (answer.error or "")
    assert asyncio.get_running_loop().time() - started < 2


async def test_a_redirect_is_not_followed() -> None:
    async def redirect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://10.0.0.1/\r\n"
                     b"Content-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(redirect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sender = Sender(timeout=2, allow_private=True)
    try:
        answer = await sender.post(f"http://127.0.0.1:{port}/", "{}", {})
    finally:
        await sender.close()
        server.close()
    assert answer.status == 307 and not rules.judge(answer.status).delivered
