"""The journey map: handoffs derived from "Over the wall" stories, and the figure the room sees.

Snapshots are built from the dataclasses directly (no database): the map is a pure function
of a snapshot, and these tests pin what a facilitator would notice on the projector.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from facilitation import journey_map
from facilitation.journey_map import (
    DEAD_END_LABEL,
    EMPTY_NOTE,
    GAP_COLOURBAR_TITLE,
    NO_OWNER_LABEL,
    arrow_width,
    build_journey,
    handoff_rows,
    journey_figure,
)
from facilitation.sample_data import synthetic_snapshot
from facilitation.workshops import DEFAULT_FUNCTIONS, Snapshot, Story, Workshop

FUNCTIONS = ["Sales", "Implementation", "Support", "Customer success"]
STAGES = ["Sale", "Onboarding", "Support", "Renewal"]


def make_workshop(functions=None, stages=None) -> Workshop:
    return Workshop(id=1, code="ABC123", title="Test", organisation="", held_on=None, facilitator="",
                    functions=list(functions or FUNCTIONS), stages=list(stages or STAGES), show_names=True,
                    revision=1, live_position=0, live_state="open", created_at=0.0)


def story(sid: int, function: str, stage: str | None, to: str | None = None, gap=None, *,
          experience: str = "It went fine.", lost: str = "", promise: str = "As promised.",
          hidden: bool = False, exercise_key: str = "over_the_wall") -> Story:
    answers = {"promise": promise, "experience": experience, "lost": lost}
    if stage is not None:
        answers["stage"] = stage
    if to is not None:
        answers["next_function"] = to
    if gap is not None:
        answers["gap"] = gap
    return Story(id=sid, exercise_key=exercise_key, participant_id=sid, author_name=f"Person {sid}",
                 function=function, answers=answers, hidden=hidden, created_at=float(sid), updated_at=float(sid))


def snap(stories: list[Story], **workshop_kw) -> Snapshot:
    return Snapshot(workshop=make_workshop(**workshop_kw), agenda=[], participants=[], stories=stories, taken_at=0.0)


def handoff(journey, src, dst, stage):
    found = [h for h in journey.handoffs if (h.from_function, h.to_function, h.stage) == (src, dst, stage)]
    assert len(found) == 1, f"expected one handoff {src} → {dst} at {stage}, found {len(found)}"
    return found[0]


def all_strings(obj) -> list[str]:
    """Every string anywhere in a figure's JSON (text, hover, labels, tick text …)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in all_strings(v)]
    if isinstance(obj, (list, tuple)):
        return [s for v in obj for s in all_strings(v)]
    if hasattr(obj, "tolist"):
        return all_strings(obj.tolist())
    return []


def arrows(fig) -> list:
    return [a for a in fig.layout.annotations if a.showarrow]


def story_traces(fig) -> list:
    return [t for t in fig.data if t.name not in ("Handoffs", DEAD_END_LABEL, journey_map.REACH_LABEL, "Story ends",
                                                  journey_map.ANSWERED_LABEL, journey_map.JUDGED_LABEL)]


@pytest.fixture
def validating(monkeypatch):
    """Build figures with Plotly's schema check on, so a misspelt property fails the test."""
    monkeypatch.setattr(journey_map, "VALIDATE", True)


# --- the model -----------------------------------------------------------------------------

def test_handoffs_are_counted_per_function_pair_and_stage_with_their_mean_gap():
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Implementation", 4),
        story(2, "Sales", "Sale", "Implementation", 5),
        story(3, "Sales", "Sale", "Implementation", 3),
        story(4, "Sales", "Onboarding", "Implementation", 2),
        story(5, "Implementation", "Onboarding", "Support"),  # no gap score
        story(6, "Support", "Support", "Customer success", 1),
        story(7, "Customer success", "Renewal"),
    ]))
    big = handoff(j, "Sales", "Implementation", "Sale")
    assert big.count == 3
    assert big.mean_gap == pytest.approx(4.0)
    assert sorted(s.id for s in big.stories) == [1, 2, 3]
    assert all(isinstance(s, Story) for s in big.stories)
    assert [a.gap for a in big.accounts] == [4, 5, 3]
    assert handoff(j, "Sales", "Implementation", "Onboarding").mean_gap == pytest.approx(2.0)
    assert handoff(j, "Implementation", "Support", "Onboarding").mean_gap is None
    assert len(j.handoffs) == 4  # story 7 names nobody: a story in its cell, no handoff
    # Biggest gap first, unscored last.
    assert [(h.from_function, h.stage) for h in j.handoffs] == [
        ("Sales", "Sale"), ("Sales", "Onboarding"), ("Support", "Support"), ("Implementation", "Onboarding")]
    assert j.cell("Sales", "Sale").count == 3
    assert j.cell("Customer success", "Renewal").stories[0].id == 7
    assert j.story_count == 7
    assert set(j.cells) == {(f, s) for f in FUNCTIONS for s in STAGES}


