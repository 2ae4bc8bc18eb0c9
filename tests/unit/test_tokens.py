"""Bearer tokens: what is accepted and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from api.auth import REASONS, InvalidToken, bearer, mint, verify
from api.domain.identity import Actor, Role
from api.settings import DEV_SECRET, Settings

SETTINGS = Settings(jwt_secret="a-test-secret-that-is-32-chars-long!")


def test_a_minted_token_names_its_subject_and_role() -> None:
    token = mint(SETTINGS, "alice", Role.CUSTOMER, timedelta(minutes=5))
    assert verify(token, SETTINGS) == Actor("alice", Role.CUSTOMER)


def test_an_expired_token_is_refused() -> None:
    token = mint(SETTINGS, "alice", Role.STAFF, timedelta(seconds=-5))
    with pytest.raises(InvalidToken, match="expired"):
        verify(token, SETTINGS)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    other = Settings(jwt_secret="another-secret-of-at-least-32-chars")
    with pytest.raises(InvalidToken, match="invalid signature"):
        verify(mint(other, "alice", Role.STAFF, timedelta(minutes=5)), SETTINGS)


def test_an_unsigned_token_is_refused() -> None:
    claims = {"sub": "mallory", "role": "staff",
              "exp": datetime.now(UTC) + timedelta(minutes=5)}
    token = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(InvalidToken):
        verify(token, SETTINGS)


def test_a_token_for_another_audience_is_refused() -> None:
    ours = Settings(jwt_secret=SETTINGS.jwt_secret, jwt_audience="backorders")
    theirs = Settings(jwt_secret=SETTINGS.jwt_secret, jwt_audience="another-api")
    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        verify(mint(theirs, "alice", Role.STAFF, timedelta(minutes=5)), ours)


def test_an_unknown_role_is_refused() -> None:
    token = jwt.encode({"sub": "x", "role": "admin",
                        "exp": datetime.now(UTC) + timedelta(minutes=5)},
                       SETTINGS.jwt_secret, algorithm="HS256")
    with pytest.raises(InvalidToken, match="role"):
        verify(token, SETTINGS)


def test_rs256_tokens_verify_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    settings = Settings(jwt_algorithm="RS256", jwt_public_key=public)
    token = mint(settings, "staff-1", Role.STAFF, timedelta(minutes=5), private_key=private)
    assert verify(token, settings) == Actor("staff-1", Role.STAFF)
    hs256 = Settings(jwt_secret=SETTINGS.jwt_secret)
    with pytest.raises(InvalidToken):
        verify(mint(hs256, "staff-1", Role.STAFF, timedelta(minutes=5)), settings)


def test_the_header_must_say_bearer() -> None:
    assert bearer(None) is None
    assert bearer("Bearer abc") == "abc"
    with pytest.raises(InvalidToken):
        bearer("Basic abc")


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValueError, match="development secret"):
        Settings(environment="production", jwt_secret=DEV_SECRET)


def test_a_remembered_token_is_still_checked_against_the_key_and_its_expiry() -> None:
    import time

    token = mint(SETTINGS, "alice", Role.CUSTOMER, timedelta(seconds=1))
    assert verify(token, SETTINGS) == Actor("alice", Role.CUSTOMER)
    assert verify(token, SETTINGS) == Actor("alice", Role.CUSTOMER)  # remembered
    other = Settings(jwt_secret="another-secret-of-at-least-32-chars")
    with pytest.raises(InvalidToken, match="invalid signature"):
        verify(token, other)
    audience = Settings(jwt_secret=SETTINGS.jwt_secret, jwt_audience="shop")
    with pytest.raises(InvalidToken):
        verify(token, audience)
    time.sleep(2.1)
    with pytest.raises(InvalidToken, match="expired"):
        verify(token, SETTINGS)


def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import api.auth

    monkeypatch.setattr(api.auth, "VERIFIED_MAX", 3)
    monkeypatch.setattr(api.auth, "_verified", {})
    for n in range(5):
        token = mint(SETTINGS, f"c{n}", Role.CUSTOMER, timedelta(minutes=5))
        assert verify(token, SETTINGS).subject == f"c{n}"
    assert len(api.auth._verified) == 3


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.xx",
                                     "\xff\xfe", "eyJ" + "A" * 500])
def test_a_garbage_token_is_an_invalid_token_in_our_words(garbage: str) -> None:
    with pytest.raises(InvalidToken) as refused:
        verify(garbage, SETTINGS)
    assert str(refused.value) == "invalid token"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.lists(st.text(alphabet="eyJAb0_-=", max_size=40),
                                        min_size=3, max_size=3).map(".".join))
def test_whatever_a_client_sends_the_refusal_is_in_our_words(token: str) -> None:
    with pytest.raises(InvalidToken) as refused:
        verify(token, SETTINGS)
    said = str(refused.value)
    assert said in {"invalid token", *REASONS.values()} or said.startswith("missing the")
