"""Across workshops: one organisation's handoff gaps from one workshop to the next.

`gap_trend` runs on the real store (SQLite and PostgreSQL); `trend_rows` and `trend_figure`
are pure and tested on plain data.
"""

from __future__ import annotations

import datetime as dt

import pytest

from facilitation import controls, trends
from facilitation import workshops as W

OTW = "over_the_wall"


def run_workshop(store, *, organisation: str, held_on: dt.date | None, stories: list[tuple], title: str = "Quarterly",
                 show_names: bool = True):
    """A workshop of `organisation` where each (teller's function, stage, next function, gap) is one story.

    Returns (workshop, stories told, facilitator key)."""
    workshop, key = W.create_workshop(store, title=title, organisation=organisation, held_on=held_on,
                                      show_names=show_names, agenda_plan=[(OTW, 15), ("always_be_storytelling", 15)])
    W.open_exercise(store, workshop.id, 0)
    told = []
    for n, (function, stage, to, gap) in enumerate(stories):
        person = W.join_workshop(store, workshop.code, f"Person {n}", function)
        result = W.submit_story(store, person, OTW, {
            "stage": stage, "promise": "Live in two weeks.", "experience": "Six weeks.", "next_function": to,
            "lost": "The date.", "gap": gap}, f"k-{n}")
        assert result.ok, result.problems
        told.append(result.story)
    return workshop, told, key


def test_linked_workshops_handoff_gaps_per_workshop_date(store):
    spring, spring_told, _ = run_workshop(store, organisation="Northwind Robotics", held_on=dt.date(2026, 3, 12), stories=[
        ("Sales", "Sale", "Implementation", 5), ("Sales", "Onboarding", "Implementation", 4),
        ("Sales", "Sale", "Implementation", 3),
        ("Support", "Support & adoption", "Customer success", 2),
    ])
    autumn, _, autumn_key = run_workshop(store, organisation="Northwind Robotics", held_on=dt.date(2026, 9, 10), stories=[
        ("Sales", "Sale", "Implementation", 2), ("Sales", "Sale", "Implementation", 3),
        ("Implementation", "Onboarding", "Support", 4),
    ])
    contoso, _, _ = run_workshop(store, organisation="Contoso", held_on=dt.date(2026, 6, 1),
                                 stories=[("Sales", "Sale", "Support", 5)])
    controls.hide_story(store, spring.id, spring_told[0].id)  # the 5 no longer counts
    assert trends.trend_workshop_count(trends.gap_trend(store, spring.id)) == 1  # the same name links nothing

    trends.link_workshop(store, spring.id, autumn.code.lower(), autumn_key)
    assert [w.id for w in trends.linked_workshops(store, spring.id)] == [spring.id, autumn.id]
    assert [w.id for w in trends.linked_workshops(store, autumn.id)] == [spring.id, autumn.id]
    rows = trends.gap_trend(store, spring.id)
    assert rows == trends.gap_trend(store, autumn.id)
    assert trends.trend_workshop_count(rows) == 2
    table = {(r["date"], r["handoff"]): (r["stories"], r["mean gap"]) for r in rows}
    assert table == {
        (dt.date(2026, 3, 12), "Sales → Implementation"): (2, pytest.approx(3.5)),  # all stages together
        (dt.date(2026, 3, 12), "Support → Customer success"): (1, pytest.approx(2.0)),
        (dt.date(2026, 9, 10), "Sales → Implementation"): (2, pytest.approx(2.5)),
        (dt.date(2026, 9, 10), "Implementation → Support"): (1, pytest.approx(4.0)),
    }
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    assert {r["workshop_id"] for r in rows} == {spring.id, autumn.id}
    assert trends.trend_workshop_count(trends.gap_trend(store, contoso.id)) == 1
    assert trends.gap_trend(store, 999_999) == []

    fig = trends.trend_figure(rows, top=2)
    lines = {t.name: t for t in fig.data}
    assert set(lines) == {"Sales → Implementation", "Implementation → Support"}  # most stories; ties by name
    seam = lines["Sales → Implementation"]
    assert list(seam.x) == ["2026-03-12", "2026-09-10"] and list(seam.y) == [3.5, 2.5]
    assert fig.layout.xaxis.type == "date" and list(fig.layout.yaxis.tickvals) == [1, 2, 3, 4, 5]

    trends.unlink_workshop(store, spring.id, autumn.id)
    assert [w.id for w in trends.linked_workshops(store, spring.id)] == [spring.id]


