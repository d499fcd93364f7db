"""Issue 11, item 3: the trend on the map page matched workshops by organisation name, so anyone who
created a workshop named "  acme " read the other Acme workshops' titles, dates, handoffs and gaps,
and injected a fake workshop into their trend. A trend now holds only workshops one facilitator can
open: the same key, or linked by entering the other workshop's join code and facilitator key."""

from __future__ import annotations

import datetime as dt
import time

from facilitation import trends
from facilitation import workshops as W

from .conftest import all_page_text, run_page

VICTIM_TITLES = ("Acme spring review", "Acme autumn review")


def acme_workshop(store, title: str, organisation: str, day: dt.date, gap: int):
    workshop, key = W.create_workshop(store, title=title, organisation=organisation, held_on=day,
                                      agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(store, workshop.id, 0)
    for n in range(3):
        person = W.join_workshop(store, workshop.code, f"{title} person {n}", "Sales")
        assert W.submit_story(store, person, "over_the_wall", {
            "stage": "Sale", "promise": "p", "experience": f"{title} experience", "next_function": "Implementation",
            "lost": "l", "gap": gap}, f"{title}-{n}").ok
    return workshop, key


def test_a_lookalike_name_reads_nothing_and_injects_nothing(store, figures):
    spring, _ = acme_workshop(store, VICTIM_TITLES[0], "Acme", dt.date(2026, 3, 1), 4)
    autumn, autumn_key = acme_workshop(store, VICTIM_TITLES[1], "Acme", dt.date(2026, 9, 1), 2)
    trends.link_workshop(store, spring.id, autumn.code, autumn_key)  # the real facilitator links them
    attacker, _ = acme_workshop(store, "Fake", "  acme ", dt.date(2026, 6, 1), 5)

    seen = trends.gap_trend(store, attacker.id)
    assert {r["workshop_id"] for r in seen} == {attacker.id}
    victims = trends.gap_trend(store, spring.id)
    assert {r["workshop_id"] for r in victims} == {spring.id, autumn.id}
    guesses, started = 200, time.perf_counter()
    for n in range(guesses):
        try:
            trends.link_workshop(store, attacker.id, spring.code, f"guess-{n}")
        except W.WorkshopInputError:
            pass
    assert {w.id for w in trends.linked_workshops(store, spring.id)} == {spring.id, autumn.id}
    figures.add(f"workshop named '  acme ' next to 2 linked Acme workshops ({'SQLite' if store.is_sqlite else 'PostgreSQL'})",
                f"sees 0 of their rows (was every row), injects 0; {guesses} wrong keys refused in "
                f"{time.perf_counter() - started:.1f} s, 0 links made")


def test_the_attackers_map_page_shows_no_other_workshop(page_store, figures):
    from facilitation.store import get_store

    store = get_store(page_store)
    spring, _ = acme_workshop(store, VICTIM_TITLES[0], "Acme", dt.date(2026, 3, 1), 4)
    autumn, autumn_key = acme_workshop(store, VICTIM_TITLES[1], "Acme", dt.date(2026, 9, 1), 2)
    trends.link_workshop(store, spring.id, autumn.code, autumn_key)
    attacker, attacker_key = acme_workshop(store, "Fake", "  acme ", dt.date(2026, 6, 1), 5)
    at = run_page("pages/map.py", code=attacker.code, key=attacker_key)
    assert not at.exception, at.exception
    text = all_page_text(at) + "".join(e.proto.spec for e in at.get("plotly_chart"))
    assert not any(title in text for title in VICTIM_TITLES) and "2026-03-01" not in text and "2026-09-01" not in text
    figures.add("attacker's /map for '  acme ' (AppTest)", "no title, date or trend of the other Acme workshops")
