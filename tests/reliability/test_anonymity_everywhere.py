"""Issue 11, item 5: with names off, one person from Finance/billing was anonymous on the story card
but drawn in the labelled Finance/billing lane of the projector's map, with a hover reading
"Finance/billing · Renewal & expansion · <their text>". The ≥3-per-function rule must hold on every
screen, chart, hover and export: here the same room is read through all of them."""

from __future__ import annotations

import io
import json

from docx import Document

from facilitation import exports, figure_images, report
from facilitation import journey_map as jm
from facilitation import workshops as W
from facilitation.room import OTHER_FUNCTIONS

from streamlit_browser import screen_for

from .conftest import run_page

LONE = "Finance/billing"
SECRET = "Our invoice reached them three months late"


def anonymous_room(store):
    """Names off; three Sales, three Support and ONE Finance/billing person tell Over the wall stories."""
    workshop, key = W.create_workshop(store, title="Anonymous day", show_names=False, agenda_plan=[("over_the_wall", 15)])
    W.open_exercise(store, workshop.id, 0)
    tellers = [("Sales", "Sale", "Implementation"), ("Sales", "Sale", "Implementation"), ("Sales", "Onboarding", "Support"),
               ("Support", "Support & adoption", "Customer success"), ("Support", "Support & adoption", "Customer success"),
               ("Support", "Onboarding", "Implementation"), (LONE, "Renewal & expansion", "Customer success")]
    for n, (function, stage, to) in enumerate(tellers):
        person = W.join_workshop(store, workshop.code, f"Person{n}", function)
        experience = SECRET if function == LONE else f"Waited {n} weeks"
        assert W.submit_story(store, person, "over_the_wall", {
            "stage": stage, "promise": "Live in two weeks", "experience": experience, "next_function": to,
            "lost": "The date", "gap": 2 + n % 4}, f"a-{n}").ok
    return workshop, key


def _leaks(text: str) -> bool:
    return LONE in text and SECRET[:20] in text


def _figure_texts(fig_json: dict) -> list[str]:
    """Every hover text, name and label of a plotly figure spec except the axes' lane names."""
    out = []
    for trace in fig_json.get("data", []):
        for k in ("hovertext", "text", "customdata"):
            v = trace.get(k)
            out += v if isinstance(v, list) else ([v] if isinstance(v, str) else [])
        out.append(str(trace.get("name", "")))
        for part in ("node", "link"):
            if isinstance(trace.get(part), dict):
                out += [str(x) for x in trace[part].get("customdata", []) + trace[part].get("label", [])]
    out += [str(a.get("text", "")) for a in fig_json.get("layout", {}).get("annotations", [])]
    return out


def test_a_lone_function_is_named_nowhere(store, figures, monkeypatch):
    workshop, _ = anonymous_room(store)
    snap = W.snapshot(store, workshop.id)
    checked = []

    journey = jm.build_journey(snap)
    lane_of_secret = next(c.function for c in journey.cells.values() for p in c.placed if SECRET in p.story.answers["experience"])
    assert lane_of_secret == OTHER_FUNCTIONS
    hovers = [h for t in jm.journey_figure(journey).to_plotly_json()["data"] for h in (t.get("hovertext") or [])]
    secret_hovers = [h for h in hovers if "three months" in h or "Renewal" in h]
    assert secret_hovers and not any(LONE in h for h in secret_hovers)
    checked.append("map lanes and hover")
    assert not any(LONE in t for t in _figure_texts(jm.sankey_figure(journey).to_plotly_json()))
    checked.append("sankey")
    assert not any(r["from"] == LONE for r in jm.handoff_rows(journey))
    checked.append("handoff table")

    rows = list(__import__("csv").DictReader(io.StringIO(exports.stories_csv(snap).decode("utf-8-sig"), newline="")))
    secret_row = next(r for r in rows if SECRET in " ".join(r.values()))
    assert secret_row["Function"] == OTHER_FUNCTIONS
    checked.append("CSV")

    monkeypatch.setattr(figure_images, "figure_png", lambda *a, **k: None)  # no browser needed here
    doc = Document(io.BytesIO(report.build_report(snap)))
    assert not any(p.text.startswith(LONE + " ·") for p in doc.paragraphs)
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text for c in row.cells]
            if any(SECRET in c for c in cells) or any(c.startswith(LONE + " →") for c in cells):
                assert LONE not in cells and not any(c.startswith(LONE + " →") for c in cells), cells
    checked.append("report")
    figures.add(f"names off, 1 of 7 tellers from {LONE} ({'SQLite' if store.is_sqlite else 'PostgreSQL'})",
                f"function named in 0 of {len(checked)} outputs ({', '.join(checked)}); story in the '{OTHER_FUNCTIONS}' lane")


def test_the_projector_and_the_map_page_keep_the_rule(page_store, figures):
    from facilitation.store import get_store

    workshop, key = anonymous_room(get_store(page_store))
    projector = run_page("pages/projector.py", code=workshop.code, screen=screen_for(workshop.code))
    assert not projector.exception
    specs = [json.loads(e.proto.spec) for e in projector.get("plotly_chart")]
    assert specs, "the projector draws the map for Over the wall"
    texts = [t for spec in specs for t in _figure_texts(spec)]
    assert not any(_leaks(t) or (LONE in t and "Renewal" in t) for t in texts), [t for t in texts if LONE in t]

    page = run_page("pages/map.py", code=workshop.code, key=key)
    assert not page.exception, page.exception
    table = next(d.value for d in page.dataframe if "from" in d.value.columns)
    assert LONE not in set(table["from"]) and OTHER_FUNCTIONS in set(table["from"])
    page_specs = [json.loads(e.proto.spec) for e in page.get("plotly_chart")]
    assert not any(LONE in t and "Renewal" in t for spec in page_specs for t in _figure_texts(spec))
    assert not any(f"Person{n}" in t.value for n in range(7) for t in page.text)
    figures.add("names off, projector map and map page (AppTest)",
                f"'{LONE}' in 0 hover texts of {len(specs) + len(page_specs)} figures; handoff table shows '{OTHER_FUNCTIONS}'")