def test_ties_on_gap_are_broken_by_story_count_then_names():
    j = build_journey(snap([
        story(1, "Support", "Support", "Sales", 3),
        story(2, "Implementation", "Onboarding", "Support", 3),
        story(3, "Implementation", "Onboarding", "Support", 3),
        story(4, "Customer success", "Renewal", "Sales", 3),
    ]))
    assert [(h.from_function, h.to_function) for h in j.handoffs] == [
        ("Implementation", "Support"), ("Customer success", "Sales"), ("Support", "Sales")]


def test_hidden_stories_are_left_out_of_cells_handoffs_and_gaps():
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Implementation", 5),
        story(2, "Sales", "Sale", "Implementation", 1, hidden=True),
        story(3, "Support", "Support", "Customer success", 5, hidden=True),
        story(4, "Implementation", "Onboarding"),
    ]))
    h = handoff(j, "Sales", "Implementation", "Sale")
    assert h.count == 1 and h.mean_gap == 5
    assert not any(h.from_function == "Support" for h in j.handoffs)
    assert j.cell("Sales", "Sale").count == 1
    assert j.cell("Support", "Support").count == 0
    assert j.story_count == 2


def test_a_handoff_nobody_downstream_picks_up_is_a_dead_end():
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Implementation", 3),           # Implementation tells a later story: picked up
        story(2, "Implementation", "Onboarding", "Customer success", 4),
        story(3, "Customer success", "Sale"),                     # …but Customer success only tells an earlier one
        story(4, "Support", "Support", "Sales", 2),               # Sales tells nothing at Support or Renewal
    ]))
    picked = handoff(j, "Sales", "Implementation", "Sale")
    assert not picked.dead_end
    assert picked.target_stage == "Onboarding"  # the arrow lands where the receiver's story is
    lost = handoff(j, "Implementation", "Customer success", "Onboarding")
    assert lost.dead_end
    assert lost.target_stage == "Support"  # no story to land on: the next stage
    last = handoff(j, "Support", "Sales", "Support")
    assert last.dead_end and last.target_stage == "Renewal"
    assert {(h.from_function, h.to_function) for h in j.dead_ends} == {
        ("Implementation", "Customer success"), ("Support", "Sales")}


def test_a_receiver_telling_a_story_at_the_same_stage_picks_the_handoff_up():
    j = build_journey(snap([
        story(1, "Sales", "Renewal", "Customer success", 3),
        story(2, "Customer success", "Renewal"),
    ]))
    h = handoff(j, "Sales", "Customer success", "Renewal")
    assert not h.dead_end and h.target_stage == "Renewal"


def test_a_handoff_to_a_function_that_tells_nothing_at_the_last_stage_is_a_dead_end():
    j = build_journey(snap([story(1, "Customer success", "Renewal", "Sales", 4)]))
    h = handoff(j, "Customer success", "Sales", "Renewal")
    assert h.dead_end and h.target_stage == "Renewal"


def test_stages_nobody_owns_between_the_first_and_last_told_stage_are_flagged():
    j = build_journey(snap([story(1, "Sales", "Sale", "Support"), story(2, "Support", "Support")]))
    assert j.uncovered_stages == ("Onboarding",)  # Renewal lies after the last told stage
    assert build_journey(snap([])).uncovered_stages == ()


def test_lanes_follow_the_workshops_order_and_unknown_names_go_last():
    order = ["Support", "Customer success", "Sales", "Implementation"]
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Legal", 2),       # a receiver not in the list
        story(2, "Partners", "Churn", "Support", 3),  # an author and a stage not in the lists
        story(3, "Support", "Support"),
    ], functions=order))
    assert j.functions == ("Support", "Customer success", "Sales", "Implementation", "Legal", "Partners")
    assert j.stages == (*STAGES, "Churn")
    fig = journey_figure(j)
    assert list(fig.layout.yaxis.ticktext) == list(j.functions)
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # first function at the top
    assert list(fig.layout.xaxis.ticktext) == list(j.stages)


def test_answers_that_cannot_be_placed_do_not_break_the_map():
    j = build_journey(snap([
        story(1, "Sales", None, "Support", 3),          # no stage: not placed
        story(2, "Sales", "Sale", "", 3),                # no receiver: placed, no handoff
        story(3, "Sales", "Sale", "Support", "high"),   # a gap that is not a number
        story(4, "Sales", "Sale", "Support", True),      # nor is a boolean
        story(5, "Sales", "Sale", "Support", 9),         # out of the 1–5 scale
        story(6, "Support", "Support", exercise_key="no_such_exercise"),
        story(7, "Support", 3, "Sales", 2),              # a stage that is not text
    ]))
    assert j.unplaced == 1
    assert j.cell("Sales", "Sale").count == 4
    h = handoff(j, "Sales", "Support", "Sale")
    assert h.count == 3 and h.mean_gap is None
    assert j.cell("Support", "Support").count == 0
    assert j.stages[-1] == "3"
    journey_figure(j)  # draws


