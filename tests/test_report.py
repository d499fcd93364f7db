"""The Word report: built from a real store, read back with python-docx, converted to PDF.

Also the two helpers it stands on: `docx_safe` (any typed text makes a valid document)
and `figure_images.figure_png` (the map picture, or None with a reason, never a hang).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from docx import Document
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitation import commitments, figure_images, report
from facilitation import workshops as W
from facilitation.exercises import library
from facilitation.store import Store, stories
from facilitation.workshops import AgendaItem, Participant, Snapshot, Story, Workshop
from full_workshop import ALWAYS, COMMITMENTS, HIDDEN_TEXT, RETRACE, make_full_workshop

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = "over_the_wall"

ANA = {
    "stage": "Sale",
    "promise": "You'll be live in two weeks, with your own data.\r\nAnd a named contact from day one.",
    "experience": "Six weeks of waiting for an import template nobody mentioned. 😬",
    "next_function": "Implementation",
    "lost": "The go-live date we promised in the demo.",
    "gap": 5,
}
BO = {
    "stage": "Support & adoption",
    "promise": "Any issue gets a reply within four hours.",
    "experience": "הלקוח מסביר את ההגדרות שלו מחדש לכל אדם חדש.",  # RTL: the customer explains their setup again
    "next_function": "Customer success",
    "lost": "Why they bought; the ticket history stays in our tool.",
    "gap": 3,
}
SECRET = "This story was hidden by the facilitator and must never be printed"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _no_picture(*_args, **_kwargs):
    return None


@pytest.fixture(autouse=True)
def _no_stale_picture_error(monkeypatch):
    """figure_png, when patched to fail, fails because no browser was found (the common case)."""
    monkeypatch.setattr(figure_images, "last_error",
                        lambda: "No Chromium or Chrome browser was found on this server (test)")


@pytest.fixture
def db(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/t.db")
    yield store
    store.dispose()


def _workshop(db: Store, *, show_names: bool = True) -> Snapshot:
    """Two participants in different functions tell Over-the-wall stories; a third story is hidden."""
    ws, _key = W.create_workshop(db, title="Customer journey day", organisation="Northwind Analytics",
                                 held_on=dt.date(2026, 3, 12), facilitator="Priya Raman",
                                 agenda_plan=[(EXERCISE, 15)], show_names=show_names)
    ana = W.join_workshop(db, ws.code, "Ana Costa", "Sales")
    bo = W.join_workshop(db, ws.code, "Bo Lindqvist", "Support")
    W.open_exercise(db, ws.id, 0)
    assert W.submit_story(db, ana, EXERCISE, ANA, "k-ana").ok
    assert W.submit_story(db, bo, EXERCISE, BO, "k-bo").ok
    hidden = W.submit_story(db, ana, EXERCISE, {**ANA, "experience": SECRET, "promise": SECRET, "lost": SECRET},
                            "k-hidden")
    assert hidden.ok
    with db.write() as conn:  # there is no hide function yet: flag it the way one would
        conn.execute(sa.update(stories).where(stories.c.id == hidden.story.id).values(hidden=True))
    W.close_exercise(db, ws.id)
    return W.snapshot(db, ws.id)


def _open(data: bytes):
    return Document(io.BytesIO(data))


def _tables(doc) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def _table(doc, first_header: str, second_header: str | None = None) -> list[list[str]]:
    for t in _tables(doc):
        if t[0][0] == first_header and (second_header is None or t[0][1] == second_header):
            return t
    raise AssertionError(f"no table with header {first_header!r}, {second_header!r}: {[t[0] for t in _tables(doc)]}")


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in _tables(doc):
        parts += [c for row in t for c in row]
    return "\n".join(parts)


def _xml_of_every_part(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels")))


# --- contents -------------------------------------------------------------------------------

def test_report_from_a_real_workshop(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)  # the picture has its own test
    snap = _workshop(db)
    doc = _open(report.build_report(snap))
    text = _all_text(doc)

    title = doc.paragraphs[0]
    assert (title.text, title.style.name) == ("Customer journey day", "Title")
    assert "Northwind Analytics" in doc.paragraphs[1].text
    assert "Priya Raman" in text and "12 March 2026" in text

    agenda = _table(doc, "#", "Exercise")
    assert agenda[1][1] == "Over the wall" and agenda[1][2] == "15 min"
    assert agenda[1][3] and agenda[1][4] not in ("", "still open")  # opened and closed times

    people = _table(doc, "Function", "People")
    rows = {r[0]: r[1:] for r in people[1:]}
    assert rows["Sales"][:2] == ["1", "Ana Costa"]
    assert rows["Support"][:2] == ["1", "Bo Lindqvist"]
    assert rows["Total"][0] == "2"

    # every field of both stories, verbatim (\r\n becomes a line break), under the exercise's labels
    for answers in (ANA, BO):
        for name in ("promise", "experience", "lost"):
            assert answers[name].replace("\r\n", "\n") in text
    for f in library()[EXERCISE].fields:
        assert f.label in text
    assert "Story 1 · Ana Costa" in text and "Bo Lindqvist" in text
    assert "5 on a scale of 1 to 5 (a canyon)" in text

    # the hidden story is nowhere: not in the text, not in any part of the file, not in any count
    assert SECRET not in _xml_of_every_part(report.build_report(snap))
    assert "2 stories from 2 functions" in text

    # the map as an editable table: functions × stages, counts and shortened headlines
    grid = _table(doc, "Function", snap.workshop.stages[0])
    assert grid[0] == ["Function", *snap.workshop.stages]
    by_function = {r[0]: dict(zip(grid[0][1:], r[1:])) for r in grid[1:]}
    assert by_function["Sales"]["Sale"].startswith("1 story")
    assert "Six weeks of waiting" in by_function["Sales"]["Sale"]
    assert by_function["Support"]["Support & adoption"].startswith("1 story")
    assert by_function["Sales"]["Prospect"] == ""

    handoffs = _table(doc, "From", "To")
    assert handoffs[1][:5] == ["Sales", "Implementation", "Sale", "1", "5.0"]  # biggest gap first
    assert handoffs[2][:5] == ["Support", "Customer success", "Support & adoption", "1", "3.0"]
    assert "The go-live date we promised in the demo." in handoffs[1][6]

    assert report.NO_PICTURE_NOTE in text


def _valid_answers(exercise, ws, partner: str, n: int, partner_function: str | None = None,
                   serves: list[str] = ()) -> dict:
    """A valid answer for every field of any exercise, with recognisable texts. A handoff is handed to
    `partner_function` (default the workshop's second function); a receiver answers the partner's handoff;
    a commitment serves the first of `serves` (what the room told)."""
    out = {}
    for f in exercise.fields:
        out[f.name] = {
            "short_text": f"{exercise.key}.{f.name} #{n}",
            "long_text": f"{exercise.key}.{f.name} #{n}, a longer answer.\r\nWith a second line.",
            "function": partner_function or ws.functions[1], "stage": ws.stages[0], "scale": f.scale_min,
            "choice": f.options[0] if f.options else "", "date": "2099-04-30", "partner": partner,
            "handoff": f"{partner_function} @ {ws.stages[0]}",
            "story_or_handoff": serves[0] if serves else None,
        }[f.kind]
    return out


def test_every_exercise_on_the_agenda_gets_its_chapter(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    ws, _ = W.create_workshop(db, title="Full day", agenda_plan=None)  # the whole library
    ana = W.join_workshop(db, ws.code, "Ana Costa", "Sales")
    bo = W.join_workshop(db, ws.code, "Bo Lindqvist", "Support")
    lib = library()
    for item in W.agenda(db, ws.id):
        W.open_exercise(db, ws.id, item.position)
        for n, (who, partner, partner_function) in enumerate(((ana, bo.display_name, bo.function),
                                                               (bo, ana.display_name, ana.function))):
            answers = _valid_answers(lib[item.exercise_key], ws, partner, n, partner_function,
                                     commitments.serve_options(W.snapshot(db, ws.id)))
            result = W.submit_story(db, who, item.exercise_key, answers, f"{item.exercise_key}-{n}")
            assert result.ok, result.problems
    doc = _open(report.build_report(W.snapshot(db, ws.id)))
    chapters = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert chapters == ["The workshop", *[e.title for e in lib.values()], "Appendix: all the data"]
    text = _all_text(doc)
    for ex in lib.values():
        assert ex.question in text
        for f in ex.fields:
            assert f.label in text or f.kind == "partner"  # a pair's partner is named in its heading
            if f.kind == "short_text":
                assert f"{ex.key}.{f.name} #1" in text
            if f.kind == "long_text":
                assert f"{ex.key}.{f.name} #0, a longer answer.\nWith a second line." in text
    assert "30 April 2099" in text  # dates read as dates


@pytest.fixture
def full_snapshot(db):
    ws, _key = make_full_workshop(db)
    return W.snapshot(db, ws.id)


def _chapter(doc, title: str) -> list:
    """The paragraphs and tables (python-docx objects) of one Heading-1 chapter, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out, inside = [], False
    for el in doc.element.body.iterchildren():
        if el.tag == qn("w:p"):
            p = Paragraph(el, doc)
            if p.style.name == "Heading 1":
                inside = p.text == title
                continue
            if inside:
                out.append(p)
        elif el.tag == qn("w:tbl") and inside:
            out.append(Table(el, doc))
    return out


def _texts(parts, style: str) -> list[str]:
    return [p.text for p in parts if hasattr(p, "style") and not hasattr(p, "rows") and p.style.name == style]


def _tables_of(parts) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in parts if hasattr(t, "rows")]


