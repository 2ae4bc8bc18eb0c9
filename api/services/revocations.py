"""Revoking a subject's tokens (a lost or compromised phone), and reading the revocations."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.domain.identity import Actor, require_staff
from api.domain.revocation import Revocations
from api.services import inputs
from api.services.clock import utcnow
from api.store.models import TokenRevocation


async def revoke_tokens(actor: Actor | None, subject: str,
                        revocations: Revocations | None = None) -> TokenRevocation:
    """Every token of ``subject`` issued until now is refused from now on: the subject's row
    is raised to now (never lowered), and, once committed, this instance's copy at once (the
    others read the table every few seconds, ``api/realtime/revocations.py``)."""
    require_staff(actor)
    subject = inputs.subject(subject)
    now = utcnow()
    try:
        row = await _raise_to(subject, now)
    except IntegrityError:  # another revocation of a new subject inserted it first
        row = await _raise_to(subject, now)
    if revocations is not None:
        revocations.update({subject: row.revoked_before.timestamp()})
    return row


async def _raise_to(subject: str, now: datetime) -> TokenRevocation:
    async with in_transaction():
        row = await TokenRevocation.filter(subject=subject).select_for_update().first()
        if row is None:
            row = await TokenRevocation.create(subject=subject, revoked_before=now)
        elif row.revoked_before < now:
            row.revoked_before = now
            await row.save(update_fields=["revoked_before"])
    return row


async def all_revocations() -> dict[str, float]:
    """Subject -> revoked_before as a Unix time, for every revoked subject."""
    rows: list[tuple[str, datetime]] = await TokenRevocation.all().values_list(
        "subject", "revoked_before")
    return {subject: before.timestamp() for subject, before in rows}
