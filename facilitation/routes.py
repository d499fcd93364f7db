"""HTTP routes and middleware served beside Streamlit's own (through st.App in app.py).

Plain Starlette, no Streamlit import: what a browser or a load balancer asks the server
outside a script run (health, headers every response carries).
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Route

from . import drafts, live_cache, live_hub, workshops
from .store import get_store

DRAFT_BODY_MAX_BYTES = 64_000  # a field's text (the longest field takes 2,000 characters) and its names

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


async def save_typed_draft(request: Request) -> JSONResponse:
    """POST /api/draft: the text of one field as a participant types it (pages/live.py posts it while
    they type, without a script run). JSON {code, p, exercise, form, field, text}; the participant's
    token `p` is the same secret as in their page's address."""
    body = await request.body()
    if len(body) > DRAFT_BODY_MAX_BYTES:
        return JSONResponse({"saved": False, "message": "Too long."}, status_code=413)
    try:
        data = json.loads(body)
        code, token, exercise_key, form_id, field_name, text = (
            data["code"], data["p"], data["exercise"], data["form"], data["field"], data["text"])
        if not all(isinstance(v, str) for v in (code, token, exercise_key, form_id, field_name, text)):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"saved": False, "message": "Malformed draft."}, status_code=400)
    result = await run_in_threadpool(_save_typed, code, token, exercise_key, form_id, field_name, text)
    return JSONResponse({"saved": result.saved, "message": result.message}, status_code=result.status)


def _save_typed(code, token, exercise_key, form_id, field_name, text) -> drafts.TypedResult:
    store = get_store()
    workshop = workshops.find_workshop(store, code)
    participant = workshops.participant_by_token(store, workshop.id, token) if workshop else None
    if participant is None:
        return drafts.TypedResult(False, 403, "Not a participant of this workshop.")
    live = live_cache.live_exercise(store, workshop.id)
    return drafts.save_typed(store, participant, live, exercise_key, form_id, field_name, text)


def routes() -> list[BaseRoute]:
    """Every route Story Relay adds (all under /api/, outside Streamlit's reserved prefixes)."""
    return [Route("/api/health", health), *draft_routes()]


def draft_routes() -> list[BaseRoute]:
    return [Route("/api/draft", save_typed_draft, methods=["POST"])]


def middleware() -> list[Middleware]:
    return [Middleware(SecurityHeaders)]


def warm_imports() -> None:
    """Import the heavy libraries once, before any page runs: a room woken at once runs many scripts
    in parallel threads, and two threads importing pandas and plotly at the same moment can see a
    partially initialised module ("partially initialized module 'pandas' has no attribute 'Series'")."""
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401

    from . import journey_map  # noqa: F401


@contextlib.asynccontextmanager
async def lifespan(app):
    """Start-up and shut-down of the server process (the event loop is running here)."""
    live_hub.hub.attach(asyncio.get_running_loop())  # push: live screens are woken on this loop
    await run_in_threadpool(warm_imports)
    try:
        yield
    finally:
        live_hub.hub.detach()
