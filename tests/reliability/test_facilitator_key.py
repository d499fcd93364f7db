"""Issue 11, item 4: the facilitator key never travels in an address.

After signing in (the form, or "Open the console" after creating a workshop) the browser holds a
signed, HttpOnly, SameSite cookie; the key is in no page address, no history entry and no request's
URL or Referer header. A refresh keeps the facilitator signed in; sign-out ends it on this browser;
a new key ends the old key, every cookie made with it and the old projector link. Wrong keys are
throttled per client address.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from streamlit_browser import click_button, open_page, sign_in_facilitator, wait_for_app

from facilitation import access, sign_in, throttle
from facilitation import workshops as W

from .conftest import open_room, run_page


class Watch:
    """Every request a page makes: its URL and its Referer header."""

    def __init__(self, page):
        self.seen: list[tuple[str, str]] = []
        page.on("request", lambda r: self.seen.append((r.url, r.headers.get("referer") or "")))

    def carrying(self, secret: str) -> list[str]:
        return [f"{url} (Referer {ref})" for url, ref in self.seen if secret in url or secret in ref]


def history(page) -> list[str]:
    """The URLs of every entry in this tab's session history (Chromium's own list, via CDP)."""
    cdp = page.context.new_cdp_session(page)
    try:
        return [entry["url"] for entry in cdp.send("Page.getNavigationHistory")["entries"]]
    finally:
        cdp.detach()


def assert_cookie_only(page, code: str, key: str, watch: Watch) -> None:
    assert key not in page.url, page.url
    assert not [u for u in history(page) if key in u], history(page)
    assert not watch.carrying(key), watch.carrying(key)[:3]
    [cookie] = [c for c in page.context.cookies() if c["name"] == access.facilitator_cookie_name(code)]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert key not in cookie["value"]
    assert access.facilitator_cookie_name(code) not in page.evaluate("document.cookie")  # no script can read it


@pytest.mark.slow
def test_sign_in_keeps_the_key_out_of_every_address_and_survives_a_refresh(browser, app_server, app_store, figures):
    w, key = open_room(app_store, title="Key stays out of the address")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(page)
    try:
        sign_in_facilitator(page, app_server, w.code, key)
        expect(page.get_by_role("heading", name="Console")).to_be_visible()
        assert re.search(rf"/console\?code={w.code}$", page.url), page.url
        page.reload()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Console")).to_be_visible()  # still signed in
        page.get_by_role("link", name="Report and downloads").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Facilitator sign-in")).to_have_count(0)
        assert_cookie_only(page, w.code, key, watch)
        figures.add("facilitator key in addresses / history / Referer after sign-in",
                    f"0 of {len(watch.seen)} requests, {len(history(page))} history entries; cookie HttpOnly, SameSite=Strict")
    finally:
        context.close()


@pytest.mark.slow
def test_a_new_workshop_opens_its_console_without_the_key_in_any_address(browser, app_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch = Watch(page)
    try:
        open_page(page, f"{app_server}/new")
        page.get_by_label("Title", exact=True).fill("A workshop made in the browser")
        click_button(page, "Create workshop")
        code = page.get_by_text(re.compile(r"Join code for the room")).inner_text().split(":")[-1].strip()
        key = page.locator('[data-testid="stCode"]').first.inner_text().strip()
        assert len(key) >= 24
        for link in page.locator("a").all():  # nothing on the page links with the key
            assert key not in (link.get_attribute("href") or "")
        click_button(page, "Open the console")
        page.wait_for_url(re.compile(rf"/console\?code={code}$"))
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Console")).to_be_visible()
        page.reload()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Console")).to_be_visible()
        assert_cookie_only(page, code, key, watch)
    finally:
        context.close()


@pytest.mark.slow
def test_sign_out_and_a_new_key_end_the_old_sign_ins(browser, app_server, app_store):
    w, key = open_room(app_store, title="Replace my key")
    first, second = (browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2))
    try:
        a, b = first.new_page(), second.new_page()
        for page in (a, b):
            page.set_default_timeout(15_000)
            sign_in_facilitator(page, app_server, w.code, key)
        old_cookie = [c for c in second.cookies() if c["name"].startswith(access.FACILITATOR_COOKIE_PREFIX)]

        # Sign out on one browser: its cookie is gone, the other browser stays signed in.
        a.get_by_text("Projector link, sign-out, facilitator key").click()
        a.get_by_role("button", name="Sign out").click()
        a.wait_for_url(re.compile(r"signed_out=1"))
        wait_for_app(a)
        expect(a.get_by_role("heading", name="Facilitator sign-in")).to_be_visible()
        assert not [c for c in first.cookies() if c["name"].startswith(access.FACILITATOR_COOKIE_PREFIX)]
        b.reload()
        wait_for_app(b)
        expect(b.get_by_role("heading", name="Console")).to_be_visible()

        # Replace the key on the second browser: shown once, the old key and the old cookie stop working.
        old_screen = sign_in.projector_token(app_store, w, access.server_secret())
        b.get_by_text("Projector link, sign-out, facilitator key").click()
        confirm = b.get_by_role("checkbox", name="Yes, replace the key and sign out every browser")
        for _ in range(3):  # a push rerun landing with the click can swallow it; a person ticks it again
            b.get_by_text("Yes, replace the key").click()
            wait_for_app(b)
            if confirm.is_checked():
                break
        expect(confirm).to_be_checked()
        click_button(b, "Replace the key")
        expect(b.get_by_role("heading", name="Facilitator sign-in")).to_be_visible(timeout=10_000)
        new_key = b.locator('[data-testid="stCode"]').first.inner_text().strip()
        assert new_key != key and W.facilitator_workshop(app_store, w.code, new_key) is not None
        assert W.facilitator_workshop(app_store, w.code, key) is None

        third = browser.new_context()
        third.add_cookies([{**c, "sameSite": c["sameSite"]} for c in old_cookie])  # an old cookie, replayed
        c = third.new_page()
        open_page(c, f"{app_server}/console?code={w.code}")
        expect(c.get_by_role("heading", name="Facilitator sign-in")).to_be_visible()
        open_page(c, f"{app_server}/projector?code={w.code}&screen={old_screen}")  # the old projector link
        expect(c.get_by_text("This projector link is not complete")).to_be_visible()
        third.close()

        sign_in_facilitator(a, app_server, w.code, new_key)
        expect(a.get_by_role("heading", name="Console")).to_be_visible()
    finally:
        first.close()
        second.close()


def test_wrong_facilitator_keys_are_throttled_per_address_across_sessions(page_store, monkeypatch, figures):
    from facilitation import store as store_module

    now = [1000.0]
    monkeypatch.setattr(throttle, "facilitator_throttle", throttle.Throttle(10, 60, clock=lambda: now[0]))
    w, key = open_room(store_module.get_store(page_store))

    def try_key(typed: str) -> list[str]:
        at = run_page("pages/console.py", code=w.code)  # a new browser session every time
        at.text_input[1].input(typed)
        next(b for b in at.button if b.label == "Sign in").click().run()
        assert not at.exception, at.exception
        signed_in = "facilitator_key" in at.session_state and at.session_state["facilitator_code"] == w.code
        return [e.value for e in at.error] + (["signed in"] if signed_in else [])

    for i in range(10):
        assert try_key(f"guess-{i}")[0].startswith(("That code and key do not match", "Too many tries"))
    refused = try_key(key)  # the right key waits too: no key is checked while throttled
    assert refused and refused[0].startswith("Too many tries — wait"), refused
    now[0] += 61
    assert try_key(key) == ["signed in"]
    figures.add("wrong facilitator keys", "10 a minute per client address across sessions, then a wait "
                "(the right key too)")


def test_the_ticket_is_single_use_short_lived_and_bound_to_the_key(store, make_workshop):
    w, key = make_workshop()
    secret = b"s" * 32
    ticket = sign_in.ticket(store, w, secret, now=1_000)
    assert key not in ticket
    assert sign_in.redeem_ticket(store, ticket, secret, now=1_010) == w
    assert sign_in.redeem_ticket(store, ticket, secret, now=1_011) is None  # spent
    late = sign_in.ticket(store, w, secret, now=1_000)
    assert sign_in.redeem_ticket(store, late, secret, now=1_000 + access.TICKET_SECONDS + 1) is None
    forged = sign_in.ticket(store, w, b"another server's secret", now=1_000)
    assert sign_in.redeem_ticket(store, forged, secret, now=1_001) is None
    fresh = sign_in.ticket(store, w, secret, now=2_000)
    cookie = sign_in.cookie_value(store, w, secret, now=2_000)
    assert sign_in.workshop_for_cookie(store, w.code, cookie, secret, now=2_001) == w
    sign_in.replace_key(store, w.id)
    assert sign_in.redeem_ticket(store, fresh, secret, now=2_001) is None  # made for the old key
    assert sign_in.workshop_for_cookie(store, w.code, cookie, secret, now=2_001) is None
