"""The report opens with a one-page summary, its tables keep header words whole, and its map knows
who owns a stage from every exercise that places stories; the report page counts stories the same way."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from facilitation import demo, journey_map, report, workshops as W


@pytest.fixture
def demo_snapshot(sqlite_store):
    workshop, _key = demo.create_demo_workshop(sqlite_store)
    return W.snapshot(sqlite_store, workshop.id)


def _document(snap) -> Document:
    return Document(io.BytesIO(report.build_report(snap, include_map_image=False)))


def test_the_report_opens_with_a_one_page_summary(demo_snapshot):
    doc = _document(demo_snapshot)
    first_page = []
    for p in doc.paragraphs:
        if p.style.name == "Heading 1":  # every chapter starts on a new page
            break
        first_page.append(p.text)
    text = "\n".join(first_page)
    assert "Summary" in first_page
    assert "Who took part: 14 people from 9 functions (Sales 2, Marketing 1, Engineering 2" in text
    assert "The 3 widest handoff gaps" in text
    gaps = [t for t in first_page if " → " in t and " at " in t]
    assert len(gaps) == 3 and gaps[0].startswith("•  Sales → Implementation at Sale: 4.5 from 2 stories")
    assert "The room's top stories" in text
    assert "Our engineer stayed on the line until Halvorsen's night shift ran the first real batch" in text
    assert "— Hiro · Support, 11 dots (Untold retention stories)" in text
    # The demo's commitments fall due a few days after the day it is made.
    due = [re.fullmatch(r"Commitments: 8 commitments; the earliest is due (.+): “Send support the release note the day "
                        r"a customer's fix ships” \(Engineering\)\.", t) for t in first_page]
    day = next(dt.datetime.strptime(m.group(1), "%d %B %Y").date() for m in due if m)
    assert dt.date.today() < day <= dt.date.today() + dt.timedelta(days=30)
    # One page: not more than the title, the details and a dozen short paragraphs.
    assert len(first_page) <= 16 and sum(len(t) for t in first_page) < 2600


def test_a_summary_without_votes_or_commitments_says_so(sqlite_store, answers):
    workshop, _ = W.create_workshop(sqlite_store, title="Small", agenda_plan=[("over_the_wall", 10)])
    ana = W.join_workshop(sqlite_store, workshop.code, "Ana", "Sales")
    W.open_exercise(sqlite_store, workshop.id, 0)
    W.submit_story(sqlite_store, ana, "over_the_wall", answers(), "k1")
    facts = report.summarise(W.snapshot(sqlite_store, workshop.id))
    assert facts.people == 1 and facts.stories == 1 and facts.commitments == 0 and facts.earliest is None
    assert facts.top_stories == [] and len(facts.widest_gaps) == 1
    text = "\n".join(p.text for p in _document(W.snapshot(sqlite_store, workshop.id)).paragraphs)
    assert "The room's top stories: no dots were cast." in text and "Commitments: none were made." in text


def test_no_table_header_breaks_inside_a_word(demo_snapshot):
    """Old report: the appendix's narrow "Gap" column printed its header as "Ga p"."""
    doc = _document(demo_snapshot)
    checked = 0
    for table in doc.tables:
        grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        for header, twips in zip((c.text for c in table.rows[0].cells), grid):
            longest = max((len(w) for w in header.replace("/", " ").replace("-", " ").split()), default=0)
            need = Mm(longest * report.HEADER_MM_PER_CHAR + report.CELL_PAD_MM).twips
            assert twips >= need - 2, f"{header!r}: {twips} twips < {need}"
            checked += 1
    assert checked > 50
    assert report.header_widths(["Story", "Gap"], [30.0, 6.0]) == pytest.approx(
        [30.0 - (3 * report.HEADER_MM_PER_CHAR + report.CELL_PAD_MM - 6.0), 3 * report.HEADER_MM_PER_CHAR + report.CELL_PAD_MM])


def test_the_reports_map_knows_who_owns_a_stage_from_every_exercise(sqlite_store, answers, monkeypatch):
    """Old report: its map took only "Over the wall" stories, so a stage owned in another exercise
    ("Always be storytelling" places remarks at stages too) was marked "no owner" though the live map knew better."""
    workshop, _ = W.create_workshop(sqlite_store, title="Owners",
                                    agenda_plan=[("always_be_storytelling", 10), ("over_the_wall", 10)])
    ana = W.join_workshop(sqlite_store, workshop.code, "Ana", "Sales")
    ivo = W.join_workshop(sqlite_store, workshop.code, "Ivo", "Implementation")
    W.open_exercise(sqlite_store, workshop.id, 0)
    assert W.submit_story(sqlite_store, ivo, "always_be_storytelling", {
        "remark": "Training was for another version.", "heard_in": "Implementation", "heard_at": "Onboarding",
        "company_story": "A trainer once flew out with a laptop.", "retold_today": "Videos now.", "term": "Tenant",
        "plain_meaning": "Your own space in our system."}, "r1").ok
    W.open_exercise(sqlite_store, workshop.id, 1)
    W.submit_story(sqlite_store, ana, "over_the_wall", answers(stage="Prospect", next_function="Sales"), "a1")
    W.submit_story(sqlite_store, ana, "over_the_wall", answers(stage="Implementation", next_function="Sales"), "a2")
    snap = W.snapshot(sqlite_store, workshop.id)
    assert journey_map.build_journey(snap).uncovered_stages == ("Sale",)  # the live map: Onboarding is owned
    built = []
    real = journey_map.build_journey
    monkeypatch.setattr(journey_map, "build_journey", lambda *a, **k: built.append(real(*a, **k)) or built[-1])
    report.build_report(snap, include_map_image=False)
    assert built and all(j.uncovered_stages == ("Sale",) for j in built)


def test_the_report_page_counts_stories_as_the_report_does(demo_snapshot):
    told, additions = report.story_counts(demo_snapshot)
    assert (told, additions) == (report.summarise(demo_snapshot).stories, report.summarise(demo_snapshot).additions)
    from facilitation import demo, views

    kept = views.kept_in_room(demo_snapshot)  # a story not cleared for retelling is not counted in the report
    assert additions == sum(len(built) for *_, built in demo.HALF_THE_STORY)
    assert told == len([s for s in demo_snapshot.stories if s.builds_on is None and s.id not in kept])


def test_the_report_page_says_when_and_how_many_like_the_report(tmp_path, monkeypatch):
    """Old page: "Report built at 2026-12-02 0447 with 49 stories" while the report said 46 stories with 3 additions."""
    import re

    from facilitation import figure_images
    from facilitation.store import get_store
    from test_pages import run_page

    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    store = get_store(url)
    workshop, key = demo.create_demo_workshop(store)
    monkeypatch.setattr(figure_images, "warm_up", lambda: None)
    monkeypatch.setattr(report, "build_report", lambda snap, **_k: b"docx")
    at = run_page("pages/report.py", code=workshop.code, key=key)
    [button] = [b for b in at.button if b.label == "Build the Word report"]
    button.click().run()
    assert not at.exception, at.exception
    [done] = [s.value for s in at.success if s.value.startswith("Report built at")]
    told, additions = report.story_counts(W.snapshot(store, workshop.id))
    assert re.match(r"Report built at \d{4}-\d\d-\d\d \d\d:\d\d with ", done), done
    assert f"with {told} stories, with {additions} additions from 14 participants." in done