def test_handoff_rows_are_table_ready_and_plain_text():
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Implementation", 4, lost="The go-live date."),
        story(2, "Sales", "Sale", "Implementation", 3, lost="the go-live date."),  # same text, other case
        story(3, "Sales", "Sale", "Implementation", 3, lost="Why they bought <us>."),
        story(4, "Sales", "Sale", "Implementation", None, lost="A third thing."),
        story(5, "Implementation", "Onboarding", "Support", 1),
    ]))
    rows = handoff_rows(j)
    assert rows[0] == {
        "from": "Sales", "to": "Implementation", "stage": "Sale", "stories": 4, "mean gap": 3.3,
        "weighted gap": 3.04,  # room mean (4 + 3 + 3 + 1) / 4 = 2.75; (3 × 3.33 + 3 × 2.75) / 6
        "dead end": False, "what gets lost": "The go-live date. / Why they bought <us>.",
        "receivers": 0, "what arrived": "", "what was missing": "", "judged by the customer": 0, "judged by": "our guess",
    }
    assert rows[1]["dead end"] is True and rows[1]["mean gap"] == 1.0 and rows[1]["weighted gap"] == 2.31
    assert handoff_rows(build_journey(snap([]))) == []


# --- the figure ----------------------------------------------------------------------------

def test_arrow_width_is_the_share_of_the_biggest_handoff():
    assert arrow_width(1, 1) < arrow_width(2, 2) < arrow_width(5, 5) <= 18
    # A big room: widths follow the share of the biggest handoff, not a cap at a few stories.
    assert arrow_width(60, 60) == 18
    assert arrow_width(30, 60) == pytest.approx(2 + 16 * 0.5)
    assert arrow_width(8, 60) < arrow_width(20, 60) < arrow_width(40, 60) < arrow_width(60, 60)
    # A room that has just started does not draw one story as a full-width arrow.
    assert arrow_width(1, 1) == arrow_width(1, 3) == pytest.approx(2 + 16 / 6)
    assert arrow_width(6, 6) == 18 and arrow_width(0, 0) == 2


def test_in_a_big_room_the_widest_arrows_are_not_all_the_same_width():
    j = build_journey(synthetic_snapshot(300, 1500))
    fig = journey_figure(j)
    widths = {a.arrowwidth for a in arrows(fig) if a.arrowcolor != journey_map._THEMES["light"]["edge"]}
    assert max(widths) == 18 and len(widths) >= 10
    biggest = max(h.count for h in j.handoffs)
    assert biggest > 20  # the old rule capped the width at 7 stories


def test_arrows_are_wider_for_handoffs_more_stories_describe():
    stories = [story(1, "Sales", "Sale", "Implementation", 2)]
    stories += [story(10 + k, "Support", "Support", "Customer success", 4) for k in range(4)]
    stories += [story(20, "Implementation", "Onboarding"), story(21, "Customer success", "Renewal")]
    fig = journey_figure(build_journey(snap(stories)))
    width_by_lanes: dict[tuple[int, int], float] = {}
    for a in arrows(fig):  # each arrow is drawn twice: a dark casing and the coloured arrow on it
        key = (round(a.ay), round(a.y))
        width_by_lanes[key] = min(width_by_lanes.get(key, 99), a.arrowwidth)
    one, four = width_by_lanes[(0, 1)], width_by_lanes[(2, 3)]
    assert one == arrow_width(1, 4) and four == arrow_width(4, 4) and four > one


def test_each_arrow_prints_its_mean_gap_and_is_coloured_by_it():
    fig = journey_figure(build_journey(snap([
        story(1, "Sales", "Sale", "Implementation", 5), story(2, "Sales", "Sale", "Implementation", 4),
        story(3, "Support", "Support", "Customer success", 1),
        story(4, "Implementation", "Onboarding"), story(5, "Customer success", "Renewal"),
    ])))
    texts = {a.text for a in fig.layout.annotations}
    assert {"4.5", "1.0"} <= texts
    colours = {round(a.ay): a.arrowcolor for a in arrows(fig) if a.arrowcolor != "#374151"}

    def redness(rgb: str) -> float:  # YlOrRd: bigger gap → less green
        return -float(rgb[rgb.index("(") + 1:-1].split(",")[1])

    assert redness(colours[0]) > redness(colours[2])