def test_a_lookalike_organisation_sees_nothing_and_injects_nothing(store):
    """Issue 11, item 3: "  acme " used to read every Acme workshop's trend and add itself to theirs."""
    q1, _, _ = run_workshop(store, organisation="Acme", held_on=dt.date(2026, 1, 10), title="Acme Q1 <secret>",
                            stories=[("Sales", "Sale", "Implementation", 4)])
    q2, _, q2_key = run_workshop(store, organisation="Acme", held_on=dt.date(2026, 4, 10), title="Acme Q2",
                                 stories=[("Sales", "Sale", "Implementation", 3)])
    fake, _, _ = run_workshop(store, organisation="  acme ", held_on=dt.date(2026, 2, 1), title="Fake",
                              stories=[("Sales", "Sale", "Implementation", 1)] * 3)
    assert {r["workshop_id"] for r in trends.gap_trend(store, fake.id)} == {fake.id}
    assert fake.id not in {r["workshop_id"] for r in trends.gap_trend(store, q1.id)}
    with pytest.raises(W.WorkshopInputError) as refused:
        trends.link_workshop(store, fake.id, q1.code, "guessed-key")
    assert refused.value.problems["link"] == trends.LINK_REFUSED
    with pytest.raises(W.WorkshopInputError):
        trends.link_workshop(store, fake.id, "NOSUCH1", q2_key)  # a real key with the wrong code
    assert trends.linked_workshops(store, q1.id) == trends.linked_workshops(store, q1.id)[:1]


def test_workshops_with_one_key_are_linked_and_series_merge(store):
    a, _, a_key = run_workshop(store, organisation="", held_on=dt.date(2026, 1, 1), stories=[])
    b, _, b_key = run_workshop(store, organisation="", held_on=dt.date(2026, 2, 1), stories=[])
    c, _, c_key = run_workshop(store, organisation="", held_on=dt.date(2026, 3, 1), stories=[])
    d, _, d_key = run_workshop(store, organisation="", held_on=dt.date(2026, 4, 1), stories=[])
    trends.link_workshop(store, a.id, b.code, b_key)
    trends.link_workshop(store, c.id, d.code, d_key)
    trends.link_workshop(store, b.id, c.code, c_key)  # two series become one
    assert [w.id for w in trends.linked_workshops(store, d.id)] == [a.id, b.id, c.id, d.id]
    with pytest.raises(W.WorkshopInputError):
        trends.link_workshop(store, a.id, a.code, a_key)
    # A workshop restored from an archive keeps its key: the same facilitator sees it without linking.
    from facilitation import access
    from facilitation.store import workshops as table
    e, _, _ = run_workshop(store, organisation="", held_on=dt.date(2026, 5, 1), stories=[])
    with store.write() as conn:
        conn.execute(table.update().where(table.c.id == e.id).values(facilitator_key_hash=access.hash_key(a_key)))
    assert [w.id for w in trends.linked_workshops(store, e.id)] == [a.id, b.id, c.id, d.id, e.id]


