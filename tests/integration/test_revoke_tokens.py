"""revokeTokens: staff only, checked input, the table raised and this instance told at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.domain.revocation import Revocations
from api.graphql.context import Context
from api.realtime.revocations import RevocationPoller
from api.services.revocations import all_revocations
from api.settings import Settings
from tests.inprocess import schema
from tests.integration.conftest import ALICE, STAFF, Run

REVOKE = """mutation($subject: String!) { revokeTokens(subject: $subject) { __typename
  ... on RevokeTokensPayload { subject revokedBefore }
  ... on Error { code } } }"""


async def test_staff_revoke_a_subject_and_the_table_has_it(gql: Run) -> None:
    answer = (await gql(REVOKE, STAFF, subject="alice"))["revokeTokens"]
    assert answer["__typename"] == "RevokeTokensPayload"
    assert answer["subject"] == "alice"
    assert set(await all_revocations()) == {"alice"}


async def test_revoking_again_raises_the_time(gql: Run) -> None:
    first = (await gql(REVOKE, STAFF, subject="alice"))["revokeTokens"]
    again = (await gql(REVOKE, STAFF, subject="alice"))["revokeTokens"]
    assert again["revokedBefore"] >= first["revokedBefore"]
    assert len(await all_revocations()) == 1


async def test_a_customer_may_not_revoke(gql: Run) -> None:
    answer = (await gql(REVOKE, ALICE, subject="bob"))["revokeTokens"]
    assert answer == {"__typename": "ForbiddenError", "code": "FORBIDDEN"}
    assert await all_revocations() == {}


@pytest.mark.parametrize("subject", ["", "   ", "x" * 129, "al\x00ice", "bob\n"])
async def test_bad_subjects_are_invalid_input(gql: Run, subject: str) -> None:
    answer = (await gql(REVOKE, STAFF, subject=subject))["revokeTokens"]
    assert answer == {"__typename": "InvalidInputError", "code": "INVALID_INPUT"}


async def test_the_instance_that_revokes_knows_at_once(db: str) -> None:
    revocations = Revocations()
    context: Any = Context(STAFF, Settings(), revocations=revocations)
    result = await schema.execute(REVOKE, {"subject": "alice"}, context_value=context)
    assert result.errors is None
    assert revocations.refuses("alice", revocations.before["alice"])


async def test_another_instance_reads_the_revocation_from_the_table(gql: Run) -> None:
    await gql(REVOKE, STAFF, subject="alice")  # made elsewhere: this copy is not told
    elsewhere = Revocations()
    poller = RevocationPoller(elsewhere, seconds=0.05)
    await poller.start()
    try:
        assert set(elsewhere.before) == {"alice"}
        await gql(REVOKE, STAFF, subject="bob")
        await asyncio.sleep(0.3)
        assert set(elsewhere.before) == {"alice", "bob"}
    finally:
        await poller.stop()


async def test_two_first_revocations_of_one_subject_at_once_both_succeed(db: str) -> None:
    import asyncio

    from api.services.revocations import revoke_tokens
    from api.store.models import TokenRevocation

    rows = await asyncio.gather(*(revoke_tokens(STAFF, "phone-lost") for _ in range(4)))
    assert {row.subject for row in rows} == {"phone-lost"}
    assert await TokenRevocation.filter(subject="phone-lost").count() == 1
