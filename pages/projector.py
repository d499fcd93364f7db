"""Projector: what the room sees from 10 m. The join code and QR, the live prompt, the clock,
stories as they arrive in the exercise's own view, votes, a spotlight. Never an admin control."""

import time

import streamlit as st

from facilitation import journey_map, links, live_cache, room, workshops
from pages.common import LIVE_POLL_SECONDS, format_clock, query_code, store, use_css
from pages.exercise_widgets import answer_text, story_card
from pages import live as live_push

THEME = "light" if st.query_params.get("theme") == "light" else "dark"
use_css("projector.css")
if THEME == "light":
    use_css("projector_light.css")
workshop = workshops.find_workshop(store(), query_code()) if query_code() else None
if workshop is None:
    st.title("Projector")
    st.write("Open this page from the facilitator console, or add the workshop code to the address (…/projector?code=ABC123).")
    st.stop()

snap = live_cache.snapshot(store(), workshop.id)
live = live_cache.live_exercise(store(), workshop.id)
join_link = links.join_url(st.context.url, workshop.code)


@st.fragment(run_every=LIVE_POLL_SECONDS)
def follow_the_room():
    """Redraw when the workshop changed (woken by push); the clock ticks in the browser."""
    live_push.follow(store(), workshop.id, "follow", topics=workshops.TOPICS, revision=snap.workshop.revision,
                     min_interval=live_push.PROJECTOR_MIN_INTERVAL_S, page=True)
    # ">": the shared counter may be up to REVISION_TTL_S older than the snapshot drawn.
    if live_cache.revision(store(), workshop.id) > snap.workshop.revision:
        st.rerun(scope="app")
    if live.seconds_left(time.time()) is not None:
        live_push.countdown(live.item.deadline, key="projector-clock", look="projector",
                            color="#0f172a" if THEME == "light" else "#e2e8f0")
    elif live.item is not None:
        st.text("Locked")


def join_panel(big: bool) -> None:
    """The code and a QR code that opens the join page with the code filled in."""
    with st.container(key="join-panel-big" if big else "join-panel", horizontal=not big, vertical_alignment="center"):
        st.image(live_cache.qr_png(join_link), width=380 if big else 150)
        with st.container(key="join-code-big" if big else "join-code"):
            with st.container(key="join-code-text-big" if big else "join-code-text"):
                st.text(workshop.code)
            with st.container(key="join-link-text"):
                st.text(join_link.split("://", 1)[-1])


if live.item is None:
    with st.container(key="welcome"):
        with st.container(key="welcome-title"):
            st.text(workshop.title)
        with st.container(key="welcome-ask"):
            st.text("Join on your phone or laptop")
        join_panel(big=True)
        with st.container(key="welcome-count"):
            st.text(f"{len(snap.participants)} joined")
    follow_the_room()
    st.stop()

item, exercise = live.item, live.exercise
told = room.room_stories(snap, item)
labelled = room.labelled_functions(told, show_names=workshop.show_names)


def line(story) -> str:
    return room.byline(story, show_names=workshop.show_names, labelled=labelled)


spotlight = next((s for s in told if s.id == live.spotlight_story_id), None)
if spotlight is not None:
    with st.container(key="spotlight"):
        with st.container(key="spotlight-headline"):
            st.text(spotlight.answers.get(exercise.headline, ""))
        with st.container(key="spotlight-byline"):
            st.text(line(spotlight))
        for f in exercise.fields:
            if f.name != exercise.headline and f.name in spotlight.answers:
                with st.container(key=f"spotlight-field-{f.name}"):
                    st.text(f"{f.label}\n{answer_text(f, spotlight.answers[f.name])}")
        for addition in snap.build_ons(spotlight.id):
            st.text(f"+ {addition.answers.get('addition', '')}")
    with st.container(key="spotlight-code"):
        st.text(f"Code {workshop.code}")
        follow_the_room()
    st.stop()

prompt_col, clock_col, join_col = st.columns([6, 1.3, 2.6], gap="medium", vertical_alignment="center")
with prompt_col:
    with st.container(key="prompt-title"):
        st.text(exercise.title)
    with st.container(key="prompt-question"):
        st.text(exercise.question)
    with st.container(key="counter"):
        arrived = snap.stories_for(exercise.key)
        st.text(f"{room.counted(len(arrived), 'story', 'stories')} from "
                f"{room.counted(len({s.function for s in arrived}), 'function')} · {len(snap.participants)} in the room")
