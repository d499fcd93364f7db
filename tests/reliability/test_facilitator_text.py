"""Facilitator-typed text is plain text on every screen (issue 11, item 7).

A title of `[CLAIM-PRIZE](https://evil.example/phish) ![t](http://127.0.0.1:9/track.png) :red[X]`
used to show on every join screen as a live link, an outside image request and red text. Title,
organisation, function and stage names now go through st.text (or, in a message that quotes
them, pages.common.plain) on every page, and are escaped in the figures.
"""

from __future__ import annotations

import pytest

from facilitation import workshops as W
from streamlit_browser import screen_for

from .conftest import EXERCISE, markup_elements, run_page, texts, valid_answers

TITLE = "[CLAIM-PRIZE](https://evil.example/phish) ![t](http://127.0.0.1:9/track.png) :red[X]"
ORGANISATION = "**Acme** :blue[corp] $x^2$ <b>b</b> www.evil.example"
FUNCTIONS = ["[Sales](http://e.x)", ":red[Support]", "**Finance**", "Ops <img src=x>"]
STAGES = ["![s](http://127.0.0.1:9/s.png)", "Sale :material/home:", "$Renewal$"]
PAYLOADS = [TITLE, ORGANISATION, *FUNCTIONS, *STAGES, "https://evil.example/phish", "http://127.0.0.1:9/track.png"]


@pytest.fixture
def hostile_room(page_store):
    from facilitation.store import get_store

    s = get_store(page_store)
    w, key = W.create_workshop(s, title=TITLE, organisation=ORGANISATION, facilitator="[me](http://e.x)",
                               functions=FUNCTIONS, stages=STAGES, agenda_plan=[(EXERCISE, 15)])
    W.open_exercise(s, w.id, 0)
    people = [W.join_workshop(s, w.code, f"P{i}", FUNCTIONS[i % len(FUNCTIONS)]) for i in range(4)]
    for i, person in enumerate(people):
        answers = valid_answers(w, stage=STAGES[i % len(STAGES)], next_function=FUNCTIONS[(i + 1) % len(FUNCTIONS)])
        assert W.submit_story(s, person, EXERCISE, answers, f"h-{i}").ok
    return s, w, key, people


def test_facilitator_text_is_never_markdown_on_any_page(hostile_room):
    s, w, key, people = hostile_room
    pages = {"join": ("pages/join.py", {"code": w.code}),
             "participant": ("pages/participate.py", {"code": w.code, "p": people[0].token}),
             "projector": ("pages/projector.py", {"code": w.code, "screen": screen_for(w.code)}),
             "console": ("pages/console.py", {"code": w.code, "key": key}),
             "map": ("pages/map.py", {"code": w.code, "key": key}),
             "report": ("pages/report.py", {"code": w.code, "key": key})}
    problems = []
    for name, (page, query) in pages.items():
        at = run_page(page, **query)
        assert not at.exception, (name, at.exception)
        for kind, value in markup_elements(at):
            for payload in PAYLOADS:
                if payload in value:
                    problems.append(f"{name}: {payload!r} rendered as markdown in a {kind}")
        if name in ("join", "participant", "console", "map", "report"):
            if not any(TITLE in t for t in texts(at)):
                problems.append(f"{name}: the title is not shown as plain text")
    assert not problems, "\n".join(problems)


def test_new_page_messages_quote_typed_names_literally(page_store):
    at = run_page("pages/new.py")
    next(t for t in at.text_input if t.label == "Title").input(TITLE)
    next(t for t in at.text_area if t.label.startswith("Functions")).input("[Sales](http://e.x)\n[sales](http://e.x)")
    next(b for b in at.button if b.label == "Create workshop").click()
    at.run()
    errors = [e.value for e in at.error]
    assert errors and not any("[Sales](http://e.x)" in e for e in errors), errors
    assert any("listed twice" in e for e in errors)


def test_join_screen_shows_a_hostile_title_as_text_in_chromium(browser, app_server, app_store, figures):
    w, _ = W.create_workshop(app_store, title=TITLE, organisation=ORGANISATION, functions=FUNCTIONS,
                             agenda_plan=[(EXERCISE, 15)])
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        phone = context.new_page()
        asked = []
        phone.on("request", lambda r: asked.append(r.url))
        phone.goto(f"{app_server}/?code={w.code}")
        phone.get_by_text("Your name").wait_for()
        phone.wait_for_timeout(1000)
        links = phone.eval_on_selector_all("a", "els => els.map(e => e.href)")
        images = phone.eval_on_selector_all("img", "els => els.map(e => e.src)")
        body = phone.locator("[data-testid='stMain']").inner_text()
        assert not [u for u in links if "evil" in u or "127.0.0.1:9" in u], links
        assert not [u for u in images if "track" in u], images
        assert not [u for u in asked if "127.0.0.1:9" in u or "evil.example" in u], asked
        assert TITLE in body and ORGANISATION in body
        coloured = phone.eval_on_selector_all("[data-testid='stMain'] [class*='colored'], [data-testid='stMain'] "
                                              "span[style*='color']", "els => els.map(e => e.textContent)")
        assert not [t for t in coloured if "X" in t], coloured  # ':red[X]' is not red text
    finally:
        context.close()
    figures.add("facilitator title with a markdown link, image and :red[] on a phone's join screen (Chromium)",
                "shown as the characters typed: no link, no image request, no colour")