def test_the_gap_colourbar_is_shown_with_its_title():
    fig = journey_figure(build_journey(snap([story(1, "Sales", "Sale", "Support", 3)])))
    bars = [t for t in fig.data if t.marker is not None and t.marker.showscale]
    assert len(bars) == 1
    marker = bars[0].marker
    assert GAP_COLOURBAR_TITLE == "Gap (1–5)"
    # The title is an annotation above the bar, lifted clear of the "5" tick label (Plotly's own
    # title runs into that label in static images).
    assert not marker.colorbar.title.text
    (title,) = [a for a in fig.layout.annotations if a.name == "gap colourbar title"]
    assert title.text.replace("<br>", " ") == GAP_COLOURBAR_TITLE
    bar = marker.colorbar
    assert (title.xref, title.yref, title.yanchor) == ("paper", "paper", "bottom")
    assert bar.yanchor == "top" and title.y == pytest.approx(bar.y)
    assert title.yshift >= bar.tickfont.size * 0.5 + 4  # above half the height of the top tick label
    assert title.x == bar.x
    assert (marker.cmin, marker.cmax) == (1, 5)
    assert len(marker.colorscale) >= 2
    assert "1 story" in bars[0].hovertext[0] and "mean gap 3.0" in bars[0].hovertext[0]


def test_user_text_is_escaped_everywhere_in_the_figure():
    evil = "<script>alert('x')</script> and <b>bold</b> & $x$"
    functions = ["Sales", "R&D <b>lab</b>", "Support"]
    j = build_journey(snap([
        story(1, "Sales", "Sale", "R&D <b>lab</b>", 4, experience=evil, lost="<img src=x onerror=alert(1)>"),
        story(2, "R&D <b>lab</b>", "<i>Onboarding</i>", "Support", 2, experience=evil),
    ], functions=functions, stages=["Sale", "<i>Onboarding</i>", "Support"]))
    for theme in ("light", "dark"):
        strings = all_strings(journey_figure(j, theme=theme).to_plotly_json())
        joined = "\n".join(strings)
        assert "&lt;script&gt;" in joined
        assert "&lt;b&gt;bold&lt;/b&gt;" in joined
        assert "R&amp;D &lt;b&gt;lab&lt;/b&gt;" in joined  # lane label and hover
        assert "&lt;i&gt;Onboarding&lt;/i&gt;" in joined  # stage label
        assert "&lt;img src=x" in joined  # what gets lost, in the arrow's hover
        for s in strings:
            assert "<script" not in s and "<b>bold" not in s and "<b>lab" not in s
            assert "<img" not in s and "<i>" not in s
            assert "$x$" not in s  # no accidental LaTeX
    # The table rows are plain text: escaping is the job of whatever renders them as HTML.
    assert handoff_rows(j)[0]["what gets lost"] == "<img src=x onerror=alert(1)>"


def test_hover_shows_the_story_text_shortened_and_wrapped():
    long = "word " * 200
    fig = journey_figure(build_journey(snap([story(1, "Sales", "Sale", "Support", 3, experience=long.strip())])))
    hover = story_traces(fig)[0].hovertext[0]
    assert hover.startswith("<b>Sales</b> · Sale<br>")
    assert "…" in hover and hover.count("<br>") >= 5
    assert len(hover) < 450
    assert "hands on to Support" in hover


def test_stories_are_markers_in_their_own_cell_that_do_not_overlap():
    stories = [story(k, "Sales", "Sale", "Support", 3) for k in range(40)]
    stories += [story(100, "Support", "Renewal")]
    fig = journey_figure(build_journey(snap(stories)))
    traces = story_traces(fig)
    assert len(traces) == 1  # one trace for the exercise, not one per story
    xs, ys = list(traces[0].x), list(traces[0].y)
    assert len(xs) == 41
    cell = [(x, y) for x, y in zip(xs, ys) if abs(y - 0) < 0.5]
    assert len(cell) == 40
    assert all(abs(x - 0) < 0.5 and abs(y) < 0.5 for x, y in cell)  # Sales × Sale is column 0, lane 0
    assert len({(round(x, 4), round(y, 4)) for x, y in cell}) == 40
    lone = min(traces[0].marker.size)
    assert max(traces[0].marker.size) >= 20  # a lone story is big enough to see across the room
    assert lone >= 6


def test_dead_ends_and_unowned_stages_stand_out():
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Customer success", 4),
        story(2, "Support", "Renewal"),
    ]))
    fig = journey_figure(j)
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.replace("<br>", " ") == f"✕ {DEAD_END_LABEL}" for t in texts)
    dead = [t for t in fig.data if t.name == DEAD_END_LABEL]
    assert len(dead) == 1 and len(dead[0].x) == 1 and dead[0].showlegend
    assert texts.count(NO_OWNER_LABEL) == 2  # Onboarding and Support
    dashed = [s for s in fig.layout.shapes if s.line is not None and s.line.dash == "dash"]
    assert len(dashed) == 2


