"""Who may facilitate and who may watch the wall: the key, the cookie, the projector link.

The facilitator key opens the workshop once (the sign-in form, throttled per client address);
after that the browser holds a signed, HttpOnly cookie set by the /api/facilitator/enter route
from a one-time ticket, so the key is never in an address, the history or a Referer header.
Replacing the key ends every cookie, ticket and projector link made with the old one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa

from . import access, throttle
from .store import Store, workshops
from .workshops import Workshop, _bump, _workshop

WRONG_KEY = "That code and key do not match a workshop. Check both and try again."


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the workshop, or a message and (when throttled) the wait."""

    workshop: Workshop | None
    message: str = ""
    wait_seconds: int = 0


def _row(store: Store, code: str):
    code = access.normalise_join_code(code)
    if not code:
        return None
    with store.read() as conn:
        return conn.execute(sa.select(workshops).where(workshops.c.code == code)).first()


def key_hash(store: Store, code: str) -> str | None:
    row = _row(store, code)
    return row.facilitator_key_hash if row else None


def sign_in(store: Store, code: str, key: str, client: str, guard: throttle.Throttle | None = None) -> SignIn:
    """Check a typed code and key; wrong ones count against the client address (`throttle.client_key`)."""
    guard = guard or throttle.facilitator_throttle
    if wait := guard.wait_seconds(client):
        return SignIn(None, throttle.too_many_tries(wait), wait)
    row = _row(store, code)
    if row is None or not access.key_matches(key, row.facilitator_key_hash):
        if row is None:
            access.key_matches(key, access.hash_key("no such workshop"))  # the same work either way
        wait = guard.record_failure(client)
        return SignIn(None, throttle.too_many_tries(wait) if wait else WRONG_KEY, wait)
    return SignIn(_workshop(row))


def ticket(store: Store, workshop: Workshop, secret: bytes, now: float | None = None) -> str:
    """A one-time sign-in ticket for a browser that has just proved it holds the key."""
    return access.sign_in_ticket(secret, workshop.code, key_hash(store, workshop.code) or "", now or time.time())


class _UsedTickets:
    """Nonces already redeemed in this process (each ticket lives TICKET_SECONDS, so this stays small)."""

    def __init__(self, max_tracked: int = 10_000):
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.max_tracked = max_tracked

    def first_use(self, nonce: str, expiry: float, now: float) -> bool:
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            if nonce in self._seen:
                return False
            self._seen[nonce] = expiry
            while len(self._seen) > self.max_tracked:
                self._seen.popitem(last=False)
            return True


used_tickets = _UsedTickets()


def redeem_ticket(store: Store, ticket_value: str | None, secret: bytes, now: float | None = None) -> Workshop | None:
    """The workshop a valid, unused, unexpired ticket signs in to (the ticket is then spent), else None."""
    now = now or time.time()
    parts = access.ticket_parts(ticket_value)
    if parts is None:
        return None
    row = _row(store, parts[0])
    if row is None or not access.ticket_valid(secret, ticket_value, row.facilitator_key_hash, now):
        return None
    if not used_tickets.first_use(parts[2], float(parts[1]), now):
        return None
    return _workshop(row)


def cookie_value(store: Store, workshop: Workshop, secret: bytes, now: float | None = None) -> str:
    return access.facilitator_cookie(secret, workshop.code, key_hash(store, workshop.code) or "", now or time.time())


def workshop_for_cookie(store: Store, code: str, value: str | None, secret: bytes,
                        now: float | None = None) -> Workshop | None:
    """The workshop whose facilitator cookie this is, if it is valid for the current key."""
    if not value:
        return None
    row = _row(store, code)
    if row is None or not access.facilitator_cookie_valid(secret, row.code, row.facilitator_key_hash, value,
                                                          now or time.time()):
        return None
    return _workshop(row)


def workshop_for_key(store: Store, code: str, key: str | None) -> Workshop | None:
    """The workshop if `key` is its current key (a check already made once this session)."""
    row = _row(store, code)
    return _workshop(row) if row is not None and access.key_matches(key, row.facilitator_key_hash) else None


def replace_key(store: Store, workshop_id: int) -> str:
    """A new facilitator key (shown once): the old key, every cookie and projector link made with it stop working."""
    new_key = access.new_facilitator_key()
    with store.write() as conn:
        conn.execute(sa.update(workshops).where(workshops.c.id == workshop_id)
                     .values(facilitator_key_hash=access.hash_key(new_key)))
        _bump(conn, workshop_id)
    return new_key


def projector_token(store: Store, workshop: Workshop, secret: bytes) -> str:
    return access.projector_token(secret, workshop.code, key_hash(store, workshop.code) or "")


def projector_allowed(store: Store, workshop: Workshop, secret: bytes, token: str | None) -> bool:
    """The wall is shown to a projector link carrying the facilitator's screen token."""
    stored = key_hash(store, workshop.code)
    return stored is not None and access.projector_token_valid(secret, workshop.code, stored, token)
