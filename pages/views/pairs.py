"""Pairs on the projector: one pair's story at a time, its two versions side by side."""

import streamlit as st

from facilitation import room
from facilitation.views.pairs import PairWall
from pages.views import register


@register("pairs")
def pairs(screen, shaped) -> None:
    if not isinstance(shaped, PairWall):  # the exercise names no side-by-side fields: the wall
        screen.wall(shaped)
        return
    page = room.wall_page(shaped.stories, 1, screen.slot)
    screen.show_page(page)
    for story in page.items:
        with st.container(border=True, key=f"pair-{story.id}"):
            partner = story.answers.get(shaped.partner.name, "") if shaped.partner else ""
            with st.container(key=f"pair-head-{story.id}"):
                st.text(story.answers.get(screen.exercise.headline, ""))
            with st.container(key=f"byline-pair-{story.id}"):
                st.text(" & ".join(p for p in (story.author_name, partner) if p) if screen.workshop.show_names
                        else screen.line(story))
            a, b = st.columns(2, gap="large")
            for column, side, f in ((a, "a", shaped.left), (b, "b", shaped.right)):
                with column, st.container(key=f"pair-side-{side}-{story.id}"):
                    with st.container(key=f"pair-label-{side}-{story.id}"):
                        st.text(f.label)
                    st.text(story.answers.get(f.name, ""))
