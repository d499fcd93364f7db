"""Common themes across functions: found with the network unplugged, confirmed by the facilitator,
and only then shown; named functions follow the room's anonymity rule."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from facilitation import after_report, room, themes
from facilitation import workshops as W
from facilitation.store import theme_stories
from tests.theme_samples import GO_LIVE, INVOICE, remarks

KEY = "always_be_storytelling"


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Every outgoing connection fails, the Hugging Face hub is told to stay offline, and there is no
    model cache in the home folder: whatever groups the stories must come with the installed packages."""
    def refuse(self, address, *args, **kwargs):
        raise OSError(f"network is unavailable in this test (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    themes._loaded.cache_clear()
    yield
    themes._loaded.cache_clear()


def tell(store, workshop, people: dict, pairs, start=0):
    told = []
    for i, (function, remark) in enumerate(pairs, start):
        person = people.setdefault(function, W.join_workshop(store, workshop.code, f"{function} person", function))
        result = W.submit_story(store, person, KEY, {
            "remark": remark, "heard_in": function, "heard_at": W.DEFAULT_STAGES[2],
            "company_story": "The founders drove out on a Sunday.", "retold_today": "Support does it every month.",
            "term": f"term {i}", "plain_meaning": "what it means"}, f"t-{i}")
        assert result.ok, result.problems
        told.append(result.story)
    return told


@pytest.fixture
def room_of_remarks(sqlite_store):
    workshop, key = W.create_workshop(sqlite_store, title="Voices", agenda_plan=[(KEY, 15)])
    W.open_exercise(sqlite_store, workshop.id, 0)
    told = tell(sqlite_store, workshop, {}, remarks())
    return workshop, told


def ids(pairs_start, pairs_len, told):
    return {told[i].id for i in range(pairs_start, pairs_start + pairs_len)}


def test_themes_are_found_across_functions_with_the_network_unavailable(no_network, sqlite_store, room_of_remarks):
    with pytest.raises(OSError):  # the guard is real
        socket.create_connection(("huggingface.co", 443), timeout=1)
    workshop, told = room_of_remarks
    note = themes.find_themes(sqlite_store, workshop.id)
    assert note == ""  # the packaged model loaded: no fallback
    found = themes.list_themes(sqlite_store, workshop.id)
    assert all(t.method == "wordllama" and not t.confirmed for t in found)
    by_stories = {frozenset(s.id for s in t.stories): t for t in found}
    go_live = by_stories[frozenset(ids(0, len(GO_LIVE), told))]
    invoice = by_stories[frozenset(ids(len(GO_LIVE), len(INVOICE), told))]
    assert go_live.heard_by == 5 and go_live.heard_by_line() == "heard by 5 functions"
    assert invoice.heard_by == 4
    assert "go-live" in go_live.label.casefold() and "invoice" in invoice.label.casefold()
    assert found[0].id == go_live.id  # heard by the most functions first
    strays = {told[-1].id, told[-2].id}
    assert not strays & {s.id for t in found for s in t.stories}


def test_tfidf_takes_over_when_the_model_cannot_load(no_network, monkeypatch, sqlite_store, room_of_remarks):
    def broken():
        raise FileNotFoundError("weights missing")

    monkeypatch.setattr(themes, "WordLlamaEmbedder", broken)
    themes._loaded.cache_clear()
    workshop, told = room_of_remarks
    note = themes.find_themes(sqlite_store, workshop.id)
    assert "could not be loaded" in note and "TF-IDF" in note
    found = themes.list_themes(sqlite_store, workshop.id)
    assert found and all(t.method == "tfidf" for t in found)
    # TF-IDF only sees shared words: it still puts go-live remarks together, nothing else with them.
    assert all({s.id for s in t.stories} <= ids(0, len(GO_LIVE), told) for t in found if "live" in t.label)


def test_facilitator_confirms_renames_merges_splits_and_dismisses(no_network, sqlite_store, room_of_remarks):
    workshop, told = room_of_remarks
    store = sqlite_store
    themes.find_themes(store, workshop.id)
    go_live, invoice = themes.list_themes(store, workshop.id)[:2]
    assert themes.list_themes(store, workshop.id, confirmed_only=True) == []

    themes.confirm_theme(store, workshop.id, go_live.id)
    themes.rename_theme(store, workshop.id, go_live.id, "The date we promised")
    with pytest.raises(themes.ThemeInputError, match="blank"):
        themes.rename_theme(store, workshop.id, go_live.id, "   ")
    shown = themes.list_themes(store, workshop.id, confirmed_only=True)
    assert [(t.label, t.heard_by) for t in shown] == [("The date we promised", 5)]

    # A fresh grouping keeps what was confirmed and replaces only the suggestions.
    themes.find_themes(store, workshop.id)
    again = themes.list_themes(store, workshop.id)
    assert [t.label for t in again if t.confirmed] == ["The date we promised"]
    assert sum(1 for t in again if not t.confirmed and {s.id for s in t.stories} & {s.id for s in go_live.stories}) == 0

    invoice = next(t for t in again if not t.confirmed and "invoice" in t.label.casefold())
    merged = themes.merge_themes(store, workshop.id, [go_live.id, invoice.id])
    assert merged == go_live.id
    big = next(t for t in themes.list_themes(store, workshop.id) if t.id == merged)
    assert len(big.stories) == len(GO_LIVE) + len(INVOICE) and big.confirmed

    new_id = themes.split_theme(store, workshop.id, merged, [s.id for s in invoice.stories])
    after = {t.id: t for t in themes.list_themes(store, workshop.id)}
    assert {s.id for s in after[new_id].stories} == {s.id for s in invoice.stories}
    assert not after[new_id].confirmed and "invoice" in after[new_id].label.casefold()
    with pytest.raises(themes.ThemeInputError, match="at least one"):
        themes.split_theme(store, workshop.id, new_id, [s.id for s in invoice.stories])

    themes.dismiss_theme(store, workshop.id, new_id)
    assert new_id not in {t.id for t in themes.list_themes(store, workshop.id)}
    assert len(W.list_stories(store, workshop.id, KEY)) == len(told)  # the stories themselves stay


def test_hidden_story_leaves_its_theme_and_another_workshops_theme_is_out_of_reach(no_network, sqlite_store, room_of_remarks):
    from facilitation import controls

    workshop, told = room_of_remarks
    themes.find_themes(sqlite_store, workshop.id)
    theme = themes.list_themes(sqlite_store, workshop.id)[0]
    controls.hide_story(sqlite_store, workshop.id, theme.stories[0].id, True)
    assert theme.stories[0].id not in {s.id for t in themes.list_themes(sqlite_store, workshop.id) for s in t.stories}
    other, _ = W.create_workshop(sqlite_store, title="Other", agenda_plan=[(KEY, 15)])
    with pytest.raises(themes.ThemeInputError):
        themes.confirm_theme(sqlite_store, other.id, theme.id)


def test_with_names_off_a_function_of_fewer_than_three_people_is_counted_not_named(no_network, sqlite_store):
    workshop, _ = W.create_workshop(sqlite_store, title="Quiet", agenda_plan=[(KEY, 15)], show_names=False)
    W.open_exercise(sqlite_store, workshop.id, 0)
    # Three different people from Support, one from Sales. Naming Support would leave the one Sales
    # person alone under "other" (named by elimination), so neither is named (room.named_functions).
    people = {}
    told = tell(sqlite_store, workshop, people, [("Sales", GO_LIVE[0][1])])
    for i, (_f, remark) in enumerate(GO_LIVE[1:4], 1):
        person = W.join_workshop(sqlite_store, workshop.code, f"S{i}", "Support")
        told += tell(sqlite_store, workshop, {"Support": person}, [("Support", remark)], start=i)
    themes.find_themes(sqlite_store, workshop.id)
    theme = themes.list_themes(sqlite_store, workshop.id)[0]
    themes.confirm_theme(sqlite_store, workshop.id, theme.id)
    labelled = room.labelled_functions(told, show_names=False)
    assert labelled == set()
    assert theme.heard_by_line(labelled) == "heard by 2 functions"
    written = after_report.gather(sqlite_store, workshop).themes[0]
    assert written.heard_by == "heard by 2 functions"
    assert all("Sales" not in line and "Support" not in line for _text, line in written.stories)


def test_theme_rows_go_with_their_workshop(no_network, sqlite_store, room_of_remarks):
    from facilitation import lifecycle

    workshop, _told = room_of_remarks
    themes.find_themes(sqlite_store, workshop.id)
    owned = {t.name for t, _where in lifecycle.owned_tables(workshop.id)}
    assert {"themes", "theme_stories", "commitment_updates", "opening_reviews"} <= owned
    with sqlite_store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(theme_stories)).scalar_one() > 0
