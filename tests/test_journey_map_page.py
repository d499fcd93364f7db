"""AppTest of the journey map page (/map): filters, the figures, the handoff table and its stories,
and the trend across the workshops a facilitator linked."""

from __future__ import annotations

import datetime as dt

import pytest

from facilitation import workshops as W
from test_pages import all_text, app_db, run_page  # noqa: F401 - app_db is a fixture

EVIL = "**Six** weeks <script>alert(1)</script>"


@pytest.fixture
def mapped_workshop(app_db):  # noqa: F811
    workshop, key = W.create_workshop(app_db, title="Map <b>day</b>", organisation="Northwind",
                                      held_on=dt.date(2026, 3, 1), agenda_plan=[("over_the_wall", 15)])
    ana = W.join_workshop(app_db, workshop.code, "Ana", "Sales")
    ben = W.join_workshop(app_db, workshop.code, "Ben", "Support")
    cy = W.join_workshop(app_db, workshop.code, "Cy", "Implementation")
    W.open_exercise(app_db, workshop.id, 0)
    told = [
        (ana, "Sale", "Implementation", 5, EVIL, "The go-live date"),
        (ana, "Sale", "Implementation", 4, "Waited for a template", "Why they bought"),
        (cy, "Onboarding", "Support", 3, "Training on the wrong version", "The workaround"),
        (ben, "Support & adoption", "Customer success", 2, "Tickets bounce", "The champion's name"),
    ]
    for n, (who, stage, to, gap, experience, lost) in enumerate(told):
        result = W.submit_story(app_db, who, "over_the_wall", {
            "stage": stage, "promise": "Live in two weeks", "experience": experience, "next_function": to,
            "lost": lost, "gap": gap}, f"map-{n}")
        assert result.ok, result.problems
    return workshop, key


def test_the_map_page_needs_the_facilitator_key(mapped_workshop):
    workshop, _key = mapped_workshop
    at = run_page("pages/map.py", code=workshop.code, key="not-the-key")
    assert not at.exception
    text = all_text(at)
    assert "Facilitator sign-in" in text and "Handoffs" not in text


def test_the_map_page_renders_and_a_selected_handoff_shows_its_stories(mapped_workshop):
    workshop, key = mapped_workshop
    at = run_page("pages/map.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    text = all_text(at)
    assert "Journey map" in text and "Who hands the customer to whom" in text and "Handoffs" in text
    assert "Sorted by weighted gap" in text
    assert not any(getattr(e, "key", None) == "map-trend" for e in at.main)  # one workshop: no trend yet
    charts = [e for e in at.main if getattr(e, "key", None) in ("map-figure", "map-sankey")]
    assert {c.key for c in charts} == {"map-figure", "map-sankey"}
    assert [m.value for m in at.metric][:2] == ["4", "3"]
    (table,) = at.dataframe
    rows = table.value
    assert list(rows["from"]) == ["Sales", "Implementation", "Support"]  # weighted gap, highest first
    assert "The stories behind this handoff" not in text

    at.session_state[table.key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    texts = [t.value for t in at.text]
    assert "Sales → Implementation at Sale · 2 stories · mean gap 4.5" in texts
    # participant text exactly as typed, through st.text
    assert ("Promised: Live in two weeks\n"
            f"Experienced: {EVIL}\n"
            "What gets lost: The go-live date\n"
            "Gap: 5 of 5\n"
            "Judged by: our own guess") in texts
    assert any("Experienced: Waited for a template" in t for t in texts) and texts.count("Ana · Sales") == 2
    assert not any("<script>" in m.value for m in at.markdown)
    assert "Tickets bounce" not in "\n".join(texts)  # only the selected handoff's stories


def test_filters_narrow_the_map_and_the_table(mapped_workshop):
    workshop, key = mapped_workshop
    at = run_page("pages/map.py", code=workshop.code, key=key)
    at.multiselect(key="map-functions").select("Support")
    at.run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["from"]) == ["Implementation", "Support"]  # told in or handed to Support
    at.multiselect(key="map-stages").select("Onboarding")
    at.run()
    assert list(at.dataframe[0].value["from"]) == ["Implementation"]
    assert at.metric[0].value == "1"
    at.multiselect(key="map-functions").unselect("Support")
    at.multiselect(key="map-stages").unselect("Onboarding")
    at.selectbox(key="map-exercise").select("over_the_wall")
    at.run()
    assert not at.exception and len(at.dataframe[0].value) == 3


def test_the_trend_appears_once_another_workshop_is_linked_with_its_key(mapped_workshop, app_db):  # noqa: F811
    workshop, key = mapped_workshop
    second, second_key = W.create_workshop(app_db, title="Autumn <i>secret</i>", organisation="northwind",
                                           held_on=dt.date(2026, 9, 1), agenda_plan=[("over_the_wall", 15)])
    dee = W.join_workshop(app_db, second.code, "Dee", "Sales")
    W.open_exercise(app_db, second.id, 0)
    assert W.submit_story(app_db, dee, "over_the_wall", {
        "stage": "Sale", "promise": "p", "experience": "e", "next_function": "Implementation", "lost": "l",
        "gap": 2}, "autumn-1").ok
    at = run_page("pages/map.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    # The same organisation name links nothing (issue 11, item 3).
    assert not any(getattr(e, "key", None) == "map-trend" for e in at.main)
    assert "Autumn <i>secret</i>" not in all_text(at)

    def link(code: str, typed_key: str):
        inputs = [t for t in at.text_input if t.label in ("Its join code", "Its facilitator key")]
        inputs[0].input(code)
        inputs[1].input(typed_key)
        next(b for b in at.button if b.label == "Link to this workshop's trend").click()
        at.run()
        assert not at.exception, at.exception

    link(second.code, "a guessed key")
    assert any("do not open a workshop" in e.value for e in at.error)
    assert not any(getattr(e, "key", None) == "map-trend" for e in at.main)
    link(second.code, second_key)
    assert "Autumn <i>secret</i>" in [t.value.split(" · ")[0] for t in at.text]
    assert any(getattr(e, "key", None) == "map-trend" for e in at.main)


def test_the_console_links_to_the_map_page(mapped_workshop):
    workshop, key = mapped_workshop
    at = run_page("pages/console.py", code=workshop.code, key=key)
    assert not at.exception, at.exception
    assert "Journey map" in [link.proto.label for link in at.get("page_link")]
