"""HTTP routes and middleware served beside Streamlit's own (through st.App in app.py).

Plain Starlette, no Streamlit import: what a browser or a load balancer asks the server
outside a script run (health, headers every response carries), and the cookies a script run
cannot set (the facilitator's signed sign-in cookie, the participant's "this browser is Ana").
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from . import access, drafts, live_cache, live_hub, sending, sign_in, workshops
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
    # No thread waits for the draft writer (facilitation/drafts.py): a room typing posts ~170 drafts a
    # second, and a thread each would fill the server's thread pool.
    loop = asyncio.get_running_loop()
    answered: asyncio.Future = loop.create_future()

    def done(result: drafts.TypedResult) -> None:  # on the writer's thread
        loop.call_soon_threadsafe(lambda: answered.done() or answered.set_result(result))

    store = get_store()
    drafts.queue_typed(store, code, token, exercise_key, form_id, field_name, text,
                       lambda workshop_id: live_cache.live_exercise(store, workshop_id), done)
    try:
        result = await asyncio.wait_for(answered, drafts.WAIT_S)
    except asyncio.TimeoutError:
        result = drafts.BUSY
    return JSONResponse({"saved": result.saved, "message": result.message}, status_code=result.status)


async def send_story(request: Request) -> JSONResponse:
    """POST /api/story: a story sent from the phone's form, without a script run (facilitation/sending.py).
    JSON {code, p, exercise, form, answers, session}; answered as soon as it is stored or refused. A
    stored story's page is then redrawn, paced (`live_hub.Hub.redraw`)."""
    if not _same_origin(request):
        return JSONResponse({"ok": False, "message": "cross-site request refused"}, status_code=403)
    post = sending.parse(await request.body())
    if isinstance(post, sending.SendAnswer):
        return JSONResponse(post.body(), status_code=post.status)
    store = get_store()
    answer = await run_in_threadpool(sending.send_story, store, post)
    body = answer.body()
    if answer.ok and post.session:
        body["redraw_in_s"] = live_hub.hub.redraw(store.url, answer.workshop_id, (post.session, "follow"))
    return JSONResponse(body, status_code=answer.status)

# --- trusted proxies ---------------------------------------------------------------------------------

TRUSTED_PROXIES_SETTING = "STORY_RELAY_TRUSTED_PROXIES"


def trusted_proxies(environ: dict[str, str] | None = None) -> list[str]:
    """The proxies whose X-Forwarded-For / -Proto this server believes (addresses or networks, comma-separated).

    Empty by default: a client's address is its TCP peer's, whatever headers it sends.
    """
    value = (os.environ if environ is None else environ).get(TRUSTED_PROXIES_SETTING, "")
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{TRUSTED_PROXIES_SETTING}: {item!r} is not an IP address or network") from None
        found.append(item)
    return found


def trust_forwarded_headers_only_from_configured_proxies(environ: dict[str, str] | None = None) -> list[str]:
    """Make the server honour X-Forwarded-For only from STORY_RELAY_TRUSTED_PROXIES.

    `streamlit run` serves st.App with uvicorn, whose proxy-header middleware believes any
    client on 127.0.0.1 by default (so any local process could claim to be anyone). uvicorn
    wraps the app in that middleware right after importing app.py, looking the class up in
    uvicorn.config; app.py calls this at import, so the wrapper uses our list instead.
    tests/reliability/test_floods.py fails if uvicorn stops doing it this way.
    """
    import uvicorn.config
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    trusted = trusted_proxies(environ)
    base = getattr(uvicorn.config.ProxyHeadersMiddleware, "_story_relay_base", ProxyHeadersMiddleware)

    class ConfiguredProxyHeaders(base):
        _story_relay_base = base

        def __init__(self, app, trusted_hosts=None):
            super().__init__(app, trusted_hosts=",".join(trusted))
            self.trust_nobody = not trusted

        async def __call__(self, scope, receive, send):
            if self.trust_nobody:
                return await self.app(scope, receive, send)
            return await super().__call__(scope, receive, send)

    uvicorn.config.ProxyHeadersMiddleware = ConfiguredProxyHeaders
    return trusted


# --- facilitator and participant cookies ---------------------------------------------------------

def _base_path(request: Request) -> str:
    """server.baseUrlPath as the routes were mounted under it ("" or "/story-relay")."""
    return request.scope.get("story_relay_base_path", "")