def test_each_exercise_is_written_in_its_own_view(full_snapshot, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    data = report.build_report(full_snapshot)
    doc = _open(data)
    assert HIDDEN_TEXT not in _xml_of_every_part(data)

    # by_function with a glossary: a two-column table, term (and its function) → plain meaning, by term
    always = _chapter(doc, "Always be storytelling")
    glossary = next(t for t in _tables_of(always) if t[0] == ["Term", "What it means"])
    terms = [row[0].split("\n") for row in glossary[1:]]
    assert [t[0] for t in terms] == ["ARR", "Churn", "Committed", "Done", "P1"]
    assert dict((t[0], t[1]) for t in terms)["P1"] == "Support"
    assert glossary[-1][1] == ALWAYS["Bo Lindqvist"]["plain_meaning"]
    assert "Story 5 · Ines (guest)" in _texts(always, "Story Heading")  # told by proxy

    # pairs: who with whom, the two versions side by side, then the other answers
    pairs = _chapter(doc, "Retrace the steps")
    assert _texts(pairs, "Story Heading") == ["Pair 1 · Chen Wei (Implementation) with Gus Moreau (Product)",
                                             "Pair 2 · Dana Okafor (Customer success) with Ana Costa (Sales)"]
    ex = library()["retrace_the_steps"]
    side = [t for t in _tables_of(pairs) if t[0] == [ex.field("forward").label, ex.field("reversed").label]]
    assert side[0] == [[ex.field("forward").label, ex.field("reversed").label],
                       [RETRACE[0][2]["forward"], RETRACE[0][2]["reversed"]]]
    # the debrief's count of tactical and strategic listening (no pairs stored: one mark per story)
    marks = [t for t in _tables_of(pairs) if t[0] == ["Listening", "Marks"]][0]
    assert [row[0] for row in marks[1:]] == ["Tactical", "Strategic"]
    assert sum(int(row[1]) for row in marks[1:]) == sum(1 for r in RETRACE if r[2].get("listening"))
    assert RETRACE[1][2]["behind"] in _texts(pairs, "Story Text")

    # build on: additions under their story, with who added them
    half = _chapter(doc, "Half the story")
    labels = _texts(half, "Story Label")
    assert "Added by Finance/billing · Emil Novak" in labels and "Added by Customer success · Dana Okafor" in labels
    assert "Finance knows: they renew because the contract bundles their second site at the old price." \
        in _texts(half, "Story Text")

    # the story bank: the voted stories cleared for retelling, by who should tell them to whom, with their votes
    untold_chapter = _chapter(doc, "Untold retention stories")
    assert _texts(untold_chapter, "Heading 3") == ["Sales should tell", "Implementation should tell",
                                                   "Customer success should tell"]
    assert _texts(untold_chapter, "Story Heading") == [
        "To prospects close to signing · Story 1 · Support · Bo Lindqvist · 7 votes",
        "To new customers at onboarding · Story 2 · Implementation · Chen Wei · 6 votes",
        "To customers at renewal · Story 3 · Engineering · Farah Haddad · 5 votes"]

    # commitments: one table to paste into an email, soonest first, with who committed
    commitments = _tables_of(_chapter(doc, "One millimeter forward"))[0]
    assert commitments[0] == ["Action", "Serves", "Connects to", "By when", "Who"]
    assert [r[3] for r in commitments[1:]] == ["31 March 2026", "3 April 2026", "10 April 2026", "17 April 2026"]
    assert commitments[1] == [COMMITMENTS["Emil Novak"]["action"], COMMITMENTS["Emil Novak"]["serves"],
                              "Customer success", "31 March 2026", "Emil Novak\nFinance/billing"]

    # handoffs: the biggest gaps with their stories
    wall = _chapter(doc, "Over the wall")
    assert "The biggest gaps, story by story" in _texts(wall, "Heading 2")
    gaps = [t for t in _tables_of(wall) if t[0][:3] == ["Story", "Promised", "Experienced"]]
    assert gaps and gaps[0][1][1] in {a["promise"] for a in __import__("full_workshop").OVER_THE_WALL.values()}

    # the appendix: every visible story and addition, every field, one table per exercise
    appendix = _tables_of(_chapter(doc, "Appendix: all the data"))
    assert len(appendix) == len(library())
    visible = [s for s in full_snapshot.stories if not s.hidden]
    assert sum(len(t) - 1 for t in appendix) == len(visible)
    untold = next(t for t in appendix if "Votes" in t[0])
    assert [r[t_i] for t_i in [untold[0].index("Votes")] for r in untold[1:]] == ["7", "6", "5"]


def test_anonymous_full_report_names_nobody(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    ws, _key = make_full_workshop(db, show_names=False)
    snap = W.snapshot(db, ws.id)
    data = report.build_report(snap)
    xml = _xml_of_every_part(data)
    for p in snap.participants:
        assert p.display_name not in xml, p.display_name
    assert "Ines (guest)" not in xml
    doc = _open(data)
    pairs = _texts(_chapter(doc, "Retrace the steps"), "Story Heading")
    # One person per function in this room: with names off no function may be named (issue 11, item 5).
    assert pairs == ["Pair 1 · Someone with a colleague", "Pair 2 · Someone with a colleague"]
    commitments = _tables_of(_chapter(doc, "One millimeter forward"))[0]
    assert [r[4] for r in commitments[1:]] == ["Other functions"] * 4
    assert "Author" not in _tables_of(_chapter(doc, "Appendix: all the data"))[0][0]


def test_votes_can_be_given_and_rank_any_exercise(full_snapshot, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    untold = [s for s in full_snapshot.stories if s.exercise_key == "untold_retention_stories"]
    wall = [s for s in full_snapshot.stories if s.exercise_key == "over_the_wall"]
    counts = {untold[2].id: 9, untold[0].id: 1, wall[3].id: 4}
    doc = _open(report.build_report(full_snapshot, vote_counts=counts))
    # The story bank takes the two stories with votes (by who tells them); the one without follows.
    ranked = _texts(_chapter(doc, "Untold retention stories"), "Story Heading")
    assert [h.split(" · ")[1] for h in ranked[:2]] == ["Story 1", "Story 3"] and ranked[2].startswith("Story 2")
    assert ranked[0].endswith("1 vote") and ranked[1].endswith("9 votes") and ranked[2].endswith("0 votes")
    most = next(t for t in _tables_of(_chapter(doc, "Over the wall")) if t[0][:2] == ["Votes", "Story"])
    assert most[1][:3] == ["4", "4", wall[3].function]


def test_without_votes_the_ranked_view_keeps_arrival_order(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    ws, _ = W.create_workshop(db, title="No dots", agenda_plan=[("untold_retention_stories", 10)])
    people = [W.join_workshop(db, ws.code, n, f) for n, f in (("Ann", "Sales"), ("Bob", "Support"))]
    W.open_exercise(db, ws.id, 0)
    ex = library()["untold_retention_stories"]
    for n, p in enumerate(people):
        assert W.submit_story(db, p, ex.key, _valid_answers(ex, ws, "", n), f"k{n}").ok
    doc = _open(report.build_report(W.snapshot(db, ws.id)))
    parts = _chapter(doc, "Untold retention stories")
    assert "Story bank" in _texts(parts, "Heading 2")
    assert any(t.startswith("No votes were cast: every story cleared for retelling") for t in _texts(parts, "Caption"))
    assert [h.split(" · ", 1)[1] for h in _texts(parts, "Story Heading")] == ["Story 1 · Sales · Ann",
                                                                             "Story 2 · Support · Bob"]


def test_a_story_is_kept_together_on_one_page(full_snapshot, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    doc = _open(report.build_report(full_snapshot))
    paragraphs = doc.paragraphs
    first = next(i for i, p in enumerate(paragraphs) if p.style.name == "Story Heading")
    end = next(i for i in range(first + 1, len(paragraphs))
               if not paragraphs[i].style.name.startswith("Story") or paragraphs[i].style.name == "Story Heading")
    story = paragraphs[first:end]
    assert len(story) >= 7  # heading and six fields (long answers take two paragraphs)
    keep = [p._p.pPr.find(qn("w:keepNext")) is not None for p in story]
    assert keep[:-1] == [True] * (len(story) - 1) and keep[-1] is False


def test_fit_widths_adds_up_and_keeps_words_whole():
    header = ["#", "Function", "Story"]
    rows = [["1", "Implementation", "A long story " * 20], ["2", "Sales", "short"]]
    widths = report.fit_widths(header, rows, 250, fixed={0: 9})
    assert abs(sum(widths) - 250) < 0.01 and widths[0] == 9
    assert widths[1] >= len("Implementation") * 1.75 and widths[2] > widths[1]
    narrow = report.fit_widths(["a", "b"], [["x" * 30, "y" * 30]], 20)
    assert abs(sum(narrow) - 20) < 0.01


def test_a_long_handoff_list_opens_with_the_top_ten_and_follows_the_map_in_full(monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    from facilitation import journey_map
    from facilitation.sample_data import synthetic_snapshot

    snap = synthetic_snapshot(participants=40, stories=300, seed=2, hidden_share=0.1)
    snap = replace(snap, agenda=[AgendaItem(0, EXERCISE, 15, snap.workshop.created_at + 60, None)])
    everything = journey_map.handoff_rows(journey_map.build_journey(snap))
    assert len(everything) > report.TOP_HANDOFFS
    doc = _open(report.build_report(snap))
    top, full = [t for t in _tables(doc) if t[0][:2] == ["From", "To"]]
    assert len(top) - 1 == report.TOP_HANDOFFS and len(full) - 1 == len(everything)
    assert top[1:] == full[1:report.TOP_HANDOFFS + 1]
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert headings.index("The biggest gaps") < headings.index("Journey map") \
        < headings.index("All handoffs, biggest gap first") < headings.index("Stories by function")
    visible = sum(1 for st_ in snap.stories if not st_.hidden)
    assert f"{visible:,} stories from" in _all_text(doc)


def test_rtl_story_paragraph_reads_right_to_left(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    doc = _open(report.build_report(_workshop(db)))
    (p,) = [p for p in doc.paragraphs if p.text == BO["experience"]]
    assert p._p.pPr.find(qn("w:bidi")) is not None
    (q,) = [p for p in doc.paragraphs if p.text == BO["promise"]]
    assert q._p.pPr.find(qn("w:bidi")) is None


def test_names_left_out_when_the_workshop_hides_them(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    text = _all_text(_open(report.build_report(_workshop(db, show_names=False))))
    assert "Ana Costa" not in text and "Bo Lindqvist" not in text
    assert ANA["lost"] in text
    people = [line for line in text.splitlines() if line == "Names"]
    assert not people


def test_map_picture_is_embedded_when_a_browser_is_found(db, monkeypatch):
    monkeypatch.undo()
    png = figure_images.figure_png({"data": [{"type": "bar", "y": [1, 3, 2]}], "layout": {}}, 400, 300)
    if png is None:
        if _in_ci():
            pytest.fail(f"no map picture on CI: {figure_images.last_error()}")
        pytest.skip(f"no browser for pictures here: {figure_images.last_error()}")
    assert png.startswith(b"\x89PNG")
    doc = _open(report.build_report(_workshop(db)))
    assert len(doc.inline_shapes) == 1
    assert report.NO_PICTURE_NOTE not in _all_text(doc)
    assert _table(doc, "Function", "Prospect")  # the editable table is there as well


def test_report_builds_with_a_note_when_the_picture_fails(db, monkeypatch):
    calls = []

    def failing(fig, width, height, scale=2):
        calls.append((width, height, scale))
        return None

    monkeypatch.setattr(figure_images, "figure_png", failing)
    doc = _open(report.build_report(_workshop(db)))
    assert calls, "the report should have asked for the picture"
    notes = [p for p in doc.paragraphs if p.text == report.NO_PICTURE_NOTE]
    assert len(notes) == 1 and notes[0].style.name == "Note"
    assert len(doc.inline_shapes) == 0
    assert _table(doc, "Function", "Prospect")


def test_a_different_note_when_the_browser_exists_but_the_drawing_failed(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    monkeypatch.setattr(figure_images, "last_error", lambda: "The picture could not be drawn: TimeoutError")
    text = _all_text(_open(report.build_report(_workshop(db))))
    assert report.PICTURE_FAILED_NOTE in text and report.NO_PICTURE_NOTE not in text


def test_no_picture_and_no_note_when_the_picture_is_not_wanted(db, monkeypatch):
    def must_not_be_called(*_a, **_k):
        raise AssertionError("figure_png called although include_map_image=False")

    monkeypatch.setattr(figure_images, "figure_png", must_not_be_called)
    doc = _open(report.build_report(_workshop(db), include_map_image=False))
    assert len(doc.inline_shapes) == 0
    assert report.NO_PICTURE_NOTE not in _all_text(doc)


def test_progress_runs_from_zero_to_one(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    seen: list[tuple[float, str]] = []
    report.build_report(_workshop(db), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(isinstance(m, str) and m for _, m in seen)


def test_report_uses_only_the_templates_styles(db, monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    data = report.build_report(_workshop(db))
    template_ids = {s.style_id for s in Document(str(report.TEMPLATE_PATH)).styles}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        body = z.read("word/document.xml").decode()
    import re

    used = set(re.findall(r'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"', body))
    assert used and used <= template_ids, used - template_ids
    assert {s for s in report.REQUIRED_STYLES} <= {s.name for s in Document(str(report.TEMPLATE_PATH)).styles}


def test_committed_template_matches_its_script(tmp_path):
    sys.path.insert(0, str(ROOT / "assets"))
    try:
        import make_report_template
    finally:
        sys.path.remove(str(ROOT / "assets"))
    fresh = Document(str(make_report_template.build(tmp_path / "t.docx")))
    committed = Document(str(report.TEMPLATE_PATH))
    assert {(s.name, s.type) for s in fresh.styles} == {(s.name, s.type) for s in committed.styles}
    assert len(committed.element.body) == 1  # only the sectPr: no stray template text


def test_a_template_without_a_needed_style_is_refused(tmp_path, db):
    bare = tmp_path / "bare.docx"
    Document().save(bare)
    with pytest.raises(report.ReportTemplateError, match="Story Relay Table"):
        report.build_report(_workshop(db), template=bare)


# --- any text makes a valid document ------------------------------------------------------------

def test_docx_safe():
    assert report.docx_safe("a\x00b\x1fc\x7f\x9fd") == "abcd"
    assert report.docx_safe("one\r\ntwo\rthree\nfour\u2028five\x0bsix") == "one\ntwo\nthree\nfour\nfive\nsix"
    assert report.docx_safe("lone \ud800 surrogate \udfff") == "lone  surrogate "
    assert report.docx_safe("tab\tstays, emoji 🎉 and עברית and العربية stay") == \
        "tab\tstays, emoji 🎉 and עברית and العربية stay"
    assert report.docx_safe(None) == "" and report.docx_safe(4) == "4"


ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=60)
ANY_VALUE = st.one_of(ANY_TEXT, st.integers(-10, 10), st.none(), st.booleans(), st.floats(allow_nan=True),
                      st.lists(ANY_TEXT, max_size=2))
ANY_ANSWERS = st.one_of(*[
    st.tuples(st.just(ex.key), st.fixed_dictionaries({f.name: ANY_VALUE for f in ex.fields},
                                                     optional={"removed_field": ANY_TEXT}))
    for ex in library().values()])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=ANY_TEXT, organisation=ANY_TEXT, facilitator=ANY_TEXT,
    functions=st.lists(ANY_TEXT, min_size=1, max_size=4),
    stages=st.lists(ANY_TEXT, min_size=1, max_size=4),
    names=st.lists(ANY_TEXT, min_size=1, max_size=3),
    answers=st.lists(ANY_ANSWERS, min_size=1, max_size=8),
    builds_on=st.lists(st.integers(0, 7), max_size=3),
    dots=st.lists(st.integers(0, 7), max_size=6),
    show_names=st.booleans(),
)
def test_any_text_in_every_field_makes_a_document_and_a_spreadsheet(title, organisation, facilitator, functions,
                                                                     stages, names, answers, builds_on, dots,
                                                                     show_names):
    """Every exercise, every field, any value (control characters, lone surrogates, RTL, lists, numbers),
    additions and votes: the report opens and quotes the text; the CSV parses back to the same cells."""
    from facilitation import exports

    ws = Workshop(id=1, code="ANY123", title=title, organisation=organisation, held_on=None,
                  facilitator=facilitator, functions=functions, stages=stages, show_names=show_names, revision=1,
                  live_position=0, live_state="closed", created_at=1_700_000_000.0)
    people = [Participant(id=i + 1, workshop_id=1, token=f"t{i}", display_name=n, function=functions[i % len(functions)],
                          joined_at=1_700_000_000.0 + i) for i, n in enumerate(names)]
    told = [Story(id=k + 1, exercise_key=key, participant_id=people[k % len(people)].id,
                  author_name=people[k % len(people)].display_name, function=people[k % len(people)].function,
                  answers=a, hidden=False, created_at=1_700_000_100.0 + k, updated_at=1_700_000_100.0 + k)
            for k, (key, a) in enumerate(answers)]
    for k, target in enumerate(builds_on):  # additions to earlier stories of the same exercise
        if target < len(told) and told[target].builds_on is None:
            parent = told[target]
            told.append(replace(parent, id=100 + k, builds_on=parent.id, answers={"addition": title},
                                created_at=1_700_000_500.0 + k))
    lib = library()
    agenda = [AgendaItem(i, key, 15, 1_700_000_050.0, None, voting="closed") for i, key in enumerate(lib)]
    votes = [(told[d].id, people[0].id) for d in dots if d < len(told) and told[d].builds_on is None]
    snap = Snapshot(workshop=ws, agenda=agenda, participants=people, stories=told, taken_at=1_700_000_900.0,
                    votes=votes)
    doc = _open(report.build_report(snap, include_map_image=False))
    assert doc.paragraphs[0].text == report.docx_safe(title)
    text = _all_text(doc)
    for _key, a in answers:
        for name, value in a.items():
            if isinstance(value, str) and report.docx_safe(value).strip() and "\n" not in report.docx_safe(value):
                partner = lib[_key].field(name).kind == "partner" if name in {f.name for f in lib[_key].fields} \
                    else False
                if not (partner and not show_names):
                    assert report.docx_safe(value) in text

    rows = list(csv.reader(io.StringIO(exports.stories_csv(snap).decode("utf-8-sig"), newline="")))
    assert len(rows) == 1 + len(told)
    header = rows[0]
    for story, row in zip(told, rows[1:]):
        ex = lib[story.exercise_key]
        for f in ex.fields:
            value = story.answers.get(f.name)
            if f.kind == "partner" and not show_names:
                continue
            cell = exports.spreadsheet_safe(value)
            assert row[header.index(f"{ex.title}: {f.label}")] == (cell if isinstance(cell, str) else str(cell))


def test_a_100_kb_story_is_kept_whole(monkeypatch):
    monkeypatch.setattr(figure_images, "figure_png", _no_picture)
    from facilitation.sample_data import synthetic_snapshot

    snap = synthetic_snapshot(participants=3, stories=3, seed=1)
    long_text = ("Line with émoji 🎉 and עברית.\r\n" * 3000)[:100_000]
    first = snap.stories[0]
    snap = replace(snap, stories=[replace(first, answers={**first.answers, "experience": long_text}), *snap.stories[1:]])
    doc = _open(report.build_report(snap))
    assert long_text.replace("\r\n", "\n") in [p.text for p in doc.paragraphs]


# --- PDF ---------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_full_report_converts_to_pdf(db, tmp_path, monkeypatch):
    """The report of a workshop with all six exercises answered, map picture included when a browser
    is there, converts with LibreOffice (as CI does: `.ci/run` installs it) and reads back as text."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if _in_ci():
            pytest.fail("LibreOffice (soffice) is not installed, and CI is set")
        pytest.skip("LibreOffice (soffice) is not installed")
    monkeypatch.undo()  # the real picture, if this machine can draw it
    ws, _key = make_full_workshop(db)
    path = tmp_path / "report.docx"
    path.write_bytes(report.build_report(W.snapshot(db, ws.id)))
    profile = tmp_path / "lo-profile"  # its own profile: a running LibreOffice must not swallow the job
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=240)
    pdf = tmp_path / "report.pdf"
    assert pdf.exists(), f"soffice made no PDF: {result.stdout} {result.stderr}"
    head = pdf.read_bytes()
    assert head.startswith(b"%PDF") and len(head) > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
        flat = " ".join(text.split())
        for needle in ("Customer journey day", "Six weeks of waiting", "Glossary", "Story bank",
                       "Commitments", "Appendix: all the data", "Pair 1"):
            assert needle in flat, needle
        assert HIDDEN_TEXT not in flat
        pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60).stdout
        assert int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:"))) >= 10


# --- figure_images -----------------------------------------------------------------------------

def test_figure_png_without_a_browser_returns_none_quickly_with_a_reason():
    # in a fresh process: kaleido's own sync server would hang here for ever
    code = ("import time; from facilitation import figure_images as fi; t = time.monotonic(); "
            "print(fi.figure_png({'data': [], 'layout': {}}, 300, 200) is None, round(time.monotonic() - t)); "
            "print(fi.last_error()); print(fi.browser_missing()); "
            "print(fi.figure_png({'data': [], 'layout': {}}, 300, 200) is None, fi.browser_missing())")
    env = {**os.environ, "BROWSER_PATH": "/nonexistent/chromium"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    first, reason, missing, again = result.stdout.splitlines()[:4]
    assert first.startswith("True"), result.stdout + result.stderr
    assert int(first.split()[1]) < 10
    assert "No Chromium or Chrome browser was found" in reason
    assert missing == "True" and again == "True True"  # the second call answers at once, same reason


def test_figure_png_rejects_nonsense_without_raising(monkeypatch):
    monkeypatch.undo()  # the real last_error
    assert figure_images.figure_png(object(), 300, 200) is None
    assert "could not be prepared" in figure_images.last_error()
    assert not figure_images.browser_missing()
    assert figure_images.figure_png({"data": []}, 10**6, 10**6) is None


def test_figure_png_is_shared_safely_between_threads(monkeypatch):
    monkeypatch.undo()
    import threading

    figure_images.warm_up()  # returns at once; the drawing below waits for the start
    fig = {"data": [{"type": "bar", "y": [1, 3, 2]}], "layout": {}}
    results: list = [None] * 4

    def draw(i):
        results[i] = (figure_images.figure_png(fig, 300 + 10 * i, 200), figure_images.last_error())

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    pngs = [png for png, _ in results]
    if all(p is None for p in pngs) and all("browser was found" in (e or "") for _, e in results):
        if _in_ci():
            pytest.fail(f"no browser for pictures on CI: {results[0][1]}")
        pytest.skip(f"no browser for pictures here: {results[0][1]}")
    assert all(p is not None and p.startswith(b"\x89PNG") for p in pngs), [e for _, e in results]
    assert len({len(p) for p in pngs}) > 1  # each thread got its own picture
