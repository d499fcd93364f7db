"""The projector read from 10 m: at 1920x1080, every exercise view of a full room keeps the text the
room reads at 24 px or more (story text 32 px or more) and fits the screen without scrolling.
Screenshots of each view are kept under artifacts/screens/ for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from facilitation import controls, demo, rounds, workshops as W
from streamlit_browser import open_page, projector_path, wait_for_app

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"
ROOM_PX, STORY_PX, SCREEN_H = 24, 32, 1080

# Every piece of text on the main area (Streamlit text and the map's SVG labels), with its size, the
# widget key it sits in, and whether it is story text (a card's headline, a pair's sides, the winner).
READ_TEXT = """() => {
  const out = [];
  const nodes = document.querySelectorAll('[data-testid=stMain] [data-testid=stText], [data-testid=stMain] .main-svg text');
  for (const el of nodes) {
    if (el.closest('.hoverlayer')) continue;  // hover labels are for a mouse, not for the room
    let hidden = false;  // text for screen readers only (visually hidden, e.g. the map in words)
    for (let p = el; p && !hidden; p = p.parentElement) hidden = getComputedStyle(p).clipPath === 'inset(50%)';
    if (hidden) continue;
    const r = el.getBoundingClientRect();
    const text = (el.textContent || '').trim();
    if (!text || r.width === 0 || r.height === 0) continue;
    let key = '';
    for (let p = el; p; p = p.parentElement) {
      const k = [...(p.classList || [])].find(c => c.startsWith('st-key-'));
      if (k) { key = k; break; }
    }
    const story = /^st-key-(headline-|pair-side-|pair-head-|choice-winner-text|spotlight-headline|then-side-|guess-term-big|guess-text-|guess-meaning-text|guess-chip-)/.test(key);
    out.push({px: parseFloat(getComputedStyle(el).fontSize), key, text: text.slice(0, 50), story, bottom: r.bottom});
  }
  const main = document.querySelector('[data-testid=stMain]');
  return {texts: out, heights: [document.documentElement.scrollHeight, main.scrollHeight,
                                document.querySelector('[data-testid=stAppViewContainer]').scrollHeight]};
}"""


def projector_problems(projector, view: str) -> list[str]:
    """What the back of the room cannot read: text under 24 px (story text under 32 px), or off the screen."""
    seen = projector.evaluate(READ_TEXT)
    problems = []
    if not any(t["story"] for t in seen["texts"]):
        problems.append(f"{view}: no story text on the projector")
    for t in seen["texts"]:
        floor = STORY_PX if t["story"] else ROOM_PX
        if t["px"] < floor:
            problems.append(f"{view}: {t['px']:.0f} px < {floor} px in {t['key'] or 'map'}: {t['text']!r}")
        if t["bottom"] > SCREEN_H + 1:
            problems.append(f"{view}: {t['text']!r} ends at {t['bottom']:.0f} px, below the screen")
    if max(seen["heights"]) > SCREEN_H:
        problems.append(f"{view}: the page is {max(seen['heights'])} px tall, the screen {SCREEN_H} px")
    return problems


def views(store, workshop):
    """Each exercise view with stories, as (name, what to set up): the map, the walls, a vote."""
    for item in W.agenda(store, workshop.id):
        def open_it(item=item, round_index=0):
            W.open_exercise(store, workshop.id, item.position)
            if item.voting != "off":  # the demo's vote is over: show the exercise's own view (story_bank)
                controls.set_voting(store, workshop.id, item.position, "off")
            if item.exercise.paced:  # the demo leaves the room in the last round
                rounds.set_round(store, workshop.id, item.position, round_index, exercise_key=item.exercise_key)
        yield item.exercise_key, open_it, item.exercise.title
        if item.exercise.paced:
            for index, r in enumerate(item.exercise.rounds[1:], start=1):
                yield f"{item.exercise_key}_round_{index + 1}", lambda item=item, index=index: open_it(item, index), r.title
        if item.exercise.guess_first:
            def revealed(item=item):
                open_it(item, len(item.exercise.rounds) - 1)
                up = W.live_exercise(store, workshop.id).guess_term
                rounds.reveal_term(store, workshop.id, up[0])
            yield f"{item.exercise_key}_revealed", revealed, "It means"
        if item.exercise_key == "untold_retention_stories":
            def voting(item=item):
                W.open_exercise(store, workshop.id, item.position)
                controls.set_voting(store, workshop.id, item.position, "open")
            yield f"{item.exercise_key}_voting", voting, "Voting is open"

            def chosen(item=item):
                W.open_exercise(store, workshop.id, item.position)
                controls.set_voting(store, workshop.id, item.position, "closed")
            yield f"{item.exercise_key}_room_choice", chosen, "The room's choice"


def test_every_view_is_readable_from_the_back_and_fits_the_screen(browser, app_server, app_store):
    SCREENS.mkdir(parents=True, exist_ok=True)
    workshop, _key = demo.create_demo_workshop(app_store)
    context = browser.new_context(viewport={"width": 1920, "height": SCREEN_H})
    projector = context.new_page()
    problems = []
    try:
        for name, set_up, shows in views(app_store, workshop):
            set_up()
            open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
            # The server's shared revision read may be half a second old: wait for this view itself.
            expect(projector.get_by_text(shows, exact=False).first).to_be_visible(timeout=10_000)
            wait_for_app(projector)
            if name in ("over_the_wall", "what_actually_arrives"):  # the map views
                projector.wait_for_selector(".st-key-projector-map .main-svg text", timeout=15_000)
            wait_for_app(projector)
            projector.wait_for_timeout(1200)  # cards fade in; the map draws after the page
            if name == "what_actually_arrives":  # the receivers' round: one handoff from both ends, beside the map
                expect(projector.locator(".st-key-sides-0")).to_contain_text("Sales → Implementation")
                expect(projector.locator(".st-key-sides-0")).to_contain_text("Implementation: missing")
                legend = projector.locator(".st-key-projector-map .legendtext").all_text_contents()
                assert {"the receiver answered", "judged by the customer", "how far each story reaches"} <= set(legend)
            projector.screenshot(path=str(SCREENS / f"projector_{name}_1920x1080.png"))
            problems += projector_problems(projector, name)
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def test_the_empty_map_keeps_its_legend_whole(browser, app_server, app_store):
    """Old projector: with no stories yet the gap legend's title was cut to "G (1" at the map's edge."""
    workshop, _ = W.create_workshop(app_store, title="Nothing yet", agenda_plan=[("over_the_wall", 10)])
    W.open_exercise(app_store, workshop.id, 0)
    context = browser.new_context(viewport={"width": 1920, "height": SCREEN_H})
    projector = context.new_page()
    try:
        open_page(projector, f"{app_server}{projector_path(app_store, workshop)}")
        projector.wait_for_selector(".st-key-projector-map .main-svg text", timeout=15_000)
        projector.wait_for_timeout(800)
        projector.screenshot(path=str(SCREENS / "projector_empty_map_1920x1080.png"))
        cut = projector.evaluate("""() => {
          const chart = document.querySelector('.st-key-projector-map .js-plotly-plot').getBoundingClientRect();
          return [...document.querySelectorAll('.st-key-projector-map .main-svg text')]
            .filter(t => t.textContent.trim() && t.getBoundingClientRect().right > chart.right + 1)
            .map(t => t.textContent);
        }""")
        assert not cut, f"cut at the map's right edge: {cut}"
        expect(projector.get_by_text("Stories will appear here as they arrive")).to_be_visible()
    finally:
        context.close()
