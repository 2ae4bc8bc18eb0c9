"""The revocation rule: a token issued at or before its subject's revocation is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.auth import InvalidToken, mint, verified
from api.domain.identity import Role
from api.domain.revocation import Revocations, revoked
from api.settings import Settings


def test_a_token_issued_at_or_before_the_revocation_is_revoked() -> None:
    assert revoked(99.0, 100.0)
    assert revoked(100.0, 100.0)
    assert not revoked(101.0, 100.0)


def test_no_revocation_refuses_nothing_and_a_token_without_iat_falls_under_one() -> None:
    assert not revoked(None, None)
    assert revoked(None, 100.0)


def test_a_revocation_is_only_ever_raised() -> None:
    revocations = Revocations()
    revocations.update({"alice": 100.0})
    revocations.update({"alice": 50.0})
    assert revocations.before == {"alice": 100.0}


def test_a_watched_socket_is_told_once_when_a_revocation_covers_it() -> None:
    revocations, told = Revocations(), []
    revocations.watch("alice", 10.0, lambda: told.append("old"))
    revocations.watch("alice", 200.0, lambda: told.append("new"))
    revocations.update({"alice": 100.0})
    revocations.update({"alice": 150.0})
    assert told == ["old"]
    assert revocations.watched == 1


def test_minted_tokens_carry_iat_and_a_remembered_token_is_still_refused() -> None:
    settings, revocations = Settings(), Revocations()
    token = mint(settings, "alice", Role.CUSTOMER, timedelta(hours=1))
    known = verified(token, settings, revocations)  # remembered from now on
    assert known.issued_at is not None
    revocations.update({"alice": known.issued_at})
    with pytest.raises(InvalidToken, match="token revoked"):
        verified(token, settings, revocations)
