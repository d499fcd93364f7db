"""Helpers for driving Story Relay in Playwright as a person would (after Streamlit's e2e_playwright)."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from facilitation import access, sign_in

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def wait_for_app(page: Page, timeout: float = 20_000) -> None:
    """Wait until the app is connected and no script run is in progress."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    time.sleep(0.3)  # let the last deltas paint


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox by its label, typing to narrow the list as a person
    would in a long one (the list only draws the options that fit, so a late one may not exist yet)."""
    box = page.get_by_role("combobox", name=label)
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(4):
        box.click()
        # Clicking the box blurs the field typed in before, whose draft save reruns the page and
        # can close the list as it opens (or draw it again under the pointer); a person would
        # simply open it again.
        wait_for_app(page)
        if page.get_by_role("option").first.is_visible():
            box.press_sequentially(option.split(" · ")[0])
            try:
                wanted.wait_for(state="visible", timeout=3_000)
                wanted.click(timeout=3_000)
                return
            except PlaywrightTimeout:
                page.keyboard.press("Escape")
                continue
    wanted.click()


def pick_radio(page: Page, label_text: str) -> None:
    page.locator('[data-testid="stRadio"] label').filter(has_text=label_text).first.click()


def click_button(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).first.click()
    wait_for_app(page)


def open_agenda_item(console: Page, position: int = 0) -> None:
    """Press the console's Open button of one agenda item (by its widget key: other widgets,
    such as a selectbox's chevron, are also called "Open" by the browser)."""
    console.locator(f".st-key-open-{position} button").click()
    wait_for_app(console)


def fill_over_the_wall(phone, experience: str, *, scale: str | None = "4", lost: str = "The champion's name.") -> None:
    """Fill the "Over the wall" form as a teller in Onboarding handing to Support; `scale=None` leaves the gap empty."""
    choose(phone, "Which stage of the customer's life do you own?", "Onboarding")
    wait_for_app(phone)
    for label, text in (("What was the customer told", "Two weeks to go live."),
                        ("What does the customer actually experience here?", experience),
                        ("What gets lost in that handoff?", lost)):
        box = phone.get_by_role("textbox", name=label)
        box.fill(text)
        box.press("Tab")
        wait_for_app(phone)
    choose(phone, "Who do you hand the customer to next?", "Support")
    wait_for_app(phone)
    if scale is not None:
        pick_radio(phone, scale)  # no wait: Send follows at once, before that choice's run is done


def send_story(page: Page, timeout: float = 15_000) -> None:
    """Press Send and wait for the page's redraw with a fresh form (the thank-you said under the button):
    "Sent" comes back at once, the redraw a moment later, and a person cannot type into the sent form meanwhile."""
    page.get_by_role("button", name="Send").first.click()
    expect(page.get_by_text("Sent — thank you").first).to_be_visible(timeout=timeout)
    expect(page.get_by_text("The form above is empty for your next story")).to_be_visible(timeout=timeout)
    wait_for_app(page)


def expect_text(page: Page, text: str, timeout: float = 10_000) -> None:
    expect(page.get_by_text(text, exact=False).first).to_be_visible(timeout=timeout)


def projector_query(store, workshop) -> dict[str, str]:
    """The projector's query with the workshop's screen token (as the console's link has it)."""
    return {"code": workshop.code, "screen": sign_in.projector_token(store, workshop, access.server_secret())}


def projector_path(store, workshop) -> str:
    query = projector_query(store, workshop)
    return f"/projector?code={query['code']}&screen={query['screen']}"


def sign_in_facilitator(page: Page, base_url: str, code: str, key: str, page_path: str = "/console") -> None:
    """Sign in through the form, as a facilitator does: the browser gets its signed cookie through
    /api/facilitator/enter and comes back to the keyless page."""
    open_page(page, f"{base_url}{page_path}?code={code}")
    page.get_by_label("Facilitator key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    name = access.facilitator_cookie_name(code)
    deadline = time.monotonic() + 15
    while not any(c["name"] == name for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {name} cookie after signing in (at {page.url})")
        page.wait_for_timeout(100)
    page.wait_for_url(f"**{page_path}?code={code}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Facilitator sign-in")).to_have_count(0)


def screen_for(code: str) -> str:
    """The screen token of a workshop on the pages' own database (AppTest tests, DATABASE_URL)."""
    from facilitation import workshops
    from facilitation.store import get_store

    store = get_store()
    return sign_in.projector_token(store, workshops.find_workshop(store, code), access.server_secret())


def facilitator_cookie_header(workshop, key: str) -> str:
    """A Cookie header of a browser that signed in through the form (for protocol-level clients)."""
    value = access.facilitator_cookie(access.server_secret(), workshop.code, access.hash_key(key), time.time())
    return f"{access.facilitator_cookie_name(workshop.code)}={value}"
