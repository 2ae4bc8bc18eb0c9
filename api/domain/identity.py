"""Who is acting, and what they may touch."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from api.domain.errors import Forbidden


class Role(StrEnum):
    CUSTOMER = "CUSTOMER"
    STAFF = "STAFF"


@dataclass(frozen=True)
class Actor:
    subject: str
    role: Role

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF

    def may_see(self, customer_id: str) -> bool:
        return self.is_staff or self.subject == customer_id


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise Forbidden("sign in first: this needs a bearer token")
    return actor


def require_staff(actor: Actor | None) -> Actor:
    signed_in = require_actor(actor)
    if not signed_in.is_staff:
        raise Forbidden("staff only")
    return signed_in


def require_owner_or_staff(actor: Actor | None, customer_id: str) -> Actor:
    signed_in = require_actor(actor)
    if not signed_in.may_see(customer_id):
        raise Forbidden("this belongs to another customer")
    return signed_in