def test_an_empty_workshop_shows_the_grid_and_a_note():
    j = build_journey(snap([]))
    assert j.is_empty and j.handoffs == ()
    fig = journey_figure(j)
    notes = [a for a in fig.layout.annotations if a.text == EMPTY_NOTE]
    assert len(notes) == 1 and (notes[0].x, notes[0].y) == (0.5, 0.5)
    assert list(fig.layout.yaxis.ticktext) == FUNCTIONS
    assert list(fig.layout.xaxis.ticktext) == STAGES
    assert len([s for s in fig.layout.shapes if s.type == "rect"]) == len(FUNCTIONS)  # lane bands
    assert fig.layout.height == max(480, 90 * 4 + 160) == 520


def test_default_size_and_fonts_read_from_the_back_of_the_room():
    fig = journey_figure(build_journey(synthetic_snapshot(30, 60)))
    assert fig.layout.height == max(480, 90 * len(DEFAULT_FUNCTIONS) + 160) == 970
    assert fig.layout.xaxis.tickfont.size >= 18 and fig.layout.yaxis.tickfont.size >= 18
    assert journey_figure(build_journey(synthetic_snapshot(30, 60)), height=600).layout.height == 600


def test_dark_theme_has_dark_background_and_light_text():
    def luminance(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    j = build_journey(synthetic_snapshot(20, 40))
    dark, light = journey_figure(j, theme="dark").layout, journey_figure(j, theme="light").layout
    assert luminance(dark.paper_bgcolor) < 0.2 and luminance(dark.plot_bgcolor) < 0.2
    assert luminance(dark.font.color) > 0.8 and luminance(dark.yaxis.tickfont.color) > 0.8
    assert luminance(light.paper_bgcolor) > 0.9 and luminance(light.font.color) < 0.3
    with pytest.raises(ValueError):
        journey_figure(j, theme="sepia")


def test_a_big_room_draws_only_the_biggest_handoffs_and_says_so():
    j = build_journey(synthetic_snapshot(300, 1500))
    assert len(j.handoffs) > 30
    fig = journey_figure(j)
    assert len(arrows(fig)) <= 2 * 30
    assert any(f"of {len(j.handoffs)} handoffs" in (a.text or "") for a in fig.layout.annotations)
    everything = journey_figure(j, max_arrows=None)
    assert len(arrows(everything)) == 2 * len(j.handoffs)


def test_figures_pass_plotlys_schema_check(validating):
    for s in (synthetic_snapshot(300, 1500), synthetic_snapshot(12, 14, seed=3), snap([])):
        for theme in ("light", "dark"):
            journey_figure(build_journey(s), theme=theme)


def test_a_handoff_to_the_same_function_draws():
    j = build_journey(snap([story(1, "Sales", "Sale", "Sales", 2), story(2, "Sales", "Renewal", "Sales", 3)]))
    assert not any(h.dead_end for h in j.handoffs)
    assert handoff(j, "Sales", "Sales", "Sale").target_stage == "Renewal"
    journey_figure(j)


def test_a_big_room_builds_well_within_a_live_refresh():
    s = synthetic_snapshot(300, 1500)
    s = dataclasses.replace(s, stories=[
        dataclasses.replace(x, answers={**x.answers, "experience": f"{x.answers['experience']} Case {x.id}."})
        for x in s.stories])
    journey_figure(build_journey(s))  # warm up imports
    journey_map._wrap.cache_clear()
    t0 = time.perf_counter()
    journey_figure(build_journey(s))
    assert time.perf_counter() - t0 < 1.0  # the target is 0.2 s (see bench/); this only catches blow-ups


def test_synthetic_snapshots_are_reproducible_and_realistic():
    a, b = synthetic_snapshot(30, 90, seed=4), synthetic_snapshot(30, 90, seed=4)
    assert a == b
    assert len(a.participants) == 30 and len(a.stories) == 90
    assert {p.function for p in a.participants} == set(DEFAULT_FUNCTIONS)
    assert all(s.answers["stage"] in a.workshop.stages and s.answers["next_function"] in a.workshop.functions
               for s in a.stories)
    assert all(1 <= s.answers["gap"] <= 5 for s in a.stories)
    assert synthetic_snapshot(30, 90, seed=5) != a


# --- exercises that place stories without a [handoff] table ------------------------------------

def remark(sid: int, teller: str, heard_in: str | None, heard_at: str | None, text: str = "They loved the import.") -> Story:
    """An "Always be storytelling" story: a customer remark heard in a function's conversation at a stage."""
    answers = {"remark": text, "company_story": "The night the CTO drove out.", "retold_today": "Support, monthly.",
               "term": "P1", "plain_meaning": "Nothing works."}
    if heard_in is not None:
        answers["heard_in"] = heard_in
    if heard_at is not None:
        answers["heard_at"] = heard_at
    return Story(id=sid, exercise_key="always_be_storytelling", participant_id=sid, author_name=f"Person {sid}",
                 function=teller, answers=answers, hidden=False, created_at=float(sid), updated_at=float(sid))


def test_which_library_exercises_feed_the_map_and_how():
    from facilitation.exercises import library

    roles = {k: journey_map.map_roles(ex) for k, ex in library().items()}
    otw = roles["over_the_wall"]
    assert otw.function is None and otw.stage == "stage" and otw.handoff["to_function"] == "next_function"
    abs_ = roles["always_be_storytelling"]
    assert (abs_.function, abs_.stage, dict(abs_.handoff)) == ("heard_in", "heard_at", {})
    # A function field without a stage field (commitments, retention stories) places nothing.
    assert {k for k, r in roles.items() if r is None} >= {"one_millimeter_forward", "untold_retention_stories"}


def test_a_remark_heard_at_a_function_and_stage_is_a_marker_in_that_cell_not_a_handoff():
    j = build_journey(snap([
        remark(1, "Sales", "Support", "Renewal", "We only renewed because of Dana in support."),
        remark(2, "Support", "Support", "Renewal"),
        remark(3, "Implementation", "", "Onboarding"),   # heard in no named function: the teller's own
        remark(4, "Sales", "Support", None),               # no stage: not placed
        story(5, "Sales", "Sale", "Implementation", 4),
    ]))
    assert j.cell("Support", "Renewal").count == 2  # heard in Support, whoever told it
    assert j.cell("Sales", "Renewal").count == 0
    assert j.cell("Implementation", "Onboarding").count == 1
    assert j.unplaced == 1
    assert [(h.from_function, h.to_function) for h in j.handoffs] == [("Sales", "Implementation")]
    assert j.exercise_titles["always_be_storytelling"] == "Always be storytelling"
    placed = j.cell("Support", "Renewal").placed[0]
    assert placed.headline == "We only renewed because of Dana in support." and placed.to_function is None
    # Remarks count as someone telling a story at that stage: they pick a handoff up.
    j2 = build_journey(snap([story(1, "Sales", "Sale", "Support", 4), remark(2, "Sales", "Support", "Support")]))
    assert not j2.handoffs[0].dead_end
    fig = journey_figure(j)
    names = {t.name for t in story_traces(fig)}
    assert names == {"Over the wall", "Always be storytelling"}
    assert all(t.showlegend for t in story_traces(fig))


def test_additions_built_on_another_story_are_not_stories_of_their_own():
    base = story(1, "Sales", "Sale", "Implementation", 4)
    addition = dataclasses.replace(story(2, "Sales", "Sale", "Implementation", 1), builds_on=1)
    j = build_journey(snap([base, addition]))
    assert j.story_count == 1 and j.handoffs[0].count == 1 and j.handoffs[0].mean_gap == 4


# --- ranking -------------------------------------------------------------------------------------

def test_many_stories_at_4_3_outrank_one_story_at_5():
    stories = [story(1, "Support", "Support", "Customer success", 5)]
    stories += [story(100 + k, "Sales", "Sale", "Implementation", 4 if k < 27 else 5) for k in range(38)]  # mean 4.29
    stories += [story(200 + k, "Implementation", "Onboarding", "Support", 2) for k in range(20)]
    stories += [story(300, "Customer success", "Renewal")]
    j = build_journey(snap(stories))
    big = handoff(j, "Sales", "Implementation", "Sale")
    lone = handoff(j, "Support", "Customer success", "Support")
    assert big.mean_gap == pytest.approx(163 / 38) and lone.mean_gap == 5
    assert j.handoffs[0] is big and j.handoffs[1] is lone  # plain mean would put the lone 5 first
    room = (5 + 163 + 40) / 59
    assert j.room_gap == pytest.approx(room)
    assert lone.weighted_gap == pytest.approx((5 + 3 * room) / 4)
    assert big.weighted_gap == pytest.approx((163 + 3 * room) / 41)
    assert big.weighted_gap > lone.weighted_gap
    rows = handoff_rows(j)
    assert [r["from"] for r in rows] == ["Sales", "Support", "Implementation"]
    assert rows[0]["weighted gap"] == round(big.weighted_gap, 2)
    caption = journey_map.ranking_caption(j)
    assert "weighted gap" in caption and f"({room:.1f})" in caption and "3 more stories" in caption
    assert "weighted gap" in journey_map.RANKING_RULE and "n + 3" in journey_map.RANKING_RULE


def test_the_weighted_gap_rule():
    wg = journey_map.weighted_gap
    assert wg(5.0, 1, 3.0) == pytest.approx(3.5)
    assert wg(4.3, 38, 3.0) == pytest.approx((38 * 4.3 + 9) / 41)
    assert wg(2.0, 1, 4.0) == pytest.approx(3.5)  # a lone low score is pulled up as much
    assert wg(None, 0, 3.0) is None and wg(4.0, 0, 3.0) is None
    assert wg(4.0, 2, None) == 4.0
    assert wg(4.0, 1000, 1.0) == pytest.approx(4.0, abs=0.01)  # many stories: their own mean


def test_unscored_handoffs_rank_last_and_the_room_mean_ignores_them():
    j = build_journey(snap([story(k, "Sales", "Sale", "Support") for k in range(9)]
                           + [story(20, "Support", "Support", "Sales", 1)]))
    assert [h.from_function for h in j.handoffs] == ["Support", "Sales"]
    assert j.room_gap == 1.0 and j.handoffs[-1].weighted_gap is None
    assert "no handoff has a gap score" in journey_map.ranking_caption(build_journey(snap([story(1, "Sales", "Sale", "Support")])))


# --- filtering -----------------------------------------------------------------------------------

def filter_fixture() -> Snapshot:
    return snap([
        story(1, "Sales", "Sale", "Implementation", 4),
        story(2, "Implementation", "Onboarding", "Support", 3),
        story(3, "Support", "Support", "Customer success", 5),
        story(4, "Customer success", "Renewal", "Sales", 2),
        story(5, "Sales", None, "Support", 3),  # no stage
        remark(6, "Support", "Customer success", "Renewal"),
        story(7, "Support", "Support", "Implementation", 1, hidden=True),
    ])


def ids(s: Snapshot) -> list[int]:
    return [x.id for x in s.stories]


def test_no_filter_gives_the_snapshot_itself():
    s = filter_fixture()
    assert journey_map.filter_snapshot(s) is s
    assert journey_map.filter_snapshot(s, functions=[], stages=(), exercises=None) is s


def test_a_function_filter_keeps_stories_told_in_or_handed_to_that_function():
    s = filter_fixture()
    f = journey_map.filter_snapshot(s, functions=["Support"])
    # told in Support's lane (3, 6 heard in Customer success is not), handed to Support (2); 7 is hidden but Support's
    assert ids(f) == [2, 3, 7]
    assert f.workshop.functions == ["Implementation", "Support", "Customer success"]  # workshop order, involved only
    assert f.workshop.stages == s.workshop.stages
    assert s.workshop.functions == FUNCTIONS and len(s.stories) == 7  # the original is untouched
    both = journey_map.filter_snapshot(s, functions=["Sales", "Customer success"])
    assert ids(both) == [1, 3, 4, 6]


def test_stage_and_exercise_filters_and_their_combination():
    s = filter_fixture()
    assert ids(journey_map.filter_snapshot(s, stages=["Renewal"])) == [4, 6]
    assert ids(journey_map.filter_snapshot(s, exercises=["always_be_storytelling"])) == [6]
    assert ids(journey_map.filter_snapshot(s, exercises=["over_the_wall"])) == [1, 2, 3, 4, 5, 7]
    assert ids(journey_map.filter_snapshot(s, stages=["Renewal"], exercises=["over_the_wall"])) == [4]
    assert ids(journey_map.filter_snapshot(s, functions=["Sales"], stages=["Sale", "Renewal"])) == [1, 4]
    assert journey_map.filter_snapshot(s, functions=["Nobody"]).stories == []


def test_a_filtered_map_judges_dead_ends_and_owners_on_the_whole_room():
    s = filter_fixture()
    f = journey_map.filter_snapshot(s, functions=["Sales"])
    alone = build_journey(f)
    # Seen alone, Implementation tells nothing after the sale: a false dead end …
    assert handoff(alone, "Sales", "Implementation", "Sale").dead_end
    j = build_journey(f, whole=s)
    # … but in the room Implementation does tell a story at Onboarding.
    h = handoff(j, "Sales", "Implementation", "Sale")
    assert not h.dead_end and h.target_stage == "Onboarding"
    assert j.uncovered_stages == build_journey(s).uncovered_stages == ()
    assert j.stages == tuple(STAGES)
    assert j.functions == ("Sales", "Implementation", "Customer success")
    assert j.story_count == 2
    journey_figure(j)


def test_filter_by_stage_keeps_every_column():
    s = filter_fixture()
    j = build_journey(journey_map.filter_snapshot(s, stages=["Support"]), whole=s)
    assert j.stages == tuple(STAGES) and j.story_count == 1


def test_map_exercises_lists_those_on_the_agenda_then_those_with_stories():
    from facilitation.workshops import AgendaItem

    s = dataclasses.replace(filter_fixture(), agenda=[AgendaItem(0, "always_be_storytelling", 15, None, None),
                                                      AgendaItem(1, "half_the_story", 15, None, None)])
    assert journey_map.map_exercises(s) == {"always_be_storytelling": "Always be storytelling",
                                            "over_the_wall": "Over the wall"}


# --- the flow between functions ------------------------------------------------------------------

def sankey_of(fig):
    (sk,) = [t for t in fig.data if t.type == "sankey"]
    return sk


def test_sankey_links_are_function_pairs_as_wide_as_their_stories():
    j = build_journey(snap([
        story(1, "Sales", "Sale", "Implementation", 5), story(2, "Sales", "Onboarding", "Implementation", 3),
        story(3, "Sales", "Sale", "Implementation", 4),
        story(4, "Implementation", "Onboarding", "Support", 1),
        story(5, "Support", "Support", "Sales"),  # unscored
    ]))
    sk = sankey_of(journey_map.sankey_figure(j))
    labels = list(sk.node.label)
    assert labels == ["Sales", "Implementation", "Support", "Sales", "Implementation", "Support"]
    links = {(labels[s], labels[t]): (v, c, h) for s, t, v, c, h in
             zip(sk.link.source, sk.link.target, sk.link.value, sk.link.color, sk.link.customdata)}
    assert {k: v[0] for k, v in links.items()} == {
        ("Sales", "Implementation"): 3, ("Implementation", "Support"): 1, ("Support", "Sales"): 1}
    # senders on the left, receivers on the right, in the workshop's order top to bottom
    assert list(sk.node.x) == [0.001] * 3 + [0.999] * 3
    assert list(sk.node.y[:3]) == sorted(sk.node.y[:3]) and list(sk.node.y[3:]) == sorted(sk.node.y[3:])
    # colour by mean gap: the 4.0 pair is redder (less green) than the 1.0 pair; unscored is grey
    def green(rgba: str) -> float:
        return float(rgba[rgba.index("(") + 1:-1].split(",")[1])

    assert green(links[("Sales", "Implementation")][1]) < green(links[("Implementation", "Support")][1])
    grey = journey_map._THEMES["light"]["no_gap"]
    assert links[("Support", "Sales")][1] == journey_map._with_alpha(grey, 0.78)
    hover = links[("Sales", "Implementation")][2]
    assert "3 stories" in hover and "mean gap 4.0" in hover and "Sale, Onboarding" in hover
    assert "not scored" in links[("Support", "Sales")][2]
    assert sk.link.hovertemplate == "%{customdata}<extra></extra>"
    assert "hands on in 3 stories" in sk.node.customdata[0]


def test_sankey_has_the_gap_colourbar_and_escapes_every_label():
    evil = "R&D <b>lab</b> $x$"
    j = build_journey(snap([story(1, "Sales", "<i>Sale</i>", evil, 4), story(2, evil, "Support", "Sales", 2)],
                           functions=["Sales", evil]))
    for theme in ("light", "dark"):
        fig = journey_map.sankey_figure(j, theme=theme)
        strings = all_strings(fig.to_plotly_json())
        joined = "\n".join(strings)
        assert "R&amp;D &lt;b&gt;lab&lt;/b&gt; &#36;x&#36;" in joined
        assert "&lt;i&gt;Sale&lt;/i&gt;" in joined
        assert not any("<b>lab" in s or "<i>" in s or "$x$" in s for s in strings)
        bars = [t for t in fig.data if t.type == "scatter" and t.marker.showscale]
        assert len(bars) == 1 and (bars[0].marker.cmin, bars[0].marker.cmax) == (1, 5)
        assert any(a.name == "gap colourbar title" for a in fig.layout.annotations)


def test_sankey_of_an_empty_map_says_so_and_figures_pass_the_schema_check(validating):
    fig = journey_map.sankey_figure(build_journey(snap([])))
    assert journey_map.SANKEY_EMPTY_NOTE in [a.text for a in fig.layout.annotations]
    for s in (synthetic_snapshot(300, 1500), synthetic_snapshot(12, 14, seed=3)):
        for theme in ("light", "dark"):
            journey_map.sankey_figure(build_journey(s), theme=theme)
    with pytest.raises(ValueError):
        journey_map.sankey_figure(build_journey(snap([])), theme="sepia")


def test_sankey_height_grows_with_the_number_of_functions():
    small = journey_map.sankey_figure(build_journey(snap([story(1, "Sales", "Sale", "Support", 3)])))
    big = journey_map.sankey_figure(build_journey(synthetic_snapshot(60, 300, functions=[f"F{k}" for k in range(12)])))
    assert small.layout.height == 420 and big.layout.height > small.layout.height