def test_names_off_folds_a_lone_function_in_the_trend(store):
    """Issue 11, item 5: the trend's hover must not give one Finance person's gap score."""
    stories = ([("Sales", "Sale", "Implementation", 2)] * 3 + [("Support", "Onboarding", "Implementation", 3)] * 3
               + [("Finance/billing", "Renewal & expansion", "Sales", 5)])
    q1, _, _ = run_workshop(store, organisation="", held_on=dt.date(2026, 1, 1), stories=stories, show_names=False)
    q2, _, q2_key = run_workshop(store, organisation="", held_on=dt.date(2026, 4, 1), stories=stories)
    trends.link_workshop(store, q1.id, q2.code, q2_key)
    rows = trends.gap_trend(store, q1.id)
    assert any(r["handoff"] == "Finance/billing → Sales" for r in rows if r["workshop_id"] == q2.id)  # names on
    anonymous = {r["handoff"]: r for r in rows if r["workshop_id"] == q1.id}
    assert not any("Finance" in h for h in anonymous)
    # "Other functions" must hide three people: the lone Finance teller, and Sales joins them.
    assert set(anonymous) == {"Other functions → Implementation", "Support → Implementation", "Other functions → Sales"}
    assert anonymous["Other functions → Sales"]["stories"] == 1


def test_a_workshop_without_a_date_counts_from_the_day_it_was_created(store):
    w, _, _ = run_workshop(store, organisation="Acme", held_on=None, stories=[("Sales", "Sale", "Support", 3)])
    (row,) = trends.gap_trend(store, w.id)
    assert row["date"] == dt.datetime.fromtimestamp(w.created_at, tz=dt.timezone.utc).date()


def test_trend_rows_follow_the_map_rules():
    a = trends.TrendWorkshop(1, "Q1", dt.date(2026, 1, 5))
    b = trends.TrendWorkshop(2, "Q2", dt.date(2026, 4, 5))
    rows = trends.trend_rows([
        (b, [(OTW, "Sales", {"stage": "Sale", "next_function": "Support", "gap": 2})]),
        (a, [(OTW, "Sales", {"stage": "Sale", "next_function": "Support", "gap": 4}),
             (OTW, "Sales", {"stage": "Sale", "next_function": "Support"}),                      # unscored
             (OTW, "Sales", {"stage": "", "next_function": "Support", "gap": 1}),                # no stage
             (OTW, "Sales", {"stage": "Sale", "next_function": "Support", "gap": 9}),            # off the scale
             ("always_be_storytelling", "Sales", {"heard_in": "Support", "heard_at": "Sale"}),   # no handoffs
             ("no_such_exercise", "Sales", {"stage": "Sale", "next_function": "Support", "gap": 5}),
             (OTW, "Sales", "not a dict")]),
    ])
    assert [(r["workshop"], r["stories"], r["scored"], r["mean gap"]) for r in rows] == [
        ("Q1", 3, 1, 4.0), ("Q2", 1, 1, 2.0)]


def test_trend_figure_shows_the_top_handoffs_escaped_and_distinguishable():
    day = [dt.date(2026, m, 1) for m in (1, 4, 7)]
    rows = []
    for k, d in enumerate(day):
        for n, (src, dst) in enumerate([("Sales", "R&D <b>lab</b>"), ("Support", "CS"), ("A", "B"), ("C", "D")]):
            rows.append({"workshop_id": k, "workshop": f"Q{k} <i>", "date": d, "from": src, "to": dst,
                         "handoff": f"{src} → {dst}", "stories": 10 - n, "scored": 10 - n, "mean gap": 4 - k * 0.5})
    fig = trends.trend_figure(rows, top=3)
    assert [t.name for t in fig.data] == ["Sales → R&amp;D &lt;b&gt;lab&lt;/b&gt;", "Support → CS", "A → B"]
    assert len({t.line.color for t in fig.data}) == 3 and len({t.line.dash for t in fig.data}) == 3
    assert all("&lt;i&gt;" in h for t in fig.data for h in t.hovertext)
    assert list(fig.layout.xaxis.tickvals) == [d.isoformat() for d in day]
    empty = trends.trend_figure([])
    assert not empty.data and trends.TREND_EMPTY_NOTE in [a.text for a in empty.layout.annotations]
    with pytest.raises(ValueError):
        trends.trend_figure(rows, theme="sepia")
