"""Issue 11, item 11: the app works with no internet. Every page, in Chromium with request
interception, asks only the server itself: no font host, no icon CDN, nothing outside loopback."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from streamlit_browser import open_page, projector_path, sign_in_facilitator, wait_for_app

from facilitation import workshops as W

from .conftest import open_room, valid_answers

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.mark.slow
def test_no_page_asks_any_host_but_the_server(browser, app_server, app_store, figures):
    w, key = open_room(app_store, title="Offline room")
    ana = W.join_workshop(app_store, w.code, "Ana", w.functions[0])
    assert W.submit_story(app_store, ana, "over_the_wall", valid_answers(w), "offline-1").ok
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    outside: list[str] = []
    asked: list[str] = []

    def intercept(route):
        url = route.request.url
        asked.append(url)
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", intercept)
    page = context.new_page()
    try:
        visits = [f"/?code={w.code}", f"/participate?code={w.code}&p={ana.token}", "/new",
                  projector_path(app_store, w)]
        for path in visits:
            open_page(page, app_server + path)
            page.wait_for_timeout(1_500)  # let late requests (favicon, fonts, images) go out
        sign_in_facilitator(page, app_server, w.code, key)
        for path in ("/map", "/report"):  # signed in by the cookie
            open_page(page, f"{app_server}{path}?code={w.code}")
            assert not page.get_by_role("heading", name="Facilitator sign-in").count()
            page.wait_for_timeout(1_500)
        icon = page.evaluate("document.querySelector('link[rel~=icon]')?.href || ''")
        # The page icon is ours: inline in the page (assets/favicon.png as a data URI), or served locally.
        assert icon.startswith("data:image/png;base64,") or urlsplit(icon).hostname in LOOPBACK, icon[:80]
        assert outside == [], outside[:5]
        figures.add("requests to any host but the server (join, participate, new, projector, console, map, report)",
                    f"0 of {len(asked)}; the page icon is assets/favicon.png, inline in the page")
    finally:
        context.close()
