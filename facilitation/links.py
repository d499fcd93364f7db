"""Addresses the room uses: the join link behind the QR code, and where phones reach this server.

The facilitator's browser often opened the app as `localhost:8501`, an address no phone can open.
`room_address` decides which address the room is given instead, and says why, so the console and
/new can tell the facilitator (and how to change it):

1. `STORY_RELAY_PUBLIC_URL` when set (a proxy, a DNS name, a tunnel): always that.
2. The address the browser used, when it is not loopback (a LAN address or a real host name).
3. Else this machine's LAN address (how Streamlit finds its "Network URL"), with the same port
   and `server.baseUrlPath`.
4. Else the loopback address, marked as unreachable from phones.
"""

from __future__ import annotations

import io
import ipaddress
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode, urlsplit, urlunsplit

import segno

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
# Where a UDP socket pretends to send to find the outgoing interface: nothing is sent (connect on a
# UDP socket only picks a route). TEST-NET-1, a documentation address that is never a real peer.
_ROUTE_PROBE = ("192.0.2.1", 80)


def join_url(page_url: str | None, code: str) -> str:
    """The join page's address for a code, on the same server as `page_url` (any page of the app).

    Without a page address (no browser told us where it is) the link is relative: `./?code=…`.
    """
    if not page_url:
        return "./?" + urlencode({"code": code})
    parts = urlsplit(page_url)
    path = parts.path.rsplit("/", 1)[0] + "/"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode({"code": code}), ""))


def is_loopback_host(host: str | None) -> bool:
    """True for names and addresses that only this machine can open (localhost, 127.x, ::1, 0.0.0.0)."""
    host = (host or "").strip("[]").lower()
    if not host or host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def discover_lan_address() -> str | None:
    """This machine's address on its local network (the interface of the default route), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_ROUTE_PROBE)
            address = s.getsockname()[0]
    except OSError:
        return None
    return None if is_loopback_host(address) else address


@dataclass(frozen=True)
class RoomAddress:
    """Where the room's phones open this server: `base` ends with "/" (join page: base + "?code=")."""

    base: str
    source: str          # "setting", "browser", "lan" or "loopback"
    listening_locally: bool = False  # the server only listens on loopback: phones cannot connect at all

    def join_url(self, code: str) -> str:
        return self.base + "?" + urlencode({"code": code})

    @property
    def reachable(self) -> bool:
        return self.source != "loopback" and not self.listening_locally

    def explanation(self) -> str:
        """One or two sentences for the facilitator: which address and how to change it."""
        shown = self.base.split("://", 1)[-1].rstrip("/")
        change = ("To use another address (a proxy, a name on your network), set STORY_RELAY_PUBLIC_URL "
                  "before starting the server.")
        if self.source == "setting":
            return f"Phones join at {shown} (set by STORY_RELAY_PUBLIC_URL)."
        if self.listening_locally:
            return (f"Phones cannot reach this server: it only listens on this computer. Restart it with "
                    f"--server.address 0.0.0.0 (or set STORY_RELAY_PUBLIC_URL behind a proxy). {change}")
        if self.source == "loopback":
            return ("Phones cannot open this address (it only works on this computer) and no network address "
                    f"was found. Connect this computer to the room's Wi-Fi and reload. {change}")
        if self.source == "lan":
            return (f"Phones join at {shown}, this computer's address on the local network: they must be on "
                    f"the same Wi-Fi. {change}")
        return f"Phones join at {shown}, the address this browser used. {change}"


def room_address(page_url: str | None, *, public_url: str | None = None, base_path: str = "",
                 port: int | None = None, server_address: str | None = None,
                 lan_address: Callable[[], str | None] = discover_lan_address) -> RoomAddress:
    """The address the room is given (see the module docstring for the order).

    `page_url` is the address the facilitator's browser used; `base_path` is server.baseUrlPath;
    `port` the server's port (used when the browser's address has none); `server_address` is
    server.address (a loopback one means nobody else can connect).
    """
    listening_locally = bool(server_address) and is_loopback_host(server_address)
    if public_url and public_url.strip():
        base = public_url.strip()
        if "://" not in base:
            base = "http://" + base
        parts = urlsplit(base)
        return RoomAddress(urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", "")), "setting")
    parts = urlsplit(page_url or "")
    if parts.hostname and not is_loopback_host(parts.hostname):
        return RoomAddress(join_url(page_url, "X").split("?", 1)[0], "browser", listening_locally)
    scheme = parts.scheme or "http"
    path = "/" + "/".join(p for p in (base_path or "").split("/") if p)
    path = path.rstrip("/") + "/"
    use_port = parts.port or port
    lan = lan_address()
    if lan:
        host = f"[{lan}]" if ":" in lan else lan
        netloc = f"{host}:{use_port}" if use_port and use_port not in (80, 443) else host
        return RoomAddress(urlunsplit((scheme, netloc, path, "", "")), "lan", listening_locally)
    if parts.netloc:
        return RoomAddress(join_url(page_url, "X").split("?", 1)[0], "loopback", listening_locally)
    return RoomAddress(path, "loopback", listening_locally)


def qr_png(url: str, *, scale: int = 10, dark: str = "#111111", light: str = "#ffffff") -> bytes:
    """A QR code for `url` as PNG bytes (error correction M, quiet zone kept for phone cameras)."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, dark=dark, light=light, border=2)
    return buffer.getvalue()