with clock_col:
    with st.container(key="clock"):
        follow_the_room()
with join_col:
    join_panel(big=False)

if not item.on_projector:
    with st.container(key="blind"):
        with st.container(key="blind-count"):
            st.text(f"{room.counted(len(snap.stories_for(exercise.key)), 'story', 'stories')} in")
        st.text("Collected blind — revealed all together")
    st.stop()

counts = snap.vote_counts()
if item.voting != "off":
    with st.container(key="vote-heading"):
        st.text("Voting is open — put your dots on your phone" if item.voting == "open" else "The room's choice")
    columns = st.columns(3, gap="medium")
    for i, (story, dots) in enumerate(room.ranked(told, counts)[:12]):
        with columns[i % 3]:
            story_card(exercise, story, show_author=False, compact=True, byline=line(story), dots=dots)
    st.stop()


def wall(stories, limit: int = 24, per_row: int = 3) -> None:
    columns = st.columns(per_row, gap="medium")
    for i, story in enumerate(list(reversed(stories))[:limit]):
        with columns[i % per_row]:
            story_card(exercise, story, show_author=False, compact=True, byline=line(story),
                       additions=snap.build_ons(story.id)[-2:] if exercise.build_on else ())


if exercise.room_view == "map":
    map_col, latest_col = st.columns([4, 1], gap="medium")
    with map_col:
        # Only what the room may see: exercises being collected blind stay off the map until revealed.
        seen = room.room_snapshot(snap)
        figure = journey_map.journey_figure(journey_map.build_journey(seen, whole=seen), theme=THEME, height=800)
        st.plotly_chart(figure, width="stretch", theme=None, config={"displayModeBar": False}, key="projector-map")
    with latest_col:
        with st.container(key="latest-label"):
            st.text("Latest")
        for story in list(reversed(told))[:5]:
            story_card(exercise, story, show_author=False, compact=True, byline=line(story))
elif exercise.room_view == "by_function":
    groups = room.by_function(told, workshop.functions)
    glossary = room.glossary(told, exercise)
    columns = st.columns(max(1, min(4, len(groups))) + (1 if glossary else 0), gap="medium")
    for column, (function, stories) in zip(columns, list(groups.items())[:4]):
        with column:
            with st.container(key=f"group-{function}"):
                st.text(function if function in labelled else "Other functions")
            for story in list(reversed(stories))[:4]:
                story_card(exercise, story, show_author=False, compact=True,
                           byline=story.author_name if workshop.show_names else "")
    if glossary:
        with columns[-1]:
            with st.container(key="glossary-label"):
                st.text("Terminology wall")
            # Plain text in our own rows: a dataframe's canvas is too small to read from the back.
            for i, (term, meaning, _function) in enumerate(glossary[:10]):
                with st.container(key=f"glossary-row-{i}"):
                    with st.container(key=f"glossary-term-{i}"):
                        st.text(term)
                    st.text(meaning)
elif exercise.room_view == "pairs" and exercise.side_by_side:
    left_field, right_field = (exercise.field(n) for n in exercise.side_by_side)
    for story in list(reversed(told))[:2]:
        with st.container(border=True, key=f"pair-{story.id}"):
            partner = story.answers.get(exercise.partner_field.name, "") if exercise.partner_field else ""
            with st.container(key=f"pair-head-{story.id}"):
                st.text(story.answers.get(exercise.headline, ""))
            with st.container(key=f"byline-pair-{story.id}"):
                st.text(" & ".join(p for p in (story.author_name, partner) if p) if workshop.show_names else line(story))
            a, b = st.columns(2, gap="large")
            a.text(f"{left_field.label}\n{story.answers.get(left_field.name, '')}")
            b.text(f"{right_field.label}\n{story.answers.get(right_field.name, '')}")
elif exercise.room_view == "commitments":
    board = room.commitment_board(told, exercise, workshop.functions)
    columns = st.columns(3, gap="medium")
    for i, ((source, target), stories) in enumerate(list(board.items())[:9]):
        with columns[i % 3]:
            with st.container(key=f"pairing-{i}"):
                st.text(f"{source if source in labelled else 'Someone'} → {target}")
            for story in stories[-3:]:
                story_card(exercise, story, show_author=False, compact=True,
                           byline=story.author_name if workshop.show_names else "")
else:
    wall(told)
