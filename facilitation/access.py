"""Secrets of a workshop: join codes, participant tokens, facilitator keys, and what the server signs
(the facilitator's cookie, a one-time sign-in ticket, the projector link's token)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import time
import unicodedata
from pathlib import Path

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"  # as facilitation.store

# No 0/O, 1/I/L: a code read off a projector from the back of the room must not be ambiguous.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# 31**7 ≈ 2.75e10 codes (34.7 bits): six characters would give only 29.7 bits.
JOIN_CODE_LENGTH = 7


def new_join_code() -> str:
    """A short code from a cryptographic source (31**7, about 27.5 billion codes)."""
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def is_join_code(code: object) -> bool:
    """Whether `code` is a join code as this server draws them (e.g. one read from an archive)."""
    return (isinstance(code, str) and len(code) == JOIN_CODE_LENGTH
            and all(ch in JOIN_CODE_ALPHABET for ch in code))


def normalise_join_code(typed: str) -> str:
    """What a person typed, as a code: case, spaces and dashes do not matter."""
    folded = unicodedata.normalize("NFKC", typed or "").upper()  # full-width input on phones
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def new_participant_token() -> str:
    """An unguessable token that identifies one participant in one workshop."""
    return secrets.token_urlsafe(18)


def new_facilitator_key() -> str:
    """The facilitator's key: shown once, stored only as a hash."""
    return secrets.token_urlsafe(18)


def hash_key(key: str) -> str:
    """Hash a high-entropy key for storage (SHA-256 is enough for a random 144-bit secret)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str | None, stored_hash: str) -> bool:
    """Compare a presented key with the stored hash in constant time."""
    if not key:
        return False
    return hmac.compare_digest(hash_key(key), stored_hash)


# --- the server secret and what it signs ---------------------------------------------------------
#
# A facilitator who signed in carries a signed cookie, never the key. The signature covers the
# workshop's current key hash, so replacing the key ends every cookie, sign-in ticket and projector
# link made with the old one at once, with no table of sessions to keep.

SECRET_FILE_NAME = "server_secret"
FACILITATOR_COOKIE_PREFIX = "story_relay_f_"
PARTICIPANT_COOKIE_PREFIX = "story_relay_p_"
FACILITATOR_COOKIE_SECONDS = 7 * 24 * 3600  # a workshop week; signing out or a new key ends it sooner
PARTICIPANT_COOKIE_SECONDS = 30 * 24 * 3600
TICKET_SECONDS = 60  # a sign-in ticket travels from the page to the cookie route at once


def server_secret(environ: dict[str, str] | None = None, data_dir: Path | None = None) -> bytes:
    """The secret this server signs cookies with; every replica must use the same one.

    `STORY_RELAY_SECRET`, else `STREAMLIT_SERVER_COOKIE_SECRET` (what replicas already share for
    XSRF), else a random secret kept in `<data dir>/server_secret` (created once, mode 0600), so a
    restart keeps facilitators signed in and replicas on one data folder agree.
    """
    environ = os.environ if environ is None else environ
    for name in ("STORY_RELAY_SECRET", "STREAMLIT_SERVER_COOKIE_SECRET"):
        if value := environ.get(name, "").strip():
            return value.encode("utf-8")
    folder = Path(data_dir or environ.get("STORY_RELAY_DATA_DIR") or DEFAULT_DATA_DIR)
    return _secret_file(folder.resolve())


@functools.lru_cache(maxsize=8)
def _secret_file(folder: Path) -> bytes:
    path = folder / SECRET_FILE_NAME
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32))
    for _ in range(50):  # another process may be writing it this instant
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value.encode("ascii")
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it and restart, or set STORY_RELAY_SECRET")


def _mac(secret: bytes, *parts: str) -> str:
    digest = hmac.new(secret, "|".join(parts).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def facilitator_cookie_name(code: str) -> str:
    return FACILITATOR_COOKIE_PREFIX + normalise_join_code(code)


def participant_cookie_name(code: str) -> str:
    return PARTICIPANT_COOKIE_PREFIX + normalise_join_code(code)


def facilitator_cookie(secret: bytes, code: str, key_hash: str, now: float,
                       max_age: int = FACILITATOR_COOKIE_SECONDS) -> str:
    """The signed value of a facilitator's cookie: `<expiry>.<signature>` (no key, no hash in it)."""
    expiry = str(int(now) + max_age)
    return f"{expiry}.{_mac(secret, 'cookie', normalise_join_code(code), expiry, key_hash)}"


def facilitator_cookie_valid(secret: bytes, code: str, key_hash: str, value: str | None, now: float) -> bool:
    """True if `value` was signed by this server for this workshop's current key and has not expired."""
    expiry, _, signature = (value or "").partition(".")
    if not expiry.isdigit() or int(expiry) < now:
        return False
    expected = _mac(secret, "cookie", normalise_join_code(code), expiry, key_hash)
    return hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii"))


def sign_in_ticket(secret: bytes, code: str, key_hash: str, now: float) -> str:
    """A one-time, short-lived ticket that a signed-in page hands to the cookie route (never the key)."""
    code = normalise_join_code(code)
    expiry, nonce = str(int(now) + TICKET_SECONDS), secrets.token_urlsafe(12)
    return f"{code}.{expiry}.{nonce}.{_mac(secret, 'ticket', code, expiry, nonce, key_hash)}"


def ticket_parts(ticket: str | None) -> tuple[str, str, str, str] | None:
    """(code, expiry, nonce, signature) of a well-formed ticket, else None."""
    parts = (ticket or "").split(".")
    if len(parts) != 4 or not parts[1].isdigit() or not all(parts):
        return None
    return parts[0], parts[1], parts[2], parts[3]


def ticket_valid(secret: bytes, ticket: str | None, key_hash: str, now: float) -> bool:
    parts = ticket_parts(ticket)
    if parts is None:
        return False
    code, expiry, nonce, signature = parts
    if int(expiry) < now or int(expiry) > now + TICKET_SECONDS + 5:
        return False
    expected = _mac(secret, "ticket", code, expiry, nonce, key_hash)
    return hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii"))


def projector_token(secret: bytes, code: str, key_hash: str) -> str:
    """The projector link's second factor (`&screen=`): only the facilitator's console shows it."""
    return _mac(secret, "projector", normalise_join_code(code), key_hash)[:22]


def projector_token_valid(secret: bytes, code: str, key_hash: str, token: str | None) -> bool:
    if not token:
        return False
    return hmac.compare_digest(token.encode("ascii", "replace"),
                               projector_token(secret, code, key_hash).encode("ascii"))
