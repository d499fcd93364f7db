"""Projector views of Always be storytelling's later rounds and the commitments board's facts:
the company's story then and now, the guess-first terminology wall, and who nobody connected to.
All participant text goes through st.text; the data comes from facilitation/rounds.py and commitments.py."""

from __future__ import annotations

import streamlit as st

from facilitation import commitments, room, rounds
from facilitation.exercises import Exercise
from facilitation.workshops import Snapshot, Story, Workshop

THEN_AND_NOW_PER_PAGE = 3
GUESSES_SHOWN = 8


def then_and_now(exercise: Exercise, told: list[Story], byline, slot: int, show_page) -> None:
    """Each company story beside where it happens again today, newest first, three to a screen."""
    then_field, now_field = (exercise.field(n) for n in exercise.then_and_now)
    stories = [s for s in reversed(told) if str(s.answers.get(then_field.name, "")).strip()]
    if not stories:
        with st.container(key="then-empty"):
            st.text("The company's stories appear here as they are sent.")
        return
    page = room.wall_page(stories, THEN_AND_NOW_PER_PAGE, slot)
    show_page(page)
    with st.container(key="then-labels", horizontal=True):
        for side, label in (("a", "The story we tell about ourselves"), ("b", "Where it is happening again today")):
            with st.container(key=f"then-label-{side}"):
                st.text(label)
    for story in page.items:
        with st.container(border=True, key=f"then-card-{story.id}"):
            a, b = st.columns(2, gap="large")
            with a, st.container(key=f"then-side-a-{story.id}"):
                st.text(str(story.answers.get(then_field.name, "")))
            with b, st.container(key=f"then-side-b-{story.id}"):
                st.text(str(story.answers.get(now_field.name, "")) or "—")
            if line := byline(story):
                with st.container(key=f"byline-then-{story.id}"):
                    st.text(line)


def guess_first(workshop: Workshop, snap: Snapshot, exercise: Exercise, told: list[Story], byline) -> None:
    """The term that is up, the guesses as they arrive, then its meaning; beside it the wall so far."""
    wall = rounds.terms(snap, exercise, told)
    current = next((t for t in wall if t.current), None)
    if current is None:
        with st.container(key="guess-waiting-label"):
            st.text("Terms from the room · what do they mean? The facilitator puts one up to guess")
        with st.container(key="guess-waiting", horizontal=True, gap="medium"):
            for i, t in enumerate(wall[:24]):
                with st.container(key=f"guess-chip-{i}", width="content"):
                    st.text(t.term)
        if not wall:
            with st.container(key="guess-empty"):
                st.text("Terms appear here as they are sent.")
        return
    labelled = rounds.guess_labels(snap, exercise)
    main, side = st.columns([2.3, 1], gap="large")
    with main:
        with st.container(key="guess-term-label"):
            st.text("Guess first · what does it mean?")
        with st.container(key="guess-term-big"):
            st.text(current.term)
        if by := byline(current.story):
            with st.container(key="guess-term-byline"):
                st.text(f"A word from {by}")
        if current.state == "revealed":
            with st.container(key="guess-meaning", border=True):
                with st.container(key="guess-meaning-label"):
                    st.text("It means")
                with st.container(key="guess-meaning-text"):
                    st.text(current.meaning)
        shown = list(current.guesses)[-GUESSES_SHOWN:]
        with st.container(key="guess-count"):
            n = len(current.guesses)
            st.text(("What the other functions guessed" if current.state == "revealed" else "Guesses so far")
                     + f" · {room.counted(n, 'guess', 'guesses')}"
                     + (f" · the latest {len(shown)}" if n > len(shown) else "")
                     + ("" if n or current.state == "revealed" else " · guess on your phone"))
        columns = st.columns(2, gap="medium")
        for i, g in enumerate(shown):
            with columns[i % 2], st.container(border=True, key=f"guess-card-{g.id}"):
                with st.container(key=f"guess-text-{g.id}"):
                    st.text(g.text)
                with st.container(key=f"byline-guess-{g.id}"):
                    st.text(rounds.guess_byline(g, show_names=workshop.show_names, labelled=labelled))
    with side:
        revealed = [t for t in wall if t.state == "revealed" and not t.current]
        waiting = sum(1 for t in wall if t.state == "waiting")
        with st.container(key="glossary-label"):
            st.text("Terminology wall")
        for i, t in enumerate(revealed[-5:]):
            with st.container(key=f"glossary-row-{i}"):
                with st.container(key=f"glossary-term-{i}"):
                    st.text(t.term)
                st.text(t.meaning)
        with st.container(key="guess-to-go"):
            st.text(f"{room.counted(waiting, 'term')} still to guess" if waiting else "Every term has been up")


def board_facts(snap: Snapshot, exercise: Exercise, told: list[Story]) -> None:
    """Under the prompt: the earliest date on the board and the functions in the room nobody connected to."""
    facts = commitments.board_facts(snap, exercise, told)
    with st.container(key="board-facts", horizontal=True, gap="large"):
        if facts.earliest:
            with st.container(key="board-earliest", width="content"):
                st.text(f"First date on the board: {commitments.short_date(facts.earliest)}")
        with st.container(key="board-nobody", width="content"):
            st.text("Nobody connected to: " + (" · ".join(facts.nobody_connected) if facts.nobody_connected
                                               else "no one — every function in the room is connected"))


def commitment_byline(exercise: Exercise, story: Story, name: str) -> str:
    """A card's line on the board: who (names on) and by when."""
    day = commitments.commitment_date(story, exercise)
    return " · ".join(p for p in (name, f"by {commitments.short_date(day)}" if day else "") if p)
