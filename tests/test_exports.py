"""The stories as a spreadsheet: one row per visible story, every field, safe to open in Excel."""

from __future__ import annotations

import csv
import io

import pytest

from facilitation import exports
from facilitation import workshops as W
from facilitation.exercises import library
from full_workshop import COMMITMENTS, HIDDEN_TEXT, OVER_THE_WALL, make_full_workshop


def _rows(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def snap(sqlite_store):
    ws, _ = make_full_workshop(sqlite_store)
    return W.snapshot(sqlite_store, ws.id)


def test_one_row_per_visible_story_with_every_field(snap):
    rows = _rows(exports.stories_csv(snap))
    visible = [s for s in snap.stories if not s.hidden]
    assert len(rows) == len(visible)
    assert HIDDEN_TEXT not in exports.stories_csv(snap).decode("utf-8-sig")
    lib = library()
    header = list(rows[0])
    assert header[:7] == ["Exercise", "Story", "Function", "Author", "Created (UTC)", "Votes", "Builds on story"]
    for ex in lib.values():  # every field of every exercise, labelled by the exercise and the question
        for f in ex.fields:
            assert f"{ex.title}: {f.label}" in header

    otw = [r for r in rows if r["Exercise"] == "Over the wall"]
    assert [r["Story"] for r in otw] == [str(n) for n in range(1, len(OVER_THE_WALL) + 1)]
    ana = next(r for r in otw if r["Author"] == "Ana Costa")
    assert ana["Function"] == "Sales" and ana["Created (UTC)"].endswith("+00:00")
    for name, value in OVER_THE_WALL["Ana Costa"].items():
        assert ana[f"Over the wall: {library()['over_the_wall'].field(name).label}"] == str(value)
    # a story fills only its own exercise's columns
    assert all(v == "" for k, v in ana.items() if k.startswith("Half the story"))

    ranked = {r["Author"]: r["Votes"] for r in rows if r["Exercise"] == "Untold retention stories"}
    assert ranked == {"Bo Lindqvist": "7", "Chen Wei": "6", "Farah Haddad": "5"}
    additions = [r for r in rows if r["Builds on story"]]
    assert len(additions) == 2 and all(r["Story"] == "" for r in additions)
    assert {r["Half the story: addition"] for r in additions} >= {
        "Their COO told me the planners would revolt if we were switched off."}
    proxy = next(r for r in rows if r["Function"] == "Leadership")
    assert proxy["Author"] == "Ines (guest)"


def test_formulas_are_neutralised(snap):
    rows = _rows(exports.stories_csv(snap))
    label = f"One millimeter forward: {library()['one_millimeter_forward'].field('action').label}"
    hana = next(r for r in rows if r["Author"] == "Hana Sato" and r["Exercise"] == "One millimeter forward")
    assert hana[label] == "'" + COMMITMENTS["Hana Sato"]["action"]


def test_names_are_left_out_when_the_workshop_hides_them(sqlite_store):
    ws, _ = make_full_workshop(sqlite_store, show_names=False)
    snap = W.snapshot(sqlite_store, ws.id)
    data = exports.stories_csv(snap).decode("utf-8-sig")
    for p in snap.participants:
        assert p.display_name not in data
    assert "Ines (guest)" not in data
    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert {r["Author"] for r in rows} == {""}
    partner = f"Retrace the steps: {library()['retrace_the_steps'].field('partner').label}"
    # One person from Product, one from Sales: naming their function would name them (issue 11, item 5).
    assert {r[partner] for r in rows if r["Exercise"] == "Retrace the steps"} == {"a colleague"}
    assert {r["Function"] for r in rows} == {"Other functions"}


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"),
    ("\r=x", "'\r=x"), ("＝1+1", "'＝1+1"), ("plain", "plain"), (" =not first", " =not first"),
    (5, 5), (-3, -3), (2.5, 2.5), (True, "yes"), (None, ""), (["a", "b"], "a; b"),
    ("lone \ud800 surrogate", "lone \ufffd surrogate"), ("nul\x00", "nul"), ("line\r\nbreak", "line\r\nbreak"),
])
def test_spreadsheet_safe(value, cell):
    assert exports.spreadsheet_safe(value) == cell


def test_an_empty_workshop_gives_a_header_only(sqlite_store):
    ws, _ = W.create_workshop(sqlite_store, title="Nothing yet")
    rows = _rows(exports.stories_csv(W.snapshot(sqlite_store, ws.id)))
    assert rows == []