def _cookie_args(request: Request) -> dict:
    return {"path": "/", "httponly": True, "secure": request.url.scheme == "https"}


def _same_origin(request: Request) -> bool:
    """A state-changing POST must come from one of our own pages (no cross-site forms or fetches)."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    return urlsplit(origin).netloc == request.headers.get("host", "")


FACILITATOR_PAGES = ("console", "report", "map")  # where a sign-in may land (never an outside address)


def facilitator_enter(request: Request) -> Response:
    """Redeem a one-time sign-in ticket: set the signed facilitator cookie, then 303 to the keyless console."""
    store, secret = get_store(), access.server_secret()
    workshop = sign_in.redeem_ticket(store, request.query_params.get("ticket"), secret)
    base = _base_path(request)
    if workshop is None:
        return RedirectResponse(f"{base}/console?{urlencode({'signin': 'expired'})}", status_code=303)
    page = request.query_params.get("next", "console")
    page = page if page in FACILITATOR_PAGES else "console"
    response = RedirectResponse(f"{base}/{page}?{urlencode({'code': workshop.code})}", status_code=303)
    response.set_cookie(access.facilitator_cookie_name(workshop.code), sign_in.cookie_value(store, workshop, secret),
                        max_age=access.FACILITATOR_COOKIE_SECONDS, samesite="strict", **_cookie_args(request))
    response.headers["cache-control"] = "no-store"
    return response


def facilitator_sign_out(request: Request) -> Response:
    """Forget this browser's facilitator cookie for one workshop (others and other browsers stay signed in)."""
    code = access.normalise_join_code(request.query_params.get("code", ""))
    response = RedirectResponse(f"{_base_path(request)}/console?{urlencode({'code': code, 'signed_out': '1'})}",
                                status_code=303)
    if code:
        response.delete_cookie(access.facilitator_cookie_name(code), samesite="strict", **_cookie_args(request))
    response.headers["cache-control"] = "no-store"
    return response


async def participant_remember(request: Request) -> Response:
    """This browser is this participant (POST {code, p} from the participate page): an HttpOnly cookie
    lets the join page offer "Continue as …" when the link is opened again."""
    if not _same_origin(request):
        return JSONResponse({"error": "cross-site request refused"}, status_code=403)
    try:
        body = await request.json()
        code, token = str(body.get("code", ""))[:16], str(body.get("p", ""))[:64]
    except (ValueError, AttributeError):
        return JSONResponse({"error": "send JSON {code, p}"}, status_code=400)
    participant = await run_in_threadpool(_participant, code, token)
    if participant is None:
        return JSONResponse({"error": "no such participant"}, status_code=404)
    response = Response(status_code=204)
    response.set_cookie(access.participant_cookie_name(code), token, max_age=access.PARTICIPANT_COOKIE_SECONDS,
                        samesite="lax", **_cookie_args(request))
    return response


def _participant(code: str, token: str):
    store = get_store()
    workshop = workshops.find_workshop(store, code)
    return workshops.participant_by_token(store, workshop.id, token) if workshop and token else None


def routes(base_path: str = "") -> list[BaseRoute]:
    """Every route Story Relay adds (all under /api/, outside Streamlit's reserved prefixes).

    With server.baseUrlPath they are served under it as well ("/story-relay/api/…"), as a proxy
    that forwards only that prefix needs.
    """
    ours = [("/api/health", health, ["GET"]),
            ("/api/facilitator/enter", facilitator_enter, ["GET"]),
            ("/api/facilitator/sign-out", facilitator_sign_out, ["GET"]),
            ("/api/participant/remember", participant_remember, ["POST"]),
            ("/api/draft", save_typed_draft, ["POST"]),
            ("/api/story", send_story, ["POST"])]
    prefix = "/" + "/".join(p for p in (base_path or "").split("/") if p)
    found: list[BaseRoute] = [Route(path, endpoint, methods=methods) for path, endpoint, methods in ours]
    if prefix != "/":
        found += [Route(prefix + path, _mounted(endpoint, prefix), methods=methods) for path, endpoint, methods in ours]
    return found


def _mounted(endpoint, prefix: str):
    import inspect

    if inspect.iscoroutinefunction(endpoint):
        async def under(request: Request):
            request.scope["story_relay_base_path"] = prefix
            return await endpoint(request)
    else:
        def under(request: Request):
            request.scope["story_relay_base_path"] = prefix
            return endpoint(request)
    return under


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
