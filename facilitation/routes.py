"""HTTP routes and middleware served beside Streamlit's own (through st.App in app.py).

Plain Starlette, no Streamlit import: what a browser or a load balancer asks the server
outside a script run (health, headers every response carries).
"""

from __future__ import annotations

import contextlib

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

# Headers on every HTTP response. No page of ours may leak its address (which can carry a join
# code or a participant token) to another site through the Referer header.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response (the websocket is untouched)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def health(request: Request) -> JSONResponse:
    """Liveness for a load balancer: the process answers HTTP."""
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    """Every route Story Relay adds (all under /api/, outside Streamlit's reserved prefixes)."""
    return [Route("/api/health", health)]


def middleware() -> list[Middleware]:
    return [Middleware(SecurityHeaders)]


@contextlib.asynccontextmanager
async def lifespan(app):
    """Start-up and shut-down of the server process (the event loop is running here)."""
    yield
