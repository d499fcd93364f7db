"""Guess first on the projector: the term that is up, the other functions' guesses as they arrive,
then its meaning; beside it the terms revealed so far. Before the first term: every term, no meaning.
The phone's guess box is pages/round_widgets.guess_box (it sits above the form, in every round)."""

import streamlit as st

from facilitation import room, rounds
from pages.views import register

GUESSES_SHOWN = 8


@register("guess_first")
def guess_first(screen, wall) -> None:
    current = wall.current
    if current is None:
        with st.container(key="guess-waiting-label"):
            st.text("Terms from the room · what do they mean? The facilitator puts one up to guess")
        with st.container(key="guess-waiting", horizontal=True, gap="medium"):
            for i, t in enumerate(wall.terms[:24]):
                with st.container(key=f"guess-chip-{i}", width="content"):
                    st.text(t.term)
        if not wall.terms:
            with st.container(key="guess-empty"):
                st.text("Terms appear here as they are sent.")
        return
    show_names = screen.workshop.show_names
    main, side = st.columns([2.3, 1], gap="large")
    with main:
        with st.container(key="guess-term-label"):
            st.text("Guess first · what does it mean?")
        with st.container(key="guess-term-big"):
            st.text(current.term)
        if by := screen.line(current.story):
            with st.container(key="guess-term-byline"):
                st.text(f"A word from {by}")
        if current.state == "revealed":
            with st.container(key="guess-meaning", border=True):
                with st.container(key="guess-meaning-label"):
                    st.text("It means")
                with st.container(key="guess-meaning-text"):
                    st.text(current.meaning)
        shown = list(current.guesses)[-GUESSES_SHOWN:]
        n = len(current.guesses)
        with st.container(key="guess-count"):
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
                    st.text(rounds.guess_byline(g, show_names=show_names, labelled=wall.labelled))
    with side:
        revealed = [t for t in wall.terms if t.state == "revealed" and not t.current]
        waiting = sum(1 for t in wall.terms if t.state == "waiting")
        with st.container(key="glossary-label"):
            st.text("Terminology wall")
        for i, t in enumerate(revealed[-5:]):
            with st.container(key=f"glossary-row-{i}"):
                with st.container(key=f"glossary-term-{i}"):
                    st.text(t.term)
                st.text(t.meaning)
        with st.container(key="guess-to-go"):
            st.text(f"{room.counted(waiting, 'term')} still to guess" if waiting else "Every term has been up")
