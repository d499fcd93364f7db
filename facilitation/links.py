"""Addresses the room uses: the join link behind the QR code."""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit, urlunsplit

import segno


def join_url(page_url: str | None, code: str) -> str:
    """The join page's address for a code, on the same server as `page_url` (any page of the app).

    Without a page address (no browser told us where it is) the link is relative: `./?code=…`.
    """
    if not page_url:
        return "./?" + urlencode({"code": code})
    parts = urlsplit(page_url)
    path = parts.path.rsplit("/", 1)[0] + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode({"code": code}), ""))


def qr_png(url: str, *, scale: int = 10, dark: str = "#111111", light: str = "#ffffff") -> bytes:
    """A QR code for `url` as PNG bytes (error correction M, quiet zone kept for phone cameras)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, dark=dark, light=light, border=2)
    return buffer.getvalue()
