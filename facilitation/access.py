"""Secrets of a workshop: join codes, participant tokens and facilitator keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

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
