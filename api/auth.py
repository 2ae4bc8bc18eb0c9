"""Bearer tokens: JWTs signed by the shop's identity service, naming a customer or staff."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import jwt

from api.domain.identity import Actor, Role
from api.domain.revocation import Revocations
from api.settings import Settings

ROLE_CLAIM = "role"
TOKEN_REVOKED = "token revoked"


class InvalidToken(Exception):
    """The bearer token is not one this service accepts; the message says why."""


class Verified(NamedTuple):
    actor: Actor
    expires_at: float
    """A Unix time."""
    issued_at: float | None
    """The ``iat`` claim (a Unix time), if the token has one."""


VERIFIED_MAX = 10_000
_verified: dict[tuple[str, ...], Verified] = {}


def verify(token: str, settings: Settings, revocations: Revocations | None = None) -> Actor:
    """The actor a valid token names; raises InvalidToken (see ``verified``)."""
    return verified(token, settings, revocations).actor


def verified(token: str, settings: Settings,
             revocations: Revocations | None = None) -> Verified:
    """The actor a valid token names, when the token expires and when it was issued;
    raises InvalidToken, also for a token its subject's revocation covers.

    A token that verified is remembered until it expires (at most VERIFIED_MAX of them): a
    client sends the same token with every request, and checking the signature again costs
    more than a simple read. Failures are never remembered. Revocation is checked on every
    call, remembered or not (a dictionary read): a token remembered before its subject was
    revoked is refused after.
    """
    key = settings.jwt_public_key if settings.jwt_algorithm == "RS256" else settings.jwt_secret
    if not key:
        raise InvalidToken("the server has no key for this algorithm")
    memo = (token, key, settings.jwt_algorithm, settings.jwt_audience or "",
            settings.jwt_issuer or "")
    known = _verified.get(memo)
    if known is None or time.time() >= known.expires_at:
        known = _decoded(token, key, settings, memo)
    if revocations is not None and revocations.refuses(known.actor.subject, known.issued_at):
        raise InvalidToken(TOKEN_REVOKED)
    return known


def _decoded(token: str, key: str, settings: Settings, memo: tuple[str, ...]) -> Verified:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp"], "verify_aud": settings.jwt_audience is not None},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(reason(exc)) from None
    role = str(claims.get(ROLE_CLAIM, "customer")).upper()
    if role not in Role.__members__:
        raise InvalidToken(f"unknown role {role!r}")
    subject = str(claims["sub"])
    if not subject or len(subject) > 128:
        raise InvalidToken("bad subject")
    actor = Actor(subject=subject, role=Role(role))
    if len(_verified) >= VERIFIED_MAX:
        _verified.pop(next(iter(_verified)))
    issued = claims.get("iat")
    _verified[memo] = Verified(actor, float(claims["exp"]),
                               float(issued) if isinstance(issued, int | float) else None)
    return _verified[memo]


REASONS: dict[type[jwt.PyJWTError], str] = {
    jwt.ExpiredSignatureError: "token expired",
    jwt.ImmatureSignatureError: "token not valid yet",
    jwt.InvalidAudienceError: "wrong audience",
    jwt.InvalidIssuerError: "wrong issuer",
    jwt.InvalidSignatureError: "invalid signature",
    jwt.InvalidAlgorithmError: "algorithm not allowed",
}
"""What a client is told of a refusal it can act on; anything else is "invalid token"
(PyJWT's own messages describe its parsing: padding, segments, codecs)."""


def reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing the {exc.claim!r} claim"
    return next((said for kind, said in REASONS.items() if isinstance(exc, kind)),
                "invalid token")


def mint(
    settings: Settings, subject: str, role: Role, ttl: timedelta, private_key: str | None = None
) -> str:
    """A token for development and tests (HS256 with the configured secret by default)."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": subject,
        ROLE_CLAIM: role.value.lower(),
        "iat": now,
        "exp": now + ttl,
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    key = private_key if settings.jwt_algorithm == "RS256" else settings.jwt_secret
    if key is None:
        raise InvalidToken("RS256 tokens need the identity service's private key")
    return jwt.encode(claims, key, algorithm=settings.jwt_algorithm)


def bearer(header: str | None) -> str | None:
    """The token in an ``Authorization: Bearer ...`` header, or None when there is none."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("use 'Authorization: Bearer <token>'")
    return token.strip()
