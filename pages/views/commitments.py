"""Commitments on the projector: the first date on the board and the functions nobody connected to,
then a column per function pair (who → whom), two to a column, each card with its date."""

import streamlit as st

from facilitation import commitments as rules
from pages.views import register


@register("commitments")
def commitments(screen, board) -> None:
    labelled, exercise = screen.labelled, screen.exercise
    with st.container(key="board-facts", horizontal=True, gap="large"):
        if board.facts.earliest:
            with st.container(key="board-earliest", width="content"):
                st.text(f"First date on the board: {rules.short_date(board.facts.earliest)}")
        with st.container(key="board-nobody", width="content"):
            st.text("Nobody connected to: " + (" · ".join(board.facts.nobody_connected) if board.facts.nobody_connected
                                               else "no one — every function in the room is connected"))

    def byline(story) -> str:
        day = rules.commitment_date(story, exercise)
        return " · ".join(p for p in (screen.first_name_only(story), f"by {rules.short_date(day)}" if day else "") if p)

    screen.grouped_wall(board.pairs, lambda pair: f"{pair[0] if pair[0] in labelled else 'Someone'} → {pair[1]}",
                        byline, per_column=2, columns_per_page=4)
