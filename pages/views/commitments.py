"""Commitments on the projector: the first date on the board and the functions nobody connected to,
then a column per function pair (who → whom), two to a column, each card with its date."""

import streamlit as st

from facilitation import commitments as rules
from facilitation import i18n
from pages.views import register


@register("commitments")
def commitments(screen, board) -> None:
    labelled, exercise = screen.labelled, screen.exercise
    language = screen.workshop.language
    _ = i18n.translator(language).gettext
    with st.container(key="board-facts", horizontal=True, gap="large"):
        if board.facts.earliest:
            with st.container(key="board-earliest", width="content"):
                st.text(_("First date on the board: {date}").format(date=rules.short_date(board.facts.earliest, language)))
        with st.container(key="board-nobody", width="content"):
            st.text(_("Nobody connected to: {functions}").format(functions=" · ".join(board.facts.nobody_connected))
                    if board.facts.nobody_connected else _("Nobody connected to: no one — every function in the room is connected"))

    def byline(story) -> str:
        day = rules.commitment_date(story, exercise)
        return " · ".join(p for p in (screen.first_name_only(story),
                                      _("by {date}").format(date=rules.short_date(day, language)) if day else "") if p)

    screen.grouped_wall(board.pairs, lambda pair: f"{pair[0] if pair[0] in labelled else _('Someone')} → {pair[1]}",
                        byline, per_column=2, columns_per_page=4)
